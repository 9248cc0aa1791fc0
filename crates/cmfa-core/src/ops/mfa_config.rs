//! SetUserPoolMfaConfig and GetUserPoolMfaConfig.

use super::{Caller, Service};
use crate::error::Result;
use crate::pool::mfa_config;
use cmfa_wire::shapes::{
    GetUserPoolMfaConfigRequest, GetUserPoolMfaConfigResponse, SetUserPoolMfaConfigRequest,
    SetUserPoolMfaConfigResponse,
};

impl Service {
    /// Replaces the pool's whole MFA configuration (AWS's full-replace semantics).
    pub async fn set_user_pool_mfa_config(
        &self,
        caller: &Caller,
        req: SetUserPoolMfaConfigRequest,
    ) -> Result<SetUserPoolMfaConfigResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let mut next = mfa_config::apply(&pool, &req)?;
        next.version = pool.version + 1;
        next.config.last_modified_date = Some(self.clock.now_millis());
        self.save_pool(&req.user_pool_id, &next).await?;
        let v = mfa_config::view(&next);
        Ok(SetUserPoolMfaConfigResponse {
            sms_mfa_configuration: v.sms_mfa_configuration,
            software_token_mfa_configuration: v.software_token_mfa_configuration,
            email_mfa_configuration: v.email_mfa_configuration,
            mfa_configuration: v.mfa_configuration,
            web_authn_configuration: v.web_authn_configuration,
        })
    }

    /// The pool's MFA configuration: only what is set, `MfaConfiguration` always.
    pub async fn get_user_pool_mfa_config(
        &self,
        caller: &Caller,
        req: GetUserPoolMfaConfigRequest,
    ) -> Result<GetUserPoolMfaConfigResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        Ok(mfa_config::view(&pool))
    }
}
