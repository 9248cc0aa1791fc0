//! Passwords after sign-up: changing one (signed in), the forgot-password code flow, and the
//! administrator's reset and set.

use super::{Caller, Service};
use crate::client::check_secret_hash;
use crate::error::{DomainError, Result};
use crate::messages::{BAD_CREDENTIALS, CLIENT_USER_NOT_FOUND};
use crate::outbound::Channel;
use crate::pool::UserPool;
use crate::user::User;
use crate::user::codes::{CodePurpose, LIMIT, MISMATCH};
use crate::user::delivery::delivery_details;
use crate::user::password::check_policy;
use cmfa_wire::shapes::{
    AdminResetUserPasswordRequest, AdminResetUserPasswordResponse, AdminSetUserPasswordRequest,
    AdminSetUserPasswordResponse, ChangePasswordRequest, ChangePasswordResponse, CodeDeliveryDetailsType,
    ConfirmForgotPasswordRequest, ConfirmForgotPasswordResponse, DeliveryMediumType, ForgotPasswordRequest,
    ForgotPasswordResponse, RecoveryOptionNameType, UserStatusType, VerifiedAttributeType,
};

pub(crate) const NO_RECOVERY: &str =
    "Cannot reset password for the user as there is no registered/verified email or phone_number";
const CANNOT_RESET: &str = "User password cannot be reset in the current state.";
use crate::messages::USER_DISABLED as DISABLED;

/// The recovery mechanisms in the order the pool prefers them. Without an
/// `AccountRecoverySetting`, AWS's legacy order applies: a verified phone before a verified email.
fn recovery_order(pool: &UserPool) -> Vec<RecoveryOptionNameType> {
    match pool
        .config
        .account_recovery_setting
        .as_ref()
        .and_then(|s| s.recovery_mechanisms.as_ref())
    {
        Some(list) if !list.is_empty() => {
            let mut list = list.clone();
            list.sort_by_key(|m| m.priority);
            list.into_iter().map(|m| m.name).collect()
        }
        _ => vec![
            RecoveryOptionNameType::VerifiedPhoneNumber,
            RecoveryOptionNameType::VerifiedEmail,
        ],
    }
}

/// Where a password-reset code goes: the first verified channel in the pool's recovery order.
fn recovery_target(pool: &UserPool, user: &User) -> Option<(Channel, &'static str, String)> {
    for m in recovery_order(pool) {
        let (attr, channel) = match m {
            RecoveryOptionNameType::VerifiedEmail => ("email", Channel::Email),
            RecoveryOptionNameType::VerifiedPhoneNumber => ("phone_number", Channel::Sms),
            RecoveryOptionNameType::AdminOnly => return None,
        };
        if let Some(v) = user.attr(attr)
            && user.flag(&format!("{attr}_verified"))
        {
            return Some((channel, attr, v.to_owned()));
        }
    }
    None
}

/// What ForgotPassword answers for an unknown user when existence errors are hidden: delivery
/// details that look real and stay the same for the same username, with nothing sent.
fn simulated_delivery(pool: &UserPool, username: &str) -> CodeDeliveryDetailsType {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!("{}\0{username}", pool.id).as_bytes());
    let letter = |b: u8| char::from(b'a' + b % 26);
    let email = if username.contains('@') {
        true
    } else if username.starts_with('+') {
        false
    } else if pool.config.account_recovery_setting.is_some() {
        recovery_order(pool).first() != Some(&RecoveryOptionNameType::VerifiedPhoneNumber)
    } else {
        // Legacy order, but most pools verify email only: look like what this pool can send.
        let auto = pool.config.auto_verified_attributes.as_deref().unwrap_or(&[]);
        auto.contains(&VerifiedAttributeType::Email) || !auto.contains(&VerifiedAttributeType::PhoneNumber)
    };
    if email {
        CodeDeliveryDetailsType {
            destination: Some(format!("{}***@{}***", letter(h[0]), letter(h[1]))),
            delivery_medium: Some(DeliveryMediumType::Email),
            attribute_name: Some("email".into()),
        }
    } else {
        let digits: String = h[2..6].iter().map(|b| char::from(b'0' + b % 10)).collect();
        CodeDeliveryDetailsType {
            destination: Some(format!("+*******{digits}")),
            delivery_medium: Some(DeliveryMediumType::Sms),
            attribute_name: Some("phone_number".into()),
        }
    }
}

impl Service {
    pub async fn change_password(&self, req: ChangePasswordRequest) -> Result<ChangePasswordResponse> {
        let (pool, key, mut user, _) = self.authenticate(&req.access_token).await?;
        let now = self.clock.now();
        if user.lockout.is_locked(now) {
            return Err(DomainError::LimitExceeded(LIMIT.into()));
        }
        if let Some(record) = &user.password {
            let Some(previous) = req.previous_password.as_deref() else {
                return Err(DomainError::InvalidParameter(
                    "Missing required parameter PreviousPassword".into(),
                ));
            };
            if !self.password_matches(record, previous).await? {
                self.record_failure(&pool, &key, user).await;
                return Err(DomainError::NotAuthorized(BAD_CREDENTIALS.into()));
            }
        }
        check_policy(&pool.password_policy(), &req.proposed_password)?;
        user.password = Some(
            self.new_password(&pool.id, &user.username, &req.proposed_password, false, now)
                .await?,
        );
        user.lockout.succeed();
        self.save_user(&pool, &key, user, None).await?;
        Ok(ChangePasswordResponse {})
    }

    /// Issues a reset code to the user's recovery channel and records its message.
    async fn send_reset_code(&self, pool: &UserPool, key: &str, mut user: User) -> Result<CodeDeliveryDetailsType> {
        let (channel, attr, dest) =
            recovery_target(pool, &user).ok_or_else(|| DomainError::InvalidParameter(NO_RECOVERY.into()))?;
        let code = user.issue_code(CodePurpose::ForgotPassword, self.clock.now());
        let message = crate::user::delivery::code_message(pool, &user, channel, dest.clone(), &code, "FORGOT_PASSWORD");
        self.save_user(pool, key, user, Some(&message)).await?;
        Ok(delivery_details(channel, attr, &dest))
    }

    pub async fn forgot_password(&self, req: ForgotPasswordRequest) -> Result<ForgotPasswordResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        // A pool whose only recovery is by an administrator: no user can reset (AWS's answer).
        if recovery_order(&pool) == [RecoveryOptionNameType::AdminOnly] {
            return Err(DomainError::NotAuthorized(
                "Contact administrator to reset password.".into(),
            ));
        }
        let Some((key, user)) = self.find_user(&pool, &req.username).await? else {
            if crate::client::hides_existence(&client) {
                return Ok(ForgotPasswordResponse {
                    code_delivery_details: Some(simulated_delivery(&pool, &req.username)),
                });
            }
            return Err(DomainError::UserNotFound(CLIENT_USER_NOT_FOUND.into()));
        };
        if !user.enabled {
            return Err(DomainError::NotAuthorized(DISABLED.into()));
        }
        if user.status == UserStatusType::ForceChangePassword {
            return Err(DomainError::NotAuthorized(CANNOT_RESET.into()));
        }
        let details = self.send_reset_code(&pool, &key, user).await?;
        Ok(ForgotPasswordResponse {
            code_delivery_details: Some(details),
        })
    }

    pub async fn confirm_forgot_password(
        &self,
        req: ConfirmForgotPasswordRequest,
    ) -> Result<ConfirmForgotPasswordResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let Some((key, mut user)) = self.find_user(&pool, &req.username).await? else {
            return Err(if crate::client::hides_existence(&client) {
                DomainError::CodeMismatch(MISMATCH.into())
            } else {
                DomainError::UserNotFound(CLIENT_USER_NOT_FOUND.into())
            });
        };
        if !user.enabled {
            return Err(DomainError::NotAuthorized(DISABLED.into()));
        }
        // The policy first: a refused password must not use up the code.
        check_policy(&pool.password_policy(), &req.password)?;
        let now = self.clock.now();
        if let Err(e) = user.redeem_code(CodePurpose::ForgotPassword, &req.confirmation_code, now) {
            // Attempts are state: keep the count even though the call fails.
            let _ = self.save_user(&pool, &key, user, None).await;
            return Err(e);
        }
        user.password = Some(
            self.new_password(&pool.id, &user.username, &req.password, false, now)
                .await?,
        );
        user.status = UserStatusType::Confirmed;
        user.lockout.succeed();
        self.save_user(&pool, &key, user, None).await?;
        Ok(ConfirmForgotPasswordResponse {})
    }

    pub async fn admin_reset_user_password(
        &self,
        caller: &Caller,
        req: AdminResetUserPasswordRequest,
    ) -> Result<AdminResetUserPasswordResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, mut user) = self.require_user(&pool, &req.username).await?;
        if user.status == UserStatusType::ForceChangePassword {
            return Err(DomainError::NotAuthorized(CANNOT_RESET.into()));
        }
        // The old password stays stored so that signing in with it is answered
        // PasswordResetRequiredException rather than a bad-credentials error.
        user.status = UserStatusType::ResetRequired;
        self.send_reset_code(&pool, &key, user).await?;
        Ok(AdminResetUserPasswordResponse {})
    }

    pub async fn admin_set_user_password(
        &self,
        caller: &Caller,
        req: AdminSetUserPasswordRequest,
    ) -> Result<AdminSetUserPasswordResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, mut user) = self.require_user(&pool, &req.username).await?;
        check_policy(&pool.password_policy(), &req.password)?;
        let permanent = req.permanent.unwrap_or(false);
        user.password = Some(
            self.new_password(&pool.id, &user.username, &req.password, !permanent, self.clock.now())
                .await?,
        );
        user.status = if permanent {
            UserStatusType::Confirmed
        } else {
            UserStatusType::ForceChangePassword
        };
        self.save_user(&pool, &key, user, None).await?;
        Ok(AdminSetUserPasswordResponse {})
    }
}
