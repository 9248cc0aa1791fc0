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

mod migrate;
mod writer;

use crate::error::{corrupt, from_sqlite};
use async_trait::async_trait;
use cmfa_core::client::AppClient;
use cmfa_core::pool::UserPool;
use cmfa_core::store::{Store, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fs::File;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard};
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
}

type Shared = Arc<RwLock<Cache>>;

fn write_cache(cache: &Shared) -> std::sync::RwLockWriteGuard<'_, Cache> {
    // Cache updates cannot panic halfway, so a poisoned lock still guards consistent data.
    cache.write().unwrap_or_else(|e| e.into_inner())
}

/// SQLite-backed store.
pub struct SqliteStore {
    writer: Writer,
    cache: Shared,
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
        let conn = Connection::open(dir.join("cognito-mfa.sqlite3")).map_err(from_sqlite)?;
        Self::init(conn, sync, Some(lock))
    }

    /// A private in-memory database, for tests.
    pub fn open_in_memory() -> StoreResult<Self> {
        let conn = Connection::open_in_memory().map_err(from_sqlite)?;
        Self::init(conn, Synchronous::Normal, None)
    }

    fn init(mut conn: Connection, sync: Synchronous, lock: Option<File>) -> StoreResult<Self> {
        conn.pragma_update(None, "journal_mode", "WAL").map_err(from_sqlite)?;
        let sync = match sync {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", sync).map_err(from_sqlite)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(from_sqlite)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(from_sqlite)?;
        migrate::run(&mut conn)?;
        let mut cache = Cache::default();
        for p in load_all::<UserPool>(&conn, "SELECT data FROM pools")? {
            cache.pools.insert(p.id.clone(), Arc::new(p));
        }
        for c in load_all::<AppClient>(&conn, "SELECT data FROM clients")? {
            cache.clients.insert(c.client_id.clone(), Arc::new(c));
        }
        Ok(SqliteStore {
            writer: Writer::start(conn)?,
            cache: Arc::new(RwLock::new(cache)),
            _lock: lock,
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, Cache> {
        self.cache.read().unwrap_or_else(|e| e.into_inner())
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
        let (key, gone, cache) = (id.to_owned(), id.to_owned(), self.cache.clone());
        self.writer
            .write(
                move |conn| delete_row(conn, "pools", &key),
                move |_| {
                    let mut c = write_cache(&cache);
                    c.pools.remove(&gone);
                    c.clients.retain(|_, cl| cl.pool_id != gone);
                },
            )
            .await
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
}
