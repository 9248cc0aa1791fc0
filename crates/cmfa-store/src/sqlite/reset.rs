//! Wiping data for test suites: everything, or one pool with all it holds.
//!
//! Runs on the writer thread like any write, so it is one transaction, ordered with every other
//! write: a write queued before it is wiped with the rest, one queued after it sees an empty
//! store (and, for anything needing a wiped pool, fails its foreign key: `NotFound`).

use crate::error::from_sqlite;
use cmfa_core::store::StoreResult;
use rusqlite::{Connection, params};

/// Tables with rows of their own per pool that no foreign key removes with the pool.
const UNLINKED: [&str; 2] = ["outbox", "revoked_origins"];

/// Deletes everything, or everything of `pool`. Returns the revoked sign-ins (`origin_jti`)
/// that a one-pool reset removed, for the cache; a full reset empties the cache instead.
pub(super) fn reset(conn: &Connection, pool: Option<&str>) -> StoreResult<Vec<String>> {
    match pool {
        None => {
            // Clients, keys, users (with their aliases, attributes and memberships), sessions,
            // refresh tokens and groups all go with their pool (ON DELETE CASCADE).
            conn.execute("DELETE FROM pools", []).map_err(from_sqlite)?;
            for table in UNLINKED {
                conn.execute(&format!("DELETE FROM {table}"), []).map_err(from_sqlite)?;
            }
            Ok(Vec::new())
        }
        Some(id) => {
            let revoked = conn
                .prepare("SELECT origin_jti FROM revoked_origins WHERE pool_id = ?1")
                .and_then(|mut s| {
                    s.query_map(params![id], |r| r.get::<_, String>(0))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(from_sqlite)?;
            conn.execute("DELETE FROM pools WHERE id = ?1", params![id])
                .map_err(from_sqlite)?;
            for table in UNLINKED {
                conn.execute(&format!("DELETE FROM {table} WHERE pool_id = ?1"), params![id])
                    .map_err(from_sqlite)?;
            }
            Ok(revoked)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every table of the schema is emptied by a full reset: a table added later without
    /// a cascade to `pools` (or a place in `UNLINKED`) fails this test.
    #[test]
    fn a_full_reset_leaves_every_table_empty() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "foreign_keys", "ON").unwrap();
        crate::sqlite::migrate::run(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO pools VALUES ('p', 1, '{}');
             INSERT INTO clients VALUES ('c', 'p', 1, '{}');
             INSERT INTO signing_keys VALUES ('p', '{}');
             INSERT INTO users (pool_id, key, version, data) VALUES ('p', 'u', 1, '{}');
             INSERT INTO user_aliases VALUES ('p', 'email', 'u@example.com', 'u');
             INSERT INTO user_attrs VALUES ('p', 'u', 'email', 'u@example.com');
             INSERT INTO sessions (id, pool_id, expires_at, data) VALUES ('s', 'p', 1.0, '{}');
             INSERT INTO refresh_tokens VALUES ('h', 'p', 'u', 'j', 1.0, '{}');
             INSERT INTO revoked_origins VALUES ('j', 'p', 1.0);
             INSERT INTO outbox (pool_id, username, destination, created_at, next_at, data)
                 VALUES ('p', 'u', 'u@example.com', 1.0, 1.0, '{}');
             INSERT INTO groups VALUES ('p', 'g', '{}');
             INSERT INTO group_members VALUES ('p', 'g', 'u');",
        )
        .unwrap();
        reset(&conn, None).unwrap();
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(tables.len() >= 12, "{tables:?}");
        for t in tables {
            let n: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, 0, "{t} still has rows after a full reset");
        }
    }
}
