//! A user's registered passkeys (WebAuthn credentials), kept in the user's record. Their ids are
//! also alias keys of kind `passkey` (see [`super::alias_keys`]), so a credential id is unique in
//! its pool, and deleting the user deletes them.

use cmfa_wire::shapes::WebAuthnCredentialDescription;
use serde::{Deserialize, Serialize};

/// Most passkeys one user may register (AWS's quota).
pub const MAX_PER_USER: usize = 20;

/// One registered passkey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passkey {
    /// The credential id, base64url.
    pub id: String,
    /// The COSE public key, base64url.
    pub public_key: String,
    pub algorithm: i64,
    /// The signature counter last seen (0: the authenticator keeps none).
    pub sign_count: u32,
    pub relying_party_id: String,
    pub friendly_name: String,
    #[serde(default)]
    pub attachment: Option<String>,
    #[serde(default)]
    pub transports: Vec<String>,
    /// Unix seconds.
    pub created: f64,
    #[serde(default)]
    pub backup_eligible: bool,
    #[serde(default)]
    pub backed_up: bool,
}

impl Passkey {
    /// As ListWebAuthnCredentials shows it.
    pub fn describe(&self) -> WebAuthnCredentialDescription {
        WebAuthnCredentialDescription {
            credential_id: self.id.clone(),
            friendly_credential_name: self.friendly_name.clone(),
            relying_party_id: self.relying_party_id.clone(),
            authenticator_attachment: self.attachment.clone(),
            authenticator_transports: self.transports.clone(),
            created_at: self.created,
        }
    }
}

/// The name a passkey gets (ours: AWS's example names are "Roaming passkey" and the like).
pub fn friendly_name(attachment: Option<&str>) -> String {
    match attachment {
        Some("cross-platform") => "Roaming passkey".into(),
        _ => "Passkey".into(),
    }
}
