//! One-time codes sent by SMS or email: opening the challenge (a fresh code, kept only as a hash
//! salted with the session id, and its message) and checking the answer. The same machinery
//! serves MFA (SMS_MFA, EMAIL_OTP after a password) and USER_AUTH's passwordless first factors
//! (EMAIL_OTP, SMS_OTP), which differ only in the code's length and the challenge's name.

use super::{Change, Outcome, Prompt, Turn, base_parameters, may_answer};
use crate::auth::session::{Challenge, code_hash, new_session_id, same_hash};
use crate::error::{DomainError, Result};
use crate::messages::CODE_MISMATCH;
use crate::outbound::{Channel, OutboundMessage};
use crate::pool::UserPool;
use crate::user::User;
use crate::user::codes::new_code;
use crate::user::delivery::{mask_email, mask_phone};

/// AWS's default SMS MFA text.
const DEFAULT_SMS_TEXT: &str = "Your authentication code is {####}.";
/// Ours: AWS's default email MFA texts are not on record.
const DEFAULT_EMAIL_SUBJECT: &str = "Your verification code";
const DEFAULT_EMAIL_TEXT: &str = "Your verification code is {####}.";

/// Which channel the code goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Medium {
    Sms,
    Email,
}

/// What the code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CodeUse {
    /// A second factor after a password (SMS_MFA, EMAIL_OTP).
    Mfa,
    /// USER_AUTH's passwordless first factor (EMAIL_OTP, SMS_OTP).
    FirstFactor,
}

/// The code challenge for `medium`: the code goes to the user's phone or email now.
pub(crate) fn code_prompt(pool: &UserPool, user: &User, medium: Medium, used_for: CodeUse) -> Prompt {
    let sms = medium == Medium::Sms;
    let destination = user
        .attr(if sms { "phone_number" } else { "email" })
        .unwrap_or_default()
        .to_owned();
    // SMS MFA codes have 6 digits; email codes and passwordless codes 8 (reference §5, §4.3).
    let digits = if sms && used_for == CodeUse::Mfa { 6 } else { 8 };
    let code = new_code(digits);
    let session_id = new_session_id();
    let mut parameters = base_parameters(user);
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
    let (challenge, purpose) = match (medium, used_for) {
        (Medium::Sms, CodeUse::Mfa) => (
            Challenge::SmsMfa {
                code_hash,
                destination: destination.clone(),
            },
            "SMS_MFA",
        ),
        (Medium::Sms, CodeUse::FirstFactor) => (
            Challenge::SmsOtp {
                code_hash,
                destination: destination.clone(),
            },
            "SMS_OTP",
        ),
        (Medium::Email, used_for) => (
            Challenge::EmailOtp {
                code_hash,
                destination: destination.clone(),
                first_factor: used_for == CodeUse::FirstFactor,
            },
            "EMAIL_OTP",
        ),
    };
    let message = OutboundMessage {
        pool_id: pool.id.clone(),
        username: user.username.clone(),
        channel: if sms { Channel::Sms } else { Channel::Email },
        destination,
        subject,
        body,
        purpose: purpose.into(),
    };
    let mut prompt = Prompt::with_id(session_id, challenge, parameters);
    prompt.message = Some(message);
    prompt
}

/// Checks `code` against `want` (the hash of the code sent to `destination` in session
/// `session_id`). Right: tokens, and the code proves the attribute it reached. (A passwordless
/// first factor is never followed by MFA, so it ends in tokens too.)
pub(crate) fn answer(
    t: &Turn<'_>,
    medium: Medium,
    session_id: &str,
    want: &str,
    destination: &str,
    code: &str,
) -> Result<Outcome> {
    may_answer(t)?;
    if !same_hash(&code_hash(session_id, code), want) {
        return Ok(Outcome::Fail(DomainError::CodeMismatch(CODE_MISMATCH.into())));
    }
    let (attribute, verified) = match medium {
        Medium::Sms => ("phone_number", "phone_number_verified"),
        Medium::Email => ("email", "email_verified"),
    };
    Ok(Outcome::Tokens(Change::ProveContact {
        attribute,
        verified,
        destination: destination.to_owned(),
    }))
}
