//! A pool's passkey (WebAuthn) relying party: whether passkeys are on, the RP ID, and whether
//! user verification is required.

use super::UserPool;
use super::mfa_config::first_factors;
use crate::error::{DomainError, Result};
use cmfa_wire::shapes::{AuthFactorType, UserPoolTierType, UserVerificationType, WebAuthnFactorConfigurationType};

/// Ours: AWS's texts for these exceptions are not on record.
pub const NOT_ENABLED: &str = "Passkeys are not enabled for this user pool: allow WEB_AUTHN in Policies.SignInPolicy.AllowedFirstAuthFactors (ESSENTIALS or PLUS).";
pub const NO_RELYING_PARTY: &str =
    "The user pool has no WebAuthnConfiguration.RelyingPartyId and no domain to use as the relying party.";

/// Whether the pool takes passkeys: ESSENTIALS or PLUS, and WEB_AUTHN an allowed first factor.
pub fn enabled(pool: &UserPool) -> bool {
    pool.tier() != UserPoolTierType::Lite && first_factors(pool).contains(&AuthFactorType::WebAuthn)
}

/// The relying party id: `WebAuthnConfiguration.RelyingPartyId`, else the pool's custom domain,
/// else its prefix domain (`<prefix>.auth.<region>.amazoncognito.com`).
pub fn relying_party_id(pool: &UserPool) -> Result<String> {
    pool.mfa
        .web_authn
        .as_ref()
        .and_then(|w| w.relying_party_id.clone())
        .filter(|r| !r.is_empty())
        .or_else(|| super::domains::relying_party_host(pool))
        .ok_or_else(|| DomainError::WebAuthnConfigurationMissing(NO_RELYING_PARTY.into()))
}

/// Passkeys usable now: enabled, with a relying party.
pub fn relying_party(pool: &UserPool) -> Result<String> {
    if !enabled(pool) {
        return Err(DomainError::WebAuthnNotEnabled(NOT_ENABLED.into()));
    }
    relying_party_id(pool)
}

/// Whether authenticators must verify the user (`UserVerification: required`).
pub fn user_verification_required(pool: &UserPool) -> bool {
    pool.mfa.web_authn.as_ref().and_then(|w| w.user_verification) == Some(UserVerificationType::Required)
}

/// `preferred` or `required`, as the options name it.
pub fn user_verification(pool: &UserPool) -> &'static str {
    if user_verification_required(pool) {
        "required"
    } else {
        "preferred"
    }
}

/// Whether a passkey counts as MFA too (`MULTI_FACTOR_WITH_USER_VERIFICATION`), which lets it
/// through when MFA is required.
pub fn multi_factor(pool: &UserPool) -> bool {
    pool.mfa.web_authn.as_ref().and_then(|w| w.factor_configuration)
        == Some(WebAuthnFactorConfigurationType::MultiFactorWithUserVerification)
}

/// Whether a passkey sign-in of `user` counts as MFA too: the pool says so
/// (`MULTI_FACTOR_WITH_USER_VERIFICATION`) or the user turned on passkey MFA
/// (`WebAuthnMfaSettings`). User verification is then required.
pub fn counts_as_mfa(pool: &UserPool, user: &crate::user::User) -> bool {
    multi_factor(pool) || user.mfa.webauthn_mfa
}
