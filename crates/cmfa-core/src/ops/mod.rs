//! The operations: one method per Cognito operation, wire request in, wire response out.
//!
//! Each method loads what it needs through the [`Store`], applies the pure rules in
//! [`crate::pool`], and saves with a version check. Nothing here knows about HTTP.

mod auth;
mod clients;
mod mfa_config;
mod mfa_signin;
mod mfa_user;
mod passwords;
mod pools;
mod user_attributes;
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
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Arc<CoreSettings>,
    /// Access tokens whose signature has been checked, by SHA-256 of the token: a token's
    /// signature never changes, so it is verified once and not on every call that presents it.
    /// Expiry, revocation and the user are still checked every time.
    verified: Arc<std::sync::RwLock<std::collections::HashMap<[u8; 32], Arc<crate::auth::tokens::Claims>>>>,
}

impl Service {
    /// Builds the service over a store, a clock and the settings.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, settings: CoreSettings) -> Self {
        Service {
            store,
            clock,
            settings: Arc::new(settings),
            verified: Default::default(),
        }
    }

    /// The settings in force.
    pub fn settings(&self) -> &CoreSettings {
        &self.settings
    }

    /// The pool, if it exists in the caller's region (pools are regional, as in AWS: a pool id
    /// from another region is answered as unknown).
    async fn load_pool(&self, caller: &Caller, id: &str) -> crate::Result<Arc<crate::pool::UserPool>> {
        let missing = || crate::DomainError::ResourceNotFound(crate::pool::not_found_message(id));
        if crate::ids::region_of_pool_id(id) != caller.region {
            return Err(missing());
        }
        self.store.get_pool(id).await?.ok_or_else(missing)
    }
}

impl Service {
    /// Messages recorded for delivery, newest first (the local outbox tests read codes from).
    pub async fn outbox(&self, query: crate::store::OutboxQuery) -> crate::Result<Vec<crate::outbound::OutboxEntry>> {
        Ok(self.store.list_outbox(&query).await?)
    }

    /// The store, for the delivery worker the binary runs beside the server.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }
}
