//! Token cryptography: a pool's RS256 signing keys, its JWKS, compact-JWS signing and verification
//! of ID/access tokens, and the hash under which older versions stored their opaque refresh
//! tokens (refresh tokens are now sealed: see [`super::refresh`]).
//!
//! Everything here is pure: no clock (the caller passes `now`), no storage, no HTTP. Which claims go
//! into a token, and which `token_use`/`client_id`/`iss` a caller accepts, is the auth engine's
//! business; this module only answers "did one of these keys sign this, with RS256, and is it still
//! in date?".
//!
//! Speed: an RSA private-key operation is the most expensive thing a sign-in does, so a
//! [`SigningKey`] holds its key already parsed (CRT parameters precomputed) behind an `Arc`. Parsing
//! happens once, when the key is generated or deserialized; callers should keep the deserialized
//! keys around (e.g. per pool in memory) rather than decode them from storage on every request.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::PrivateKey;
#[cfg(test)]
use rsa::PublicKey;
#[cfg(test)]
use rsa::pkcs1v15::Pkcs1v15Sign;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::rand_core::{Rng as _, UnwrapErr};
use rsa::sha2::{Digest as _, Sha256};
use rsa::traits::PublicKeyParts as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The claims of a token: a JSON object.
pub type Claims = Map<String, Value>;

/// The only JWS algorithm we issue or accept, as Cognito does.
const ALG: &str = "RS256";

/// Cognito's keys are RSA-2048; verifiers in the wild expect nothing else.
const KEY_BITS: usize = 2048;

/// Largest key we agree to load: bounds the cost of a sign or verify if the store hands us
/// something odd.
const MAX_KEY_BITS: usize = 4096;

/// Tokens longer than this are refused before any decoding. Generous on purpose: an ID token
/// carries every user attribute (up to 50 custom ones of 2,048 characters), and base64 adds a third.
const MAX_TOKEN_LEN: usize = 256 * 1024;

/// Marked the opaque refresh tokens of older versions (secret scanners, logs). Only characters of
/// Cognito's `TokenModelType` pattern `[A-Za-z0-9-_=.]+`.
#[cfg(test)]
const REFRESH_TOKEN_PREFIX: &str = "cmfa_rt_";

/// 512 bits: far beyond guessing, so the stored hash needs no key or stretching.
#[cfg(test)]
const REFRESH_TOKEN_BYTES: usize = 64;

/// Why a token was refused. Callers map every variant to the same client-facing
/// `NotAuthorizedException`; the variants exist for logs and tests.
#[derive(Debug, Clone, Copy, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts, a part that is not JSON, a missing or unusable claim, or too long.
    #[error("malformed token")]
    Malformed,
    /// The signature does not match the header and payload under the named key.
    #[error("bad token signature")]
    BadSignature,
    /// The header names a key (`kid`) that is not one of the pool's, or names none.
    #[error("token signed with an unknown key")]
    UnknownKey,
    /// `exp` is not after the current time.
    #[error("token expired")]
    Expired,
    /// The header's `alg` is anything but `RS256` (`none`, `HS256`, ...).
    #[error("token algorithm not accepted")]
    WrongAlgorithm,
}

/// One RSA-2048 signing key of a pool.
///
/// Serializes as `{"kid": "...", "private_key_pkcs8": "<base64 of the PKCS#8 DER>"}`. Cloning is
/// cheap (the parsed key is shared), and `Debug` shows the `kid` only.
#[derive(Clone)]
pub struct SigningKey {
    /// Key id, as it appears in token headers and the JWKS. Looks like AWS's: standard base64 of 32
    /// random bytes (44 characters ending in `=`).
    pub kid: String,
    parsed: Arc<ParsedKey>,
}

/// What a sign or verify needs, computed once per key.
struct ParsedKey {
    /// Has its CRT values precomputed (the `rsa` crate does this on generate and on decode).
    /// Used for key generation, storage and verification.
    private: PrivateKey,
    /// The same key in AWS-LC's form (through `aws-lc-rs`), which signs about three times as
    /// fast as `rsa` here (its RSA uses AVX-512 IFMA where the CPU has it; constant-time,
    /// blinded): two signatures are most of the cost of a sign-in.
    signer: aws_lc_rs::signature::RsaKeyPair,
    rng: aws_lc_rs::rand::SystemRandom,
    /// The public half for AWS-LC's verifier (every access-token operation verifies).
    public: aws_lc_rs::signature::RsaPublicKeyComponents<Vec<u8>>,
    /// JWK `n` and `e`, base64url of the big-endian bytes without leading zeros.
    n_b64: String,
    e_b64: String,
    /// A secret derived from the private key (HKDF-SHA256), for sealing refresh tokens: see
    /// [`super::refresh`]. Derived, not stored, so existing keys need no migration.
    refresh_secret: [u8; 32],
}

/// The stored form of a [`SigningKey`].
#[derive(Serialize, Deserialize)]
struct StoredSigningKey {
    kid: String,
    private_key_pkcs8: String,
}

impl SigningKey {
    /// Generates a fresh key with a random `kid`. Slow (tens to hundreds of milliseconds: two
    /// 1,024-bit primes), so it belongs at pool creation and key rotation, never on a request path.
    pub fn generate() -> SigningKey {
        let mut rng = UnwrapErr(getrandom::SysRng);
        let private = PrivateKey::new(&mut rng, KEY_BITS).expect("RSA-2048 generation with the OS RNG cannot fail");
        let mut kid_bytes = [0u8; 32];
        rng.fill_bytes(&mut kid_bytes);
        SigningKey {
            kid: STANDARD.encode(kid_bytes),
            parsed: Arc::new(ParsedKey::new(private).expect("a freshly generated RSA-2048 key is valid")),
        }
    }

    /// Loads a key from PKCS#8 DER, refusing anything that is not an RSA key of 2,048 to 4,096 bits.
    fn from_pkcs8_der(kid: String, der: &[u8]) -> Result<SigningKey, String> {
        let private = PrivateKey::from_pkcs8_der(der).map_err(|e| format!("invalid RSA PKCS#8 key: {e}"))?;
        let bits = private.n().bit_width_vartime() as usize;
        if !(KEY_BITS..=MAX_KEY_BITS).contains(&bits) {
            return Err(format!("RSA key of {bits} bits; expected {KEY_BITS} to {MAX_KEY_BITS}"));
        }
        Ok(SigningKey {
            kid,
            parsed: Arc::new(ParsedKey::new(private)?),
        })
    }

    /// The secret refresh tokens of this key's pool are sealed with (never leaves the process).
    pub(crate) fn refresh_secret(&self) -> &[u8; 32] {
        &self.parsed.refresh_secret
    }

    /// The key's public half as a JWK, with its members in the order AWS's JWKS shows them.
    pub fn public_jwk(&self) -> Value {
        // Insert in AWS's (alphabetical) order, so the output matches whether or not serde_json's
        // `preserve_order` feature is switched on somewhere in the build.
        let mut jwk = Map::new();
        jwk.insert("alg".into(), ALG.into());
        jwk.insert("e".into(), self.parsed.e_b64.clone().into());
        jwk.insert("kid".into(), self.kid.clone().into());
        jwk.insert("kty".into(), "RSA".into());
        jwk.insert("n".into(), self.parsed.n_b64.clone().into());
        jwk.insert("use".into(), "sig".into());
        Value::Object(jwk)
    }

    /// Signs `claims` as a compact JWS with header `{"kid":..,"alg":"RS256"}` (AWS's member order).
    /// The private-key operation is AWS-LC's (constant-time and blinded).
    pub fn sign(&self, claims: &Claims) -> String {
        // `Value`'s Display writes a JSON string literal, escapes included.
        let header = format!(r#"{{"kid":{},"alg":"{ALG}"}}"#, Value::String(self.kid.clone()));
        let payload = serde_json::to_vec(claims).expect("a JSON object with string keys always serializes");

        let mut token = String::with_capacity((header.len() + payload.len() + 256) * 4 / 3 + 8);
        URL_SAFE_NO_PAD.encode_string(header, &mut token);
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut token);
        let mut signature = vec![0u8; self.parsed.signer.public_modulus_len()];
        self.parsed
            .signer
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &self.parsed.rng,
                token.as_bytes(),
                &mut signature,
            )
            .expect("PKCS#1 v1.5 SHA-256 signing with a valid RSA key cannot fail");
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut token);
        token
    }
}

#[cfg(test)]
impl SigningKey {
    fn public_key(&self) -> &PublicKey {
        self.parsed.private.as_public_key()
    }
}

impl ParsedKey {
    fn new(private: PrivateKey) -> Result<ParsedKey, String> {
        let n_b64 = URL_SAFE_NO_PAD.encode(private.n_bytes());
        let e_b64 = URL_SAFE_NO_PAD.encode(private.e_bytes());
        let der = private
            .to_pkcs8_der()
            .map_err(|e| format!("cannot encode the RSA key: {e}"))?;
        let signer = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(der.as_bytes())
            .map_err(|e| format!("RSA key not accepted for signing: {e}"))?;
        let public = aws_lc_rs::signature::RsaPublicKeyComponents {
            n: private.n_bytes().to_vec(),
            e: private.e_bytes().to_vec(),
        };
        let mut refresh_secret = [0u8; 32];
        hkdf::Hkdf::<sha2::Sha256>::new(Some(b"cognito-mfa"), der.as_bytes())
            .expand(b"refresh-token sealing key v1", &mut refresh_secret)
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Ok(ParsedKey {
            private,
            signer,
            rng: aws_lc_rs::rand::SystemRandom::new(),
            public,
            n_b64,
            e_b64,
            refresh_secret,
        })
    }
}

/// Never prints key material: keys end up in `Debug` output of pool and state structs.
impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &ALG)
            .field("bits", &self.parsed.private.n().bit_width_vartime())
            .finish_non_exhaustive()
    }
}

impl Serialize for SigningKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let der = self.parsed.private.to_pkcs8_der().map_err(serde::ser::Error::custom)?;
        StoredSigningKey {
            kid: self.kid.clone(),
            private_key_pkcs8: STANDARD.encode(der.as_bytes()),
        }
        .serialize(serializer)
    }
}

/// Parses (and precomputes) the key here, once, so that [`SigningKey::sign`] never touches DER.
impl<'de> Deserialize<'de> for SigningKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = StoredSigningKey::deserialize(deserializer)?;
        let der = STANDARD
            .decode(stored.private_key_pkcs8.as_bytes())
            .map_err(|e| serde::de::Error::custom(format!("private_key_pkcs8 is not base64: {e}")))?;
        SigningKey::from_pkcs8_der(stored.kid, &der).map_err(serde::de::Error::custom)
    }
}

/// The pool's JWKS document, `{"keys":[...]}`, as served at `/.well-known/jwks.json`.
pub fn jwks(keys: &[SigningKey]) -> Value {
    let keys = keys.iter().map(SigningKey::public_jwk).collect();
    let mut doc = Map::new();
    doc.insert("keys".into(), Value::Array(keys));
    Value::Object(doc)
}

/// Verifies a compact JWS against the pool's keys and returns its claims.
///
/// The order of checks is deliberate: the header's `alg` is checked before anything else is
/// trusted, so `none` and HMAC tokens (including HS256 keyed with our public key) never reach a
/// verifier; the key is chosen only by `kid`, never by trying each key or by keys embedded in the
/// header (`jwk`, `jku`, `x5u` are ignored); the payload is parsed only once the signature holds.
/// Only `exp` is checked among the claims; `token_use`, `client_id`, `iss` are the caller's.
/// Never panics, whatever `token` holds.
pub fn verify(keys: &[SigningKey], token: &str, now_unix: i64) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };

    let header = decode_json_object(header_b64)?;
    // RFC 7515 §4.1.11: extensions marked critical must be understood; we understand none.
    if header.contains_key("crit") {
        return Err(TokenError::Malformed);
    }
    match header.get("alg") {
        Some(Value::String(alg)) if alg == ALG => {}
        Some(Value::String(_)) => return Err(TokenError::WrongAlgorithm),
        _ => return Err(TokenError::Malformed),
    }
    let Some(Value::String(kid)) = header.get("kid") else {
        return Err(TokenError::UnknownKey);
    };
    let key = keys.iter().find(|key| key.kid == *kid).ok_or(TokenError::UnknownKey)?;

    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| TokenError::Malformed)?;
    let signing_input = &token[..header_b64.len() + 1 + payload_b64.len()];
    key.parsed
        .public
        .verify(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            signing_input.as_bytes(),
            &signature,
        )
        .map_err(|_| TokenError::BadSignature)?;

    let claims = decode_json_object(payload_b64)?;
    let unexpired = match claims.get("exp") {
        Some(Value::Number(exp)) => match exp.as_i64() {
            Some(exp) => exp > now_unix,
            // NumericDate may be fractional (RFC 7519 §2) or beyond i64.
            None => exp.as_f64().is_some_and(|exp| exp > now_unix as f64),
        },
        _ => return Err(TokenError::Malformed),
    };
    if unexpired {
        Ok(claims)
    } else {
        Err(TokenError::Expired)
    }
}

/// Decodes one base64url (unpadded, canonical) part into a JSON object.
fn decode_json_object(part: &str) -> Result<Claims, TokenError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

/// An opaque refresh token as older versions issued them: a fixed prefix and 64 random bytes in
/// base64url (94 characters), stored as [`refresh_token_hash`]. Tests only: issuing now seals.
#[cfg(test)]
fn new_refresh_token() -> String {
    let mut bytes = [0u8; REFRESH_TOKEN_BYTES];
    UnwrapErr(getrandom::SysRng).fill_bytes(&mut bytes);
    let mut token = String::with_capacity(REFRESH_TOKEN_PREFIX.len() + REFRESH_TOKEN_BYTES.div_ceil(3) * 4);
    token.push_str(REFRESH_TOKEN_PREFIX);
    URL_SAFE_NO_PAD.encode_string(bytes, &mut token);
    token
}

/// What older versions stored instead of a refresh token: SHA-256, lowercase hex. A plain fast hash suffices
/// because the token has 512 random bits; a stolen database yields nothing that can be replayed.
pub fn refresh_token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests;
