//! The operations: one method per Cognito operation, wire request in, wire response out.
//!
//! Each method loads what it needs through the [`Store`], applies the pure rules in
//! [`crate::pool`], and saves with a version check. Nothing here knows about HTTP.

mod clients;
mod custom_attributes;
mod domains;
mod groups;
mod load;
mod mfa_config;
mod passkeys;
mod passwords;
mod pools;
mod sign_in;
mod sign_out;
mod sign_up;
mod user_attributes;
mod user_mfa;
mod users;

use crate::{Clock, CoreSettings, Store};
use std::sync::Arc;

/// Who is calling, as far as the domain cares.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The region of the request (SigV4 scope or the default); new pools are created in it.
    pub region: String,
}

/// The operations, with their dependencies. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) settings: Arc<CoreSettings>,
    /// Access tokens whose signature has been checked, by SHA-256 of the token: a token's
    /// signature never changes, so it is verified once and not on every call that presents it.
    /// Expiry, revocation and the user are still checked every time.
    pub(crate) verified: Arc<std::sync::RwLock<std::collections::HashMap<[u8; 32], Arc<crate::auth::tokens::Claims>>>>,
    /// Where hashing, SRP and signing run (never on the runtime's workers).
    pub(crate) compute: crate::compute::Compute,
}

impl Service {
    /// Builds the service over a store, a clock and the settings.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: CoreSettings) -> Self {
        Service {
            store,
            clock,
            compute: crate::compute::Compute::new(settings.compute),
            settings: Arc::new(settings),
            verified: Default::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }
}

/// The CPU-heavy steps, each run on the compute pool.
impl Service {
    /// Hashes a new password (Argon2id and the SRP verifier) for `user_id` of `pool_id`.
    pub(crate) async fn new_password(
        &self,
        pool_id: &str,
        user_id: &str,
        password: &str,
        temporary: bool,
        now: f64,
    ) -> crate::Result<crate::user::password::PasswordRecord> {
        let (pool_id, user_id, password) = (pool_id.to_owned(), user_id.to_owned(), password.to_owned());
        let cost = self.settings.password_hash;
        self.compute
            .run(move || {
                crate::user::password::PasswordRecord::new(&pool_id, &user_id, &password, temporary, now, cost)
            })
            .await?
    }

    /// Whether `password` matches the stored record.
    pub(crate) async fn password_matches(
        &self,
        record: &crate::user::password::PasswordRecord,
        password: &str,
    ) -> crate::Result<bool> {
        let (hash, password) = (record.hash.clone(), password.to_owned());
        self.compute
            .run(move || crate::user::password::hash_matches(&hash, &password))
            .await
    }

    /// Spends what checking a password costs, for a user who does not exist (so timing does
    /// not tell the cases apart).
    pub(crate) async fn spend_password_check(&self, password: &str) -> crate::Result<()> {
        let (password, cost) = (password.to_owned(), self.settings.password_hash);
        self.compute
            .run(move || {
                // The decoy is made on first use, here on the pool too.
                crate::user::password::hash_matches(crate::user::password::decoy_hash(cost), &password);
            })
            .await
    }

    /// Runs any other CPU-heavy step (SRP, signing) on the pool.
    pub(crate) async fn cpu<T, F>(&self, f: F) -> crate::Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.compute.run(f).await
    }
}

impl Service {
    /// Messages recorded for delivery, newest first (the local outbox tests read codes from).
    pub async fn outbox(&self, query: crate::store::OutboxQuery) -> crate::Result<Vec<crate::outbound::OutboxEntry>> {
        Ok(self.store.list_outbox(&query).await?)
    }

    /// Wipes everything (`None`) or one pool and all it holds, for test suites. A pool that
    /// does not exist is no error: there is nothing of it to wipe. Access tokens verified
    /// before are forgotten too, so nothing issued before a full reset is taken on trust.
    pub async fn reset(&self, pool: Option<&str>) -> crate::Result<()> {
        if let Some(id) = pool
            && !is_pool_id(id)
        {
            return Err(crate::DomainError::InvalidParameter(format!(
                "{id:?} is not a user pool id (region_suffix, at most 55 characters)."
            )));
        }
        self.store.reset(pool).await?;
        self.verified.write().unwrap_or_else(|e| e.into_inner()).clear();
        Ok(())
    }

    /// The outbox port, for the delivery worker the binary runs beside the server.
    pub fn outbox_port(&self) -> Arc<dyn crate::store::Outbox> {
        self.store.clone()
    }
}

/// The model's `UserPoolIdType`: `[\w-]+_[0-9a-zA-Z]+`, 1 to 55 characters.
fn is_pool_id(id: &str) -> bool {
    let Some((region, suffix)) = id.rsplit_once('_') else {
        return false;
    };
    id.len() <= 55
        && !region.is_empty()
        && !suffix.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && suffix.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    #[test]
    fn pool_ids_are_checked_before_a_reset() {
        assert!(super::is_pool_id("us-east-1_AbC123xyZ"));
        assert!(super::is_pool_id("local_x"));
        for bad in [
            "",
            "nounderscore",
            "us-east-1_",
            "_abc",
            "us-east-1_a b",
            &format!("r_{}", "a".repeat(60)),
        ] {
            assert!(!super::is_pool_id(bad), "{bad:?}");
        }
    }
}
