//! User pools: what is stored, the defaults AWS fills in, and the rules for changing them.

mod defaults;
pub mod domains;
pub mod mfa_config;
pub mod passkeys;
pub mod rules;
pub mod schema;

pub use defaults::standard_schema;

use cmfa_wire::shapes::{EmailMfaConfigType, SoftwareTokenMfaConfigType, UserPoolType, WebAuthnConfigurationType};
use serde::{Deserialize, Serialize};

/// AWS's text for two writes racing on one pool.
pub const CONCURRENT_UPDATE_MESSAGE: &str = "Only one request to update this UserPool can be processed at a time";

/// The message for a pool id that does not exist.
pub fn not_found_message(id: &str) -> String {
    format!("User pool {id} does not exist.")
}

/// One user pool as stored.
///
/// `config` is the pool as DescribeUserPool shows it (minus the counts computed on read), so the
/// stored form and the wire form cannot disagree. Pool-level `SmsConfiguration` and
/// `SmsAuthenticationMessage` live only there: SetUserPoolMfaConfig's SMS block reads and writes
/// the same values, as AWS documents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserPool {
    pub id: String,
    /// Bumped by every write; a write names the version it read (optimistic concurrency).
    pub version: u64,
    pub config: UserPoolType,
    pub mfa: MfaFactors,
    /// The pool's domains (one prefix domain and one custom domain at most).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<domains::PoolDomain>,
}

/// The MFA factors SetUserPoolMfaConfig switches on, beyond what `config` already holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MfaFactors {
    /// SMS MFA is offered (an `SmsMfaConfiguration` block is in force).
    pub sms_enabled: bool,
    /// The `SoftwareTokenMfaConfiguration` block as last set.
    pub software_token: Option<SoftwareTokenMfaConfigType>,
    /// The `EmailMfaConfiguration` block as last set.
    pub email: Option<EmailMfaConfigType>,
    /// The `WebAuthnConfiguration` block as last set.
    pub web_authn: Option<WebAuthnConfigurationType>,
    /// MFA has been turned on through SetUserPoolMfaConfig at least once; from then on AWS shows
    /// the WebAuthn factor configuration default.
    pub configured: bool,
}

impl UserPool {
    /// The pool's region (the prefix of its id).
    pub fn region(&self) -> &str {
        crate::ids::region_of_pool_id(&self.id)
    }

    /// The pool's feature plan; AWS defaults it to ESSENTIALS.
    pub fn tier(&self) -> cmfa_wire::shapes::UserPoolTierType {
        self.config
            .user_pool_tier
            .unwrap_or(cmfa_wire::shapes::UserPoolTierType::Essentials)
    }

    /// The password policy (AWS's defaults when none is set).
    pub fn password_policy(&self) -> cmfa_wire::shapes::PasswordPolicyType {
        self.config
            .policies
            .as_ref()
            .and_then(|p| p.password_policy.clone())
            .unwrap_or_default()
    }

    /// The MFA setting (OFF when never set).
    pub fn mfa_configuration(&self) -> cmfa_wire::shapes::UserPoolMfaType {
        self.config
            .mfa_configuration
            .unwrap_or(cmfa_wire::shapes::UserPoolMfaType::Off)
    }
}
