//! What follows a first factor (a password, an SRP proof, or a new password chosen in
//! NEW_PASSWORD_REQUIRED): the account checks, NEW_PASSWORD_REQUIRED for a temporary password,
//! then the MFA step [`crate::mfa::policy::next_step`] decides; and the code challenges
//! (SMS_MFA, EMAIL_OTP) that step and SELECT_MFA_TYPE open.

use super::{Change, Outcome, Prompt, Turn, base_parameters};
use crate::auth::session::{Challenge, code_hash, new_session_id};
use crate::error::{DomainError, Result};
use crate::messages::{NOT_CONFIRMED, USER_DISABLED};
use crate::mfa::policy::{Next, next_step};
use crate::outbound::{Channel, OutboundMessage};
use crate::pool::UserPool;
use crate::user::User;
use crate::user::codes::new_code;
use crate::user::delivery::{mask_email, mask_phone};
use crate::user::mfa::Factor;
use cmfa_wire::shapes::UserStatusType;

/// AWS's default SMS MFA text.
const DEFAULT_SMS_TEXT: &str = "Your authentication code is {####}.";
/// Ours: AWS's default email MFA texts are not on record.
const DEFAULT_EMAIL_SUBJECT: &str = "Your verification code";
const DEFAULT_EMAIL_TEXT: &str = "Your verification code is {####}.";

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

fn factors_json(f: &[Factor]) -> String {
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

/// The challenge for factor `f`: for SMS and email a fresh code, kept only as a hash salted
/// with the session id, and its message; for TOTP the device's name.
pub(crate) fn factor_prompt(pool: &UserPool, user: &User, f: Factor) -> Prompt {
    let mut parameters = base_parameters(user);
    let session_id = new_session_id();
    let sms = match f {
        Factor::SoftwareToken => {
            let name = user
                .mfa
                .totp
                .as_ref()
                .and_then(|t| t.friendly_name.clone())
                .unwrap_or_else(|| "Unknown".into());
            parameters.insert("FRIENDLY_DEVICE_NAME".into(), name);
            return Prompt::with_id(session_id, Challenge::SoftwareTokenMfa, parameters);
        }
        Factor::Sms => true,
        Factor::Email => false,
    };
    let destination = user
        .attr(if sms { "phone_number" } else { "email" })
        .unwrap_or_default()
        .to_owned();
    // SMS MFA codes have 6 digits, email codes 8 (reference §5).
    let code = new_code(if sms { 6 } else { 8 });
    parameters.insert(
        "CODE_DELIVERY_DELIVERY_MEDIUM".into(),
        if sms { "SMS" } else { "EMAIL" }.into(),
    );
    parameters.insert(
        "CODE_DELIVERY_DESTINATION".into(),
        if sms {
            mask_phone(&destination)
        } else {
            mask_email(&destination)
        },
    );
    let (subject, body) = if sms {
        let t = pool
            .config
            .sms_authentication_message
            .as_deref()
            .unwrap_or(DEFAULT_SMS_TEXT);
        (None, t.replace("{####}", &code))
    } else {
        let e = pool.mfa.email.as_ref();
        let subject = e
            .and_then(|e| e.subject.clone())
            .unwrap_or_else(|| DEFAULT_EMAIL_SUBJECT.into());
        let t = e
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| DEFAULT_EMAIL_TEXT.into());
        (Some(subject), t.replace("{####}", &code))
    };
    let code_hash = code_hash(&session_id, &code);
    let challenge = if sms {
        Challenge::SmsMfa {
            code_hash,
            destination: destination.clone(),
        }
    } else {
        Challenge::EmailOtp {
            code_hash,
            destination: destination.clone(),
        }
    };
    let message = OutboundMessage {
        pool_id: pool.id.clone(),
        username: user.username.clone(),
        channel: if sms { Channel::Sms } else { Channel::Email },
        destination,
        subject,
        body,
        purpose: if sms { "SMS_MFA" } else { "EMAIL_OTP" }.into(),
    };
    let mut prompt = Prompt::with_id(session_id, challenge, parameters);
    prompt.message = Some(message);
    prompt
}

/// `MFAS_CAN_CHOOSE` / `MFAS_CAN_SETUP` text, for the messages that repeat it.
pub(crate) fn options_text(options: &[Factor]) -> String {
    factors_json(options)
}
