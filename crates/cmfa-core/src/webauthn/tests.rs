//! Registration and assertion checks against the software authenticator, one broken thing at a
//! time.

use super::data::{self, BS, UP, UV, b64url};
use super::soft::SoftPasskey;
use super::*;
use serde_json::json;

const RP: &str = "localhost";
const ORIGIN: &str = "http://localhost:5173";

fn options(challenge: &[u8]) -> Value {
    json!({ "challenge": b64url(challenge), "rp": { "id": RP, "name": RP } })
}

fn expect<'a>(challenge: &'a [u8], uv: bool) -> ExpectRegistration<'a> {
    ExpectRegistration {
        challenge,
        rp_id: RP,
        extra_origins: &[],
        user_verification_required: uv,
        algorithms: &[cose::ES256, cose::RS256],
    }
}

#[test]
fn a_registration_is_verified_and_described() {
    let challenge = new_challenge();
    let pk = SoftPasskey::new(ORIGIN);
    for fmt in ["none", "packed", "fido-u2f-not-evaluated"] {
        let c = verify_registration(&pk.register(&options(&challenge), fmt), &expect(&challenge, true)).unwrap();
        assert_eq!(c.id, pk.credential_id);
        assert_eq!(
            (c.algorithm, c.user_verified, c.format.as_str()),
            (cose::ES256, true, fmt)
        );
        assert_eq!(c.transports, ["internal"]);
        assert_eq!(c.attachment.as_deref(), Some("platform"));
        assert!(cose::CoseKey::from_bytes(&c.public_key).is_ok());
    }
}

#[test]
fn registrations_with_one_thing_wrong_are_refused() {
    let challenge = new_challenge();
    let good = SoftPasskey::new(ORIGIN);
    let reg = |pk: &SoftPasskey, fmt: &str| pk.register(&options(&challenge), fmt);

    let other = new_challenge();
    assert_eq!(
        verify_registration(&reg(&good, "none"), &expect(&other, false)),
        Err(Fail::ChallengeNotFound)
    );

    let mut wrong_rp = options(&challenge);
    wrong_rp["rp"]["id"] = json!("example.com");
    let r = verify_registration(&good.register(&wrong_rp, "none"), &expect(&challenge, false));
    assert_eq!(r, Err(Fail::RelyingPartyMismatch));

    let evil = SoftPasskey::new("https://evil.example");
    assert!(matches!(
        verify_registration(&reg(&evil, "none"), &expect(&challenge, false)),
        Err(Fail::OriginNotAllowed(o)) if o == "https://evil.example"
    ));

    let mut no_uv = SoftPasskey::new(ORIGIN);
    no_uv.flags = UP;
    assert!(matches!(
        verify_registration(&reg(&no_uv, "none"), &expect(&challenge, true)),
        Err(Fail::NotSupported(_))
    ));
    assert!(
        verify_registration(&reg(&no_uv, "none"), &expect(&challenge, false)).is_ok(),
        "UV only when required"
    );

    let mut absent = SoftPasskey::new(ORIGIN);
    absent.flags = UV;
    assert!(matches!(
        verify_registration(&reg(&absent, "none"), &expect(&challenge, false)),
        Err(Fail::Invalid(_))
    ));

    let mut bs_only = SoftPasskey::new(ORIGIN);
    bs_only.flags = UP | BS;
    assert!(matches!(
        verify_registration(&reg(&bs_only, "none"), &expect(&challenge, false)),
        Err(Fail::Invalid(_))
    ));

    let mut forged = SoftPasskey::new(ORIGIN);
    forged.forge = true;
    assert!(matches!(
        verify_registration(&reg(&forged, "packed"), &expect(&challenge, false)),
        Err(Fail::Invalid(_))
    ));

    let only_rsa = ExpectRegistration {
        algorithms: &[cose::RS256],
        ..expect(&challenge, false)
    };
    assert!(matches!(
        verify_registration(&reg(&good, "none"), &only_rsa),
        Err(Fail::NotSupported(_))
    ));

    let mut mismatched = reg(&good, "none");
    mismatched["rawId"] = json!(b64url(b"another id"));
    assert!(matches!(
        verify_registration(&mismatched, &expect(&challenge, false)),
        Err(Fail::Invalid(_))
    ));

    let mut not_pk = reg(&good, "none");
    not_pk["type"] = json!("password");
    assert!(matches!(
        verify_registration(&not_pk, &expect(&challenge, false)),
        Err(Fail::Invalid(_))
    ));

    for garbage in [json!({}), json!({"type": "public-key", "id": "!!"}), json!([1, 2])] {
        assert!(verify_registration(&garbage, &expect(&challenge, false)).is_err());
    }
    // A get() response is not a create() response.
    let mut pk = SoftPasskey::new(ORIGIN);
    let assertion = pk.assert(&json!({ "challenge": b64url(&challenge), "rpId": RP }));
    assert!(verify_registration(&assertion, &expect(&challenge, false)).is_err());
}

fn expect_get(challenge: &[u8], uv: bool) -> ExpectAssertion<'_> {
    ExpectAssertion {
        challenge,
        rp_id: RP,
        extra_origins: &[],
        user_verification_required: uv,
    }
}

#[test]
fn assertions_verify_with_the_stored_key_and_a_counter_that_moves_on() {
    let challenge = new_challenge();
    let mut pk = SoftPasskey::new(ORIGIN);
    let c = verify_registration(&pk.register(&options(&challenge), "none"), &expect(&challenge, false)).unwrap();
    let req = json!({ "challenge": b64url(&challenge), "rpId": RP });
    let stored = |count| StoredCredential {
        id: &c.id,
        public_key: &c.public_key,
        sign_count: count,
    };
    let a = pk.assert(&req);
    assert_eq!(assertion_credential_id(&a).unwrap(), c.id);
    let ok = verify_assertion(&a, &expect_get(&challenge, true), &stored(0)).unwrap();
    assert_eq!(ok.sign_count, 1);
    // Replayed with the counter already at 1, or an older counter: a clone.
    assert!(matches!(
        verify_assertion(&a, &expect_get(&challenge, true), &stored(1)),
        Err(Fail::Invalid(_))
    ));
    let next = pk.assert(&req);
    assert_eq!(
        verify_assertion(&next, &expect_get(&challenge, true), &stored(1))
            .unwrap()
            .sign_count,
        2
    );

    // A synced passkey keeps no counter: 0 every time is fine.
    let mut synced = SoftPasskey::synced(ORIGIN);
    let s = verify_registration(
        &synced.register(&options(&challenge), "none"),
        &expect(&challenge, false),
    )
    .unwrap();
    assert!(s.backup_eligible && s.backed_up);
    for _ in 0..2 {
        let a = synced.assert(&req);
        let st = StoredCredential {
            id: &s.id,
            public_key: &s.public_key,
            sign_count: 0,
        };
        assert_eq!(
            verify_assertion(&a, &expect_get(&challenge, false), &st)
                .unwrap()
                .sign_count,
            0
        );
    }
}

#[test]
fn assertions_with_one_thing_wrong_are_refused() {
    let challenge = new_challenge();
    let mut pk = SoftPasskey::new(ORIGIN);
    let c = verify_registration(&pk.register(&options(&challenge), "none"), &expect(&challenge, false)).unwrap();
    let stored = StoredCredential {
        id: &c.id,
        public_key: &c.public_key,
        sign_count: 0,
    };
    let req = json!({ "challenge": b64url(&challenge), "rpId": RP });

    let a = pk.assert(&req);
    assert_eq!(
        verify_assertion(&a, &expect_get(&new_challenge(), false), &stored),
        Err(Fail::ChallengeNotFound)
    );

    let a = pk.assert(&json!({ "challenge": b64url(&challenge), "rpId": "example.com" }));
    assert_eq!(
        verify_assertion(&a, &expect_get(&challenge, false), &stored),
        Err(Fail::RelyingPartyMismatch)
    );

    pk.forge = true;
    let a = pk.assert(&req);
    assert!(matches!(
        verify_assertion(&a, &expect_get(&challenge, false), &stored),
        Err(Fail::Invalid(_))
    ));
    pk.forge = false;

    pk.flags = UP;
    let a = pk.assert(&req);
    assert!(matches!(
        verify_assertion(&a, &expect_get(&challenge, true), &stored),
        Err(Fail::NotSupported(_))
    ));

    let mut tampered = pk.assert(&req);
    tampered["response"]["signature"] = json!(b64url(&[0u8; 70]));
    assert!(matches!(
        verify_assertion(&tampered, &expect_get(&challenge, false), &stored),
        Err(Fail::Invalid(_))
    ));

    // Another passkey's assertion against this credential.
    let mut other = SoftPasskey::new(ORIGIN);
    let a = other.assert(&req);
    assert!(matches!(
        verify_assertion(&a, &expect_get(&challenge, false), &stored),
        Err(Fail::Invalid(_))
    ));
}

#[test]
fn rs256_passkeys_work_and_eddsa_ones_are_refused() {
    let challenge = new_challenge();
    let mut rsa = SoftPasskey::rsa(ORIGIN);
    for fmt in ["none", "packed"] {
        let c = verify_registration(&rsa.register(&options(&challenge), fmt), &expect(&challenge, true)).unwrap();
        assert_eq!(c.algorithm, cose::RS256, "{fmt}");
    }
    let c = verify_registration(&rsa.register(&options(&challenge), "none"), &expect(&challenge, true)).unwrap();
    let req = json!({ "challenge": b64url(&challenge), "rpId": RP });
    let stored = StoredCredential {
        id: &c.id,
        public_key: &c.public_key,
        sign_count: 0,
    };
    assert!(verify_assertion(&rsa.assert(&req), &expect_get(&challenge, true), &stored).is_ok());

    let ed = SoftPasskey::ed25519(ORIGIN);
    assert!(matches!(
        verify_registration(&ed.register(&options(&challenge), "none"), &expect(&challenge, false)),
        Err(Fail::NotSupported(m)) if m.contains("-8")
    ));
}

#[test]
fn truncated_or_oversized_input_is_refused_without_a_panic() {
    let challenge = new_challenge();
    let pk = SoftPasskey::new(ORIGIN);
    let good = pk.register(&options(&challenge), "packed");
    let att = data::from_b64url(good["response"]["attestationObject"].as_str().unwrap(), "a").unwrap();
    for cut in [0, 1, 10, att.len() / 2, att.len() - 1] {
        let mut r = good.clone();
        r["response"]["attestationObject"] = json!(b64url(&att[..cut]));
        assert!(
            verify_registration(&r, &expect(&challenge, false)).is_err(),
            "cut at {cut}"
        );
    }
    let mut huge = good.clone();
    huge["response"]["attestationObject"] = json!(b64url(&vec![0x5a; 1 << 20]));
    assert!(verify_registration(&huge, &expect(&challenge, false)).is_err());
    let mut bad_b64 = good.clone();
    bad_b64["response"]["clientDataJSON"] = json!("not base64url!");
    assert!(matches!(
        verify_registration(&bad_b64, &expect(&challenge, false)),
        Err(Fail::Invalid(_))
    ));
    let mut tampered = good.clone();
    let cdj = data::from_b64url(good["response"]["clientDataJSON"].as_str().unwrap(), "c").unwrap();
    let mut v: Value = serde_json::from_slice(&cdj).unwrap();
    v["origin"] = json!("http://localhost:5174");
    tampered["response"]["clientDataJSON"] = json!(b64url(v.to_string().as_bytes()));
    assert!(
        verify_registration(&tampered, &expect(&challenge, false)).is_err(),
        "the packed signature covers clientDataJSON"
    );
}
