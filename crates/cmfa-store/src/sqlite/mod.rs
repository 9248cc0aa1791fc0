//! The SQLite adapter: WAL mode, embedded migrations, group commit, a process-owned cache.
//!
//! Writes go through [`writer`], one thread that commits concurrent writes together. Pools and
//! app clients are read on nearly every request and are few, so they are all held in memory and
//! answered from there; the cache is updated on the writer thread right after each commit, in
//! commit order. That is correct because one process owns the data directory (a lock file
//! enforces it); several processes need the PostgreSQL store.
//!
//! Durability: `synchronous = NORMAL` in WAL mode means a committed transaction is in the WAL
//! file before the call returns, so it survives a crash or `kill -9` of the server (not a power
//! cut; `Synchronous::Full` covers that at the cost of an fsync per commit).

mod checkpoint;
mod groups;
mod hot;
mod migrate;
mod owned_thread;
mod reset;
mod users;
mod writer;

use crate::clock::unix_now;
use crate::error::{corrupt, from_sqlite};
use crate::expiry;
use crate::{DbCall, DbTimer};
use async_trait::async_trait;
use checkpoint::Checkpointer;
use cmfa_core::auth::session::AuthSession;
use cmfa_core::client::AppClient;
use cmfa_core::group::Group;
use cmfa_core::outbound::{OutboundMessage, OutboxEntry};
use cmfa_core::pool::UserPool;
use cmfa_core::store::{AliasKey, OutboxQuery, PoolKeys, RefreshRecord, StepWrite, UserFilter};
use cmfa_core::store::{Outbox, Store, StoreError, StoreResult};
use cmfa_core::user::User;
use hot::Hot;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::collections::HashSet;
use std::fs::File;
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::Instant;
use writer::Writer;

/// How hard SQLite syncs a commit to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// Commits survive a process crash (the default).
    #[default]
    Normal,
    /// Commits also survive a power failure; one fsync per commit.
    Full,
}

/// Everything held in memory.
#[derive(Default)]
struct Cache {
    pools: BTreeMap<String, Arc<UserPool>>,
    clients: BTreeMap<String, Arc<AppClient>>,
    keys: BTreeMap<String, Arc<PoolKeys>>,
    /// Revoked sign-ins (`origin_jti`); checked on every access-token call, rarely written.
    revoked: HashSet<String>,
}

/// Where reads run: a few read-only connections (WAL lets them read while the writer writes),
/// or, for an in-memory database that other connections cannot see, the writer itself.
enum Readers {
    Pool(Vec<Mutex<Connection>>),
    Writer,
}

type Shared = Arc<RwLock<Cache>>;

fn write_cache(cache: &Shared) -> std::sync::RwLockWriteGuard<'_, Cache> {
    // Cache updates cannot panic halfway, so a poisoned lock still guards consistent data.
    cache.write().unwrap_or_else(|e| e.into_inner())
}

/// The writer's housekeeping: delete sessions long expired, outbox messages older than a week
/// and expired legacy refresh-token rows; more to do if a limit was reached. The hot cache may
/// hold a swept session a while longer: it is answered as expired either way.
fn sweep_sessions(conn: &Connection) -> StoreResult<bool> {
    sweep_at(conn, unix_now())
}

fn sweep_at(conn: &Connection, now: f64) -> StoreResult<bool> {
    let (before, not_after) = (
        expiry::session_cutoff(now),
        now + expiry::SESSION_LONGEST_PLAUSIBLE_SECS,
    );
    let sessions = users::sweep_sessions(conn, before, not_after, expiry::SESSION_SWEEP_LIMIT)?;
    let outbox = users::prune_outbox(conn, expiry::outbox_cutoff(now), expiry::PRUNE_LIMIT)?;
    let refresh = users::prune_refresh(conn, now, expiry::PRUNE_LIMIT)?;
    Ok(sessions == expiry::SESSION_SWEEP_LIMIT || outbox == expiry::PRUNE_LIMIT || refresh == expiry::PRUNE_LIMIT)
}

/// `users::create_user` or `users::update_user`; both return the user's stored group names.
type UserWrite = fn(&Connection, &User, &str, &[AliasKey], Option<&OutboundMessage>) -> StoreResult<Vec<String>>;

/// SQLite-backed store.
pub struct SqliteStore {
    writer: Writer,
    readers: Readers,
    cache: Shared,
    /// Recently used users and sessions (see [`hot`]).
    hot: Hot,
    /// Told how long each reader query took (the writer has its own).
    timer: Option<DbTimer>,
    /// Copies the WAL back off the writer's path (file databases only).
    _checkpointer: Option<Checkpointer>,
    /// Held for the life of the store: a second process on the same data dir would make the
    /// cache stale, so it is refused at open.
    _lock: Option<File>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn load_all<T: DeserializeOwned>(conn: &Connection, sql: &str) -> StoreResult<Vec<T>> {
    let mut stmt = conn.prepare(sql).map_err(from_sqlite)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(from_sqlite)?;
    let mut out = Vec::new();
    for row in rows {
        out.push(serde_json::from_str(&row.map_err(from_sqlite)?).map_err(corrupt)?);
    }
    Ok(out)
}

fn encode<T: Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Unavailable(format!("cannot encode a row: {e}")))
}

/// Runs a versioned `UPDATE ... WHERE id = ? AND version = ?` and tells a lost race
/// (`Conflict`) from a missing row (`NotFound`).
fn versioned_update(conn: &Connection, table: &str, id: &str, version: i64, data: &str) -> StoreResult<()> {
    let n = conn
        .prepare_cached(&format!(
            "UPDATE {table} SET version = ?1, data = ?2 WHERE id = ?3 AND version = ?4"
        ))
        .and_then(|mut s| s.execute(params![version, data, id, version - 1]))
        .map_err(from_sqlite)?;
    if n == 1 {
        return Ok(());
    }
    let exists = conn
        .prepare_cached(&format!("SELECT 1 FROM {table} WHERE id = ?1"))
        .and_then(|mut s| s.query_row(params![id], |_| Ok(())).optional())
        .map_err(from_sqlite)?;
    Err(if exists.is_some() {
        StoreError::Conflict
    } else {
        StoreError::NotFound
    })
}

/// `versioned_update` for tables keyed by (pool_id, key).
fn versioned_update_keyed(
    conn: &Connection,
    table: &str,
    pool_id: &str,
    key: &str,
    version: i64,
    data: &str,
) -> StoreResult<()> {
    let n = conn
        .prepare_cached(&format!(
            "UPDATE {table} SET version = ?1, data = ?2 WHERE pool_id = ?3 AND key = ?4 AND version = ?5"
        ))
        .and_then(|mut s| s.execute(params![version, data, pool_id, key, version - 1]))
        .map_err(from_sqlite)?;
    if n == 1 {
        return Ok(());
    }
    let exists = conn
        .prepare_cached(&format!("SELECT 1 FROM {table} WHERE pool_id = ?1 AND key = ?2"))
        .and_then(|mut s| s.query_row(params![pool_id, key], |_| Ok(())).optional())
        .map_err(from_sqlite)?;
    Err(if exists.is_some() {
        StoreError::Conflict
    } else {
        StoreError::NotFound
    })
}

fn delete_row(conn: &Connection, table: &str, id: &str) -> StoreResult<()> {
    let n = conn
        .prepare_cached(&format!("DELETE FROM {table} WHERE id = ?1"))
        .and_then(|mut s| s.execute(params![id]))
        .map_err(from_sqlite)?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

fn page<'a, T: 'a>(
    map: &'a BTreeMap<String, Arc<T>>,
    after: Option<&str>,
) -> std::collections::btree_map::Range<'a, String, Arc<T>> {
    match after {
        Some(a) => map.range::<str, _>((Bound::Excluded(a), Bound::Unbounded)),
        None => map.range::<str, _>((Bound::Unbounded, Bound::Unbounded)),
    }
}

/// Page size of a new database file (see `init`).
const PAGE_SIZE: i64 = 16_384;

/// Keeps each cached statement's query plan for its whole life (SQLite's query planner stability
/// guarantee). The bundled SQLite is built with STAT4, under which a statement that compares a
/// bound parameter with an indexed column is compiled again on its first step after that
/// parameter changes: every filtered ListUsers re-parsed and re-planned its SQL (seen in a
/// profile and under gdb). The plans here are fixed by the schema and `INDEXED BY` anyway, and
/// this store never runs ANALYZE, so nothing is lost.
fn plan_once(conn: &Connection) -> StoreResult<()> {
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)
        .map(drop)
        .map_err(from_sqlite)
}

impl SqliteStore {
    /// Opens (creating if needed) `dir/cognito-mfa.sqlite3`, taking an exclusive lock on the dir.
    pub fn open_dir(dir: &Path, sync: Synchronous) -> StoreResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create data dir {}: {e}", dir.display())))?;
        let lock_path = dir.join("lock");
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {}: {e}", lock_path.display())))?;
        lock.try_lock().map_err(|_| {
            StoreError::Unavailable(format!(
                "data dir {} is in use by another cognito-mfa process (use PostgreSQL to run several)",
                dir.display()
            ))
        })?;
        let path = dir.join("cognito-mfa.sqlite3");
        let conn = Connection::open(&path).map_err(from_sqlite)?;
        let mut store = Self::init(conn, sync, Some(lock))?;
        let mut readers = Vec::new();
        for _ in 0..2 {
            let r = Connection::open_with_flags(
                &path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .map_err(from_sqlite)?;
            r.busy_timeout(std::time::Duration::from_secs(5)).map_err(from_sqlite)?;
            plan_once(&r)?;
            readers.push(Mutex::new(r));
        }
        store.readers = Readers::Pool(readers);
        store._checkpointer = Checkpointer::start(&path);
        if store._checkpointer.is_none() {
            tracing::warn!("no SQLite checkpoint thread; the writer checkpoints the WAL itself");
        }
        Ok(store)
    }

    /// Reports the duration of every database call to `timer` from now on.
    pub fn with_timer(mut self, timer: DbTimer) -> Self {
        self.writer.timer = Some(timer.clone());
        self.timer = Some(timer);
        self
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> StoreResult<Self> {
        let conn = Connection::open_in_memory().map_err(from_sqlite)?;
        Self::init(conn, Synchronous::Normal, None)
    }

    fn init(mut conn: Connection, sync: Synchronous, lock: Option<File>) -> StoreResult<Self> {
        // Before anything is written, so it applies to a new database (an existing one keeps its
        // size): a user row is 1.5-3 KB of JSON, and a WITHOUT ROWID row larger than about a
        // quarter of a page spills into an overflow page, so with 4 KiB pages each user took
        // over 4 KiB on disk and two page reads; with 16 KiB pages it stays in its leaf.
        conn.pragma_update(None, "page_size", PAGE_SIZE).map_err(from_sqlite)?;
        conn.pragma_update(None, "journal_mode", "WAL").map_err(from_sqlite)?;
        let sync = match sync {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync).map_err(from_sqlite)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(from_sqlite)?;
        // The writer's page cache is never invalidated (no other connection writes), so a larger
        // one saves re-reading B-tree pages from the file on every write (SQLite's default is
        // 2 MiB); readers' caches are emptied by each commit, so they keep the default.
        conn.pragma_update(None, "cache_size", -32_768).map_err(from_sqlite)?;
        // File databases are checkpointed by their own thread ([`checkpoint`]); the writer's
        // automatic checkpoint only backs it up.
        conn.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP_PAGES)
            .map_err(from_sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(from_sqlite)?;
        plan_once(&conn)?;
        migrate::run(&mut conn)?;
        let mut cache = Cache::default();
        for p in load_all::<UserPool>(&conn, "SELECT data FROM pools")? {
            cache.pools.insert(p.id.clone(), Arc::new(p));
        }
        for c in load_all::<AppClient>(&conn, "SELECT data FROM clients")? {
            cache.clients.insert(c.client_id.clone(), Arc::new(c));
        }
        let key_rows: Vec<(String, String)> = conn
            .prepare("SELECT pool_id, data FROM signing_keys")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(from_sqlite)?;
        for (pool_id, data) in key_rows {
            cache
                .keys
                .insert(pool_id, Arc::new(serde_json::from_str(&data).map_err(corrupt)?));
        }
        cache.revoked = users::load_revoked(&conn)?.into_iter().collect();
        Ok(SqliteStore {
            writer: Writer::start(conn, Box::new(sweep_sessions))?,
            readers: Readers::Writer,
            cache: Arc::new(RwLock::new(cache)),
            hot: Hot::default(),
            timer: None,
            _checkpointer: None,
            _lock: lock,
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs a read-only query on a reader connection.
    async fn query<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        match &self.readers {
            Readers::Pool(conns) => {
                let started = Instant::now();
                // Queries are microseconds long; take a free connection, else wait for one.
                let free = conns.iter().find_map(|c| c.try_lock().ok());
                let g = free.unwrap_or_else(|| conns[0].lock().unwrap_or_else(|e| e.into_inner()));
                let result = f(&g);
                drop(g);
                crate::report(self.timer.as_ref(), DbCall::Read, started);
                result
            }
            Readers::Writer => self.writer.write(f, |_| {}).await,
        }
    }

    /// Creates or updates a user (`op`), then caches the saved user once committed.
    async fn write_user(
        &self,
        user: &User,
        key: &str,
        aliases: &[AliasKey],
        message: Option<&OutboundMessage>,
        op: UserWrite,
    ) -> StoreResult<()> {
        let (u, k, a, m) = (
            Arc::new(user.clone()),
            key.to_owned(),
            aliases.to_vec(),
            message.cloned(),
        );
        let (hot, cached, ck) = (self.hot.clone(), u.clone(), k.clone());
        self.writer
            .write(
                move |conn| op(conn, &u, &k, &a, m.as_ref()),
                move |groups| hot.wrote_user(&ck, hot::with_groups(cached, groups)),
            )
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_pool(&self, pool: &UserPool) -> StoreResult<()> {
        let data = encode(pool)?;
        let (id, version) = (pool.id.clone(), pool.version as i64);
        let (cache, cached) = (self.cache.clone(), Arc::new(pool.clone()));
        self.writer
            .write(
                move |conn| {
                    conn.prepare_cached("INSERT INTO pools (id, version, data) VALUES (?1, ?2, ?3)")
                        .and_then(|mut s| s.execute(params![id, version, data]))
                        .map(|_| ())
                        .map_err(from_sqlite)
                },
                move |_| {
                    write_cache(&cache).pools.insert(cached.id.clone(), cached);
                },
            )
            .await
    }

    async fn get_pool(&self, id: &str) -> StoreResult<Option<Arc<UserPool>>> {
        Ok(self.read().pools.get(id).cloned())
    }

    async fn update_pool(&self, pool: &UserPool) -> StoreResult<()> {
        let data = encode(pool)?;
        let (id, version) = (pool.id.clone(), pool.version as i64);
        let (cache, cached) = (self.cache.clone(), Arc::new(pool.clone()));
        self.writer
            .write(
                move |conn| versioned_update(conn, "pools", &id, version, &data),
                move |_| {
                    write_cache(&cache).pools.insert(cached.id.clone(), cached);
                },
            )
            .await
    }

    async fn delete_pool(&self, id: &str) -> StoreResult<()> {
        let (key, gone, cache, hot) = (id.to_owned(), id.to_owned(), self.cache.clone(), self.hot.clone());
        self.writer
            .write(
                move |conn| delete_row(conn, "pools", &key),
                move |_| {
                    hot.deleted_pool(&gone);
                    let mut c = write_cache(&cache);
                    c.pools.remove(&gone);
                    c.keys.remove(&gone);
                    c.clients.retain(|_, cl| cl.pool_id != gone);
                },
            )
            .await
    }

    async fn reset(&self, pool: Option<&str>) -> StoreResult<()> {
        let (pool, cache, hot) = (pool.map(str::to_owned), self.cache.clone(), self.hot.clone());
        let gone = pool.clone();
        self.writer
            .write(
                move |conn| reset::reset(conn, pool.as_deref()),
                move |revoked| {
                    let mut c = write_cache(&cache);
                    match &gone {
                        None => {
                            hot.clear();
                            *c = Cache::default();
                        }
                        Some(id) => {
                            hot.deleted_pool(id);
                            c.pools.remove(id);
                            c.keys.remove(id);
                            c.clients.retain(|_, cl| &cl.pool_id != id);
                            for jti in revoked {
                                c.revoked.remove(jti);
                            }
                        }
                    }
                },
            )
            .await
            .map(|_| ())
    }

    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<Arc<UserPool>>> {
        Ok(page(&self.read().pools, after)
            .take(limit)
            .map(|(_, p)| p.clone())
            .collect())
    }

    async fn create_client(&self, client: &AppClient) -> StoreResult<()> {
        let data = encode(client)?;
        let (id, pool_id, version) = (client.client_id.clone(), client.pool_id.clone(), client.version as i64);
        let (cache, cached) = (self.cache.clone(), Arc::new(client.clone()));
        self.writer
            .write(
                move |conn| {
                    let pool_exists = conn
                        .prepare_cached("SELECT 1 FROM pools WHERE id = ?1")
                        .and_then(|mut s| s.query_row(params![pool_id], |_| Ok(())).optional())
                        .map_err(from_sqlite)?;
                    if pool_exists.is_none() {
                        return Err(StoreError::NotFound);
                    }
                    conn.prepare_cached("INSERT INTO clients (id, pool_id, version, data) VALUES (?1, ?2, ?3, ?4)")
                        .and_then(|mut s| s.execute(params![id, pool_id, version, data]))
                        .map(|_| ())
                        .map_err(from_sqlite)
                },
                move |_| {
                    write_cache(&cache).clients.insert(cached.client_id.clone(), cached);
                },
            )
            .await
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<Arc<AppClient>>> {
        Ok(self.read().clients.get(client_id).cloned())
    }

    async fn update_client(&self, client: &AppClient) -> StoreResult<()> {
        let data = encode(client)?;
        let (id, version) = (client.client_id.clone(), client.version as i64);
        let (cache, cached) = (self.cache.clone(), Arc::new(client.clone()));
        self.writer
            .write(
                move |conn| versioned_update(conn, "clients", &id, version, &data),
                move |_| {
                    write_cache(&cache).clients.insert(cached.client_id.clone(), cached);
                },
            )
            .await
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<()> {
        let (key, gone, cache) = (client_id.to_owned(), client_id.to_owned(), self.cache.clone());
        self.writer
            .write(
                move |conn| delete_row(conn, "clients", &key),
                move |_| {
                    write_cache(&cache).clients.remove(&gone);
                },
            )
            .await
    }

    async fn list_clients(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<Arc<AppClient>>> {
        // Clients are few per pool; a scan of the in-memory map is cheaper than an index here.
        let cache = self.read();
        Ok(page(&cache.clients, after)
            .filter(|(_, c)| c.pool_id == pool_id)
            .take(limit)
            .map(|(_, c)| c.clone())
            .collect())
    }

    async fn get_signing_keys(&self, pool_id: &str) -> StoreResult<Option<Arc<PoolKeys>>> {
        Ok(self.read().keys.get(pool_id).cloned())
    }

    async fn put_signing_keys(&self, pool_id: &str, keys: PoolKeys) -> StoreResult<Arc<PoolKeys>> {
        let data = encode(&keys)?;
        let (id, cache, fresh) = (pool_id.to_owned(), self.cache.clone(), Arc::new(keys));
        let inserted = self
            .writer
            .write(
                move |conn| {
                    conn.prepare_cached("INSERT OR IGNORE INTO signing_keys (pool_id, data) VALUES (?1, ?2)")
                        .and_then(|mut s| s.execute(params![id, data]))
                        .map_err(from_sqlite)?;
                    let stored: String = conn
                        .prepare_cached("SELECT data FROM signing_keys WHERE pool_id = ?1")
                        .and_then(|mut s| s.query_row(params![id], |r| r.get(0)))
                        .map_err(from_sqlite)?;
                    Ok((id, stored))
                },
                |_| {},
            )
            .await?;
        let (id, stored) = inserted;
        let keys: Arc<PoolKeys> = if encode(&*fresh)? == stored {
            fresh
        } else {
            Arc::new(serde_json::from_str(&stored).map_err(corrupt)?)
        };
        write_cache(&cache).keys.insert(id, keys.clone());
        Ok(keys)
    }

    async fn create_user(
        &self,
        user: &User,
        key: &str,
        aliases: &[AliasKey],
        message: Option<&OutboundMessage>,
    ) -> StoreResult<()> {
        self.write_user(user, key, aliases, message, users::create_user).await
    }

    async fn get_user(&self, pool_id: &str, key: &str) -> StoreResult<Option<User>> {
        let ticket = match self.hot.user(pool_id, key) {
            Ok(u) => return Ok(Some(User::clone(&u))),
            Err(t) => t,
        };
        let (p, k) = (pool_id.to_owned(), key.to_owned());
        let found = self.query(move |conn| users::get_user(conn, &p, &k)).await?;
        if let Some(u) = &found {
            self.hot.fill_user(ticket, key, u);
        }
        Ok(found)
    }

    async fn find_alias(&self, pool_id: &str, alias: &AliasKey) -> StoreResult<Option<String>> {
        let (p, a) = (pool_id.to_owned(), alias.clone());
        self.query(move |conn| users::find_alias(conn, &p, &a)).await
    }

    async fn update_user(
        &self,
        user: &User,
        key: &str,
        aliases: &[AliasKey],
        message: Option<&OutboundMessage>,
    ) -> StoreResult<()> {
        self.write_user(user, key, aliases, message, users::update_user).await
    }

    async fn delete_user(&self, pool_id: &str, key: &str) -> StoreResult<()> {
        let (p, k, hot) = (pool_id.to_owned(), key.to_owned(), self.hot.clone());
        let (p2, k2) = (p.clone(), k.clone());
        self.writer
            .write(
                move |conn| users::delete_user(conn, &p, &k),
                move |_| hot.deleted_user(&p2, &k2),
            )
            .await
    }

    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<User>> {
        let (p, f, a) = (pool_id.to_owned(), filter.cloned(), after.unwrap_or("").to_owned());
        self.query(move |conn| users::list_users(conn, &p, f.as_ref(), &a, limit))
            .await
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        let p = pool_id.to_owned();
        self.query(move |conn| users::count_users(conn, &p)).await
    }

    async fn put_session(&self, session: &AuthSession) -> StoreResult<()> {
        let (s, hot) = (Arc::new(session.clone()), self.hot.clone());
        let cached = s.clone();
        self.writer
            .write(
                move |conn| users::put_session(conn, &s),
                move |_| hot.wrote_session(cached),
            )
            .await
    }

    async fn get_session(&self, id: &str) -> StoreResult<Option<(AuthSession, bool)>> {
        let ticket = match self.hot.session(id) {
            Ok((s, used)) => return Ok(Some((AuthSession::clone(&s), used))),
            Err(t) => t,
        };
        let key = id.to_owned();
        let found = self.query(move |conn| users::get_session(conn, &key)).await?;
        if let Some((s, used)) = &found {
            self.hot.fill_session(ticket, s, *used);
        }
        Ok(found)
    }

    async fn write_step(&self, step: StepWrite<'_>) -> StoreResult<()> {
        let used = step.used.map(str::to_owned);
        let user = step.user.map(|(u, k)| (Arc::new(u.clone()), k.to_owned()));
        let refresh = step.refresh.cloned();
        let next = step.next.map(|s| Arc::new(s.clone()));
        let (message, now) = (step.message.cloned(), step.now);
        let hot = self.hot.clone();
        let (used2, user2, next2) = (used.clone(), user.clone(), next.clone());
        self.writer
            .write(
                move |conn| {
                    if let Some(sid) = &used {
                        users::use_session(conn, sid)?;
                    }
                    // The stored group names, which the write leaves alone (see `update_record`).
                    let groups = match &user {
                        Some((u, k)) => Some(users::update_record(conn, u, k)?),
                        None => None,
                    };
                    if let Some(r) = &refresh {
                        users::put_refresh(conn, r)?;
                    }
                    if let Some(s) = &next {
                        users::put_session(conn, s)?;
                    }
                    if let Some(m) = &message {
                        users::enqueue(conn, m, now)?;
                    }
                    Ok(groups)
                },
                move |groups| {
                    if let Some(sid) = &used2 {
                        hot.used_session(sid);
                    }
                    if let (Some((u, k)), Some(groups)) = (user2, groups) {
                        hot.wrote_user(&k, hot::with_groups(u, groups));
                    }
                    if let Some(s) = next2 {
                        hot.wrote_session(s);
                    }
                },
            )
            .await
            .map(|_| ())
    }

    async fn get_refresh(&self, hash: &str) -> StoreResult<Option<RefreshRecord>> {
        let h = hash.to_owned();
        self.query(move |conn| users::get_refresh(conn, &h)).await
    }

    async fn revoke_origin(&self, pool_id: &str, origin_jti: &str) -> StoreResult<()> {
        let (p, j, cache, jti) = (
            pool_id.to_owned(),
            origin_jti.to_owned(),
            self.cache.clone(),
            origin_jti.to_owned(),
        );
        let now = unix_now();
        self.writer
            .write(
                move |conn| users::revoke_origin(conn, &p, &j, now),
                move |_| {
                    write_cache(&cache).revoked.insert(jti);
                },
            )
            .await
    }

    async fn revoke_user_tokens(&self, pool_id: &str, key: &str) -> StoreResult<()> {
        let (p, k, cache) = (pool_id.to_owned(), key.to_owned(), self.cache.clone());
        let now = unix_now();
        self.writer
            .write(
                move |conn| users::revoke_user(conn, &p, &k, now),
                move |origins| {
                    write_cache(&cache).revoked.extend(origins.iter().cloned());
                },
            )
            .await
            .map(|_| ())
    }

    async fn is_origin_revoked(&self, origin_jti: &str) -> StoreResult<bool> {
        Ok(self.read().revoked.contains(origin_jti))
    }

    async fn create_group(&self, group: &Group) -> StoreResult<()> {
        let g = group.clone();
        self.writer
            .write(move |conn| groups::create_group(conn, &g), |_| {})
            .await
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        let (p, n) = (pool_id.to_owned(), name.to_owned());
        self.query(move |conn| groups::get_group(conn, &p, &n)).await
    }

    async fn update_group(&self, group: &Group) -> StoreResult<()> {
        let g = group.clone();
        self.writer
            .write(move |conn| groups::update_group(conn, &g), |_| {})
            .await
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<()> {
        let (p, n, hot, pool) = (
            pool_id.to_owned(),
            name.to_owned(),
            self.hot.clone(),
            pool_id.to_owned(),
        );
        self.writer
            .write(
                move |conn| groups::delete_group(conn, &p, &n),
                move |changed| {
                    for (key, names) in changed {
                        hot.set_groups(&pool, key, names.clone());
                    }
                },
            )
            .await
            .map(|_| ())
    }

    async fn list_groups(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Vec<Group>> {
        let (p, a) = (pool_id.to_owned(), after.unwrap_or("").to_owned());
        self.query(move |conn| groups::list_groups(conn, &p, &a, limit)).await
    }

    async fn get_groups(&self, pool_id: &str, names: &[String]) -> StoreResult<Vec<Group>> {
        let (p, n) = (pool_id.to_owned(), names.to_vec());
        self.query(move |conn| groups::get_groups(conn, &p, &n)).await
    }

    async fn count_groups(&self, pool_id: &str) -> StoreResult<u64> {
        let p = pool_id.to_owned();
        self.query(move |conn| groups::count_groups(conn, &p)).await
    }

    async fn add_to_group(&self, pool_id: &str, name: &str, key: &str) -> StoreResult<()> {
        let (p, n, k, hot) = (pool_id.to_owned(), name.to_owned(), key.to_owned(), self.hot.clone());
        let (pool, ck) = (p.clone(), k.clone());
        self.writer
            .write(
                move |conn| groups::add_to_group(conn, &p, &n, &k),
                move |names| hot.set_groups(&pool, &ck, names.clone()),
            )
            .await
            .map(|_| ())
    }

    async fn remove_from_group(&self, pool_id: &str, name: &str, key: &str) -> StoreResult<()> {
        let (p, n, k, hot) = (pool_id.to_owned(), name.to_owned(), key.to_owned(), self.hot.clone());
        let (pool, ck) = (p.clone(), k.clone());
        self.writer
            .write(
                move |conn| groups::remove_from_group(conn, &p, &n, &k),
                move |names| hot.set_groups(&pool, &ck, names.clone()),
            )
            .await
            .map(|_| ())
    }

    async fn list_group_members(
        &self,
        pool_id: &str,
        name: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<(String, User)>> {
        let (p, n, a) = (pool_id.to_owned(), name.to_owned(), after.unwrap_or("").to_owned());
        self.query(move |conn| groups::list_members(conn, &p, &n, &a, limit))
            .await
    }
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn list_outbox(&self, query: &OutboxQuery) -> StoreResult<Vec<OutboxEntry>> {
        let q = query.clone();
        self.query(move |conn| users::list_outbox(conn, &q)).await
    }

    async fn claim_outbound(&self, now: f64, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        self.writer
            .write(move |conn| users::claim_outbound(conn, now, limit), |_| {})
            .await
    }

    async fn settle_outbound(&self, id: i64, delivered_at: Option<f64>, retry_at: f64) -> StoreResult<()> {
        self.writer
            .write(
                move |conn| users::settle_outbound(conn, id, delivered_at, retry_at),
                |_| {},
            )
            .await
    }

    async fn outbound_backlog(&self) -> StoreResult<u64> {
        self.query(users::outbound_backlog).await
    }
}

#[cfg(test)]
mod tests;
