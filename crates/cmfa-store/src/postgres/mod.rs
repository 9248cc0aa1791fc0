//! The PostgreSQL adapter: several server processes on one database.
//!
//! Every process may write, so nothing that can change is cached here: pools, clients, users,
//! sessions and revocations are read from the database on every call. Only signing keys are
//! kept once read, because a pool's keys never change after they are stored (the first insert
//! wins and is never updated). Correctness across processes comes from the database itself:
//!
//! - versioned writes are `UPDATE ... WHERE version = $n`; zero rows on a row that exists is a
//!   lost race (`Conflict`), so two processes can never both win one configuration write;
//! - a sign-in session is spent with `UPDATE sessions SET used = true WHERE id = $1 AND NOT used`,
//!   so one answer completes it, whichever process receives it;
//! - outbox messages are claimed with `FOR UPDATE SKIP LOCKED`, so workers never share one;
//! - each trait method is one transaction (an explicit one when it runs several statements),
//!   at PostgreSQL's default READ COMMITTED isolation, which the statements above are written for.
//!
//! Connections are plain TCP or a Unix socket (`NoTls`): run the server next to its database or
//! on a trusted network. The URL is anything tokio-postgres accepts, e.g.
//! `postgres://user:pass@host:5432/db?options=-csearch_path%3Dcognito`.
//!
//! Keys, ids and searchable values use the "C" collation, so page order and the prefix ranges of
//! ListUsers filters are the byte order SQLite uses, whatever the database's locale.

mod groups;
mod migrate;
mod pool;
mod reset;
mod users;

use crate::clock::unix_now;
use crate::error::{corrupt, from_pg};
use crate::expiry;
use crate::{DbCall, DbTimer};
use async_trait::async_trait;
use cmfa_core::auth::session::AuthSession;
use cmfa_core::client::AppClient;
use cmfa_core::group::Group;
use cmfa_core::outbound::{OutboundMessage, OutboxEntry};
use cmfa_core::pool::UserPool;
use cmfa_core::store::{AliasKey, NEVER_RETRY, OutboxQuery, PoolKeys, RefreshRecord, StepWrite, UserFilter};
use cmfa_core::store::{Outbox, Store, StoreError, StoreResult};
use cmfa_core::user::User;
use pool::{Conn, Db, Pool};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use tokio_postgres::{GenericClient, Row};

/// Connections per process unless the caller says otherwise. Several processes share the
/// database's `max_connections` (100 by default), so this stays modest.
pub const DEFAULT_MAX_CONNECTIONS: usize = 8;

/// PostgreSQL-backed store.
pub struct PgStore {
    pool: Pool,
    /// Signing keys by pool id: immutable once stored, so safe to keep.
    keys: RwLock<HashMap<String, Arc<PoolKeys>>>,
    /// Unix second from which the next session sweep is due (see `maybe_sweep_sessions`).
    next_sweep: AtomicU64,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL (and its password) stays out of every Debug and log line.
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

fn encode<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Unavailable(format!("cannot encode a row: {e}")))
}

/// Decodes the JSON `data` column at `idx`.
fn decode<T: DeserializeOwned>(row: &Row, idx: usize) -> StoreResult<T> {
    let data: &str = row.try_get(idx).map_err(from_pg)?;
    serde_json::from_str(data).map_err(corrupt)
}

fn decode_all<T: DeserializeOwned>(rows: &[Row]) -> StoreResult<Vec<T>> {
    rows.iter().map(|r| decode(r, 0)).collect()
}

/// Reads the `(updated, present)` row of a versioned update: 1 updated is success; none
/// updated on a row that exists is a lost race; otherwise the row is gone.
fn versioned(row: &Row) -> StoreResult<()> {
    let updated: i64 = row.try_get(0).map_err(from_pg)?;
    let present: bool = row.try_get(1).map_err(from_pg)?;
    match (updated, present) {
        (1, _) => Ok(()),
        (_, true) => Err(StoreError::Conflict),
        (_, false) => Err(StoreError::NotFound),
    }
}

fn deleted(n: u64) -> StoreResult<()> {
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

const UPDATE_POOL: &str = "WITH u AS (UPDATE pools SET version = $1, data = $2 WHERE id = $3 AND version = $4 RETURNING 1) \
     SELECT (SELECT count(*) FROM u), EXISTS (SELECT 1 FROM pools WHERE id = $3)";
const UPDATE_CLIENT: &str = "WITH u AS (UPDATE clients SET version = $1, data = $2 WHERE id = $3 AND version = $4 RETURNING 1) \
     SELECT (SELECT count(*) FROM u), EXISTS (SELECT 1 FROM clients WHERE id = $3)";

impl PgStore {
    /// Connects to `url` (`postgres://` or `postgresql://`) and brings the schema up to date.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// Reports the duration of every database call to `timer` from now on.
    pub fn with_timer(mut self, timer: DbTimer) -> Self {
        self.pool.timer = Some(timer);
        self
    }

    /// [`PgStore::connect`] with at most `max_connections` open at once.
    pub async fn connect_with(url: &str, max_connections: usize) -> StoreResult<Self> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Unavailable(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = Pool::new(config, max_connections);
        {
            let mut conn = pool.get_for(DbCall::Transaction).await?;
            migrate::run(&mut conn.client).await?;
        }
        Ok(PgStore {
            pool,
            keys: RwLock::new(HashMap::new()),
            next_sweep: AtomicU64::new(0),
        })
    }

    fn cached_keys(&self, pool_id: &str) -> Option<Arc<PoolKeys>> {
        self.keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(pool_id)
            .cloned()
    }

    fn cache_keys(&self, pool_id: &str, keys: Arc<PoolKeys>) {
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pool_id.to_owned(), keys);
    }

    /// A versioned user write, its keys and its message, in one transaction.
    async fn write_user(
        &self,
        create: bool,
        user: &User,
        key: &str,
        aliases: &[AliasKey],
        message: Option<&OutboundMessage>,
    ) -> StoreResult<()> {
        let mut conn = self.pool.get_for(DbCall::Transaction).await?;
        let Conn { client, stmts } = &mut *conn;
        let tx = client.transaction().await.map_err(from_pg)?;
        let mut db = Db::new(&tx, stmts);
        if create {
            users::insert_user(&mut db, user, key).await?;
        } else {
            users::update_user(&mut db, user, key).await?;
        }
        users::write_keys(&mut db, user, key, aliases, !create).await?;
        if let Some(m) = message {
            users::enqueue(&mut db, m, user.modified).await?;
        }
        tx.commit().await.map_err(from_pg)
    }
}

/// Runs `$body` with `$db`, a statement runner on a pooled connection outside any explicit
/// transaction (for calls that are one statement, which PostgreSQL runs as one transaction).
macro_rules! with_db {
    ($self:ident, |$db:ident| $body:expr) => {{
        let mut conn = $self.pool.get_for(DbCall::Statement).await?;
        let Conn { client, stmts } = &mut *conn;
        let mut $db = Db::new(&*client, stmts);
        $body
    }};
}

impl PgStore {
    /// Deletes long-expired sessions, outbox messages older than a week and expired legacy
    /// refresh-token rows, at most once a minute per process (again at once while a sweep
    /// reaches a limit). It runs in whichever `put_session` call finds it due, after
    /// that call's insert; processes sweeping together skip each other's rows (SKIP LOCKED)
    /// instead of waiting on them. A failure is logged and left to the next sweep.
    async fn maybe_sweep_sessions(&self) {
        let now = unix_now();
        let due = self.next_sweep.load(Ordering::Relaxed);
        // A due time further ahead than one interval means the clock stepped back: due now.
        if ((now as u64) < due && due <= now as u64 + expiry::SWEEP_EVERY_SECS)
            || self
                .next_sweep
                .compare_exchange(
                    due,
                    now as u64 + expiry::SWEEP_EVERY_SECS,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
                .is_err()
        {
            return;
        }
        let (cutoff, limit) = (expiry::session_cutoff(now), expiry::SESSION_SWEEP_LIMIT as i64);
        let swept: StoreResult<u64> = async {
            with_db!(self, |db| db
                .exec(
                    "DELETE FROM sessions WHERE id IN \
                     (SELECT id FROM sessions WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 \
                      FOR UPDATE SKIP LOCKED)",
                    &[&cutoff, &limit],
                )
                .await)
        }
        .await;
        let (outbox_cutoff, prune_limit) = (expiry::outbox_cutoff(now), expiry::PRUNE_LIMIT as i64);
        let pruned: StoreResult<(u64, u64)> = async {
            with_db!(self, |db| {
                let outbox = db
                    .exec(
                        "DELETE FROM outbox WHERE id IN \
                         (SELECT id FROM outbox WHERE created_at < $1 AND (delivered_at IS NOT NULL OR next_at >= $3) \
                          ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)",
                        &[&outbox_cutoff, &prune_limit, &cmfa_core::store::NEVER_RETRY],
                    )
                    .await?;
                let refresh = db
                    .exec(
                        "DELETE FROM refresh_tokens WHERE hash IN \
                         (SELECT hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)",
                        &[&now, &prune_limit],
                    )
                    .await?;
                Ok((outbox, refresh))
            })
        }
        .await;
        let more = |n: u64, limit: usize| n as usize >= limit;
        match (swept, pruned) {
            (Ok(s), Ok((o, r)))
                if more(s, expiry::SESSION_SWEEP_LIMIT)
                    || more(o, expiry::PRUNE_LIMIT)
                    || more(r, expiry::PRUNE_LIMIT) =>
            {
                self.next_sweep.store(0, Ordering::Relaxed)
            }
            (Ok(_), Ok(_)) => {}
            (Err(e), _) | (_, Err(e)) => tracing::warn!(error = %e, "deleting expired rows failed; retrying later"),
        }
    }
}

async fn get_json<T: DeserializeOwned, C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    sql: &'static str,
    id: &str,
) -> StoreResult<Option<T>> {
    db.opt(sql, &[&id]).await?.map(|r| decode(&r, 0)).transpose()
}

#[async_trait]
impl Store for PgStore {
    async fn create_pool(&self, pool: &UserPool) -> StoreResult<()> {
        let data = encode(pool)?;
        with_db!(self, |db| db
            .exec(
                "INSERT INTO pools (id, version, data) VALUES ($1, $2, $3)",
                &[&pool.id, &(pool.version as i64), &data],
            )
            .await
            .map(|_| ()))
    }

    async fn get_pool(&self, id: &str) -> StoreResult<Option<Arc<UserPool>>> {
        let p: Option<UserPool> = with_db!(self, |db| get_json(&mut db, "SELECT data FROM pools WHERE id = $1", id)
            .await?);
        Ok(p.map(Arc::new))
    }

    async fn update_pool(&self, pool: &UserPool) -> StoreResult<()> {
        let data = encode(pool)?;
        let (version, prev) = (pool.version as i64, pool.version as i64 - 1);
        let row = with_db!(self, |db| db
            .one(UPDATE_POOL, &[&version, &data, &pool.id, &prev])
            .await?);
        versioned(&row)
    }

    async fn delete_pool(&self, id: &str) -> StoreResult<()> {
        // Clients, users, sessions, refresh tokens and keys go with it (ON DELETE CASCADE).
        let n = with_db!(self, |db| db.exec("DELETE FROM pools WHERE id = $1", &[&id]).await?);
        self.keys.write().unwrap_or_else(|e| e.into_inner()).remove(id);
        deleted(n)
    }

    async fn reset(&self, pool: Option<&str>) -> StoreResult<()> {
        {
            let mut conn = self.pool.get_for(DbCall::Transaction).await?;
            reset::reset(&mut conn.client, pool).await?;
        }
        let mut keys = self.keys.write().unwrap_or_else(|e| e.into_inner());
        match pool {
            None => keys.clear(),
            Some(id) => {
                keys.remove(id);
            }
        }
        Ok(())
    }

    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<Arc<UserPool>>> {
        let (after, limit) = (after.unwrap_or(""), limit as i64);
        let rows = with_db!(self, |db| db
            .rows(
                "SELECT data FROM pools WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after, &limit]
            )
            .await?);
        Ok(decode_all::<UserPool>(&rows)?.into_iter().map(Arc::new).collect())
    }

    async fn create_client(&self, client: &AppClient) -> StoreResult<()> {
        // A missing pool fails the foreign key: NotFound.
        let data = encode(client)?;
        with_db!(self, |db| db
            .exec(
                "INSERT INTO clients (id, pool_id, version, data) VALUES ($1, $2, $3, $4)",
                &[&client.client_id, &client.pool_id, &(client.version as i64), &data],
            )
            .await
            .map(|_| ()))
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Arc<AppClient>>> {
        let c: Option<AppClient> = with_db!(self, |db| get_json(
            &mut db,
            "SELECT data FROM clients WHERE id = $1",
            client_id
        )
        .await?);
        Ok(c.map(Arc::new))
    }

    async fn update_client(&self, client: &AppClient) -> StoreResult<()> {
        let data = encode(client)?;
        let (version, prev) = (client.version as i64, client.version as i64 - 1);
        let row = with_db!(self, |db| db
            .one(UPDATE_CLIENT, &[&version, &data, &client.client_id, &prev])
            .await?);
        versioned(&row)
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<()> {
        let n = with_db!(self, |db| db
            .exec("DELETE FROM clients WHERE id = $1", &[&client_id])
            .await?);
        deleted(n)
    }

    async fn list_clients(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<Arc<AppClient>>> {
        let (after, limit) = (after.unwrap_or(""), limit as i64);
        let rows = with_db!(self, |db| db
            .rows(
                "SELECT data FROM clients WHERE pool_id = $1 AND id > $2 ORDER BY id LIMIT $3",
                &[&pool_id, &after, &limit],
            )
            .await?);
        Ok(decode_all::<AppClient>(&rows)?.into_iter().map(Arc::new).collect())
    }

    async fn get_signing_keys(&self, pool_id: &str) -> StoreResult<Option<Arc<PoolKeys>>> {
        if let Some(k) = self.cached_keys(pool_id) {
            return Ok(Some(k));
        }
        let keys: Option<PoolKeys> = with_db!(self, |db| get_json(
            &mut db,
            "SELECT data FROM signing_keys WHERE pool_id = $1",
            pool_id
        )
        .await?);
        Ok(keys.map(|k| {
            let k = Arc::new(k);
            self.cache_keys(pool_id, k.clone());
            k
        }))
    }

    async fn put_signing_keys(&self, pool_id: &str, keys: PoolKeys) -> StoreResult<Arc<PoolKeys>> {
        let data = encode(&keys)?;
        // Two statements on purpose: when another process inserted first, the INSERT waits for
        // its commit and does nothing, and only a new statement (a new snapshot) then sees its row.
        let stored: Option<String> = with_db!(self, |db| {
            let inserted = db
                .opt(
                    "INSERT INTO signing_keys (pool_id, data) VALUES ($1, $2) ON CONFLICT (pool_id) DO NOTHING RETURNING pool_id",
                    &[&pool_id, &data],
                )
                .await?;
            match inserted {
                Some(_) => None,
                None => Some(
                    db.one("SELECT data FROM signing_keys WHERE pool_id = $1", &[&pool_id])
                        .await?
                        .try_get::<_, String>(0)
                        .map_err(from_pg)?,
                ),
            }
        });
        let keys = match stored {
            None => Arc::new(keys),
            Some(s) => Arc::new(serde_json::from_str(&s).map_err(corrupt)?),
        };
        self.cache_keys(pool_id, keys.clone());
        Ok(keys)
    }

    async fn create_user(
        &self,
        user: &User,
        key: &str,
        aliases: &[AliasKey],
        message: Option<&OutboundMessage>,
    ) -> StoreResult<()> {
        self.write_user(true, user, key, aliases, message).await
    }

    async fn get_user(&self, pool_id: &str, key: &str) -> StoreResult<Option<User>> {
        with_db!(self, |db| users::get_user(&mut db, pool_id, key).await)
    }

    async fn find_alias(&self, pool_id: &str, alias: &AliasKey) -> StoreResult<Option<String>> {
        with_db!(self, |db| users::find_alias(&mut db, pool_id, alias).await)
    }

    async fn update_user(
        &self,
        user: &User,
        key: &str,
        aliases: &[AliasKey],
        message: Option<&OutboundMessage>,
    ) -> StoreResult<()> {
        self.write_user(false, user, key, aliases, message).await
    }

    async fn delete_user(&self, pool_id: &str, key: &str) -> StoreResult<()> {
        // Aliases and searchable attributes go with it (ON DELETE CASCADE).
        let n = with_db!(self, |db| db
            .exec("DELETE FROM users WHERE pool_id = $1 AND key = $2", &[&pool_id, &key])
            .await?);
        deleted(n)
    }

    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<User>> {
        let after = after.unwrap_or("");
        with_db!(self, |db| users::list_users(&mut db, pool_id, filter, after, limit)
            .await)
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        let row = with_db!(self, |db| db
            .one("SELECT count(*) FROM users WHERE pool_id = $1", &[&pool_id])
            .await?);
        Ok(row.try_get::<_, i64>(0).map_err(from_pg)? as u64)
    }

    async fn put_session(&self, session: &AuthSession) -> StoreResult<()> {
        let data = encode(session)?;
        with_db!(self, |db| db
            .exec(
                "INSERT INTO sessions (id, pool_id, expires_at, data) VALUES ($1, $2, $3, $4)",
                &[&session.id, &session.pool_id, &session.expires_at, &data],
            )
            .await)?;
        self.maybe_sweep_sessions().await;
        Ok(())
    }

    async fn get_session(&self, id: &str) -> StoreResult<Option<(AuthSession, bool)>> {
        let row = with_db!(self, |db| db
            .opt("SELECT data, used FROM sessions WHERE id = $1", &[&id])
            .await?);
        row.map(|r| Ok((decode(&r, 0)?, r.try_get::<_, bool>(1).map_err(from_pg)?)))
            .transpose()
    }

    async fn write_step(&self, step: StepWrite<'_>) -> StoreResult<()> {
        let next = step.next.map(encode).transpose()?;
        let mut conn = self.pool.get_for(DbCall::Transaction).await?;
        let Conn { client, stmts } = &mut *conn;
        let tx = client.transaction().await.map_err(from_pg)?;
        let mut db = Db::new(&tx, stmts);
        if let Some(sid) = step.used {
            // Of two answers to one session, on any processes, exactly one gets here with 1 row.
            let n = db
                .exec("UPDATE sessions SET used = true WHERE id = $1 AND NOT used", &[&sid])
                .await?;
            if n == 0 {
                return Err(StoreError::Conflict);
            }
        }
        if let Some((user, key)) = step.user {
            users::update_user(&mut db, user, key).await?;
        }
        if let Some(r) = step.refresh {
            users::put_refresh(&mut db, r).await?;
        }
        if let (Some(s), Some(data)) = (step.next, &next) {
            db.exec(
                "INSERT INTO sessions (id, pool_id, expires_at, data) VALUES ($1, $2, $3, $4)",
                &[&s.id, &s.pool_id, &s.expires_at, data],
            )
            .await?;
        }
        if let Some(m) = step.message {
            users::enqueue(&mut db, m, step.now).await?;
        }
        tx.commit().await.map_err(from_pg)?;
        if step.next.is_some() {
            self.maybe_sweep_sessions().await;
        }
        Ok(())
    }

    async fn get_refresh(&self, hash: &str) -> StoreResult<Option<RefreshRecord>> {
        with_db!(self, |db| users::get_refresh(&mut db, hash).await)
    }

    async fn revoke_origin(&self, pool_id: &str, origin_jti: &str) -> StoreResult<()> {
        let at = unix_now();
        with_db!(self, |db| db
            .exec(
                "INSERT INTO revoked_origins (origin_jti, pool_id, revoked_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (origin_jti) DO NOTHING",
                &[&origin_jti, &pool_id, &at],
            )
            .await
            .map(|_| ()))
    }

    async fn revoke_user_tokens(&self, pool_id: &str, key: &str) -> StoreResult<()> {
        let at = unix_now();
        with_db!(self, |db| {
            db
            .exec(
                "INSERT INTO revoked_origins (origin_jti, pool_id, revoked_at) \
                 SELECT DISTINCT origin_jti, $1::text, $3::float8 FROM refresh_tokens WHERE pool_id = $1 AND user_key = $2 \
                 ON CONFLICT (origin_jti) DO NOTHING",
                &[&pool_id, &key, &at],
            )
            .await
            .map(|_| ())
        })
    }

    async fn is_origin_revoked(&self, origin_jti: &str) -> StoreResult<bool> {
        let row = with_db!(self, |db| db
            .one(
                "SELECT EXISTS (SELECT 1 FROM revoked_origins WHERE origin_jti = $1)",
                &[&origin_jti]
            )
            .await?);
        row.try_get(0).map_err(from_pg)
    }

    async fn create_group(&self, group: &Group) -> StoreResult<()> {
        // A missing pool fails the foreign key (NotFound), a taken name the key (Conflict).
        let data = encode(group)?;
        with_db!(self, |db| db
            .exec(
                "INSERT INTO groups (pool_id, name, data) VALUES ($1, $2, $3)",
                &[&group.pool_id, &group.name, &data],
            )
            .await
            .map(|_| ()))
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        with_db!(self, |db| groups::get_group(&mut db, pool_id, name).await)
    }

    async fn update_group(&self, group: &Group) -> StoreResult<()> {
        let data = encode(group)?;
        let n = with_db!(self, |db| db
            .exec(
                "UPDATE groups SET data = $3 WHERE pool_id = $1 AND name = $2",
                &[&group.pool_id, &group.name, &data],
            )
            .await?);
        deleted(n)
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<()> {
        let mut conn = self.pool.get_for(DbCall::Transaction).await?;
        let Conn { client, stmts } = &mut *conn;
        let tx = client.transaction().await.map_err(from_pg)?;
        groups::delete_group(&mut Db::new(&tx, stmts), pool_id, name).await?;
        tx.commit().await.map_err(from_pg)
    }

    async fn list_groups(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<Group>> {
        let after = after.unwrap_or("");
        with_db!(self, |db| groups::list_groups(&mut db, pool_id, after, limit).await)
    }

    async fn get_groups(&self, pool_id: &str, names: &[String]) -> StoreResult<Vec<Group>> {
        with_db!(self, |db| groups::get_groups(&mut db, pool_id, names).await)
    }

    async fn count_groups(&self, pool_id: &str) -> StoreResult<u64> {
        let row = with_db!(self, |db| db
            .one("SELECT count(*) FROM groups WHERE pool_id = $1", &[&pool_id])
            .await?);
        Ok(row.try_get::<_, i64>(0).map_err(from_pg)? as u64)
    }

    async fn add_to_group(&self, pool_id: &str, name: &str, key: &str) -> StoreResult<()> {
        let mut conn = self.pool.get_for(DbCall::Transaction).await?;
        let Conn { client, stmts } = &mut *conn;
        let tx = client.transaction().await.map_err(from_pg)?;
        groups::add_to_group(&mut Db::new(&tx, stmts), pool_id, name, key).await?;
        tx.commit().await.map_err(from_pg)
    }

    async fn remove_from_group(&self, pool_id: &str, name: &str, key: &str) -> StoreResult<()> {
        let mut conn = self.pool.get_for(DbCall::Transaction).await?;
        let Conn { client, stmts } = &mut *conn;
        let tx = client.transaction().await.map_err(from_pg)?;
        groups::remove_from_group(&mut Db::new(&tx, stmts), pool_id, name, key).await?;
        tx.commit().await.map_err(from_pg)
    }

    async fn list_group_members(
        &self,
        pool_id: &str,
        name: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, User)>> {
        let after = after.unwrap_or("");
        with_db!(self, |db| groups::list_members(&mut db, pool_id, name, after, limit)
            .await)
    }
}

#[async_trait]
impl Outbox for PgStore {
    async fn list_outbox(&self, query: &OutboxQuery) -> StoreResult<Vec<OutboxEntry>> {
        with_db!(self, |db| users::list_outbox(&mut db, query).await)
    }

    async fn claim_outbound(&self, now: f64, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        with_db!(self, |db| users::claim_outbound(&mut db, now, limit).await)
    }

    async fn settle_outbound(&self, id: i64, delivered_at: Option<f64>, retry_at: f64) -> StoreResult<()> {
        with_db!(self, |db| db
            .exec(
                "UPDATE outbox SET delivered_at = $2, next_at = $3 WHERE id = $1",
                &[&id, &delivered_at, &retry_at],
            )
            .await
            .map(|_| ()))
    }

    async fn outbound_backlog(&self) -> StoreResult<u64> {
        // Given-up messages wait at NEVER_RETRY.
        let row = with_db!(self, |db| db
            .one(
                "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND next_at < $1::float8",
                &[&NEVER_RETRY],
            )
            .await)?;
        Ok(row.get::<_, i64>(0) as u64)
    }
}
