//! SetUserPoolMfaConfig / GetUserPoolMfaConfig: the rules, as pure functions over a pool.
//!
//! `apply` decides everything (full-replace semantics, every refusal with AWS's text) without
//! touching storage, so the operation layer only loads, applies and saves with a version check.

use super::{MfaFactors, UserPool};
use crate::error::{DomainError, Result};
use cmfa_wire::shapes::{
    AuthFactorType, EmailSendingAccountType, GetUserPoolMfaConfigResponse, RecoveryOptionNameType,
    SetUserPoolMfaConfigRequest, SmsConfigurationType, SmsMfaConfigType, UserPoolMfaType, UserPoolTierType,
    WebAuthnConfigurationType, WebAuthnFactorConfigurationType,
};

pub const OFF_WITH_FACTOR: &str = "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.";
pub const NO_FACTOR: &str =
    "Invalid MFA Configuration given. SMS MFA, Email MFA, or Software Token MFA must be enabled.";
pub const EMAIL_COGNITO_DEFAULT: &str = "Cannot set EmailMfaConfiguration when user pool EmailConfiguration contains an EmailSendingAccount of COGNITO_DEFAULT.";
pub const EMAIL_RECOVERY_ONLY: &str = "Cannot set EmailMfaConfiguration when user pool AccountRecoverySetting is not set or contains only verified_email in RecoveryMechanisms.";
pub const PASSWORDLESS_WITH_MFA_ON: &str =
    "Only PASSWORD and WEB_AUTHN (if configured) can be enabled as an auth factor if MFA is enabled";
pub const WEBAUTHN_SINGLE_FACTOR_WITH_MFA_ON: &str = "Cannot set WebAuthn factor configuration to SINGLE_FACTOR if MFA is required and WebAuthn is an allowed first auth factor";
pub const SMS_CONFIG_SET: &str = "Can't turn off SMS_MFA when SMS configuration is set for the user pool";
// The texts below are ours: AWS's wording is not on record (docs/compatibility.md lists them).
pub const SMS_CONFIG_MISSING: &str =
    "SMS MFA requires an SmsConfiguration: set one in SmsMfaConfiguration or on the user pool.";
pub const SMS_CONFIG_EMPTY: &str = "SmsConfiguration must contain either SnsCallerArn or EumsSms.";
pub const SMS_CONFIG_BOTH: &str = "SmsConfiguration can contain either SnsCallerArn or EumsSms, not both.";
pub const EMAIL_MFA_LITE: &str =
    "Email MFA is not available in the LITE feature plan. Change UserPoolTier to ESSENTIALS or PLUS.";
pub const WEBAUTHN_MFA_LITE: &str = "WebAuthn factor configuration MULTI_FACTOR_WITH_USER_VERIFICATION is not available in the LITE feature plan. Change UserPoolTier to ESSENTIALS or PLUS.";

/// Checks an SMS configuration's internal consistency and its region against the pool's.
pub fn check_sms_configuration(sms: &SmsConfigurationType, pool_region: &str) -> Result<()> {
    let has_sns = sms.sns_caller_arn.as_deref().is_some_and(|a| !a.is_empty());
    match (&sms.eums_sms, has_sns) {
        (Some(_), true) => return Err(DomainError::InvalidParameter(SMS_CONFIG_BOTH.into())),
        (None, false) => return Err(DomainError::InvalidParameter(SMS_CONFIG_EMPTY.into())),
        _ => {}
    }
    if let Some(eums) = &sms.eums_sms
        && let Some(region) = eums.region.as_deref()
        && region != pool_region
    {
        return Err(DomainError::InvalidParameter(format!(
            "EumsSms Region {region} must be the user pool's region ({pool_region})."
        )));
    }
    Ok(())
}

/// The WebAuthn factor configuration in force (AWS's default is SINGLE_FACTOR).
fn factor_configuration(w: Option<&WebAuthnConfigurationType>) -> WebAuthnFactorConfigurationType {
    w.and_then(|w| w.factor_configuration)
        .unwrap_or(WebAuthnFactorConfigurationType::SingleFactor)
}

/// Applies a SetUserPoolMfaConfig request to `pool`, returning the new pool (same version; the
/// caller bumps it when saving). Checks run in the order AWS was measured to apply them.
pub fn apply(pool: &UserPool, req: &SetUserPoolMfaConfigRequest) -> Result<UserPool> {
    let mfa = req.mfa_configuration.unwrap_or(UserPoolMfaType::Off);
    let sms_block = req.sms_mfa_configuration.as_ref();
    let totp_block = req.software_token_mfa_configuration.as_ref();
    let email_block = req.email_mfa_configuration.as_ref();
    let totp_on = totp_block.and_then(|t| t.enabled).unwrap_or(false);

    if mfa == UserPoolMfaType::Off && (sms_block.is_some() || totp_block.is_some() || email_block.is_some()) {
        return Err(DomainError::InvalidParameter(OFF_WITH_FACTOR.into()));
    }
    if mfa != UserPoolMfaType::Off && sms_block.is_none() && !totp_on && email_block.is_none() {
        return Err(DomainError::InvalidParameter(NO_FACTOR.into()));
    }

    let tier = pool.tier();
    if email_block.is_some() && tier == UserPoolTierType::Lite {
        return Err(DomainError::FeatureUnavailableInTier(EMAIL_MFA_LITE.into()));
    }
    let web_authn = req.web_authn_configuration.as_ref();
    if tier == UserPoolTierType::Lite
        && web_authn.and_then(|w| w.factor_configuration)
            == Some(WebAuthnFactorConfigurationType::MultiFactorWithUserVerification)
    {
        return Err(DomainError::FeatureUnavailableInTier(WEBAUTHN_MFA_LITE.into()));
    }

    if email_block.is_some() {
        let sending = pool
            .config
            .email_configuration
            .as_ref()
            .and_then(|e| e.email_sending_account);
        if sending != Some(EmailSendingAccountType::Developer) {
            return Err(DomainError::InvalidParameter(EMAIL_COGNITO_DEFAULT.into()));
        }
        let mechanisms = pool
            .config
            .account_recovery_setting
            .as_ref()
            .and_then(|a| a.recovery_mechanisms.as_ref())
            .map(|m| m.as_slice())
            .unwrap_or(&[]);
        if mechanisms
            .iter()
            .all(|m| m.name == RecoveryOptionNameType::VerifiedEmail)
        {
            return Err(DomainError::InvalidParameter(EMAIL_RECOVERY_ONLY.into()));
        }
    }

    if mfa == UserPoolMfaType::On {
        let first = first_factors(pool);
        if first
            .iter()
            .any(|f| matches!(f, AuthFactorType::EmailOtp | AuthFactorType::SmsOtp))
        {
            return Err(DomainError::InvalidParameter(PASSWORDLESS_WITH_MFA_ON.into()));
        }
        if first.contains(&AuthFactorType::WebAuthn)
            && factor_configuration(web_authn) == WebAuthnFactorConfigurationType::SingleFactor
        {
            return Err(DomainError::InvalidParameter(WEBAUTHN_SINGLE_FACTOR_WITH_MFA_ON.into()));
        }
    }

    let mut next = pool.clone();
    match sms_block {
        None => {
            // Only when MFA is turned on from OFF (aws-amplify/amplify-backend#1481: a pool with
            // an SmsConfiguration for phone verification, then OPTIONAL with TOTP only). A pool
            // already ON or OPTIONAL may drop SMS for TOTP or email only.
            if mfa != UserPoolMfaType::Off
                && pool.mfa_configuration() == UserPoolMfaType::Off
                && pool.config.sms_configuration.is_some()
            {
                return Err(DomainError::InvalidParameter(SMS_CONFIG_SET.into()));
            }
        }
        Some(SmsMfaConfigType {
            sms_authentication_message,
            sms_configuration,
        }) => {
            match sms_configuration {
                Some(sms) => {
                    check_sms_configuration(sms, pool.region())?;
                    next.config.sms_configuration = Some(sms.clone());
                }
                None if pool.config.sms_configuration.is_none() => {
                    return Err(DomainError::InvalidParameter(SMS_CONFIG_MISSING.into()));
                }
                None => {}
            }
            // Full replace: a block without a message goes back to the default text.
            next.config.sms_authentication_message = sms_authentication_message.clone();
        }
    }

    next.config.mfa_configuration = Some(mfa);
    next.mfa = MfaFactors {
        sms_enabled: sms_block.is_some(),
        software_token: totp_block.cloned(),
        email: email_block.cloned(),
        web_authn: web_authn.cloned(),
        configured: pool.mfa.configured || mfa != UserPoolMfaType::Off,
    };
    Ok(next)
}

/// The pool's allowed first sign-in factors (AWS's default is PASSWORD only).
pub fn first_factors(pool: &UserPool) -> &[AuthFactorType] {
    pool.config
        .policies
        .as_ref()
        .and_then(|p| p.sign_in_policy.as_ref())
        .and_then(|s| s.allowed_first_auth_factors.as_deref())
        .unwrap_or(&[AuthFactorType::Password])
}

/// What GetUserPoolMfaConfig (and SetUserPoolMfaConfig's response) shows: only what is set, with
/// the MFA setting always present.
pub fn view(pool: &UserPool) -> GetUserPoolMfaConfigResponse {
    let m = &pool.mfa;
    let web_authn = match (&m.web_authn, m.configured) {
        (None, false) => None,
        (w, _) => {
            let mut w = w.clone().unwrap_or_default();
            w.factor_configuration
                .get_or_insert(WebAuthnFactorConfigurationType::SingleFactor);
            Some(w)
        }
    };
    GetUserPoolMfaConfigResponse {
        sms_mfa_configuration: m.sms_enabled.then(|| SmsMfaConfigType {
            sms_authentication_message: pool.config.sms_authentication_message.clone(),
            sms_configuration: pool.config.sms_configuration.clone(),
        }),
        software_token_mfa_configuration: m.software_token.clone(),
        email_mfa_configuration: m.email.clone(),
        mfa_configuration: Some(pool.mfa_configuration()),
        web_authn_configuration: web_authn,
    }
}

#[cfg(test)]
mod tests;
