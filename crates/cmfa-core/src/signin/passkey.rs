//! WEB_AUTHN: a passkey as USER_AUTH's first factor. The challenge carries
//! `CREDENTIAL_REQUEST_OPTIONS` (a JSON string the page hands to `navigator.credentials.get()`),
//! whose WebAuthn challenge is the new session's id; the answer's `CREDENTIAL` is the browser's
//! `AuthenticationResponseJSON`, verified by [`crate::webauthn::verify_assertion`] against the
//! user's stored passkey. A passkey ends the sign-in: no MFA follows it.

use super::{Change, Outcome, Prompt, Turn, base_parameters};
use crate::auth::session::{Challenge, new_session_id};
use crate::error::{DomainError, Result};
use crate::pool::passkeys;
use crate::webauthn::{self, ExpectAssertion, Fail, StoredCredential};
use serde_json::{Value, json};

/// A passkey answer that does not verify (ours: AWS's text is not on record).
pub(crate) const NOT_VERIFIED: &str = "The passkey could not be verified.";

/// What a passkey sign-in of this user checks: the relying party and whether user
/// verification is required.
pub(crate) fn expectations(t: &Turn<'_>) -> Result<(String, bool)> {
    let rp_id = passkeys::relying_party(t.pool)?;
    // A passkey that stands in for MFA must verify the user.
    let uv = passkeys::user_verification_required(t.pool) || passkeys::counts_as_mfa(t.pool, t.user);
    Ok((rp_id, uv))
}

/// `CREDENTIAL_REQUEST_OPTIONS` for session `session_id` (its id is the WebAuthn challenge).
pub(crate) fn request_options(t: &Turn<'_>, rp_id: &str, session_id: &str) -> String {
    let allow: Vec<Value> = t
        .user
        .passkeys
        .iter()
        .map(|p| json!({ "type": "public-key", "id": p.id, "transports": p.transports }))
        .collect();
    json!({
        "challenge": webauthn::data::b64url(session_id.as_bytes()),
        "timeout": 180000,
        "rpId": rp_id,
        "allowCredentials": allow,
        "userVerification": passkeys::user_verification(t.pool),
    })
    .to_string()
}

/// Opens WEB_AUTHN for the user's passkeys.
pub(crate) fn prompt(t: &Turn<'_>) -> Result<Outcome> {
    let (rp_id, uv) = expectations(t)?;
    let id = new_session_id();
    let mut parameters = base_parameters(t.user);
    parameters.insert("CREDENTIAL_REQUEST_OPTIONS".into(), request_options(t, &rp_id, &id));
    let challenge = Challenge::WebAuthn {
        rp_id,
        user_verification_required: uv,
    };
    Ok(Prompt::with_id(id, challenge, parameters).into_outcome())
}

/// Checks the assertion in `credential` (JSON text) for session `session_id`.
pub(crate) fn answer(
    t: &Turn<'_>,
    session_id: &str,
    rp_id: &str,
    uv_required: bool,
    credential: &str,
) -> Result<Outcome> {
    let invalid = || DomainError::InvalidParameter("Credential data is not valid".into());
    let resp: Value = serde_json::from_str(credential).map_err(|_| invalid())?;
    let id = webauthn::assertion_credential_id(&resp).map_err(|_| invalid())?;
    let id_text = webauthn::data::b64url(&id);
    let Some(stored) = t.user.passkeys.iter().find(|p| p.id == id_text) else {
        return Ok(Outcome::Fail(DomainError::NotAuthorized(NOT_VERIFIED.into())));
    };
    let public_key = webauthn::data::from_b64url(&stored.public_key, "public key").map_err(|_| invalid())?;
    let expect = ExpectAssertion {
        challenge: session_id.as_bytes(),
        rp_id,
        extra_origins: t.webauthn_origins,
        user_verification_required: uv_required,
    };
    let stored_cred = StoredCredential {
        id: &id,
        public_key: &public_key,
        sign_count: stored.sign_count,
    };
    match webauthn::verify_assertion(&resp, &expect, &stored_cred) {
        Ok(a) => Ok(Outcome::Tokens(Change::PasskeyUsed {
            id: id_text,
            sign_count: a.sign_count,
        })),
        Err(Fail::OriginNotAllowed(o)) => Err(DomainError::WebAuthnOriginNotAllowed(format!(
            "The origin {o} is not allowed for this relying party."
        ))),
        Err(Fail::RelyingPartyMismatch) => Err(DomainError::WebAuthnRelyingPartyMismatch(
            "The passkey answered for another relying party.".into(),
        )),
        Err(Fail::CounterNotIncreased { stored: before, seen }) => {
            // Worth an operator's attention: two copies of one passkey are in use.
            tracing::warn!(
                pool_id = %t.pool.id, credential = %id_text, stored = before, seen,
                "a passkey's signature counter did not move forward: the authenticator may have been cloned; sign-in refused"
            );
            Ok(Outcome::Fail(DomainError::NotAuthorized(NOT_VERIFIED.into())))
        }
        // A wrong signature, a missing flag: a failed attempt.
        Err(_) => Ok(Outcome::Fail(DomainError::NotAuthorized(NOT_VERIFIED.into()))),
    }
}
