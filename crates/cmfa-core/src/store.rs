//! The storage port. The domain defines it; `cmfa-store` implements it for SQLite (and later
//! PostgreSQL). Each method is one unit of work, run by the adapter as one transaction, so a
//! caller never sees a half-applied change.

use crate::client::AppClient;
use crate::pool::UserPool;
use async_trait::async_trait;
use std::sync::Arc;

/// Result alias for store calls.
pub type StoreResult<T> = std::result::Result<T, StoreError>;

/// What a store can report, free of any database's types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The row the call needs does not exist.
    #[error("not found")]
    NotFound,
    /// A versioned write lost a race (the row changed since it was read), or a unique key clashed.
    #[error("conflict")]
    Conflict,
    /// The backend failed; the text is for the log.
    #[error("store unavailable: {0}")]
    Unavailable(String),
}

/// Everything the operations persist.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Inserts a new pool (its `version` is 1). `Conflict` if the id exists.
    async fn create_pool(&self, pool: &UserPool) -> StoreResult<()>;

    /// The pool with this id, if any. Hot path: adapters may serve it from a cache that is
    /// correct for every process sharing the data.
    async fn get_pool(&self, id: &str) -> StoreResult<Option<Arc<UserPool>>>;

    /// Replaces a pool if its stored version is still `pool.version - 1`; `Conflict` if another
    /// write got there first, `NotFound` if it was deleted. This is how no configuration write is
    /// ever silently lost.
    async fn update_pool(&self, pool: &UserPool) -> StoreResult<()>;

    /// Deletes a pool and everything in it. `NotFound` if absent.
    async fn delete_pool(&self, id: &str) -> StoreResult<()>;

    /// Up to `limit` pools whose id sorts after `after`, in id order.
    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<Arc<UserPool>>>;

    /// Inserts a new app client (`version` 1). `Conflict` if the id exists, `NotFound` if its
    /// pool does not.
    async fn create_client(&self, client: &AppClient) -> StoreResult<()>;

    /// The client with this id, in any pool. Hot path (every sign-in reads it).
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Arc<AppClient>>>;

    /// Replaces a client if its stored version is `client.version - 1` (`Conflict` otherwise).
    async fn update_client(&self, client: &AppClient) -> StoreResult<()>;

    /// Deletes a client. `NotFound` if absent.
    async fn delete_client(&self, client_id: &str) -> StoreResult<()>;

    /// Up to `limit` clients of a pool whose id sorts after `after`, in id order.
    async fn list_clients(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<Arc<AppClient>>>;
}
