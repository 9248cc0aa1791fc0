//! Which MFA step follows a correct password, from the pool's configuration and the user's
//! settings (reference §4.4). A pure function, so every branch is testable on its own.

use crate::pool::UserPool;
use crate::user::User;
use crate::user::mfa::Factor;
use cmfa_wire::shapes::{RecoveryOptionNameType, UserPoolMfaType};

/// What the sign-in does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// No MFA: tokens.
    Tokens,
    /// Challenge with this factor.
    Challenge(Factor),
    /// Let the user pick (SELECT_MFA_TYPE).
    Select(Vec<Factor>),
    /// The user must set up one of these first (MFA_SETUP).
    Setup(Vec<Factor>),
    /// MFA is required and nothing can be used or set up.
    NoMethod,
}

/// The factors the pool offers right now.
fn pool_offers(pool: &UserPool, f: Factor) -> bool {
    match f {
        Factor::Sms => pool.mfa.sms_enabled,
        Factor::SoftwareToken => pool
            .mfa
            .software_token
            .as_ref()
            .and_then(|t| t.enabled)
            .unwrap_or(false),
        Factor::Email => pool.mfa.email.is_some(),
    }
}

/// Whether the user can be challenged with `f`: the pool offers it (a registered authenticator
/// keeps working after the pool turns TOTP off) and the user has what it needs.
fn usable(pool: &UserPool, user: &User, f: Factor) -> bool {
    match f {
        Factor::Sms => pool_offers(pool, f) && user.attr("phone_number").is_some(),
        Factor::SoftwareToken => user.mfa.totp.is_some(),
        Factor::Email => pool_offers(pool, f) && user.attr("email").is_some(),
    }
}

/// The pool's first account-recovery channel, which ON pools do not use as an MFA channel.
fn recovery_factor(pool: &UserPool) -> Option<Factor> {
    let mechanisms = pool
        .config
        .account_recovery_setting
        .as_ref()?
        .recovery_mechanisms
        .as_ref()?;
    let first = mechanisms.iter().min_by_key(|m| m.priority)?;
    match first.name {
        RecoveryOptionNameType::VerifiedEmail => Some(Factor::Email),
        RecoveryOptionNameType::VerifiedPhoneNumber => Some(Factor::Sms),
        RecoveryOptionNameType::AdminOnly => None,
    }
}

/// Decides the step after the first factor.
pub fn next_step(pool: &UserPool, user: &User) -> Next {
    let mfa = pool.mfa_configuration();
    if mfa == UserPoolMfaType::Off {
        return Next::Tokens;
    }
    // Enabled factors the user can actually receive.
    let mut enabled: Vec<Factor> = user
        .mfa
        .enabled()
        .into_iter()
        .filter(|f| usable(pool, user, *f))
        .collect();
    if user.mfa.totp.is_some() && !enabled.contains(&Factor::SoftwareToken) {
        // A registered authenticator prompts even before it is marked enabled (reference §4.4).
        enabled.push(Factor::SoftwareToken);
    }
    if let Some(p) = user.mfa.preferred
        && usable(pool, user, p)
    {
        return Next::Challenge(p);
    }
    if mfa == UserPoolMfaType::Optional {
        return match enabled.as_slice() {
            [] => Next::Tokens,
            [one] => Next::Challenge(*one),
            many => Next::Select(many.to_vec()),
        };
    }
    // ON. A user who confirmed a sign-up code has just proved a second factor.
    if user.fresh_from_sign_up {
        return Next::Tokens;
    }
    let recovery = recovery_factor(pool);
    let channels: Vec<Factor> = [Factor::Sms, Factor::Email]
        .into_iter()
        .filter(|f| usable(pool, user, *f) && Some(*f) != recovery)
        .collect();
    if user.mfa.totp.is_some() {
        return if channels.is_empty() {
            Next::Challenge(Factor::SoftwareToken)
        } else {
            let mut all = vec![Factor::SoftwareToken];
            all.extend(channels);
            Next::Select(all)
        };
    }
    match channels.as_slice() {
        [one] => Next::Challenge(*one),
        [_, _] => Next::Select(channels),
        _ => {
            // Every factor the pool offers that is not its recovery channel, as AWS lists them
            // (a capture shows ["SMS_MFA","SOFTWARE_TOKEN_MFA"]): SMS too, although a phone
            // number cannot be set up inside the challenge.
            let setup: Vec<Factor> = [Factor::Sms, Factor::SoftwareToken, Factor::Email]
                .into_iter()
                .filter(|f| pool_offers(pool, *f) && Some(*f) != recovery)
                .collect();
            if setup.is_empty() {
                Next::NoMethod
            } else {
                Next::Setup(setup)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::{MfaFactors, rules};
    use crate::user::mfa::TotpDevice;
    use crate::user::{Lockout, User};
    use cmfa_wire::shapes::{
        AccountRecoverySettingType, AttributeType, CreateUserPoolRequest, EmailMfaConfigType, RecoveryOptionType,
        SoftwareTokenMfaConfigType, UserStatusType,
    };

    fn pool(mfa: UserPoolMfaType, sms: bool, totp: bool, email: bool) -> UserPool {
        let mut p = rules::create(
            "us-east-1_a".into(),
            "arn".into(),
            1.0,
            CreateUserPoolRequest {
                pool_name: "p".into(),
                ..Default::default()
            },
        )
        .unwrap();
        p.config.mfa_configuration = Some(mfa);
        p.mfa = MfaFactors {
            sms_enabled: sms,
            software_token: Some(SoftwareTokenMfaConfigType { enabled: Some(totp) }),
            email: email.then(EmailMfaConfigType::default),
            web_authn: None,
            configured: true,
        };
        p
    }

    fn user(phone: bool, email: bool) -> User {
        let mut attributes = vec![AttributeType {
            name: "sub".into(),
            value: Some("s".into()),
        }];
        if phone {
            attributes.push(AttributeType {
                name: "phone_number".into(),
                value: Some("+15550100".into()),
            });
        }
        if email {
            attributes.push(AttributeType {
                name: "email".into(),
                value: Some("a@example.com".into()),
            });
        }
        User {
            pool_id: "us-east-1_a".into(),
            username: "u".into(),
            sub: "s".into(),
            attributes,
            enabled: true,
            status: UserStatusType::Confirmed,
            created: 0.0,
            modified: 0.0,
            password: None,
            lockout: Lockout::default(),
            fresh_from_sign_up: false,
            codes: vec![],
            mfa: Default::default(),
            signed_out_at_ms: 0,
            groups: Vec::new(),
            passkeys: Vec::new(),
            version: 1,
        }
    }

    fn with_totp(mut u: User) -> User {
        u.mfa.totp = Some(TotpDevice {
            secret_hex: "00".into(),
            friendly_name: None,
            last_step: None,
        });
        u
    }

    #[test]
    fn off_always_gives_tokens() {
        let mut u = with_totp(user(true, true));
        u.mfa.sms_enabled = true;
        assert_eq!(
            next_step(&pool(UserPoolMfaType::Off, true, true, true), &u),
            Next::Tokens
        );
    }

    #[test]
    fn optional_follows_the_user() {
        let p = pool(UserPoolMfaType::Optional, true, true, true);
        assert_eq!(next_step(&p, &user(true, true)), Next::Tokens, "nothing enabled");
        let mut u = user(true, true);
        u.mfa.sms_enabled = true;
        assert_eq!(next_step(&p, &u), Next::Challenge(Factor::Sms));
        u = with_totp(u);
        assert_eq!(
            next_step(&p, &u),
            Next::Select(vec![Factor::Sms, Factor::SoftwareToken])
        );
        u.mfa.preferred = Some(Factor::SoftwareToken);
        assert_eq!(next_step(&p, &u), Next::Challenge(Factor::SoftwareToken));
        let only_totp = with_totp(user(false, false));
        assert_eq!(next_step(&p, &only_totp), Next::Challenge(Factor::SoftwareToken));
    }

    #[test]
    fn on_uses_channels_the_user_has_and_sets_up_otherwise() {
        let p = pool(UserPoolMfaType::On, true, true, false);
        assert_eq!(
            next_step(&p, &user(true, false)),
            Next::Challenge(Factor::Sms),
            "phone means SMS in ON pools"
        );
        assert_eq!(
            next_step(&p, &user(false, false)),
            Next::Setup(vec![Factor::Sms, Factor::SoftwareToken])
        );
        assert_eq!(
            next_step(&p, &with_totp(user(false, false))),
            Next::Challenge(Factor::SoftwareToken)
        );
        assert_eq!(
            next_step(&p, &with_totp(user(true, false))),
            Next::Select(vec![Factor::SoftwareToken, Factor::Sms])
        );
        let sms_only = pool(UserPoolMfaType::On, true, false, false);
        assert_eq!(
            next_step(&sms_only, &user(false, false)),
            Next::Setup(vec![Factor::Sms]),
            "SMS is listed even though it cannot be set up in the challenge"
        );
        let both = pool(UserPoolMfaType::On, true, true, false);
        assert_eq!(
            next_step(&both, &user(false, false)),
            Next::Setup(vec![Factor::Sms, Factor::SoftwareToken]),
            "AWS's order: SMS_MFA, SOFTWARE_TOKEN_MFA"
        );
        let mut fresh = user(false, false);
        fresh.fresh_from_sign_up = true;
        assert_eq!(
            next_step(&p, &fresh),
            Next::Tokens,
            "the sign-up code counts as the second factor"
        );
    }

    #[test]
    fn on_skips_the_recovery_channel() {
        let mut p = pool(UserPoolMfaType::On, true, true, true);
        p.config.account_recovery_setting = Some(AccountRecoverySettingType {
            recovery_mechanisms: Some(vec![RecoveryOptionType {
                priority: 1,
                name: RecoveryOptionNameType::VerifiedEmail,
            }]),
        });
        assert_eq!(
            next_step(&p, &user(false, true)),
            Next::Setup(vec![Factor::Sms, Factor::SoftwareToken]),
            "email, the recovery channel, is not offered"
        );
        assert_eq!(next_step(&p, &user(true, true)), Next::Challenge(Factor::Sms));
    }
}
