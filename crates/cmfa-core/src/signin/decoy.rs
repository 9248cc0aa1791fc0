//! Unknown users when the client hides user existence (`PreventUserExistenceErrors: ENABLED`):
//! the same answer, and as far as possible the same cost and shape, as a wrong password.

use crate::auth::srp;
use crate::client::AppClient;
use crate::error::{DomainError, Result};
use crate::messages::{BAD_CREDENTIALS, USER_NOT_FOUND};
use crate::ops::Service;
use crate::pool::UserPool;
use cmfa_wire::shapes::PreventUserExistenceErrorTypes;

pub(crate) fn hides_existence(client: &AppClient) -> bool {
    client.config.prevent_user_existence_errors == Some(PreventUserExistenceErrorTypes::Enabled)
}

/// The error for a sign-in naming no user.
pub(crate) fn unknown_user(client: &AppClient) -> DomainError {
    if hides_existence(client) {
        DomainError::NotAuthorized(BAD_CREDENTIALS.into())
    } else {
        DomainError::UserNotFound(USER_NOT_FOUND.into())
    }
}

impl Service {
    /// For an unknown user when existence errors are hidden: a SALT and USER_ID_FOR_SRP that
    /// look like a real user's and stay the same on every attempt (a random salt per attempt,
    /// or the typed email echoed back as the id, would give the game away). Derived with a key
    /// only the server holds (a hash of the pool's private signing key).
    pub(crate) async fn decoy_srp_user(
        &self,
        pool: &UserPool,
        username: &str,
    ) -> Result<(String, srp::PasswordVerifier)> {
        use hmac::{Mac, digest::KeyInit};
        use sha2::{Digest, Sha256};
        let keys = self.pool_keys(&pool.id).await?;
        let secret = Sha256::digest(serde_json::to_vec(&keys.access).unwrap_or_default());
        let derive = |label: &str| -> [u8; 32] {
            let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&secret).expect("HMAC takes any key length");
            mac.update(label.as_bytes());
            mac.update(username.as_bytes());
            mac.finalize().into_bytes().into()
        };
        let salt = &derive("salt")[..16];
        let salt_hex = if salt[0] >= 0x80 {
            format!("00{}", hex::encode(salt))
        } else {
            hex::encode(salt)
        };
        let verifier = srp::PasswordVerifier {
            salt_hex,
            verifier_hex: hex::encode(derive("verifier")),
        };
        let user_id = if pool.config.username_attributes.as_ref().is_some_and(|a| !a.is_empty()) {
            let mut b: [u8; 16] = derive("uuid")[..16].try_into().expect("16 bytes");
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            uuid::Uuid::from_bytes(b).to_string()
        } else {
            username.to_owned()
        };
        Ok((user_id, verifier))
    }
}
