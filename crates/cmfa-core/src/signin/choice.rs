//! Choice-based sign-in (USER_AUTH): which first factors a user may choose right now.
//!
//! A factor is offered when the pool allows it (`Policies.SignInPolicy.AllowedFirstAuthFactors`;
//! `PASSWORD` covers `PASSWORD` and `PASSWORD_SRP` and is always allowed), the user has what it
//! needs (a password; a verified email for `EMAIL_OTP`; a verified phone for `SMS_OTP`), and the
//! pool's MFA setting lets a passwordless factor through (reference §4.4, "Passwordless users
//! and MFA"): with MFA `ON`, or `OPTIONAL` for a user who has MFA configured, only the password
//! factors, since a passwordless first factor is never followed by MFA.
//!
//! Passkeys (`WEB_AUTHN`) need the feature plan and a relying party, and a registered passkey;
//! with MFA required they are offered only when a passkey with user verification counts as MFA
//! (the pool's `MULTI_FACTOR_WITH_USER_VERIFICATION`, or the user's `WebAuthnMfaSettings`).

use crate::pool::UserPool;
use crate::pool::mfa_config::first_factors;
use crate::user::User;
use cmfa_wire::shapes::{AuthFactorType, ChallengeNameType, UserPoolMfaType};
use serde::{Deserialize, Serialize};

/// A first factor of USER_AUTH, by its challenge name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FirstFactor {
    #[serde(rename = "PASSWORD")]
    Password,
    #[serde(rename = "PASSWORD_SRP")]
    PasswordSrp,
    #[serde(rename = "EMAIL_OTP")]
    EmailOtp,
    #[serde(rename = "SMS_OTP")]
    SmsOtp,
    #[serde(rename = "WEB_AUTHN")]
    WebAuthn,
}

impl FirstFactor {
    /// In the order `AvailableChallenges` lists them (AWS's example:
    /// `["PASSWORD","PASSWORD_SRP","EMAIL_OTP","WEB_AUTHN"]`).
    pub const ALL: [FirstFactor; 5] = [
        FirstFactor::Password,
        FirstFactor::PasswordSrp,
        FirstFactor::EmailOtp,
        FirstFactor::SmsOtp,
        FirstFactor::WebAuthn,
    ];

    pub fn challenge_name(self) -> ChallengeNameType {
        match self {
            FirstFactor::Password => ChallengeNameType::Password,
            FirstFactor::PasswordSrp => ChallengeNameType::PasswordSrp,
            FirstFactor::EmailOtp => ChallengeNameType::EmailOtp,
            FirstFactor::SmsOtp => ChallengeNameType::SmsOtp,
            FirstFactor::WebAuthn => ChallengeNameType::WebAuthn,
        }
    }

    /// The factor a `PREFERRED_CHALLENGE` or `ANSWER` names, if it is one.
    pub fn from_name(name: &str) -> Option<FirstFactor> {
        FirstFactor::ALL
            .into_iter()
            .find(|f| f.challenge_name().as_str() == name)
    }

    /// Whether this is a password factor (which MFA may follow).
    pub fn is_password(self) -> bool {
        matches!(self, FirstFactor::Password | FirstFactor::PasswordSrp)
    }

    fn pool_factor(self) -> AuthFactorType {
        match self {
            FirstFactor::Password | FirstFactor::PasswordSrp => AuthFactorType::Password,
            FirstFactor::EmailOtp => AuthFactorType::EmailOtp,
            FirstFactor::SmsOtp => AuthFactorType::SmsOtp,
            FirstFactor::WebAuthn => AuthFactorType::WebAuthn,
        }
    }
}

/// Whether the pool's sign-in policy allows `f` (PASSWORD always; WEB_AUTHN also needs the
/// feature plan and a relying party).
pub fn pool_allows(pool: &UserPool, f: FirstFactor) -> bool {
    match f {
        FirstFactor::WebAuthn => crate::pool::passkeys::relying_party(pool).is_ok(),
        f => f.is_password() || first_factors(pool).contains(&f.pool_factor()),
    }
}

/// Whether the pool allows a first factor without a password (so users may sign up without one).
pub fn passwordless_pool(pool: &UserPool) -> bool {
    FirstFactor::ALL
        .into_iter()
        .any(|f| !f.is_password() && pool_allows(pool, f))
        || first_factors(pool).contains(&AuthFactorType::WebAuthn)
}

/// Whether the user has what `f` needs.
pub fn user_has(user: &User, f: FirstFactor) -> bool {
    match f {
        FirstFactor::Password | FirstFactor::PasswordSrp => user.password.is_some(),
        FirstFactor::EmailOtp => user.attr("email").is_some() && user.flag("email_verified"),
        FirstFactor::SmsOtp => user.attr("phone_number").is_some() && user.flag("phone_number_verified"),
        FirstFactor::WebAuthn => !user.passkeys.is_empty(),
    }
}

/// Whether the user has MFA of their own (an enabled factor or a registered authenticator).
pub fn has_mfa(user: &User) -> bool {
    !user.mfa.enabled().is_empty() || user.mfa.totp.is_some()
}

/// Whether the pool's MFA setting lets passwordless first factors through for this user.
pub fn passwordless_allowed(pool: &UserPool, user: &User) -> bool {
    match pool.mfa_configuration() {
        UserPoolMfaType::Off => true,
        UserPoolMfaType::Optional => !has_mfa(user),
        UserPoolMfaType::On => false,
    }
}

/// The first factors this user may choose now, in `AvailableChallenges` order.
pub fn available(pool: &UserPool, user: &User) -> Vec<FirstFactor> {
    let passwordless = passwordless_allowed(pool, user);
    // A passkey with user verification counts as MFA too when the pool says so
    // (`MULTI_FACTOR_WITH_USER_VERIFICATION`), so MFA does not keep it out.
    let passkey = passwordless || crate::pool::passkeys::counts_as_mfa(pool, user);
    FirstFactor::ALL
        .into_iter()
        .filter(|f| pool_allows(pool, *f) && user_has(user, *f))
        .filter(|f| match f {
            FirstFactor::WebAuthn => passkey,
            f => f.is_password() || passwordless,
        })
        .collect()
}

/// The auth factors a user has set up for USER_AUTH (`ConfiguredUserAuthFactors`, without the
/// MFA factor): a password, and a verified email or phone the pool allows as a first factor.
pub fn configured(pool: &UserPool, user: &User) -> Vec<AuthFactorType> {
    let mut v = Vec::new();
    if user.password.is_some() {
        v.push(AuthFactorType::Password);
    }
    for f in [FirstFactor::EmailOtp, FirstFactor::SmsOtp, FirstFactor::WebAuthn] {
        if pool_allows(pool, f) && user_has(user, f) {
            v.push(f.pool_factor());
        }
    }
    v
}
