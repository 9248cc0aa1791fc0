//! Token minting: the one function every path that hands out tokens calls (a completed sign-in,
//! and REFRESH_TOKEN_AUTH).

use crate::auth::issue::{TokenContext, access_claims, id_claims};
use crate::auth::refresh::{self, RefreshClaims};
use crate::client::{self, AppClient};
use crate::error::Result;
use crate::ops::Service;
use crate::pool::UserPool;
use crate::user::User;
use cmfa_wire::shapes::AuthenticationResultType;

/// Which sign-in the tokens belong to.
pub(crate) struct Grant<'a> {
    /// The user's store key.
    pub key: &'a str,
    /// The sign-in's id (`origin_jti`): new for a sign-in, the refresh token's for a refresh.
    pub origin_jti: String,
    /// When the user signed in.
    pub auth_time: i64,
    /// Whether to hand out a refresh token too (a sign-in does; a refresh does not).
    pub with_refresh: bool,
}

impl Service {
    /// Signs the access and ID tokens (and a sealed refresh token, which writes nothing, see
    /// [`crate::auth::refresh`]) for `user` as it stands after the sign-in.
    pub(crate) async fn mint(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        grant: Grant<'_>,
    ) -> Result<AuthenticationResultType> {
        let keys = self.pool_keys(&pool.id).await?;
        let life = client::lifetimes(&client.config);
        let now = self.clock.now() as i64;
        let event_id = uuid::Uuid::new_v4().to_string();
        let issuer = self.issuer(&pool.id);
        let ctx = TokenContext {
            issuer: &issuer,
            client_id: &client.client_id,
            origin_jti: &grant.origin_jti,
            event_id: &event_id,
            auth_time: grant.auth_time,
            now,
        };
        let groups = self.token_groups(user).await?;
        let access_claims = access_claims(&ctx, user, &groups, life.access);
        let id_claims = id_claims(&ctx, user, &groups, life.id);
        let refresh_claims = grant.with_refresh.then(|| RefreshClaims {
            pool_id: pool.id.clone(),
            client_id: client.client_id.clone(),
            username_key: grant.key.to_owned(),
            origin_jti: grant.origin_jti.clone(),
            auth_time: grant.auth_time,
            expires_at: now as f64 + life.refresh as f64,
        });
        let (access, id, refresh) = self
            .cpu(move || {
                (
                    keys.access.sign(&access_claims),
                    keys.id.sign(&id_claims),
                    refresh_claims.map(|c| refresh::seal(&keys.access, &c)),
                )
            })
            .await?;
        Ok(AuthenticationResultType {
            access_token: Some(access),
            expires_in: Some(life.access as i32),
            token_type: Some("Bearer".into()),
            refresh_token: refresh,
            id_token: Some(id),
            new_device_metadata: None,
        })
    }
}
