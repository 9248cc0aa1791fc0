//! Sign-out and revocation: GlobalSignOut, AdminUserGlobalSignOut, RevokeToken.

use super::{Caller, Service};
use crate::error::{DomainError, Result};
use crate::messages::USER_NOT_FOUND;
use crate::pool::UserPool;
use crate::user::User;
use cmfa_wire::shapes::{
    AdminUserGlobalSignOutRequest, AdminUserGlobalSignOutResponse, GlobalSignOutRequest, GlobalSignOutResponse,
    RevokeTokenRequest, RevokeTokenResponse,
};

impl Service {
    pub async fn global_sign_out(&self, req: GlobalSignOutRequest) -> Result<GlobalSignOutResponse> {
        let (pool, key, _, _) = self.authenticate(&req.access_token).await?;
        self.sign_out_everywhere(&pool, &key).await?;
        Ok(GlobalSignOutResponse {})
    }

    pub async fn admin_user_global_sign_out(
        &self,
        caller: &Caller,
        req: AdminUserGlobalSignOutRequest,
    ) -> Result<AdminUserGlobalSignOutResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, _) = self.require_user(&pool, &req.username).await?;
        self.sign_out_everywhere(&pool, &key).await?;
        Ok(AdminUserGlobalSignOutResponse {})
    }

    /// Revokes every token of every earlier sign-in of the user: stamps the user with the time
    /// (see `auth::refresh::signed_in_before_sign_out`), past every sign-in id issued so far.
    async fn sign_out_everywhere(&self, pool: &UserPool, key: &str) -> Result<()> {
        // Refresh tokens from before sealed tokens are revoked through their stored records.
        self.store.revoke_user_tokens(&pool.id, key).await?;
        let stamp = |u: &mut User| {
            // Sign-in ids issued after the previous sign-out start at most one millisecond past
            // it, even when the clock lags; two past it covers them too.
            let now_ms = (self.clock.now() * 1000.0).max(0.0) as u64;
            u.signed_out_at_ms = now_ms.max(u.signed_out_at_ms + 2);
            Ok(())
        };
        let user = self
            .store
            .get_user(&pool.id, key)
            .await?
            .ok_or_else(|| DomainError::UserNotFound(USER_NOT_FOUND.into()))?;
        self.save_record(&pool.id, key, user, None, stamp).await
    }

    pub async fn revoke_token(&self, req: RevokeTokenRequest) -> Result<RevokeTokenResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        if let Some(secret) = client.config.client_secret.as_deref()
            && !crate::ct::eq(req.client_secret.as_deref().unwrap_or("").as_bytes(), secret.as_bytes())
        {
            return Err(DomainError::NotAuthorized(format!(
                "Unable to verify secret hash for client {}",
                client.client_id
            )));
        }
        if client.config.enable_token_revocation == Some(false) {
            return Err(DomainError::UnsupportedOperation(
                "Token revocation is not enabled for this client.".into(),
            ));
        }
        let Some(rec) = self.find_refresh(&pool, &req.token).await? else {
            // AWS answers success for tokens it cannot find, so revocation cannot probe tokens.
            return Ok(RevokeTokenResponse {});
        };
        if rec.client_id != client.client_id || rec.pool_id != pool.id {
            return Err(DomainError::UnauthorizedClient("Invalid token for this client.".into()));
        }
        self.store.revoke_origin(&pool.id, &rec.origin_jti).await?;
        Ok(RevokeTokenResponse {})
    }
}
