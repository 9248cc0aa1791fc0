//! What follows a first factor (a password, an SRP proof, or a new password chosen in
//! NEW_PASSWORD_REQUIRED): the account checks, NEW_PASSWORD_REQUIRED for a temporary password,
//! then the MFA step [`crate::mfa::policy::next_step`] decides; and the code challenges
//! (SMS_MFA, EMAIL_OTP) that step and SELECT_MFA_TYPE open.

use super::otp::{self, CodeUse, Medium};
use super::{Change, Outcome, Prompt, Turn, base_parameters};
use crate::auth::session::Challenge;
use crate::error::{DomainError, Result};
use crate::messages::{NOT_CONFIRMED, USER_DISABLED};
use crate::mfa::policy::{Next, next_step};
use crate::pool::UserPool;
use crate::user::User;
use crate::user::mfa::Factor;
use cmfa_wire::shapes::UserStatusType;

/// After the first factor.
pub(crate) fn after_first_factor(t: &Turn<'_>) -> Result<Outcome> {
    let user = t.user;
    if !user.enabled {
        return Err(DomainError::NotAuthorized(USER_DISABLED.into()));
    }
    match user.status {
        UserStatusType::Unconfirmed => Err(DomainError::UserNotConfirmed(NOT_CONFIRMED.into())),
        UserStatusType::ResetRequired => Err(DomainError::PasswordResetRequired(
            "Password reset required for the user".into(),
        )),
        UserStatusType::ForceChangePassword => new_password_required(t),
        _ => mfa(t.pool, user),
    }
}

/// NEW_PASSWORD_REQUIRED, while the temporary password is still valid.
fn new_password_required(t: &Turn<'_>) -> Result<Outcome> {
    let (pool, user) = (t.pool, t.user);
    let days = pool
        .config
        .policies
        .as_ref()
        .and_then(|p| p.password_policy.as_ref())
        .and_then(|p| p.temporary_password_validity_days)
        .filter(|d| *d > 0)
        .unwrap_or(7) as f64;
    let set_at = user.password.as_ref().map(|p| p.set_at).unwrap_or(0.0);
    if t.now > set_at + days * 86400.0 {
        return Err(DomainError::NotAuthorized(
            "Temporary password has expired and must be reset by an administrator.".into(),
        ));
    }
    let required: Vec<String> = pool
        .config
        .schema_attributes
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .filter(|s| s.required == Some(true) && s.name.as_deref() != Some("sub"))
        .filter_map(|s| s.name.as_deref())
        .filter(|n| user.attr(n).is_none())
        .map(|n| format!("userAttributes.{n}"))
        .collect();
    let attrs: serde_json::Map<String, serde_json::Value> = user
        .attributes
        .iter()
        .filter(|a| a.name != "sub")
        .filter_map(|a| {
            a.value
                .as_ref()
                .map(|v| (a.name.clone(), serde_json::Value::String(v.clone())))
        })
        .collect();
    let mut parameters = base_parameters(user);
    parameters.insert(
        "requiredAttributes".into(),
        serde_json::to_string(&required).unwrap_or_default(),
    );
    parameters.insert("userAttributes".into(), serde_json::Value::Object(attrs).to_string());
    Ok(Prompt::new(Challenge::NewPasswordRequired, parameters).into_outcome())
}

/// `MFAS_CAN_CHOOSE` / `MFAS_CAN_SETUP` text: the factors as a JSON array in a string.
pub(crate) fn factors_json(f: &[Factor]) -> String {
    serde_json::to_string(&f.iter().map(|f| f.as_str()).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

/// The MFA step: tokens, a challenge, a choice, or a set-up.
pub(crate) fn mfa(pool: &UserPool, user: &User) -> Result<Outcome> {
    match next_step(pool, user) {
        Next::Tokens => Ok(Outcome::Tokens(Change::None)),
        Next::Challenge(f) => Ok(factor_prompt(pool, user, f).into_outcome()),
        Next::Select(options) => {
            let mut parameters = base_parameters(user);
            parameters.insert("MFAS_CAN_CHOOSE".into(), factors_json(&options));
            Ok(Prompt::new(Challenge::SelectMfaType { options }, parameters).into_outcome())
        }
        Next::Setup(options) => {
            let mut parameters = base_parameters(user);
            parameters.insert("MFAS_CAN_SETUP".into(), factors_json(&options));
            let challenge = Challenge::MfaSetup {
                options,
                totp_verified: false,
            };
            Ok(Prompt::new(challenge, parameters).into_outcome())
        }
        Next::NoMethod => Err(DomainError::MfaMethodNotFound(
            "No MFA method is available to the user and none can be set up.".into(),
        )),
    }
}

/// The challenge for factor `f`: for SMS and email a fresh code (see [`otp::code_prompt`]);
/// for TOTP the device's name.
pub(crate) fn factor_prompt(pool: &UserPool, user: &User, f: Factor) -> Prompt {
    let medium = match f {
        Factor::SoftwareToken => {
            let name = user
                .mfa
                .totp
                .as_ref()
                .and_then(|t| t.friendly_name.clone())
                .unwrap_or_else(|| "Unknown".into());
            let mut parameters = base_parameters(user);
            parameters.insert("FRIENDLY_DEVICE_NAME".into(), name);
            return Prompt::new(Challenge::SoftwareTokenMfa, parameters);
        }
        Factor::Sms => Medium::Sms,
        Factor::Email => Medium::Email,
    };
    otp::code_prompt(pool, user, medium, CodeUse::Mfa)
}
