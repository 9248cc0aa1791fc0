//! A software authenticator for tests (feature `testing`): a P-256 passkey that answers
//! `navigator.credentials.create()` and `.get()` options with the browser's JSON
//! (`RegistrationResponseJSON`, `AuthenticationResponseJSON`), as Chromium's `toJSON()` does.
//! Knobs let a test break one thing at a time (flags, counter, origin, signature).

use super::data::{AT, BE, BS, UP, UV, b64url, sha256};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use ciborium::Value as Cbor;
use serde_json::{Value, json};

/// The passkey's key: ES256 (what browsers make), RS256, or Ed25519 (which Cognito does not
/// offer, to test its refusal).
enum Key {
    Es256(EcdsaKeyPair),
    Rs256 { pair: RsaKeyPair, n: Vec<u8>, e: Vec<u8> },
    Ed25519(Ed25519KeyPair),
}

/// One passkey on a software authenticator.
pub struct SoftPasskey {
    key: Key,
    pub credential_id: Vec<u8>,
    /// The signature counter; it goes up by `counter_step` at every assertion (0: none kept).
    pub counter: u32,
    pub counter_step: u32,
    /// Flags set in every response (UP|UV by default).
    pub flags: u8,
    /// The page origin written into clientDataJSON.
    pub origin: String,
    /// Sign with another key (a forged response).
    pub forge: bool,
}

fn cbor(v: &Cbor) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(v, &mut out).expect("CBOR to memory");
    out
}

impl SoftPasskey {
    /// A new passkey whose pages live at `origin`.
    pub fn new(origin: &str) -> SoftPasskey {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).expect("key");
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).expect("key");
        SoftPasskey::with_key(Key::Es256(pair), origin)
    }

    /// An RS256 (RSA-2048) passkey, as some Windows Hello authenticators make.
    pub fn rsa(origin: &str) -> SoftPasskey {
        use rsa::pkcs8::EncodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let mut rng = rsa::rand_core::UnwrapErr(getrandom::SysRng);
        let private = rsa::PrivateKey::new(&mut rng, 2048).expect("RSA-2048");
        let der = private.to_pkcs8_der().expect("PKCS#8");
        let pair = RsaKeyPair::from_pkcs8(der.as_bytes()).expect("RSA key");
        let (n, e) = (private.n_bytes().to_vec(), private.e_bytes().to_vec());
        SoftPasskey::with_key(Key::Rs256 { pair, n, e }, origin)
    }

    /// An Ed25519 (EdDSA, -8) passkey.
    pub fn ed25519(origin: &str) -> SoftPasskey {
        let rng = SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key");
        SoftPasskey::with_key(Key::Ed25519(pair), origin)
    }

    fn with_key(key: Key, origin: &str) -> SoftPasskey {
        SoftPasskey {
            key,
            credential_id: super::new_challenge(),
            counter: 0,
            counter_step: 1,
            flags: UP | UV,
            origin: origin.to_owned(),
            forge: false,
        }
    }

    /// A synced passkey: backup eligible and backed up, no counter.
    pub fn synced(origin: &str) -> SoftPasskey {
        let mut p = SoftPasskey::new(origin);
        p.flags |= BE | BS;
        p.counter_step = 0;
        p
    }

    /// The COSE algorithm of the key.
    pub fn algorithm(&self) -> i64 {
        match self.key {
            Key::Es256(_) => -7,
            Key::Rs256 { .. } => -257,
            Key::Ed25519(_) => -8,
        }
    }

    fn cose_key(&self) -> Cbor {
        let i = |n: i64| Cbor::Integer(n.into());
        match &self.key {
            Key::Es256(pair) => {
                let public = pair.public_key().as_ref();
                Cbor::Map(vec![
                    (i(1), i(2)),
                    (i(3), i(-7)),
                    (i(-1), i(1)),
                    (i(-2), Cbor::Bytes(public[1..33].to_vec())),
                    (i(-3), Cbor::Bytes(public[33..65].to_vec())),
                ])
            }
            Key::Rs256 { n, e, .. } => Cbor::Map(vec![
                (i(1), i(3)),
                (i(3), i(-257)),
                (i(-1), Cbor::Bytes(n.clone())),
                (i(-2), Cbor::Bytes(e.clone())),
            ]),
            Key::Ed25519(pair) => Cbor::Map(vec![
                (i(1), i(1)),
                (i(3), i(-8)),
                (i(-1), i(6)),
                (i(-2), Cbor::Bytes(pair.public_key().as_ref().to_vec())),
            ]),
        }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        // As Chrome sometimes does: an extra member the server must ignore.
        json!({ "type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false,
                "other_keys_can_be_added_here": "do not compare clientDataJSON against a template" })
        .to_string()
        .into_bytes()
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        if self.forge {
            return SoftPasskey::new(&self.origin).sign(message);
        }
        match &self.key {
            Key::Es256(pair) => pair.sign(&rng, message).expect("sign").as_ref().to_vec(),
            Key::Rs256 { pair, .. } => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .expect("sign");
                sig
            }
            Key::Ed25519(pair) => pair.sign(message).as_ref().to_vec(),
        }
    }

    /// Answers `CredentialCreationOptions` (a JSON object: `challenge`, `rp.id`, …) with
    /// attestation `fmt` (`none`, or `packed` for self attestation).
    pub fn register(&self, options: &Value, fmt: &str) -> Value {
        let challenge = options["challenge"].as_str().expect("challenge");
        let rp_id = options["rp"]["id"].as_str().expect("rp.id");
        let cdj = self.client_data("webauthn.create", challenge);
        let mut ad = sha256(rp_id.as_bytes()).to_vec();
        ad.push(self.flags | AT);
        ad.extend_from_slice(&self.counter.to_be_bytes());
        ad.extend_from_slice(&[0u8; 16]);
        ad.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
        ad.extend_from_slice(&self.credential_id);
        ad.extend_from_slice(&cbor(&self.cose_key()));
        let stmt = if fmt == "packed" {
            let mut signed = ad.clone();
            signed.extend_from_slice(&sha256(&cdj));
            Cbor::Map(vec![
                (Cbor::Text("alg".into()), Cbor::Integer(self.algorithm().into())),
                (Cbor::Text("sig".into()), Cbor::Bytes(self.sign(&signed))),
            ])
        } else {
            Cbor::Map(vec![])
        };
        let att = Cbor::Map(vec![
            (Cbor::Text("fmt".into()), Cbor::Text(fmt.into())),
            (Cbor::Text("attStmt".into()), stmt),
            (Cbor::Text("authData".into()), Cbor::Bytes(ad)),
        ]);
        let id = b64url(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(&cdj),
                "attestationObject": b64url(&cbor(&att)),
                "transports": ["internal"],
                "publicKeyAlgorithm": self.algorithm(),
            },
        })
    }

    /// Answers `CredentialRequestOptions` (`challenge`, `rpId`) and moves the counter on.
    pub fn assert(&mut self, options: &Value) -> Value {
        let challenge = options["challenge"].as_str().expect("challenge");
        let rp_id = options["rpId"].as_str().expect("rpId");
        self.counter += self.counter_step;
        let cdj = self.client_data("webauthn.get", challenge);
        let mut ad = sha256(rp_id.as_bytes()).to_vec();
        ad.push(self.flags);
        ad.extend_from_slice(&self.counter.to_be_bytes());
        let mut signed = ad.clone();
        signed.extend_from_slice(&sha256(&cdj));
        let id = b64url(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64url(&cdj),
                "authenticatorData": b64url(&ad),
                "signature": b64url(&self.sign(&signed)),
                "userHandle": options.get("userHandle").cloned().unwrap_or(Value::Null),
            },
        })
    }
}
