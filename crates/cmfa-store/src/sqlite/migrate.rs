//! Embedded, append-only migrations, tracked in `PRAGMA user_version`.

use crate::error::from_sqlite;
use cmfa_core::store::{StoreError, StoreResult};
use rusqlite::Connection;

/// Every migration, in order. Never edit one that has shipped; add a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/sqlite/0001_pools.sql"),
    include_str!("../../migrations/sqlite/0002_clients.sql"),
    include_str!("../../migrations/sqlite/0003_users.sql"),
    include_str!("../../migrations/sqlite/0004_sessions_swept_in_creation_order.sql"),
    include_str!("../../migrations/sqlite/0005_groups.sql"),
];

pub(super) fn run(conn: &mut Connection) -> StoreResult<()> {
    let current: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(from_sqlite)?;
    if current as usize > MIGRATIONS.len() {
        return Err(StoreError::Unavailable(format!(
            "database schema version {current} is newer than this binary knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction().map_err(from_sqlite)?;
        tx.execute_batch(sql).map_err(from_sqlite)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)
            .map_err(from_sqlite)?;
        tx.commit().map_err(from_sqlite)?;
    }
    Ok(())
}
