//! Sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode and AdminConfirmSignUp.

use super::{Caller, Service};
use crate::client::check_secret_hash;
use crate::error::{DomainError, Result};
use crate::messages::CLIENT_USER_NOT_FOUND;
use crate::user::codes::CodePurpose;
use crate::user::delivery::{delivery_details, verification_target};
use crate::user::password::check_policy;
use crate::user::{attributes, delivery};
use cmfa_wire::shapes::{
    AdminConfirmSignUpRequest, AdminConfirmSignUpResponse, ConfirmSignUpRequest, ConfirmSignUpResponse,
    ResendConfirmationCodeRequest, ResendConfirmationCodeResponse, SignUpRequest, SignUpResponse, UserStatusType,
};

impl Service {
    pub async fn sign_up(&self, req: SignUpRequest) -> Result<SignUpResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let attrs = req.user_attributes.unwrap_or_default();
        super::user_attributes::refuse_developer_only(&attrs)?;
        attributes::check_writable(&pool, &attrs, true)?;
        let mut user = self.new_user(&pool, &req.username, attrs)?;
        attributes::check_required(&pool, &user.attributes)?;
        if let Some(pw) = &req.password {
            check_policy(&pool.password_policy(), pw)?;
            user.password = Some(
                self.new_password(&pool.id, &user.username, pw, false, user.created)
                    .await?,
            );
        }
        let mut details = None;
        let mut message = None;
        if let Some((channel, attr, dest)) = verification_target(&pool, &user) {
            let code = user.issue_code(CodePurpose::SignUp, self.clock.now());
            details = Some(delivery_details(channel, attr, &dest));
            message = Some(delivery::code_message(&pool, &user, channel, dest, &code, "SIGN_UP"));
        }
        self.insert_user(&pool, &user, message.as_ref()).await?;
        Ok(SignUpResponse {
            user_confirmed: false,
            code_delivery_details: details,
            user_sub: user.sub,
            session: None,
        })
    }

    pub async fn confirm_sign_up(&self, req: ConfirmSignUpRequest) -> Result<ConfirmSignUpResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let Some((key, mut user)) = self.find_user(&pool, &req.username).await? else {
            return Err(if crate::client::hides_existence(&client) {
                DomainError::CodeMismatch(crate::user::codes::MISMATCH.into())
            } else {
                DomainError::UserNotFound(CLIENT_USER_NOT_FOUND.into())
            });
        };
        if user.status != UserStatusType::Unconfirmed {
            return Err(DomainError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        let result = user.redeem_code(CodePurpose::SignUp, &req.confirmation_code, self.clock.now());
        if let Err(e) = result {
            // Attempts are state: keep the count even though the call fails.
            let _ = self.save_user(&pool, &key, user, None).await;
            return Err(e);
        }
        if let Some((_, attr, _)) = verification_target(&pool, &user) {
            user.set_attr(&format!("{attr}_verified"), Some("true".into()));
        }
        user.status = UserStatusType::Confirmed;
        user.fresh_from_sign_up = true;
        self.save_user(&pool, &key, user, None).await?;
        Ok(ConfirmSignUpResponse { session: None })
    }

    pub async fn resend_confirmation_code(
        &self,
        req: ResendConfirmationCodeRequest,
    ) -> Result<ResendConfirmationCodeResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let (key, mut user) = match self.find_user(&pool, &req.username).await? {
            Some(x) => x,
            None => return Err(DomainError::UserNotFound(CLIENT_USER_NOT_FOUND.into())),
        };
        if user.status != UserStatusType::Unconfirmed {
            return Err(DomainError::InvalidParameter("User is already confirmed.".into()));
        }
        let Some((channel, attr, dest)) = verification_target(&pool, &user) else {
            return Err(DomainError::InvalidParameter(
                "Auto verification not turned on or the user has no attribute to verify.".into(),
            ));
        };
        let code = user.issue_code(CodePurpose::SignUp, self.clock.now());
        let message = delivery::code_message(&pool, &user, channel, dest.clone(), &code, "SIGN_UP");
        self.save_user(&pool, &key, user, Some(&message)).await?;
        Ok(ResendConfirmationCodeResponse {
            code_delivery_details: Some(delivery_details(channel, attr, &dest)),
        })
    }

    pub async fn admin_confirm_sign_up(
        &self,
        caller: &Caller,
        req: AdminConfirmSignUpRequest,
    ) -> Result<AdminConfirmSignUpResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, mut user) = self.require_user(&pool, &req.username).await?;
        if user.status != UserStatusType::Unconfirmed {
            return Err(DomainError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        user.status = UserStatusType::Confirmed;
        user.codes.retain(|c| c.purpose != CodePurpose::SignUp);
        self.save_user(&pool, &key, user, None).await?;
        Ok(AdminConfirmSignUpResponse {})
    }
}
