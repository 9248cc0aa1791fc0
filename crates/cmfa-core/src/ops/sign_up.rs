//! Sign-up: SignUp, ConfirmSignUp, ResendConfirmationCode and AdminConfirmSignUp.

use super::{Caller, Service};
use crate::client::{self, check_secret_hash};
use crate::error::{DomainError, Result};
use crate::messages::CLIENT_USER_NOT_FOUND;
use crate::signin::choice;
use crate::user::codes::CodePurpose;
use crate::user::delivery::{delivery_details, verification_target};
use crate::user::password::check_policy;
use crate::user::{attributes, delivery};
use cmfa_wire::shapes::{
    AdminConfirmSignUpRequest, AdminConfirmSignUpResponse, ConfirmSignUpRequest, ConfirmSignUpResponse,
    ExplicitAuthFlowsType, ResendConfirmationCodeRequest, ResendConfirmationCodeResponse, SignUpRequest,
    SignUpResponse, UserStatusType,
};

/// SignUp without a password in a pool that allows no passwordless first factor (ours: AWS's
/// text is not on record).
const PASSWORD_NEEDED: &str = "A password is required: the user pool allows no first factor without one (Policies.SignInPolicy.AllowedFirstAuthFactors).";

impl Service {
    pub async fn sign_up(&self, req: SignUpRequest) -> Result<SignUpResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        check_secret_hash(&client, &req.username, req.secret_hash.as_deref())?;
        let attrs = req.user_attributes.unwrap_or_default();
        super::user_attributes::refuse_developer_only(&attrs)?;
        attributes::check_writable(&pool, &attrs, true)?;
        let mut user = self.new_user(&pool, &req.username, attrs)?;
        attributes::check_required(&pool, &user.attributes)?;
        match &req.password {
            Some(pw) => {
                check_policy(&pool.password_policy(), pw)?;
                user.password = Some(
                    self.new_password(&pool.id, &user.username, pw, false, user.created)
                        .await?,
                );
            }
            // A passwordless user needs a first factor without a password to sign in with.
            None if !choice::passwordless_pool(&pool) => {
                return Err(DomainError::InvalidParameter(PASSWORD_NEEDED.into()));
            }
            None => {}
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
        let user = self.save_user(&pool, &key, user, None).await?;
        // A client that may use USER_AUTH gets a Session that signs the user in at once (the
        // code just given was the first factor).
        let session = if client::allows(&client.config, ExplicitAuthFlowsType::AllowUserAuth) {
            Some(self.open_sign_up_session(&pool, &client, &user.username).await?)
        } else {
            None
        };
        Ok(ConfirmSignUpResponse { session })
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
