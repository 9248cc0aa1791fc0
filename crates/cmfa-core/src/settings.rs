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
}

impl Default for CoreSettings {
    fn default() -> Self {
        CoreSettings {
            account_id: "000000000000".into(),
            default_region: "us-east-1".into(),
        }
    }
}
