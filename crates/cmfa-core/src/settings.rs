//! Domain knobs, loaded once by the binary and passed in by value.

use serde::Deserialize;

/// Settings the operations read.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoreSettings {
    /// The 12-digit account id used in ARNs.
    pub account_id: String,
    /// Region used when a request carries no SigV4 credential scope.
    pub default_region: String,
    /// Base URL clients reach the server at; token issuers are `{public_url}/{userPoolId}`.
    pub public_url: String,
    /// Argon2id cost for password hashes.
    pub password_hash: crate::user::password::HashCost,
    /// The pool that runs hashing, SRP and signing off the async runtime.
    pub compute: crate::compute::ComputeSettings,
    /// Page origins allowed for passkeys besides those of the relying party id (see
    /// [`crate::webauthn::data::origin_allowed`]), for self-hosters whose pages live elsewhere.
    pub webauthn_origins: Vec<String>,
}

impl Default for CoreSettings {
    fn default() -> Self {
        CoreSettings {
            account_id: "000000000000".into(),
            default_region: "us-east-1".into(),
            public_url: "http://127.0.0.1:9330".into(),
            password_hash: Default::default(),
            compute: Default::default(),
            webauthn_origins: Vec::new(),
        }
    }
}
