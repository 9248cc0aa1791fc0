use std::sync::OnceLock;
use std::time::Instant;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};
use serde_json::json;

use super::*;

const NOW: i64 = 1_750_000_000;

/// Key generation is slow in debug builds; the tests share two keys.
fn keys() -> &'static [SigningKey; 2] {
    static KEYS: OnceLock<[SigningKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| [SigningKey::generate(), SigningKey::generate()])
}

fn key_a() -> &'static SigningKey {
    &keys()[0]
}

fn key_b() -> &'static SigningKey {
    &keys()[1]
}

fn access_claims(exp: i64) -> Claims {
    let Value::Object(claims) = json!({
        "sub": "5f8e3a1c-7b2d-4e6f-9a0b-1c2d3e4f5a6b",
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI",
        "client_id": "1example23456789",
        "origin_jti": "0f0e0d0c-0b0a-0908-0706-050403020100",
        "event_id": "e1e2e3e4-e5e6-e7e8-e9ea-ebecedeeeff0",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": NOW - 10,
        "exp": exp,
        "iat": NOW - 10,
        "jti": "a1a2a3a4-a5a6-a7a8-a9aa-abacadaeafb0",
        "username": "alice",
        "cognito:groups": ["admins", "ünïcode \"quoted\""],
    }) else {
        unreachable!("an object literal")
    };
    claims
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// A token whose signature part is `signature`, with arbitrary header and payload.
fn forged(header: &Value, payload: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", b64(header), b64(payload))
}

#[test]
fn sign_then_verify_returns_the_claims() {
    let claims = access_claims(NOW + 3600);
    let token = key_a().sign(&claims);
    assert_eq!(verify(keys(), &token, NOW), Ok(claims.clone()));
    // Any key of the set: the kid picks it.
    assert_eq!(verify(&[key_b().clone(), key_a().clone()], &token, NOW), Ok(claims));
    // Only the base64url alphabet and the two dots.
    assert!(
        token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "{token}"
    );
    assert_eq!(token.matches('.').count(), 2);
}

#[test]
fn header_is_kid_then_rs256_like_aws() {
    let token = key_a().sign(&access_claims(NOW + 60));
    let header = URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap();
    assert_eq!(
        String::from_utf8(header).unwrap(),
        format!(r#"{{"kid":"{}","alg":"RS256"}}"#, key_a().kid)
    );
}

#[test]
fn jsonwebtoken_verifies_our_token_from_the_jwk() {
    let claims = access_claims(NOW + 3600);
    let token = key_a().sign(&claims);

    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some(key_a().kid.as_str()));

    // The access token has no `aud`; jsonwebtoken checks `exp` against the real clock.
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    let mut claims_far = claims.clone();
    claims_far.insert("exp".into(), json!(4_000_000_000_i64));
    let token_far = key_a().sign(&claims_far);

    // From the JWK's n/e ...
    let jwk = key_a().public_jwk();
    let decoding = DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap()).unwrap();
    let data = jsonwebtoken::decode::<Claims>(&token_far, &decoding, &validation).unwrap();
    assert_eq!(data.claims, claims_far);
    assert_eq!(data.header.kid.as_deref(), Some(key_a().kid.as_str()));

    // ... and from our JWKS document as a JwkSet, picking the key by kid.
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks(keys())).unwrap();
    let jwk = set.find(&key_a().kid).expect("kid in the JWKS");
    let decoding = DecodingKey::from_jwk(jwk).unwrap();
    assert_eq!(
        jsonwebtoken::decode::<Claims>(&token_far, &decoding, &validation)
            .unwrap()
            .claims,
        claims_far
    );

    // The other key of the set must not verify it.
    let other = DecodingKey::from_jwk(set.find(&key_b().kid).unwrap()).unwrap();
    assert!(jsonwebtoken::decode::<Claims>(&token_far, &other, &validation).is_err());
}

#[test]
fn jwk_and_jwks_have_the_aws_shape() {
    let jwk = key_a().public_jwk();
    let text = serde_json::to_string(&jwk).unwrap();
    let n = jwk["n"].as_str().unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"alg":"RS256","e":"AQAB","kid":"{}","kty":"RSA","n":"{n}","use":"sig"}}"#,
            key_a().kid
        )
    );
    let n = URL_SAFE_NO_PAD.decode(n).unwrap();
    assert_eq!(n.len(), 256);
    assert!(n[0] & 0x80 != 0, "a full 2048-bit modulus");

    let doc = jwks(keys());
    assert_eq!(doc.as_object().unwrap().len(), 1);
    let listed = doc["keys"].as_array().unwrap();
    assert_eq!(listed, &vec![key_a().public_jwk(), key_b().public_jwk()]);
    assert_eq!(jwks(&[]), json!({"keys": []}));
}

#[test]
fn kids_look_like_aws_kids_and_differ() {
    for key in keys() {
        assert_eq!(key.kid.len(), 44);
        assert!(key.kid.ends_with('='));
        assert_eq!(STANDARD.decode(&key.kid).unwrap().len(), 32);
    }
    assert_ne!(key_a().kid, key_b().kid);
}

#[test]
fn tampering_breaks_the_signature() {
    let token = key_a().sign(&access_claims(NOW + 3600));
    let [header, _, signature]: [&str; 3] = token.split('.').collect::<Vec<_>>().try_into().unwrap();

    // Another payload under the original signature (e.g. a different `username`).
    let mut evil = access_claims(NOW + 3600);
    evil.insert("username".into(), json!("admin"));
    let tampered = format!("{header}.{}.{signature}", b64(&Value::Object(evil)));
    assert_eq!(verify(keys(), &tampered, NOW), Err(TokenError::BadSignature));

    // One flipped bit in the signature.
    let mut sig = URL_SAFE_NO_PAD.decode(signature).unwrap();
    sig[100] ^= 1;
    let tampered = format!(
        "{}.{}",
        &token[..token.rfind('.').unwrap()],
        URL_SAFE_NO_PAD.encode(&sig)
    );
    assert_eq!(verify(keys(), &tampered, NOW), Err(TokenError::BadSignature));

    // Right length and alphabet, wrong value; and signatures of the wrong length.
    let prefix = &token[..token.rfind('.').unwrap()];
    for sig in [
        vec![0u8; 256],
        vec![0xff; 256],
        vec![1u8; 255],
        vec![1u8; 257],
        vec![],
        vec![7u8; 512],
    ] {
        let tampered = format!("{prefix}.{}", URL_SAFE_NO_PAD.encode(&sig));
        assert_eq!(verify(keys(), &tampered, NOW), Err(TokenError::BadSignature));
    }

    // Key B's signature presented under key A's kid.
    let by_b = key_b().sign(&access_claims(NOW + 3600));
    let sig_b = by_b.rsplit('.').next().unwrap();
    assert_eq!(
        verify(keys(), &format!("{prefix}.{sig_b}"), NOW),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn alg_none_and_other_algorithms_are_refused() {
    let payload = Value::Object(access_claims(NOW + 3600));
    let kid = key_a().kid.as_str();
    for alg in [
        "none", "None", "NONE", "HS256", "RS512", "PS256", "ES256", "rs256", "RS256 ", "",
    ] {
        for sig in ["", "AAAA", "not base64!"] {
            let token = forged(&json!({"kid": kid, "alg": alg}), &payload, sig);
            assert_eq!(
                verify(keys(), &token, NOW),
                Err(TokenError::WrongAlgorithm),
                "alg {alg:?} sig {sig:?}"
            );
        }
    }
    // No alg, or an alg that is not a string.
    for header in [
        json!({"kid": kid}),
        json!({"kid": kid, "alg": null}),
        json!({"kid": kid, "alg": ["RS256"]}),
    ] {
        let token = forged(&header, &payload, "AAAA");
        assert_eq!(verify(keys(), &token, NOW), Err(TokenError::Malformed), "{header}");
    }
}

#[test]
fn hs256_keyed_with_our_public_key_is_refused() {
    // The classic confusion: a verifier that lets the header choose the algorithm would check
    // this HMAC with the public key it holds for the kid, and accept it.
    let claims = access_claims(NOW + 3600);
    let public = key_a().public_key();
    let secrets = [
        public.to_public_key_pem(LineEnding::LF).unwrap().into_bytes(),
        public.to_public_key_der().unwrap().as_bytes().to_vec(),
        serde_json::to_vec(&key_a().public_jwk()).unwrap(),
    ];
    for secret in secrets {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(key_a().kid.clone());
        let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&secret)).unwrap();
        assert_eq!(verify(keys(), &token, NOW), Err(TokenError::WrongAlgorithm));
    }
}

#[test]
fn unknown_or_missing_kid_is_refused() {
    let token = key_b().sign(&access_claims(NOW + 3600));
    assert_eq!(
        verify(std::slice::from_ref(key_a()), &token, NOW),
        Err(TokenError::UnknownKey)
    );
    assert_eq!(verify(&[], &token, NOW), Err(TokenError::UnknownKey));

    let payload = Value::Object(access_claims(NOW + 3600));
    let signature = token.rsplit('.').next().unwrap();
    for header in [
        json!({"alg": "RS256"}),
        json!({"alg": "RS256", "kid": 5}),
        json!({"alg": "RS256", "kid": ""}),
    ] {
        assert_eq!(
            verify(keys(), &forged(&header, &payload, signature), NOW),
            Err(TokenError::UnknownKey)
        );
    }
    // Keys embedded in the header are never used.
    let header = json!({"alg": "RS256", "kid": "attacker", "jwk": key_b().public_jwk()});
    assert_eq!(
        verify(keys(), &forged(&header, &payload, signature), NOW),
        Err(TokenError::UnknownKey)
    );
}

#[test]
fn expiry_is_exclusive_and_required() {
    let sign_with_exp = |exp: Value| {
        let mut claims = access_claims(0);
        claims.insert("exp".into(), exp);
        key_a().sign(&claims)
    };
    assert!(verify(keys(), &sign_with_exp(json!(NOW + 1)), NOW).is_ok());
    assert_eq!(
        verify(keys(), &sign_with_exp(json!(NOW)), NOW),
        Err(TokenError::Expired)
    );
    assert_eq!(
        verify(keys(), &sign_with_exp(json!(NOW - 3600)), NOW),
        Err(TokenError::Expired)
    );
    assert_eq!(verify(keys(), &sign_with_exp(json!(-1)), NOW), Err(TokenError::Expired));
    // Fractional and huge NumericDates.
    assert!(verify(keys(), &sign_with_exp(json!(NOW as f64 + 0.5)), NOW).is_ok());
    assert_eq!(
        verify(keys(), &sign_with_exp(json!(NOW as f64 - 0.5)), NOW),
        Err(TokenError::Expired)
    );
    assert!(verify(keys(), &sign_with_exp(json!(u64::MAX)), NOW).is_ok());
    // A token that never expires is not one we issued.
    for exp in [json!(null), json!("9999999999"), json!([NOW + 60]), json!(true)] {
        assert_eq!(
            verify(keys(), &sign_with_exp(exp.clone()), NOW),
            Err(TokenError::Malformed),
            "{exp}"
        );
    }
    let mut claims = access_claims(0);
    claims.remove("exp");
    assert_eq!(verify(keys(), &key_a().sign(&claims), NOW), Err(TokenError::Malformed));
}

#[test]
fn garbage_is_malformed_without_panicking() {
    let good = key_a().sign(&access_claims(NOW + 3600));
    let [header, payload, signature]: [&str; 3] = good.split('.').collect::<Vec<_>>().try_into().unwrap();
    let huge = "A".repeat(MAX_TOKEN_LEN + 1);
    let padded_header = format!("{}=", URL_SAFE_NO_PAD.encode(br#"{"kid":"x","alg":"RS256"}x"#));
    let cases = [
        "".to_string(),
        ".".into(),
        "..".into(),
        "...".into(),
        "a.b".into(),
        "a.b.c".into(),
        "a.b.c.d".into(),
        "\0\0.\0.\0".into(),
        "ünï.cö.dé".into(),
        format!("{header}.{payload}"),
        format!("{header}.{payload}.{signature}.{signature}"),
        format!("{header}.{payload}.{signature}=="),
        format!("{header}={payload}.{signature}"),
        format!("{padded_header}.{payload}.{signature}"),
        format!("{}.{payload}.{signature}", URL_SAFE_NO_PAD.encode("not json")),
        format!("{}.{payload}.{signature}", URL_SAFE_NO_PAD.encode("[1,2,3]")),
        format!("{}.{payload}.{signature}", URL_SAFE_NO_PAD.encode("\"RS256\"")),
        format!(
            "{}.{payload}.{signature}",
            STANDARD.encode(br#"{"kid":"??>>","alg":"RS256"}"#)
        ),
        format!("{}.{payload}.{signature}", URL_SAFE_NO_PAD.encode("[".repeat(100_000))),
        format!(
            "{}.{payload}.{signature}",
            b64(&json!({"alg": "RS256", "kid": key_a().kid, "crit": ["exp"]}))
        ),
        format!("{header}.{payload}.{}", "!".repeat(342)),
        huge.clone(),
        format!("{huge}.{huge}.{huge}"),
    ];
    for case in &cases {
        assert_eq!(verify(keys(), case, NOW), Err(TokenError::Malformed), "{:.80}", case);
    }

    // Random bytes and random token-shaped strings: any error, never a panic.
    let mut rng = UnwrapErr(getrandom::SysRng);
    let alphabet = b"AZaz09-_.=+/ \0{}\"";
    for round in 0..2_000 {
        let len = (rng.next_u32() % 600) as usize;
        let mut bytes = vec![0u8; len];
        rng.fill_bytes(&mut bytes);
        let case = if round % 2 == 0 {
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            bytes
                .iter()
                .map(|b| alphabet[*b as usize % alphabet.len()] as char)
                .collect()
        };
        assert!(verify(keys(), &case, NOW).is_err());
        // Random bytes in each part of an otherwise valid token.
        let part = URL_SAFE_NO_PAD.encode(&bytes);
        let mixed = match round % 3 {
            0 => format!("{part}.{payload}.{signature}"),
            1 => format!("{header}.{part}.{signature}"),
            _ => format!("{header}.{payload}.{part}"),
        };
        assert!(verify(keys(), &mixed, NOW).is_err());
    }
}

#[test]
fn debug_does_not_leak_the_private_key() {
    let key = key_a();
    let debug = format!("{key:?} {key:#?}");
    assert!(debug.contains(&key.kid));
    let stored = serde_json::to_value(key).unwrap();
    let secret = stored["private_key_pkcs8"].as_str().unwrap();
    assert!(secret.len() > 1_000);
    for window in secret.as_bytes().chunks(16) {
        assert!(!debug.contains(std::str::from_utf8(window).unwrap()), "{debug}");
    }
    assert!(!debug.contains(key.public_jwk()["n"].as_str().unwrap()));
}

#[test]
fn serde_round_trip_keeps_kid_and_signatures() {
    let original = key_a();
    let text = serde_json::to_string(original).unwrap();
    let stored: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        stored.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["kid", "private_key_pkcs8"]
    );

    let restored: SigningKey = serde_json::from_str(&text).unwrap();
    assert_eq!(restored.kid, original.kid);
    assert_eq!(restored.public_jwk(), original.public_jwk());
    assert_eq!(serde_json::to_string(&restored).unwrap(), text);

    let claims = access_claims(NOW + 3600);
    assert_eq!(
        verify(std::slice::from_ref(&restored), &original.sign(&claims), NOW),
        Ok(claims.clone())
    );
    assert_eq!(
        verify(std::slice::from_ref(original), &restored.sign(&claims), NOW),
        Ok(claims)
    );
}

#[test]
fn bad_stored_keys_fail_to_deserialize() {
    let stored = serde_json::to_value(key_a()).unwrap();
    let mut der = STANDARD.decode(stored["private_key_pkcs8"].as_str().unwrap()).unwrap();
    der.truncate(der.len() / 2);
    let cases = [
        json!({"kid": "k"}),
        json!({"kid": "k", "private_key_pkcs8": "***"}),
        json!({"kid": "k", "private_key_pkcs8": ""}),
        json!({"kid": "k", "private_key_pkcs8": STANDARD.encode(&der)}),
        json!({"kid": "k", "private_key_pkcs8": STANDARD.encode(b"not a key")}),
        json!("a string"),
    ];
    for case in cases {
        assert!(serde_json::from_value::<SigningKey>(case.clone()).is_err(), "{case}");
    }
    // A well-formed but too-small RSA key is refused too.
    let small = PrivateKey::new(&mut UnwrapErr(getrandom::SysRng), 1024).unwrap();
    let case = json!({"kid": "k", "private_key_pkcs8": STANDARD.encode(small.to_pkcs8_der().unwrap().as_bytes())});
    let err = serde_json::from_value::<SigningKey>(case).unwrap_err();
    assert!(err.to_string().contains("1024 bits"), "{err}");
}

#[test]
fn refresh_tokens_are_long_random_and_stored_as_hashes() {
    let a = new_refresh_token();
    let b = new_refresh_token();
    assert_ne!(a, b);
    assert!(a.starts_with(REFRESH_TOKEN_PREFIX));
    assert_eq!(a.len(), REFRESH_TOKEN_PREFIX.len() + 86);
    assert_eq!(
        URL_SAFE_NO_PAD.decode(&a[REFRESH_TOKEN_PREFIX.len()..]).unwrap().len(),
        64
    );
    // Cognito's TokenModelType pattern.
    assert!(
        a.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_=.".contains(&c)),
        "{a}"
    );

    let hash = refresh_token_hash(&a);
    assert_eq!(hash.len(), 64);
    assert!(hash.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)));
    assert_eq!(hash, refresh_token_hash(&a));
    assert_ne!(hash, refresh_token_hash(&b));
    assert!(!hash.contains(&a[REFRESH_TOKEN_PREFIX.len()..]));
    assert_eq!(
        refresh_token_hash("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

/// `cargo test --release -p cmfa-core tokens -- --ignored --nocapture`
#[test]
#[ignore = "timing; run in release"]
fn timing() {
    let rounds = 10;
    let mut times = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let started = Instant::now();
        SigningKey::generate();
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "generate: mean {:.0} ms, min {:.0} ms, max {:.0} ms ({rounds} keys)",
        times.iter().sum::<f64>() / rounds as f64,
        times[0],
        times[rounds - 1]
    );

    let key = SigningKey::generate();
    let stored = serde_json::to_string(&key).unwrap();
    let n = 50;
    let started = Instant::now();
    for _ in 0..n {
        let _: SigningKey = serde_json::from_str(&stored).unwrap();
    }
    println!(
        "deserialize (parse + precompute): {:.0} µs/key",
        started.elapsed().as_secs_f64() * 1e6 / n as f64
    );

    let claims = access_claims(NOW + 3600);
    let n = 1_000;
    let started = Instant::now();
    let mut token = String::new();
    for _ in 0..n {
        token = key.sign(&claims);
    }
    println!("sign, 1 thread: {:.0}/s", n as f64 / started.elapsed().as_secs_f64());

    // For comparison only: the same private-key operation without blinding.
    let digest = Sha256::digest(b"timing");
    let started = Instant::now();
    for _ in 0..n {
        rsa::traits::SignatureScheme::sign(
            Pkcs1v15Sign::new::<Sha256>(),
            None::<&mut UnwrapErr<getrandom::SysRng>>,
            &key.parsed.private,
            &digest,
        )
        .unwrap();
    }
    println!(
        "(unblinded RSA op, 1 thread: {:.0}/s)",
        n as f64 / started.elapsed().as_secs_f64()
    );

    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                for _ in 0..n {
                    key.sign(&claims);
                }
            });
        }
    });
    println!(
        "sign, {threads} threads: {:.0}/s",
        (n * threads) as f64 / started.elapsed().as_secs_f64()
    );

    let keys = [SigningKey::generate(), key.clone()];
    let n = 20_000;
    let started = Instant::now();
    for _ in 0..n {
        verify(&keys, &token, NOW).unwrap();
    }
    println!(
        "verify, 1 thread: {:.0}/s (token {} bytes)",
        n as f64 / started.elapsed().as_secs_f64(),
        token.len()
    );

    let n = 100_000;
    let started = Instant::now();
    for _ in 0..n {
        refresh_token_hash(&new_refresh_token());
    }
    println!(
        "refresh token + hash: {:.2} µs",
        started.elapsed().as_secs_f64() * 1e6 / n as f64
    );
}
