//! First factor REFRESH_TOKEN_AUTH: new access and ID tokens for the sign-in a refresh token
//! belongs to, unless it was revoked, expired, or the user signed out everywhere since.

use super::Reply;
use super::mint::Grant;
use crate::auth::refresh::{self, signed_in_before_sign_out};
use crate::auth::tokens;
use crate::client::{AppClient, check_secret_hash};
use crate::error::{DomainError, Result};
use crate::messages::USER_DISABLED;
use crate::ops::Service;
use crate::pool::UserPool;
use crate::store::RefreshRecord;

const BAD_REFRESH: &str = "Invalid Refresh Token";
const REVOKED_REFRESH: &str = "Refresh Token has been revoked";

impl Service {
    pub(crate) async fn refresh_sign_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
        secret_hash: Option<&str>,
    ) -> Result<Reply> {
        let bad = || DomainError::NotAuthorized(BAD_REFRESH.into());
        let rec = self.find_refresh(pool, token).await?.ok_or_else(bad)?;
        if rec.client_id != client.client_id || rec.pool_id != pool.id {
            return Err(bad());
        }
        if rec.revoked {
            return Err(DomainError::NotAuthorized(REVOKED_REFRESH.into()));
        }
        if rec.expires_at <= self.clock.now() {
            return Err(DomainError::NotAuthorized("Refresh Token has expired".into()));
        }
        let user = self
            .store
            .get_user(&pool.id, &rec.username_key)
            .await?
            .ok_or_else(bad)?;
        check_secret_hash(client, &user.username, secret_hash)?;
        if !user.enabled {
            return Err(DomainError::NotAuthorized(USER_DISABLED.into()));
        }
        if signed_in_before_sign_out(&rec.origin_jti, rec.auth_time, user.signed_out_at_ms) {
            return Err(DomainError::NotAuthorized(REVOKED_REFRESH.into()));
        }
        let grant = Grant {
            key: &rec.username_key,
            origin_jti: rec.origin_jti.clone(),
            auth_time: rec.auth_time,
            with_refresh: false,
        };
        let result = self.mint(pool, client, &user, grant).await?;
        Ok(Reply {
            result: Some(result),
            ..Reply::default()
        })
    }

    /// The sign-in a refresh token belongs to: opened from a sealed token, or looked up for a
    /// token from before sealed tokens. `None` for anything else.
    pub(crate) async fn find_refresh(&self, pool: &UserPool, token: &str) -> Result<Option<RefreshRecord>> {
        let keys = self.pool_keys(&pool.id).await?;
        if let Some(c) = refresh::open(&keys.access, token) {
            let revoked = self.store.is_origin_revoked(&c.origin_jti).await?;
            return Ok(Some(RefreshRecord {
                hash: String::new(),
                pool_id: c.pool_id,
                client_id: c.client_id,
                username_key: c.username_key,
                origin_jti: c.origin_jti,
                auth_time: c.auth_time,
                expires_at: c.expires_at,
                revoked,
            }));
        }
        Ok(self.store.get_refresh(&tokens::refresh_token_hash(token)).await?)
    }
}
