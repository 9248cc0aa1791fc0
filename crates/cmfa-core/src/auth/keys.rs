//! A pool's signing keys (made on first use), its issuer URL and its JWKS document.

use crate::auth::tokens::{self, SigningKey};
use crate::error::{DomainError, Result};
use crate::ops::Service;
use crate::store::PoolKeys;
use std::sync::Arc;

impl Service {
    /// The pool's signing keys, made on first use.
    pub(crate) async fn pool_keys(&self, pool_id: &str) -> Result<Arc<PoolKeys>> {
        if let Some(k) = self.store.get_signing_keys(pool_id).await? {
            return Ok(k);
        }
        let fresh = PoolKeys {
            access: SigningKey::generate(),
            id: SigningKey::generate(),
        };
        Ok(self.store.put_signing_keys(pool_id, fresh).await?)
    }

    /// `{public_url}/{pool_id}`: the `iss` of the pool's tokens.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{}", self.settings.public_url.trim_end_matches('/'), pool_id)
    }

    /// The JWKS document of a pool (both keys).
    pub async fn jwks(&self, pool_id: &str) -> Result<serde_json::Value> {
        if self.store.get_pool(pool_id).await?.is_none() {
            return Err(DomainError::ResourceNotFound(crate::pool::not_found_message(pool_id)));
        }
        let k = self.pool_keys(pool_id).await?;
        Ok(tokens::jwks(&[k.access.clone(), k.id.clone()]))
    }
}
