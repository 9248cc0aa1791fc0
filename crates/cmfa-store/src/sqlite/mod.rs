//! The SQLite adapter: WAL mode, one writer connection, embedded migrations.
//!
//! Writes go through [`writer`], one thread that commits concurrent writes together (group
//! commit). Pool reads are answered from a cache the store keeps in step with its own writes.
//!
//! Durability: `synchronous = NORMAL` in WAL mode means a committed transaction is in the WAL file
//! before the call returns, so it survives a crash or `kill -9` of the server (not a power cut of
//! the machine; `--sqlite-synchronous full` covers that at the cost of an fsync per write).

mod migrate;
mod writer;

use crate::error::{corrupt, from_sqlite};
use async_trait::async_trait;
use cmfa_core::pool::UserPool;
use cmfa_core::store::{Store, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, RwLock};
use writer::Writer;

type PoolCache = BTreeMap<String, Arc<UserPool>>;

/// How hard SQLite syncs a commit to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// Commits survive a process crash (the default).
    #[default]
    Normal,
    /// Commits also survive a power failure; one fsync per write.
    Full,
}

/// SQLite-backed store.
pub struct SqliteStore {
    writer: Writer,
    /// Every pool, keyed by id. Pools are few and read on every request; the process owns the
    /// database (see `_lock`), so the cache is updated in the same critical section as the row.
    pools: Arc<RwLock<PoolCache>>,
    /// Held for the life of the store: a second process on the same data dir would make the
    /// cache stale, so it is refused at open.
    _lock: Option<File>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
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
        let mut pools = BTreeMap::new();
        {
            let mut stmt = conn.prepare("SELECT data FROM pools").map_err(from_sqlite)?;
            let rows = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(from_sqlite)?;
            for row in rows {
                let pool: UserPool = serde_json::from_str(&row.map_err(from_sqlite)?).map_err(corrupt)?;
                pools.insert(pool.id.clone(), Arc::new(pool));
            }
        }
        Ok(SqliteStore {
            writer: Writer::start(conn)?,
            pools: Arc::new(RwLock::new(pools)),
            _lock: lock,
        })
    }

    fn cache_read(&self) -> std::sync::RwLockReadGuard<'_, PoolCache> {
        self.pools.read().unwrap_or_else(|e| e.into_inner())
    }
}

/// A step that puts `pool` in the cache after its write commits.
fn cache_put(cache: &Arc<RwLock<PoolCache>>, pool: &UserPool) -> impl FnOnce(&()) + Send + 'static {
    let cache = cache.clone();
    let pool = Arc::new(pool.clone());
    move |_| {
        cache
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(pool.id.clone(), pool);
    }
}

fn encode(pool: &UserPool) -> StoreResult<String> {
    serde_json::to_string(pool).map_err(|e| StoreError::Unavailable(format!("cannot encode pool: {e}")))
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_pool(&self, pool: &UserPool) -> StoreResult<()> {
        let data = encode(pool)?;
        let (id, version) = (pool.id.clone(), pool.version as i64);
        self.writer
            .write(
                move |conn| {
                    conn.prepare_cached("INSERT INTO pools (id, version, data) VALUES (?1, ?2, ?3)")
                        .and_then(|mut s| s.execute(params![id, version, data]))
                        .map(|_| ())
                        .map_err(from_sqlite)
                },
                cache_put(&self.pools, pool),
            )
            .await
    }

    async fn get_pool(&self, id: &str) -> StoreResult<Option<Arc<UserPool>>> {
        Ok(self.cache_read().get(id).cloned())
    }

    async fn update_pool(&self, pool: &UserPool) -> StoreResult<()> {
        let data = encode(pool)?;
        let (id, version) = (pool.id.clone(), pool.version as i64);
        self.writer
            .write(
                move |conn| {
                    let n = conn
                        .prepare_cached("UPDATE pools SET version = ?1, data = ?2 WHERE id = ?3 AND version = ?4")
                        .and_then(|mut s| s.execute(params![version, data, id, version - 1]))
                        .map_err(from_sqlite)?;
                    if n == 1 {
                        return Ok(());
                    }
                    let exists = conn
                        .prepare_cached("SELECT 1 FROM pools WHERE id = ?1")
                        .and_then(|mut s| s.query_row(params![id], |_| Ok(())).optional())
                        .map_err(from_sqlite)?;
                    Err(if exists.is_some() {
                        StoreError::Conflict
                    } else {
                        StoreError::NotFound
                    })
                },
                cache_put(&self.pools, pool),
            )
            .await
    }

    async fn delete_pool(&self, id: &str) -> StoreResult<()> {
        let key = id.to_owned();
        let cache = self.pools.clone();
        let gone = id.to_owned();
        self.writer
            .write(
                move |conn| {
                    let n = conn
                        .prepare_cached("DELETE FROM pools WHERE id = ?1")
                        .and_then(|mut s| s.execute(params![key]))
                        .map_err(from_sqlite)?;
                    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
                },
                move |_| {
                    cache.write().unwrap_or_else(|e| e.into_inner()).remove(&gone);
                },
            )
            .await
    }

    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Vec<Arc<UserPool>>> {
        use std::ops::Bound;
        let cache = self.cache_read();
        let range = match after {
            Some(a) => cache.range::<str, _>((Bound::Excluded(a), Bound::Unbounded)),
            None => cache.range::<str, _>((Bound::Unbounded, Bound::Unbounded)),
        };
        Ok(range.take(limit).map(|(_, p)| p.clone()).collect())
    }
}
