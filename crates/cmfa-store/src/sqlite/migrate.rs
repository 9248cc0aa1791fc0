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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_stored_before_groups_existed_are_in_no_group() {
        let mut conn = Connection::open_in_memory().unwrap();
        // A database as the last release before groups left it.
        for sql in &MIGRATIONS[..4] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 4).unwrap();
        conn.execute_batch(
            "INSERT INTO pools (id, version, data) VALUES ('p', 1, '{}');
             INSERT INTO users (pool_id, key, version, data) VALUES ('p', 'old', 1, '{}');",
        )
        .unwrap();
        run(&mut conn).unwrap();
        let groups: String = conn
            .query_row("SELECT groups FROM users WHERE key = 'old'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(groups, "[]");
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(version as usize, MIGRATIONS.len());
    }
}
