//! The opaque `Session` of a sign-in in progress, kept in the store so any server process can
//! answer any step, and so a restart loses nothing.

use super::srp::ServerEphemeral;
use crate::signin::choice::FirstFactor;
use crate::user::mfa::Factor;
use cmfa_wire::shapes::ChallengeNameType;
use serde::{Deserialize, Serialize};

/// AWS's texts for the ways a session can be refused (all `NotAuthorizedException`).
pub const INVALID_SESSION: &str = "Invalid session for the user.";
pub const EXPIRED_SESSION: &str = "Invalid session for the user, session is expired.";
pub const USED_SESSION: &str = "Invalid session for the user, session can only be used once.";

/// One step of a sign-in, waiting for the client's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthSession {
    /// The token handed to the client: see [`new_session_id`] (sessions stored by older
    /// versions have 86-character ids of random bytes only).
    pub id: String,
    pub pool_id: String,
    pub client_id: String,
    /// Internal username.
    pub username: String,
    pub challenge: Challenge,
    pub expires_at: f64,
}

/// What the session waits for, with what the server must remember to check the answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Challenge {
    /// USER_SRP_AUTH's second step.
    PasswordVerifier {
        ephemeral: ServerEphemeral,
        srp_a: String,
        secret_block: String,
    },
    /// An administrator-created user must choose a password.
    NewPasswordRequired,
    /// An SMS code was sent to `destination`; only its hash is kept.
    SmsMfa {
        code_hash: String,
        #[serde(default)]
        destination: String,
    },
    /// An email code was sent to `destination` (for MFA, or as the first factor of USER_AUTH
    /// when `first_factor`); only its hash is kept.
    EmailOtp {
        code_hash: String,
        #[serde(default)]
        destination: String,
        #[serde(default)]
        first_factor: bool,
    },
    /// USER_AUTH's passwordless SMS code, sent to `destination`; only its hash is kept.
    SmsOtp { code_hash: String, destination: String },
    /// USER_AUTH without a preference: the user picks one of these first factors.
    SelectChallenge { options: Vec<FirstFactor> },
    /// USER_AUTH's passkey challenge: the assertion must answer `options`
    /// (`CREDENTIAL_REQUEST_OPTIONS`, whose challenge is this session's id).
    WebAuthn {
        rp_id: String,
        user_verification_required: bool,
    },
    /// Not a challenge: StartWebAuthnRegistration's options, waiting for
    /// CompleteWebAuthnRegistration (the WebAuthn challenge is this session's id).
    WebAuthnRegistration {
        rp_id: String,
        user_verification_required: bool,
    },
    /// Not a challenge: ConfirmSignUp's `Session`, with which InitiateAuth USER_AUTH signs the
    /// newly confirmed user in (the confirmation code was the first factor).
    SignUpConfirmed,
    /// A code from the user's authenticator app.
    SoftwareTokenMfa,
    /// The user picks one of these factors.
    SelectMfaType { options: Vec<Factor> },
    /// The user must set up a factor; `totp_verified` once VerifySoftwareToken succeeded in it.
    MfaSetup { options: Vec<Factor>, totp_verified: bool },
}

impl Challenge {
    /// The challenge's wire name, as the reply names it and the answer must repeat it (none for
    /// a ConfirmSignUp session).
    pub fn kind(&self) -> Option<ChallengeNameType> {
        Some(match self {
            Challenge::PasswordVerifier { .. } => ChallengeNameType::PasswordVerifier,
            Challenge::NewPasswordRequired => ChallengeNameType::NewPasswordRequired,
            Challenge::SmsMfa { .. } => ChallengeNameType::SmsMfa,
            Challenge::EmailOtp { .. } => ChallengeNameType::EmailOtp,
            Challenge::SoftwareTokenMfa => ChallengeNameType::SoftwareTokenMfa,
            Challenge::SelectMfaType { .. } => ChallengeNameType::SelectMfaType,
            Challenge::MfaSetup { .. } => ChallengeNameType::MfaSetup,
            Challenge::SmsOtp { .. } => ChallengeNameType::SmsOtp,
            Challenge::SelectChallenge { .. } => ChallengeNameType::SelectChallenge,
            Challenge::WebAuthn { .. } => ChallengeNameType::WebAuthn,
            Challenge::SignUpConfirmed | Challenge::WebAuthnRegistration { .. } => return None,
        })
    }

    /// The wire name as text.
    pub fn name(&self) -> &'static str {
        match self {
            Challenge::WebAuthnRegistration { .. } => "WEB_AUTHN_REGISTRATION",
            _ => self.kind().map_or("SIGN_UP_CONFIRMED", ChallengeNameType::as_str),
        }
    }
}

/// What comes before the session id in a `PASSWORD_VERIFIER` challenge's `SECRET_BLOCK`.
const SECRET_BLOCK_TAG: &str = "cmfa-srp-session:";

/// The `SECRET_BLOCK` of the `PASSWORD_VERIFIER` challenge of session `id`.
///
/// AWS sends that challenge without a `Session`: the sign-in's state travels in `SECRET_BLOCK`,
/// which the client signs and sends back as `PASSWORD_CLAIM_SECRET_BLOCK`, and clients such as
/// pycognito answer without a `Session`. So the block names the stored session. It is as secret
/// as a `Session` (the id's 512 random bits) and, signed into the client's proof, cannot be
/// swapped for another session's without the proof failing.
pub fn secret_block_for(id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{SECRET_BLOCK_TAG}{id}"))
}

/// The session id a `SECRET_BLOCK` names, if it is one of ours.
pub fn session_in_secret_block(block: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(block).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(SECRET_BLOCK_TAG).map(str::to_owned)
}

/// A fresh session id: the current Unix time in milliseconds as 12 hex digits, then 64 random
/// bytes in base64url. The random part is what makes it unguessable (512 bits); the time first
/// makes ids sort in creation order, so a store's index takes new sessions at its end (one page
/// per commit instead of one random page per session) and drops old ones from its start.
pub fn new_session_id() -> String {
    use base64::Engine;
    use rand::RngCore;
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut b = [0u8; 64];
    rand::rng().fill_bytes(&mut b);
    let mut id = format!("{:012x}", ms & 0xffff_ffff_ffff);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(b, &mut id);
    id
}

/// The hash of a code sent in a session, salted with the session id: the store never holds a
/// usable code.
pub fn code_hash(session_id: &str, code: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(session_id.as_bytes());
    h.update([0u8]);
    h.update(code.as_bytes());
    hex::encode(h.finalize())
}

/// Constant-time equality of two hex digests.
pub fn same_hash(a: &str, b: &str) -> bool {
    crate::ct::eq(a.as_bytes(), b.as_bytes())
}

#[cfg(test)]
mod secret_block_tests {
    use super::*;

    #[test]
    fn a_secret_block_names_its_session_and_nothing_else_does() {
        let id = new_session_id();
        let block = secret_block_for(&id);
        assert_eq!(session_in_secret_block(&block).as_deref(), Some(id.as_str()));
        assert!(!block.contains(&id), "base64, not the id in the clear");
        assert_eq!(session_in_secret_block("not base64!"), None);
        assert_eq!(session_in_secret_block("c2VjcmV0"), None, "base64 of something else");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_unguessable_and_sort_in_creation_order() {
        let a = new_session_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = new_session_id();
        assert!(a < b, "{a} then {b}");
        assert_eq!(a.len(), 12 + 86);
        assert!(a[..12].bytes().all(|c| c.is_ascii_hexdigit()));
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        // Same millisecond: same prefix, different random part.
        let (c, d) = (new_session_id(), new_session_id());
        assert_ne!(c[12..], d[12..]);
    }
}
