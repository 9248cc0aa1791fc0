//! Access-token authentication: the check every operation a signed-in user calls (GetUser,
//! ChangePassword, the MFA and attribute operations, sign-out) starts with.

use crate::auth::refresh::signed_in_before_sign_out;
use crate::auth::tokens::{self, Claims, TokenError};
use crate::error::{DomainError, Result};
use crate::messages::{USER_DISABLED as DISABLED, USER_NOT_FOUND};
use crate::ops::Service;
use crate::pool::UserPool;
use crate::user::{User, username_key};
use std::sync::Arc;

const BAD_ACCESS: &str = "Invalid Access Token";
const EXPIRED_ACCESS: &str = "Access Token has expired";
const REVOKED_ACCESS: &str = "Access Token has been revoked";

/// The claims of a token, read without checking anything (only to find the pool whose keys
/// will then check it).
fn peek_claims(token: &str) -> Option<Claims> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl Service {
    /// Checks an access token and returns its pool, user key, user and claims.
    pub(crate) async fn authenticate(&self, token: &str) -> Result<(Arc<UserPool>, String, User, Arc<Claims>)> {
        let bad = || DomainError::NotAuthorized(BAD_ACCESS.into());
        let peek = peek_claims(token).ok_or_else(bad)?;
        let iss = peek.get("iss").and_then(|v| v.as_str()).ok_or_else(bad)?;
        let pool_id = iss.rsplit('/').next().ok_or_else(bad)?;
        let pool = self.store.get_pool(pool_id).await?.ok_or_else(bad)?;
        if iss != self.issuer(&pool.id) {
            return Err(bad());
        }
        let claims = self.verified_claims(&pool.id, token).await?;
        if claims.get("token_use").and_then(|v| v.as_str()) != Some("access") {
            return Err(bad());
        }
        let scope = claims.get("scope").and_then(|v| v.as_str()).unwrap_or("");
        if !scope.split(' ').any(|s| s == "aws.cognito.signin.user.admin") {
            return Err(DomainError::NotAuthorized(
                "Access Token does not have required scopes".into(),
            ));
        }
        let origin = claims.get("origin_jti").and_then(|v| v.as_str()).unwrap_or("");
        if self.store.is_origin_revoked(origin).await? {
            return Err(DomainError::NotAuthorized(REVOKED_ACCESS.into()));
        }
        let username = claims.get("username").and_then(|v| v.as_str()).ok_or_else(bad)?;
        let key = username_key(&pool, username);
        let user = self
            .store
            .get_user(&pool.id, &key)
            .await?
            .ok_or_else(|| DomainError::UserNotFound(USER_NOT_FOUND.into()))?;
        if !user.enabled {
            return Err(DomainError::NotAuthorized(DISABLED.into()));
        }
        let auth_time = claims.get("auth_time").and_then(|v| v.as_i64()).unwrap_or(0);
        if signed_in_before_sign_out(origin, auth_time, user.signed_out_at_ms) {
            return Err(DomainError::NotAuthorized(REVOKED_ACCESS.into()));
        }
        Ok((pool, key, user, claims))
    }

    /// The claims of a validly signed, unexpired access token of `pool_id`, from the cache of
    /// verified tokens when possible.
    async fn verified_claims(&self, pool_id: &str, token: &str) -> Result<Arc<Claims>> {
        use sha2::{Digest, Sha256};
        const MAX_CACHED: usize = 50_000;
        let bad = || DomainError::NotAuthorized(BAD_ACCESS.into());
        let now = self.clock.now() as i64;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cached = self
            .verified
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&digest)
            .cloned();
        let claims = match cached {
            Some(c) => c,
            None => {
                let keys = self.store.get_signing_keys(pool_id).await?.ok_or_else(bad)?;
                let c = match tokens::verify(std::slice::from_ref(&keys.access), token, now) {
                    Ok(c) => Arc::new(c),
                    Err(TokenError::Expired) => return Err(DomainError::NotAuthorized(EXPIRED_ACCESS.into())),
                    Err(_) => return Err(bad()),
                };
                let mut cache = self.verified.write().unwrap_or_else(|e| e.into_inner());
                if cache.len() >= MAX_CACHED {
                    // Crude but bounded: start over rather than track recency on every hit.
                    cache.clear();
                }
                cache.insert(digest, c.clone());
                c
            }
        };
        match claims.get("exp").and_then(|v| v.as_f64()) {
            Some(exp) if exp > now as f64 => Ok(claims),
            _ => Err(DomainError::NotAuthorized(EXPIRED_ACCESS.into())),
        }
    }
}
