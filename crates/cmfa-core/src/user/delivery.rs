//! What a code message looks like: masked destinations and the pool's templates.

use crate::outbound::{Channel, OutboundMessage};
use crate::pool::UserPool;
use crate::user::User;
use cmfa_wire::shapes::{CodeDeliveryDetailsType, DeliveryMediumType, VerifiedAttributeType};

/// `+917411174114` → `+********4114`: the `+`, then stars, then the last four digits.
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if (i == 0 && c == '+') || i + 4 >= n { c } else { '*' })
        .collect()
}

/// `fixture@example.com` → `f***@e***`: first character of each side.
pub fn mask_email(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    format!("{}***@{}***", first(local), first(domain))
}

/// AWS's default verification text (body for SMS and email), with its trailing space.
pub const DEFAULT_VERIFICATION_MESSAGE: &str = "Your verification code is {####}. ";
/// AWS's default verification email subject.
pub const DEFAULT_VERIFICATION_SUBJECT: &str = "Your verification code";
/// AWS's default invitation texts for AdminCreateUser.
pub const DEFAULT_INVITE_MESSAGE: &str = "Your username is {username} and temporary password is {####}. ";
pub const DEFAULT_INVITE_SUBJECT: &str = "Your temporary password";

/// The verification message for `code`: (subject, body) for email, body for SMS.
pub fn verification_email(pool: &UserPool, code: &str) -> (String, String) {
    let t = pool.config.verification_message_template.as_ref();
    let subject = t
        .and_then(|t| t.email_subject.clone())
        .or_else(|| pool.config.email_verification_subject.clone())
        .unwrap_or_else(|| DEFAULT_VERIFICATION_SUBJECT.into());
    let body = t
        .and_then(|t| t.email_message.clone())
        .or_else(|| pool.config.email_verification_message.clone())
        .unwrap_or_else(|| DEFAULT_VERIFICATION_MESSAGE.into());
    (subject, body.replace("{####}", code))
}

/// The verification SMS for `code`.
pub fn verification_sms(pool: &UserPool, code: &str) -> String {
    let t = pool.config.verification_message_template.as_ref();
    t.and_then(|t| t.sms_message.clone())
        .or_else(|| pool.config.sms_verification_message.clone())
        .unwrap_or_else(|| DEFAULT_VERIFICATION_MESSAGE.into())
        .replace("{####}", code)
}

/// The invitation for an administrator-created user: (subject, email body, sms body).
pub fn invitation(pool: &UserPool, username: &str, temporary_password: &str) -> (String, String, String) {
    let t = pool
        .config
        .admin_create_user_config
        .as_ref()
        .and_then(|c| c.invite_message_template.as_ref());
    let fill = |s: String| s.replace("{username}", username).replace("{####}", temporary_password);
    let subject = t
        .and_then(|t| t.email_subject.clone())
        .unwrap_or_else(|| DEFAULT_INVITE_SUBJECT.into());
    let email = fill(
        t.and_then(|t| t.email_message.clone())
            .unwrap_or_else(|| DEFAULT_INVITE_MESSAGE.into()),
    );
    let sms = fill(
        t.and_then(|t| t.sms_message.clone())
            .unwrap_or_else(|| DEFAULT_INVITE_MESSAGE.into()),
    );
    (subject, email, sms)
}

/// A verification-code message in the pool's verification template. `purpose` names the
/// occasion as AWS's CustomMessage trigger sources do (`UPDATE_USER_ATTRIBUTE`, ...).
pub fn code_message(
    pool: &UserPool,
    user: &User,
    channel: Channel,
    destination: String,
    code: &str,
    purpose: &str,
) -> OutboundMessage {
    let (subject, body) = match channel {
        Channel::Email => {
            let (s, b) = verification_email(pool, code);
            (Some(s), b)
        }
        Channel::Sms => (None, verification_sms(pool, code)),
    };
    OutboundMessage {
        pool_id: pool.id.clone(),
        username: user.username.clone(),
        channel,
        destination,
        subject,
        body,
        purpose: purpose.into(),
    }
}

/// Where a verification code goes: the auto-verified attribute the user has (email first).
pub fn verification_target(pool: &UserPool, user: &User) -> Option<(Channel, &'static str, String)> {
    let auto = pool.config.auto_verified_attributes.as_deref().unwrap_or(&[]);
    if auto.contains(&VerifiedAttributeType::Email)
        && let Some(e) = user.attr("email")
    {
        return Some((Channel::Email, "email", e.to_owned()));
    }
    if auto.contains(&VerifiedAttributeType::PhoneNumber)
        && let Some(p) = user.attr("phone_number")
    {
        return Some((Channel::Sms, "phone_number", p.to_owned()));
    }
    None
}

pub fn delivery_details(channel: Channel, attribute: &str, destination: &str) -> CodeDeliveryDetailsType {
    CodeDeliveryDetailsType {
        destination: Some(match channel {
            Channel::Email => mask_email(destination),
            Channel::Sms => mask_phone(destination),
        }),
        delivery_medium: Some(match channel {
            Channel::Email => DeliveryMediumType::Email,
            Channel::Sms => DeliveryMediumType::Sms,
        }),
        attribute_name: Some(attribute.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_aws_captures() {
        assert_eq!(mask_phone("+917411174114"), "+********4114");
        assert_eq!(mask_email("fixture@example.com"), "f***@e***");
    }
}
