use super::*;
use aws_cognito_srp::{SrpClient, User};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

const POOL: &str = "us-east-1_AbCdEf123";
const SECRET_BLOCK: &str = "c2VjcmV0LWJsb2NrLWlzc3VlZC1ieS10aGUtc2VydmVy";

fn now() -> i64 {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs();
    i64::try_from(secs).expect("fits")
}

/// The independent client's answer to our challenge.
struct Answer {
    a_hex: String,
    timestamp: String,
    signature: String,
}

/// Runs the `aws-cognito-srp` client (which knows `password`) against our challenge.
fn client_answer(username: &str, user_id: &str, password: &str, v: &PasswordVerifier, e: &ServerEphemeral) -> Answer {
    let client = SrpClient::<User>::new(User::new(POOL, username, password), "client-id", None);
    let a_hex = client.get_auth_parameters().a;
    let answer = client
        .verify(SECRET_BLOCK, user_id, &v.salt_hex, &e.big_b_hex)
        .expect("client accepts our challenge");
    assert_eq!(answer.password_claim_secret_block, SECRET_BLOCK);
    Answer {
        a_hex,
        timestamp: answer.timestamp,
        signature: answer.password_claim_signature,
    }
}

fn check(user_id: &str, v: &PasswordVerifier, e: &ServerEphemeral, ans: &Answer) -> Result<(), SrpError> {
    verify(
        POOL,
        user_id,
        v,
        e,
        &ans.a_hex,
        SECRET_BLOCK,
        &ans.timestamp,
        &ans.signature,
        now(),
    )
}

#[test]
fn interop_round_trip_with_aws_cognito_srp() {
    // Enough rounds that B, S, u and the salt each start with a high bit (extra 00 byte) and
    // without one several times over.
    let passwords = ["Passw0rd!", "correct horse battery staple", "pässwörd-ünïcode-🔑", ""];
    for round in 0..24 {
        let user_id = format!("9f3c1a7e-0000-4000-8000-{round:012}");
        let password = passwords[round % passwords.len()];
        let v = make_verifier(POOL, &user_id, password);
        let e = start(&v);
        // The client's USERNAME (an alias) differs from USER_ID_FOR_SRP; only the latter is signed.
        let ans = client_answer("alias@example.com", &user_id, password, &v, &e);
        assert_eq!(check(&user_id, &v, &e, &ans), Ok(()), "round {round}");
    }
}

#[test]
fn interop_with_salts_that_need_padding_or_trimming() {
    let user_id = "user-1";
    let mut leading_zero_byte = [0xff; SALT_LEN];
    leading_zero_byte[0] = 0;
    for salt in [
        [0x80u8; SALT_LEN],
        [0x00; SALT_LEN],
        [0x7f; SALT_LEN],
        leading_zero_byte,
    ] {
        let v = verifier_with_salt(POOL, user_id, "pw", &salt);
        let e = start(&v);
        let ans = client_answer(user_id, user_id, "pw", &v, &e);
        assert_eq!(check(user_id, &v, &e, &ans), Ok(()), "salt {salt:02x?}");
    }
}

#[test]
fn srp_a_is_read_as_a_number_not_as_a_string() {
    let v = make_verifier(POOL, "u", "pw");
    let e = start(&v);
    let ans = client_answer("u", "u", "pw", &v, &e);
    let variants = [ans.a_hex.to_uppercase(), format!("0000{}", ans.a_hex)];
    for a in variants {
        let got = verify(
            POOL,
            "u",
            &v,
            &e,
            &a,
            SECRET_BLOCK,
            &ans.timestamp,
            &ans.signature,
            now(),
        );
        assert_eq!(got, Ok(()));
    }
}

#[test]
fn wrong_password_is_bad_signature() {
    let v = make_verifier(POOL, "u", "right password");
    let e = start(&v);
    let ans = client_answer("u", "u", "wrong password", &v, &e);
    assert_eq!(check("u", &v, &e, &ans), Err(SrpError::BadSignature));
}

#[test]
fn wrong_user_pool_block_or_ephemeral_is_bad_signature() {
    let v = make_verifier(POOL, "u", "pw");
    let e = start(&v);
    let ans = client_answer("u", "u", "pw", &v, &e);
    let (a, ts, sig) = (ans.a_hex.as_str(), ans.timestamp.as_str(), ans.signature.as_str());
    let other_block = BASE64.encode(b"another block");
    let other_e = start(&v);
    let cases = [
        verify(POOL, "someone-else", &v, &e, a, SECRET_BLOCK, ts, sig, now()),
        verify("us-east-1_Other", "u", &v, &e, a, SECRET_BLOCK, ts, sig, now()),
        verify(POOL, "u", &v, &e, a, &other_block, ts, sig, now()),
        verify(POOL, "u", &v, &other_e, a, SECRET_BLOCK, ts, sig, now()),
        verify(POOL, "u", &v, &e, a, SECRET_BLOCK, ts, &BASE64.encode([0u8; 32]), now()),
        verify(POOL, "u", &v, &e, a, SECRET_BLOCK, ts, &BASE64.encode([0u8; 7]), now()),
    ];
    for got in cases {
        assert_eq!(got, Err(SrpError::BadSignature));
    }
    // A timestamp that is still fresh but differs from the signed one breaks the proof too.
    let shifted = format_timestamp(parse_timestamp(ts).expect("client timestamp parses") + 1);
    assert_eq!(
        verify(POOL, "u", &v, &e, a, SECRET_BLOCK, &shifted, sig, now()),
        Err(SrpError::BadSignature)
    );
}

#[test]
fn a_congruent_to_zero_or_out_of_range_is_bad_a() {
    let v = make_verifier(POOL, "u", "pw");
    let e = start(&v);
    let ts = format_timestamp(now());
    let sig = BASE64.encode([0u8; 32]);
    let n_hex = N_HEX.to_string();
    let n_plus_one = hex::encode(pad_uint(&N.as_ref().wrapping_add(&U3072::ONE)));
    let too_wide = format!("1{}", "0".repeat(768)); // 2^3072
    for a in [
        "0",
        "00",
        "0000",
        n_hex.as_str(),
        &n_hex.to_lowercase(),
        &n_plus_one,
        &too_wide,
    ] {
        assert_eq!(
            verify(POOL, "u", &v, &e, a, SECRET_BLOCK, &ts, &sig, now()),
            Err(SrpError::BadA),
            "{a:.16}"
        );
    }
}

#[test]
fn stale_or_future_timestamp_is_bad_timestamp() {
    let v = make_verifier(POOL, "u", "pw");
    let e = start(&v);
    let ans = client_answer("u", "u", "pw", &v, &e);
    let (a, ts, sig) = (ans.a_hex.as_str(), ans.timestamp.as_str(), ans.signature.as_str());
    let sent = parse_timestamp(ts).expect("client timestamp parses");
    // Inside the window on both edges, with the client's genuine signature.
    for now_unix in [sent - TIMESTAMP_SKEW_SECS, sent + TIMESTAMP_SKEW_SECS] {
        assert_eq!(verify(POOL, "u", &v, &e, a, SECRET_BLOCK, ts, sig, now_unix), Ok(()));
    }
    for now_unix in [
        sent + TIMESTAMP_SKEW_SECS + 1,
        sent - TIMESTAMP_SKEW_SECS - 1,
        sent + 86_400,
        i64::MIN,
        i64::MAX,
    ] {
        assert_eq!(
            verify(POOL, "u", &v, &e, a, SECRET_BLOCK, ts, sig, now_unix),
            Err(SrpError::BadTimestamp),
            "now {now_unix}"
        );
    }
}

#[test]
fn garbage_is_malformed_never_a_panic() {
    let v = make_verifier(POOL, "u", "pw");
    let e = start(&v);
    let ans = client_answer("u", "u", "pw", &v, &e);
    let (a, ts, sig) = (ans.a_hex.as_str(), ans.timestamp.as_str(), ans.signature.as_str());
    let huge = "f".repeat(MAX_HEX_DIGITS + 1);
    let malformed = |r: Result<(), SrpError>| matches!(r, Err(SrpError::Malformed(_)));

    for bad_a in ["", "zz", "0x1234", "12 34", "ä", "-1", huge.as_str()] {
        assert!(
            malformed(verify(POOL, "u", &v, &e, bad_a, SECRET_BLOCK, ts, sig, now())),
            "A {bad_a:.8}"
        );
    }
    for bad_b64 in ["!!!", "abc", "a===", "ä"] {
        assert!(
            malformed(verify(POOL, "u", &v, &e, a, bad_b64, ts, sig, now())),
            "block {bad_b64}"
        );
        assert!(
            malformed(verify(POOL, "u", &v, &e, a, SECRET_BLOCK, ts, bad_b64, now())),
            "sig {bad_b64}"
        );
    }
    for bad_ts in [
        "",
        "garbage",
        "Thu Jan 1 00:00:00 GMT 1970",
        "Xyz Jan 1 00:00:00 UTC 1970",
        "Thu Jab 1 00:00:00 UTC 1970",
        "Thu Jan 32 00:00:00 UTC 1970",
        "Thu Feb 29 00:00:00 UTC 2100",
        "Thu Jan 1 24:00:00 UTC 1970",
        "Thu Jan 1 00:60:00 UTC 1970",
        "Thu Jan 1 00:00:00:00 UTC 1970",
        "Thu Jan +1 00:00:00 UTC 1970",
        "Thu Jan 1 00:00:00 UTC 70",
        "Thu Jan 1 00:00:00 UTC 1970 extra",
        "Thu Jan 1 000:00:00 UTC 1970",
    ] {
        assert!(
            malformed(verify(POOL, "u", &v, &e, a, SECRET_BLOCK, bad_ts, sig, now())),
            "ts {bad_ts:?}"
        );
    }

    // Corrupt stored state is reported, not panicked on, and `start` still answers.
    let corrupt_v = PasswordVerifier {
        salt_hex: v.salt_hex.clone(),
        verifier_hex: "not hex".into(),
    };
    let e2 = start(&corrupt_v);
    assert!(!e2.big_b_hex.is_empty());
    assert!(malformed(verify(
        POOL,
        "u",
        &corrupt_v,
        &e2,
        a,
        SECRET_BLOCK,
        ts,
        sig,
        now()
    )));
    let v_too_big = PasswordVerifier {
        salt_hex: v.salt_hex.clone(),
        verifier_hex: N_HEX.into(),
    };
    assert!(malformed(verify(
        POOL,
        "u",
        &v_too_big,
        &e,
        a,
        SECRET_BLOCK,
        ts,
        sig,
        now()
    )));
    for (b_hex, big_b_hex) in [
        ("", e.big_b_hex.as_str()),
        ("ff".repeat(33).as_str(), e.big_b_hex.as_str()),
        (e.b_hex.as_str(), "q"),
    ] {
        let bad_e = ServerEphemeral {
            b_hex: b_hex.into(),
            big_b_hex: big_b_hex.into(),
        };
        assert!(malformed(verify(
            POOL,
            "u",
            &v,
            &bad_e,
            a,
            SECRET_BLOCK,
            ts,
            sig,
            now()
        )));
    }
}

#[test]
fn pad_hex_rule() {
    let pad_hex = |hex_in: &str| hex::encode(pad_bytes(&decode_hex(hex_in, "t").expect("hex")));
    // odd length gets a leading 0
    assert_eq!(pad_hex("abc"), "0abc");
    assert_eq!(pad_hex("1"), "01");
    // first nibble >= 8 gets a leading 00
    assert_eq!(pad_hex("80"), "0080");
    assert_eq!(pad_hex("ff01"), "00ff01");
    assert_eq!(pad_hex("8abc"), "008abc");
    // already fine: unchanged
    assert_eq!(pad_hex("7f"), "7f");
    assert_eq!(pad_hex("0abc"), "0abc");
    // the rule applies to the number, so superfluous leading zeros go first
    assert_eq!(pad_hex("000080"), "0080");
    assert_eq!(pad_hex("00000f"), "0f");
    // zero
    assert_eq!(pad_hex("0"), "00");
    assert_eq!(pad_hex("0000"), "00");
    assert_eq!(pad_bytes(&[]), vec![0]);
    // N's top bit is set, g's is not
    assert_eq!(pad_uint(N.as_ref()).len(), 385);
    assert_eq!(pad_bytes(&[G]), vec![2]);
}

#[test]
fn stored_values_use_the_padded_form() {
    let v = verifier_with_salt(POOL, "u", "pw", &[0x80; SALT_LEN]);
    assert_eq!(v.salt_hex, format!("00{}", "80".repeat(SALT_LEN)));
    let v = verifier_with_salt(POOL, "u", "pw", &[0x00, 0x00, 0x05, 0x06]);
    assert_eq!(v.salt_hex, "0506");
    for _ in 0..8 {
        let v = make_verifier(POOL, "u", "pw");
        let e = start(&v);
        for h in [&v.salt_hex, &v.verifier_hex, &e.big_b_hex] {
            assert_eq!(h.len() % 2, 0);
            let first = u8::from_str_radix(&h[..2], 16).expect("hex");
            assert!(first < 0x80, "{h:.8} is padded");
            assert_eq!(h, &h.to_lowercase());
        }
        assert_eq!(e.b_hex.len(), 2 * B_SECRET_LEN);
    }
}

#[test]
fn fresh_salt_and_ephemeral_every_time() {
    let v1 = make_verifier(POOL, "u", "pw");
    let v2 = make_verifier(POOL, "u", "pw");
    assert_ne!(v1, v2);
    assert_ne!(start(&v1).big_b_hex, start(&v1).big_b_hex);
}

#[test]
fn debug_hides_secrets() {
    let v = make_verifier(POOL, "u", "pw");
    let e = start(&v);
    let dv = format!("{v:?}");
    assert!(!dv.contains(&v.verifier_hex) && dv.contains("redacted") && dv.contains(&v.salt_hex));
    let de = format!("{e:?}");
    assert!(!de.contains(&e.b_hex) && de.contains("redacted") && de.contains(&e.big_b_hex));
}

#[test]
fn serde_round_trip_of_stored_state() {
    let v = make_verifier(POOL, "u", "pw");
    let e = start(&v);
    let v2: PasswordVerifier = serde_json::from_str(&serde_json::to_string(&v).expect("ser")).expect("de");
    let e2: ServerEphemeral = serde_json::from_str(&serde_json::to_string(&e).expect("ser")).expect("de");
    assert_eq!(v, v2);
    let ans = client_answer("u", "u", "pw", &v2, &e2);
    assert_eq!(check("u", &v2, &e2, &ans), Ok(()));
}

#[test]
fn timestamp_format_and_parse() {
    assert_eq!(format_timestamp(0), "Thu Jan 1 00:00:00 UTC 1970");
    assert_eq!(format_timestamp(1_739_212_212), "Mon Feb 10 18:30:12 UTC 2025");
    assert_eq!(format_timestamp(1_709_197_507), "Thu Feb 29 09:05:07 UTC 2024");
    assert_eq!(format_timestamp(1_795_669_706), "Thu Nov 26 05:08:26 UTC 2026");
    assert_eq!(format_timestamp(-1), "Wed Dec 31 23:59:59 UTC 1969");
    assert_eq!(parse_timestamp("Mon Feb 10 18:30:12 UTC 2025"), Some(1_739_212_212));
    // lenient: unpadded hour, padded day, wrong weekday, doubled spaces
    assert_eq!(parse_timestamp("Tue Nov 26 5:08:26 UTC 2026"), Some(1_795_669_706));
    assert_eq!(parse_timestamp("Thu Feb 29 09:05:07 UTC 2024"), Some(1_709_197_507));
    assert_eq!(parse_timestamp("Thu Feb  29 09:05:07 UTC 2024"), Some(1_709_197_507));
    assert_eq!(
        parse_timestamp("Thu Feb 01 00:00:00 UTC 2024"),
        parse_timestamp("Thu Feb 1 00:00:00 UTC 2024")
    );
    // round trip over a spread of instants, including leap years and century edges
    let mut t = -2_208_988_800; // 1900-01-01
    while t < 253_402_300_799 {
        // 9999-12-31T23:59:59
        assert_eq!(parse_timestamp(&format_timestamp(t)), Some(t), "{t}");
        t += 7_654_321;
    }
    // the independent client's TIMESTAMP is what we would write for the same second
    let client = SrpClient::<User>::new(User::new(POOL, "u", "pw"), "c", None);
    let ans = client.verify(SECRET_BLOCK, "u", "01", "02").expect("client");
    let sent = parse_timestamp(&ans.timestamp).expect("client timestamp parses");
    assert!((now() - sent).abs() <= 2);
    assert_eq!(format_timestamp(sent), ans.timestamp);
}

#[test]
fn k_matches_the_published_cognito_value() {
    // H(pad(N) || pad(g)) as computed independently by the client libraries.
    let k = GROUP.k.retrieve();
    assert_eq!(
        hex::encode(pad_uint(&k)),
        "538282c4354742d7cbbde2359fcf67f9f5b3a6b08791e5011b43b8a5b66d9ee6"
    );
}

/// Release-mode cost of one sign-in on the server:
/// `cargo test -p cmfa-core --release -- --ignored --nocapture srp_timing`.
#[test]
#[ignore = "timing; run in release"]
fn srp_timing() {
    const ROUNDS: u32 = 50;
    let v = make_verifier(POOL, "u", "pw");
    let t = Instant::now();
    for _ in 0..ROUNDS {
        let _ = make_verifier(POOL, "u", "pw");
    }
    let per_verifier = t.elapsed() / ROUNDS;
    let mut server = std::time::Duration::ZERO;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let e = start(&v);
        server += t.elapsed();
        let ans = client_answer("u", "u", "pw", &v, &e);
        let t = Instant::now();
        assert_eq!(check("u", &v, &e, &ans), Ok(()));
        server += t.elapsed();
    }
    println!(
        "make_verifier: {per_verifier:?}; start+verify: {:?} per sign-in",
        server / ROUNDS
    );
}
