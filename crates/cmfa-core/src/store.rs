//! The storage port. The domain defines it; `cmfa-store` implements it for SQLite (and later
//! PostgreSQL). Each method is one unit of work, run by the adapter as one transaction, so a
//! caller never sees a half-applied change.

use crate::auth::session::AuthSession;
use crate::auth::tokens::SigningKey;
use crate::client::AppClient;
use crate::group::Group;
use crate::outbound::{OutboundMessage, OutboxEntry};
use crate::pool::UserPool;
use crate::user::User;
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
/// The `retry_at` of a message the delivery worker gave up on.
pub const NEVER_RETRY: f64 = f64::MAX;

/// The outbox: messages the domain recorded, and their delivery. The delivery worker holds only
/// this port, not the whole [`Store`].
#[async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Newest outbox messages first, optionally for one pool, user or destination.
    async fn list_outbox(&self, query: &OutboxQuery) -> StoreResult<Vec<OutboxEntry>>;

    /// Claims up to `limit` undelivered messages due at `now` for delivery.
    async fn claim_outbound(&self, now: f64, limit: usize) -> StoreResult<Vec<OutboxEntry>>;

    /// Marks a message delivered, or schedules another attempt at `retry_at` ([`NEVER_RETRY`]:
    /// given up).
    async fn settle_outbound(&self, id: i64, delivered_at: Option<f64>, retry_at: f64) -> StoreResult<()>;

    /// How many messages still wait for delivery: undelivered and not given up (due now,
    /// claimed by a worker, or waiting to retry).
    async fn outbound_backlog(&self) -> StoreResult<u64>;
}

#[async_trait]
pub trait Store: Outbox {
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

    /// Deletes everything (`None`), or one pool with everything in it, its outbox messages and
    /// token revocations included (`Some(id)`; a pool that does not exist leaves nothing to do),
    /// in one transaction, caches included. For test suites: a request racing a reset sees the
    /// data wholly as it was before or wholly as it is after.
    async fn reset(&self, pool: Option<&str>) -> StoreResult<()>;

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

    /// The pool's token signing keys (access, id), if made yet.
    async fn get_signing_keys(&self, pool_id: &str) -> StoreResult<Option<Arc<PoolKeys>>>;

    /// Stores keys for a pool unless it has some; returns the keys in force either way (so two
    /// racing first sign-ins agree on one pair).
    async fn put_signing_keys(&self, pool_id: &str, keys: PoolKeys) -> StoreResult<Arc<PoolKeys>>;

    /// Inserts a user with its alias keys, and the message to send, in one transaction.
    /// `Conflict` if the username or an alias is taken.
    async fn create_user(
        &self,
        user: &User,
        key: &str,
        aliases: &[AliasKey],
        message: Option<&OutboundMessage>,
    ) -> StoreResult<()>;

    /// The user with this username key, with its group names (`User::groups`).
    async fn get_user(&self, pool_id: &str, key: &str) -> StoreResult<Option<User>>;

    /// The username key owning an alias (email, phone_number, preferred_username).
    async fn find_alias(&self, pool_id: &str, alias: &AliasKey) -> StoreResult<Option<String>>;

    /// Replaces a user (version check as for pools) and its alias keys, recording `message`
    /// in the same transaction.
    async fn update_user(
        &self,
        user: &User,
        key: &str,
        aliases: &[AliasKey],
        message: Option<&OutboundMessage>,
    ) -> StoreResult<()>;

    /// Deletes a user and everything issued to it, its group memberships included.
    async fn delete_user(&self, pool_id: &str, key: &str) -> StoreResult<()>;

    /// Users of a pool in username-key order, optionally filtered on one attribute.
    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<User>>;

    /// How many users a pool has.
    async fn count_users(&self, pool_id: &str) -> StoreResult<u64>;

    /// Saves a sign-in step.
    async fn put_session(&self, session: &AuthSession) -> StoreResult<()>;

    /// A sign-in step by id, and whether it has been used.
    async fn get_session(&self, id: &str) -> StoreResult<Option<(AuthSession, bool)>>;

    /// Writes one step of a sign-in in one transaction: marks the answered session used
    /// (`Conflict` if it already was), saves the user (version-checked: `Conflict` if it changed
    /// since it was read), stores a refresh token, opens the next session and records a message
    /// to deliver, each only if given.
    async fn write_step(&self, step: StepWrite<'_>) -> StoreResult<()>;

    /// Completes a sign-in: [`Store::write_step`] with the session, the user and a refresh token.
    async fn finish_sign_in(
        &self,
        session_id: Option<&str>,
        user: &User,
        key: &str,
        refresh: Option<&RefreshRecord>,
    ) -> StoreResult<()> {
        self.write_step(StepWrite {
            used: session_id,
            user: Some((user, key)),
            refresh,
            ..StepWrite::default()
        })
        .await
    }

    /// A refresh token by its hash.
    async fn get_refresh(&self, hash: &str) -> StoreResult<Option<RefreshRecord>>;

    /// Revokes every token of one sign-in (by `origin_jti`).
    async fn revoke_origin(&self, pool_id: &str, origin_jti: &str) -> StoreResult<()>;

    /// Revokes every sign-in of one user (GlobalSignOut).
    async fn revoke_user_tokens(&self, pool_id: &str, key: &str) -> StoreResult<()>;

    /// Whether a sign-in's tokens were revoked. Hot path of every access-token operation.
    async fn is_origin_revoked(&self, origin_jti: &str) -> StoreResult<bool>;

    /// Inserts a group. `Conflict` if the pool has a group of that name, `NotFound` if the pool
    /// does not exist.
    async fn create_group(&self, group: &Group) -> StoreResult<()>;

    /// The group of that name (names compare exactly).
    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>>;

    /// Replaces a group's description, role, precedence and modification date. `NotFound` if
    /// it is gone. Last write wins, as on AWS (groups carry no version).
    async fn update_group(&self, group: &Group) -> StoreResult<()>;

    /// Deletes a group and its memberships, taking its name off every member's user row, in one
    /// transaction. `NotFound` if absent.
    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<()>;

    /// Up to `limit` groups of a pool whose name sorts after `after`, in name order.
    async fn list_groups(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<Group>>;

    /// The pool's groups with these names (those that exist), in name order: the groups of one
    /// user, for its tokens and AdminListGroupsForUser.
    async fn get_groups(&self, pool_id: &str, names: &[String]) -> StoreResult<Vec<Group>>;

    /// How many groups a pool has.
    async fn count_groups(&self, pool_id: &str) -> StoreResult<u64>;

    /// Makes the user a member of the group (a no-op if it is one already). `NotFound` if the
    /// group or the user does not exist.
    async fn add_to_group(&self, pool_id: &str, name: &str, key: &str) -> StoreResult<()>;

    /// Ends a membership (a no-op if there is none). `NotFound` if the user does not exist.
    async fn remove_from_group(&self, pool_id: &str, name: &str, key: &str) -> StoreResult<()>;

    /// Up to `limit` members of a group whose username key sorts after `after`, in key order,
    /// with their keys.
    async fn list_group_members(
        &self,
        pool_id: &str,
        name: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, User)>>;
}

/// What one step of a sign-in writes (see [`Store::write_step`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct StepWrite<'a> {
    /// The session this step answers.
    pub used: Option<&'a str>,
    /// The user's record and key. Sign-in changes no alias or searchable attribute, so only the
    /// record is written.
    pub user: Option<(&'a User, &'a str)>,
    /// A refresh token to store (only tokens from before sealed tokens are stored).
    pub refresh: Option<&'a RefreshRecord>,
    /// The session of the next challenge.
    pub next: Option<&'a AuthSession>,
    /// A code to deliver; recorded with the session that holds its hash.
    pub message: Option<&'a OutboundMessage>,
    /// When the message is recorded (the service's clock).
    pub now: f64,
}

/// A pool's signing keys: one for access tokens, one for ID tokens (AWS signs them with
/// different keys).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PoolKeys {
    pub access: SigningKey,
    pub id: SigningKey,
}

/// An alias lookup key: attribute name and normalized value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasKey {
    pub kind: &'static str,
    pub value: String,
}

/// ListUsers' filter: `attr = "value"` or `attr ^= "prefix"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    pub attribute: String,
    pub value: String,
    pub prefix: bool,
}

/// A stored refresh token (only its hash).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RefreshRecord {
    pub hash: String,
    pub pool_id: String,
    pub client_id: String,
    pub username_key: String,
    pub origin_jti: String,
    pub auth_time: i64,
    pub expires_at: f64,
    pub revoked: bool,
}

/// Which outbox messages to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxQuery {
    pub pool_id: Option<String>,
    pub username: Option<String>,
    pub destination: Option<String>,
    pub limit: usize,
}
