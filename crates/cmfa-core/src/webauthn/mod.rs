//! WebAuthn relying-party verification (passkeys), following WebAuthn Level 3's "Registering a
//! New Credential" (§7.1) and "Verifying an Authentication Assertion" (§7.2), on the workspace's
//! own primitives: CBOR (ciborium), COSE keys ([`cose`]), ECDSA P-256 and RSA (aws-lc-rs).
//!
//! Pure functions: the browser's JSON in, a verified credential (or the checked assertion) out.
//! What the service stores and how failures become Cognito's exceptions is in the operations.

pub mod cose;
pub mod data;
#[cfg(any(test, feature = "testing"))]
pub mod soft;

use data::{AT, AuthData, BE, BS, ClientData, UP, UV, from_b64url, origin_allowed, sha256};
use serde_json::Value;

/// Why a registration or an assertion was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fail {
    /// The challenge is not the one handed out (or it is gone).
    ChallengeNotFound,
    /// The authenticator data is for another RP ID.
    RelyingPartyMismatch,
    /// The page's origin does not belong to the RP ID.
    OriginNotAllowed(String),
    /// A credential this server does not take (algorithm, missing user verification).
    NotSupported(String),
    /// Malformed input, or a check that failed (signature, flags, type).
    Invalid(String),
    /// The signature counter did not move forward: the credential may have been cloned.
    CounterNotIncreased { stored: u32, seen: u32 },
}

/// What a registration must match.
pub struct ExpectRegistration<'a> {
    pub challenge: &'a [u8],
    pub rp_id: &'a str,
    pub extra_origins: &'a [String],
    pub user_verification_required: bool,
    /// The algorithms offered in `pubKeyCredParams`.
    pub algorithms: &'a [i64],
}

/// A verified new credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    pub id: Vec<u8>,
    /// COSE_Key bytes.
    pub public_key: Vec<u8>,
    pub algorithm: i64,
    pub sign_count: u32,
    pub user_verified: bool,
    pub backup_eligible: bool,
    pub backed_up: bool,
    pub aaguid: [u8; 16],
    /// The attestation format as sent (`none`, `packed`, …).
    pub format: String,
    pub transports: Vec<String>,
    pub attachment: Option<String>,
}

fn text<'a>(v: &'a Value, ptr: &str, what: &str) -> Result<&'a str, Fail> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .ok_or_else(|| Fail::Invalid(format!("{what} is missing")))
}

/// Checks the parts common to both ceremonies: type, ids, client data. Returns the client data's
/// raw bytes and its parsed form.
fn common(
    resp: &Value,
    kind: &str,
    challenge: &[u8],
    rp_id: &str,
    extra: &[String],
) -> Result<(Vec<u8>, Vec<u8>), Fail> {
    if resp.get("type").and_then(Value::as_str) != Some("public-key") {
        return Err(Fail::Invalid("type must be public-key".into()));
    }
    let id = from_b64url(text(resp, "/id", "id")?, "id")?;
    let raw_id = match resp.get("rawId").and_then(Value::as_str) {
        Some(r) => from_b64url(r, "rawId")?,
        None => id.clone(),
    };
    if id != raw_id || id.is_empty() {
        return Err(Fail::Invalid("id and rawId differ".into()));
    }
    let cdj = from_b64url(
        text(resp, "/response/clientDataJSON", "clientDataJSON")?,
        "clientDataJSON",
    )?;
    let cd = ClientData::parse(&cdj)?;
    if cd.kind != kind {
        return Err(Fail::Invalid(format!("clientDataJSON.type must be {kind}")));
    }
    if !crate::ct::eq(&cd.challenge_bytes()?, challenge) {
        return Err(Fail::ChallengeNotFound);
    }
    if cd.cross_origin || !origin_allowed(&cd.origin, rp_id, extra) {
        return Err(Fail::OriginNotAllowed(cd.origin));
    }
    Ok((id, cdj))
}

/// Checks the flags every ceremony needs: the RP ID hash, user presence, user verification when
/// required, and backup flags that make sense.
fn check_flags(ad: &AuthData, rp_id: &str, uv_required: bool) -> Result<(), Fail> {
    if !crate::ct::eq(&ad.rp_id_hash, &sha256(rp_id.as_bytes())) {
        return Err(Fail::RelyingPartyMismatch);
    }
    if !ad.has(UP) {
        return Err(Fail::Invalid("the user was not present".into()));
    }
    if uv_required && !ad.has(UV) {
        return Err(Fail::NotSupported("user verification is required".into()));
    }
    if ad.has(BS) && !ad.has(BE) {
        return Err(Fail::Invalid("backed up but not backup eligible".into()));
    }
    Ok(())
}

/// Verifies a `RegistrationResponseJSON` (WebAuthn §7.1).
pub fn verify_registration(resp: &Value, e: &ExpectRegistration<'_>) -> Result<NewCredential, Fail> {
    let (id, cdj) = common(resp, "webauthn.create", e.challenge, e.rp_id, e.extra_origins)?;
    let att = from_b64url(
        text(resp, "/response/attestationObject", "attestationObject")?,
        "attestationObject",
    )?;
    let obj: ciborium::Value =
        ciborium::de::from_reader(att.as_slice()).map_err(|_| Fail::Invalid("attestationObject is not CBOR".into()))?;
    let map = obj
        .as_map()
        .ok_or_else(|| Fail::Invalid("attestationObject is not a map".into()))?;
    let get = |k: &str| map.iter().find(|(key, _)| key.as_text() == Some(k)).map(|(_, v)| v);
    let format = get("fmt")
        .and_then(ciborium::Value::as_text)
        .ok_or_else(|| Fail::Invalid("no attestation format".into()))?
        .to_owned();
    let raw_ad = get("authData")
        .and_then(ciborium::Value::as_bytes)
        .ok_or_else(|| Fail::Invalid("no authData".into()))?;
    let ad = AuthData::parse(raw_ad)?;
    check_flags(&ad, e.rp_id, e.user_verification_required)?;
    let Some(cred) = ad.attested.as_ref().filter(|_| ad.has(AT)) else {
        return Err(Fail::Invalid("no attested credential data".into()));
    };
    if cred.credential_id != id {
        return Err(Fail::Invalid("the credential id differs from the response id".into()));
    }
    let alg = cred.key.alg();
    if !e.algorithms.contains(&alg) {
        return Err(Fail::NotSupported(format!("algorithm {alg} was not offered")));
    }
    if format == "packed" {
        let stmt = get("attStmt")
            .and_then(ciborium::Value::as_map)
            .ok_or_else(|| Fail::Invalid("packed attestation without a statement".into()))?;
        verify_packed(stmt, raw_ad, &sha256(&cdj), &cred.key)?;
    }
    // Other formats (none, and those this server does not evaluate) are taken as `none`: a relying
    // party without an attestation policy ignores the statement.
    let transports = resp
        .pointer("/response/transports")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    Ok(NewCredential {
        id,
        public_key: cred.public_key.clone(),
        algorithm: alg,
        sign_count: ad.sign_count,
        user_verified: ad.has(UV),
        backup_eligible: ad.has(BE),
        backed_up: ad.has(BS),
        aaguid: cred.aaguid,
        format,
        transports,
        attachment: resp
            .get("authenticatorAttachment")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// `packed` (WebAuthn §8.2): with `x5c`, the signature by the attestation certificate's key;
/// without, self attestation by the credential's own key, of the same algorithm.
fn verify_packed(
    stmt: &[(ciborium::Value, ciborium::Value)],
    auth_data: &[u8],
    client_hash: &[u8; 32],
    key: &cose::CoseKey,
) -> Result<(), Fail> {
    let get = |k: &str| stmt.iter().find(|(key, _)| key.as_text() == Some(k)).map(|(_, v)| v);
    let alg = get("alg")
        .and_then(ciborium::Value::as_integer)
        .map(i128::from)
        .ok_or_else(|| Fail::Invalid("packed attestation without alg".into()))?;
    let sig = get("sig")
        .and_then(ciborium::Value::as_bytes)
        .ok_or_else(|| Fail::Invalid("packed attestation without sig".into()))?;
    let mut signed = auth_data.to_vec();
    signed.extend_from_slice(client_hash);
    match get("x5c").and_then(ciborium::Value::as_array) {
        Some(chain) => {
            let leaf = chain
                .first()
                .and_then(ciborium::Value::as_bytes)
                .ok_or_else(|| Fail::Invalid("x5c is empty".into()))?;
            let point = certificate_p256_key(leaf)?;
            if alg != cose::ES256 as i128 {
                return Err(Fail::NotSupported(format!("attestation algorithm {alg}")));
            }
            if !(cose::CoseKey::Es256 { point }).verify(&signed, sig) {
                return Err(Fail::Invalid("the attestation signature does not verify".into()));
            }
        }
        None => {
            if alg != key.alg() as i128 {
                return Err(Fail::Invalid("self attestation with another algorithm".into()));
            }
            if !key.verify(&signed, sig) {
                return Err(Fail::Invalid("the self-attestation signature does not verify".into()));
            }
        }
    }
    Ok(())
}

/// The P-256 public key of a DER X.509 certificate.
fn certificate_p256_key(der_bytes: &[u8]) -> Result<Vec<u8>, Fail> {
    use x509_cert::der::Decode;
    let cert = x509_cert::Certificate::from_der(der_bytes)
        .map_err(|_| Fail::Invalid("the attestation certificate is not DER X.509".into()))?;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    // id-ecPublicKey with prime256v1.
    const EC: &str = "1.2.840.10045.2.1";
    const P256: &str = "1.2.840.10045.3.1.7";
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<x509_cert::der::asn1::ObjectIdentifier>().ok())
        .map(|o| o.to_string());
    if spki.algorithm.oid.to_string() != EC || curve.as_deref() != Some(P256) {
        return Err(Fail::NotSupported("attestation certificate key is not P-256".into()));
    }
    spki.subject_public_key
        .as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or_else(|| Fail::Invalid("attestation certificate key".into()))
}

/// What an assertion must match.
pub struct ExpectAssertion<'a> {
    pub challenge: &'a [u8],
    pub rp_id: &'a str,
    pub extra_origins: &'a [String],
    pub user_verification_required: bool,
}

/// A stored credential, as an assertion is checked against it.
pub struct StoredCredential<'a> {
    pub id: &'a [u8],
    pub public_key: &'a [u8],
    pub sign_count: u32,
}

/// A checked assertion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asserted {
    pub sign_count: u32,
    pub user_verified: bool,
    pub backed_up: bool,
}

/// The credential id an `AuthenticationResponseJSON` names (to find the stored credential).
pub fn assertion_credential_id(resp: &Value) -> Result<Vec<u8>, Fail> {
    from_b64url(text(resp, "/id", "id")?, "id")
}

/// Verifies an `AuthenticationResponseJSON` against a stored credential (WebAuthn §7.2).
pub fn verify_assertion(
    resp: &Value,
    e: &ExpectAssertion<'_>,
    stored: &StoredCredential<'_>,
) -> Result<Asserted, Fail> {
    let (id, cdj) = common(resp, "webauthn.get", e.challenge, e.rp_id, e.extra_origins)?;
    if !crate::ct::eq(&id, stored.id) {
        return Err(Fail::Invalid("another credential".into()));
    }
    let raw_ad = from_b64url(
        text(resp, "/response/authenticatorData", "authenticatorData")?,
        "authenticatorData",
    )?;
    let sig = from_b64url(text(resp, "/response/signature", "signature")?, "signature")?;
    let ad = AuthData::parse(&raw_ad)?;
    check_flags(&ad, e.rp_id, e.user_verification_required)?;
    let key = cose::CoseKey::from_bytes(stored.public_key).map_err(|_| Fail::Invalid("stored key".into()))?;
    let mut signed = raw_ad.clone();
    signed.extend_from_slice(&sha256(&cdj));
    if !key.verify(&signed, &sig) {
        return Err(Fail::Invalid("the signature does not verify".into()));
    }
    // A counter that does not move forward (when either side keeps one) means a cloned
    // authenticator (§7.2 step 22); 0 on both sides means the authenticator keeps none.
    if (ad.sign_count != 0 || stored.sign_count != 0) && ad.sign_count <= stored.sign_count {
        return Err(Fail::Invalid(
            "the signature counter went backwards: a cloned authenticator?".into(),
        ));
    }
    Ok(Asserted {
        sign_count: ad.sign_count,
        user_verified: ad.has(UV),
        backed_up: ad.has(BS),
    })
}

/// A fresh challenge of 32 random bytes.
pub fn new_challenge() -> Vec<u8> {
    use rand::RngCore;
    let mut b = vec![0u8; 32];
    rand::rng().fill_bytes(&mut b);
    b
}

#[cfg(test)]
mod tests;
