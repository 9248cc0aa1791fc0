//! SQL for users, sessions, tokens and the outbox. Each function runs inside the transaction
//! the writer (or a reader) hands it; none commits.

use super::{encode, versioned_update_keyed};
use crate::error::{corrupt, from_sqlite};
use cmfa_core::auth::session::AuthSession;
use cmfa_core::outbound::{OutboundMessage, OutboxEntry};
use cmfa_core::store::{AliasKey, NEVER_RETRY, OutboxQuery, RefreshRecord, StoreError, StoreResult, UserFilter};
use cmfa_core::user::User;
use rusqlite::{Connection, OptionalExtension, params};

fn index_rows(user: &User) -> Vec<(&'static str, String)> {
    cmfa_core::user::search_index(user)
}

fn write_keys(conn: &Connection, user: &User, key: &str, aliases: &[AliasKey]) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM user_aliases WHERE pool_id = ?1 AND key = ?2")
        .and_then(|mut s| s.execute(params![user.pool_id, key]))
        .map_err(from_sqlite)?;
    for a in aliases {
        conn.prepare_cached("INSERT INTO user_aliases (pool_id, kind, value, key) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![user.pool_id, a.kind, a.value, key]))
            .map_err(from_sqlite)?;
    }
    conn.prepare_cached("DELETE FROM user_attrs WHERE pool_id = ?1 AND key = ?2")
        .and_then(|mut s| s.execute(params![user.pool_id, key]))
        .map_err(from_sqlite)?;
    for (name, value) in index_rows(user) {
        conn.prepare_cached("INSERT INTO user_attrs (pool_id, key, name, value) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![user.pool_id, key, name, value]))
            .map_err(from_sqlite)?;
    }
    Ok(())
}

pub(super) fn enqueue(conn: &Connection, m: &OutboundMessage, now: f64) -> StoreResult<()> {
    let data = encode(m)?;
    conn.prepare_cached(
        "INSERT INTO outbox (pool_id, username, destination, created_at, next_at, data) VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
    )
    .and_then(|mut s| s.execute(params![m.pool_id, m.username, m.destination, now, data]))
    .map_err(from_sqlite)?;
    Ok(())
}

pub(super) fn create_user(
    conn: &Connection,
    user: &User,
    key: &str,
    aliases: &[AliasKey],
    message: Option<&OutboundMessage>,
) -> StoreResult<Vec<String>> {
    let data = encode(user)?;
    conn.prepare_cached("INSERT INTO users (pool_id, key, version, data) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut s| s.execute(params![user.pool_id, key, user.version as i64, data]))
        .map_err(from_sqlite)?;
    write_keys(conn, user, key, aliases)?;
    if let Some(m) = message {
        enqueue(conn, m, user.modified)?;
    }
    // A new user is in no group.
    Ok(Vec::new())
}

pub(super) fn update_user(
    conn: &Connection,
    user: &User,
    key: &str,
    aliases: &[AliasKey],
    message: Option<&OutboundMessage>,
) -> StoreResult<Vec<String>> {
    let groups = update_record(conn, user, key)?;
    write_keys(conn, user, key, aliases)?;
    if let Some(m) = message {
        enqueue(conn, m, user.modified)?;
    }
    Ok(groups)
}

/// Replaces the user's record (version-checked) and returns its group names as stored, which
/// the write leaves alone: the copy the caller read may predate a membership change, and the
/// hot cache must hold the stored ones.
pub(super) fn update_record(conn: &Connection, user: &User, key: &str) -> StoreResult<Vec<String>> {
    versioned_update_keyed(conn, "users", &user.pool_id, key, user.version as i64, &encode(user)?)?;
    Ok(super::groups::user_groups(conn, &user.pool_id, key)?.unwrap_or_default())
}

pub(super) fn get_user(conn: &Connection, pool_id: &str, key: &str) -> StoreResult<Option<User>> {
    let row: Option<(String, String)> = conn
        .prepare_cached("SELECT data, groups FROM users WHERE pool_id = ?1 AND key = ?2")
        .and_then(|mut s| {
            s.query_row(params![pool_id, key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(from_sqlite)?;
    row.map(|(d, g)| {
        let mut u: User = serde_json::from_str(&d).map_err(corrupt)?;
        u.groups = serde_json::from_str(&g).map_err(corrupt)?;
        Ok(u)
    })
    .transpose()
}

pub(super) fn find_alias(conn: &Connection, pool_id: &str, a: &AliasKey) -> StoreResult<Option<String>> {
    conn.prepare_cached("SELECT key FROM user_aliases WHERE pool_id = ?1 AND kind = ?2 AND value = ?3")
        .and_then(|mut s| s.query_row(params![pool_id, a.kind, a.value], |r| r.get(0)).optional())
        .map_err(from_sqlite)
}

pub(super) fn delete_user(conn: &Connection, pool_id: &str, key: &str) -> StoreResult<()> {
    let n = conn
        .prepare_cached("DELETE FROM users WHERE pool_id = ?1 AND key = ?2")
        .and_then(|mut s| s.execute(params![pool_id, key]))
        .map_err(from_sqlite)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn decode_users(rows: Vec<String>) -> StoreResult<Vec<User>> {
    rows.iter().map(|d| serde_json::from_str(d).map_err(corrupt)).collect()
}

/// Users matching one attribute, in key order. The index hint matters: without statistics
/// (this store never runs ANALYZE) SQLite would walk the whole pool in key order to satisfy the
/// ORDER BY and LIMIT, which takes most of a second at 100,000 users; the lookup index finds the
/// few matches directly and sorts them.
pub(super) const FILTERED_USERS_SQL: &str = "SELECT u.data FROM user_attrs a INDEXED BY user_attrs_lookup \
     JOIN users u ON u.pool_id = a.pool_id AND u.key = a.key \
     WHERE a.pool_id = ?1 AND a.name = ?2 AND a.value >= ?3 AND a.value <= ?4 AND a.key > ?5 \
     ORDER BY a.key LIMIT ?6";

pub(super) fn list_users(
    conn: &Connection,
    pool_id: &str,
    filter: Option<&UserFilter>,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<User>> {
    let limit = limit as i64;
    let rows: Vec<String> = match filter {
        None => conn
            .prepare_cached("SELECT data FROM users WHERE pool_id = ?1 AND key > ?2 ORDER BY key LIMIT ?3")
            .and_then(|mut s| {
                s.query_map(params![pool_id, after, limit], |r| r.get(0))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(from_sqlite)?,
        Some(f) => {
            let (lo, hi) = if f.prefix {
                (f.value.clone(), format!("{}\u{10FFFF}", f.value))
            } else {
                (f.value.clone(), f.value.clone())
            };
            // The filter picks the matching keys by index; pages follow key order.
            conn.prepare_cached(FILTERED_USERS_SQL)
                .and_then(|mut s| {
                    s.query_map(params![pool_id, f.attribute, lo, hi, after, limit], |r| r.get(0))?
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(from_sqlite)?
        }
    };
    decode_users(rows)
}

pub(super) fn count_users(conn: &Connection, pool_id: &str) -> StoreResult<u64> {
    conn.prepare_cached("SELECT count(*) FROM users WHERE pool_id = ?1")
        .and_then(|mut s| s.query_row(params![pool_id], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .map_err(from_sqlite)
}

pub(super) fn put_session(conn: &Connection, s: &AuthSession) -> StoreResult<()> {
    let data = encode(s)?;
    conn.prepare_cached("INSERT INTO sessions (id, pool_id, expires_at, data) VALUES (?1, ?2, ?3, ?4)")
        .and_then(|mut st| st.execute(params![s.id, s.pool_id, s.expires_at, data]))
        .map_err(from_sqlite)?;
    Ok(())
}

pub(super) fn get_session(conn: &Connection, id: &str) -> StoreResult<Option<(AuthSession, bool)>> {
    let row: Option<(String, i64)> = conn
        .prepare_cached("SELECT data, used FROM sessions WHERE id = ?1")
        .and_then(|mut s| s.query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(from_sqlite)?;
    row.map(|(d, used)| Ok((serde_json::from_str(&d).map_err(corrupt)?, used != 0)))
        .transpose()
}

/// Deletes sessions that expired before `before`, or that claim to expire after `not_after`
/// (no session lives that long: those were stored while the clock was set ahead), looking only
/// at the `limit` oldest (rowid is creation order); returns how many it deleted. A session that
/// lives longer than those after it only delays their turn until it expires too.
pub(super) fn sweep_sessions(conn: &Connection, before: f64, not_after: f64, limit: usize) -> StoreResult<usize> {
    conn.prepare_cached(
        "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions ORDER BY rowid LIMIT ?1) \
         AND (expires_at < ?2 OR expires_at > ?3)",
    )
    .and_then(|mut s| s.execute(params![limit as i64, before, not_after]))
    .map_err(from_sqlite)
}

/// Deletes up to `limit` outbox messages recorded before `before` that are done with (delivered,
/// or given up on), oldest first.
pub(super) fn prune_outbox(conn: &Connection, before: f64, limit: usize) -> StoreResult<usize> {
    conn.prepare_cached(
        "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE created_at < ?1 \
         AND (delivered_at IS NOT NULL OR next_at >= ?3) ORDER BY id LIMIT ?2)",
    )
    .and_then(|mut s| s.execute(params![before, limit as i64, NEVER_RETRY]))
    .map_err(from_sqlite)
}

/// Deletes up to `limit` refresh-token rows (tokens from before sealed refresh tokens) that
/// expired before `now`.
pub(super) fn prune_refresh(conn: &Connection, now: f64, limit: usize) -> StoreResult<usize> {
    conn.prepare_cached(
        "DELETE FROM refresh_tokens WHERE rowid IN (SELECT rowid FROM refresh_tokens WHERE expires_at < ?1 LIMIT ?2)",
    )
    .and_then(|mut s| s.execute(params![now, limit as i64]))
    .map_err(from_sqlite)
}

pub(super) fn use_session(conn: &Connection, id: &str) -> StoreResult<()> {
    let n = conn
        .prepare_cached("UPDATE sessions SET used = 1 WHERE id = ?1 AND used = 0")
        .and_then(|mut s| s.execute(params![id]))
        .map_err(from_sqlite)?;
    if n == 0 { Err(StoreError::Conflict) } else { Ok(()) }
}

pub(super) fn put_refresh(conn: &Connection, r: &RefreshRecord) -> StoreResult<()> {
    let data = encode(r)?;
    conn.prepare_cached(
        "INSERT INTO refresh_tokens (hash, pool_id, user_key, origin_jti, expires_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| s.execute(params![r.hash, r.pool_id, r.username_key, r.origin_jti, r.expires_at, data]))
    .map_err(from_sqlite)?;
    Ok(())
}

pub(super) fn get_refresh(conn: &Connection, hash: &str) -> StoreResult<Option<RefreshRecord>> {
    let row: Option<(String, Option<f64>)> = conn
        .prepare_cached(
            "SELECT t.data, r.revoked_at FROM refresh_tokens t \
             LEFT JOIN revoked_origins r ON r.origin_jti = t.origin_jti WHERE t.hash = ?1",
        )
        .and_then(|mut s| s.query_row(params![hash], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(from_sqlite)?;
    row.map(|(d, revoked)| {
        let mut rec: RefreshRecord = serde_json::from_str(&d).map_err(corrupt)?;
        rec.revoked |= revoked.is_some();
        Ok(rec)
    })
    .transpose()
}

pub(super) fn revoke_origin(conn: &Connection, pool_id: &str, origin_jti: &str, now: f64) -> StoreResult<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO revoked_origins (origin_jti, pool_id, revoked_at) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![origin_jti, pool_id, now]))
        .map_err(from_sqlite)?;
    Ok(())
}

/// Revokes every sign-in of one user; returns the origins revoked.
pub(super) fn revoke_user(conn: &Connection, pool_id: &str, key: &str, now: f64) -> StoreResult<Vec<String>> {
    let origins: Vec<String> = conn
        .prepare_cached("SELECT DISTINCT origin_jti FROM refresh_tokens WHERE pool_id = ?1 AND user_key = ?2")
        .and_then(|mut s| {
            s.query_map(params![pool_id, key], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(from_sqlite)?;
    for o in &origins {
        revoke_origin(conn, pool_id, o, now)?;
    }
    Ok(origins)
}

pub(super) fn load_revoked(conn: &Connection) -> StoreResult<Vec<String>> {
    conn.prepare("SELECT origin_jti FROM revoked_origins")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect::<Result<Vec<_>, _>>())
        .map_err(from_sqlite)
}

fn entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, f64, Option<f64>, i64, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn entries(rows: Vec<(i64, f64, Option<f64>, i64, String)>) -> StoreResult<Vec<OutboxEntry>> {
    rows.into_iter()
        .map(|(id, created_at, delivered_at, attempts, data)| {
            Ok(OutboxEntry {
                id,
                created_at,
                delivered_at,
                attempts: attempts as u32,
                message: serde_json::from_str(&data).map_err(corrupt)?,
            })
        })
        .collect()
}

pub(super) fn list_outbox(conn: &Connection, q: &OutboxQuery) -> StoreResult<Vec<OutboxEntry>> {
    let rows = conn
        .prepare_cached(
            "SELECT id, created_at, delivered_at, attempts, data FROM outbox \
             WHERE (?1 IS NULL OR pool_id = ?1) AND (?2 IS NULL OR username = ?2) AND (?3 IS NULL OR destination = ?3) \
             ORDER BY id DESC LIMIT ?4",
        )
        .and_then(|mut s| {
            s.query_map(
                params![q.pool_id, q.username, q.destination, q.limit.max(1) as i64],
                entry,
            )?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(from_sqlite)?;
    entries(rows)
}

pub(super) fn claim_outbound(conn: &Connection, now: f64, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
    let rows = conn
        .prepare_cached(
            "SELECT id, created_at, delivered_at, attempts, data FROM outbox \
             WHERE delivered_at IS NULL AND next_at <= ?1 ORDER BY id LIMIT ?2",
        )
        .and_then(|mut s| {
            s.query_map(params![now, limit as i64], entry)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(from_sqlite)?;
    // Claimed messages are pushed a minute out, so a crashed worker's claims come back.
    for r in &rows {
        conn.prepare_cached("UPDATE outbox SET next_at = ?2, attempts = attempts + 1 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![r.0, now + 60.0]))
            .map_err(from_sqlite)?;
    }
    entries(rows)
}

pub(super) fn settle_outbound(conn: &Connection, id: i64, delivered_at: Option<f64>, retry_at: f64) -> StoreResult<()> {
    conn.prepare_cached("UPDATE outbox SET delivered_at = ?2, next_at = ?3 WHERE id = ?1")
        .and_then(|mut s| s.execute(params![id, delivered_at, retry_at]))
        .map_err(from_sqlite)?;
    Ok(())
}

/// Undelivered messages not given up (given-up ones wait at [`NEVER_RETRY`]).
pub(super) fn outbound_backlog(conn: &Connection) -> StoreResult<u64> {
    conn.prepare_cached("SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND next_at < ?1")
        .and_then(|mut s| s.query_row(params![NEVER_RETRY], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .map_err(from_sqlite)
}

#[cfg(test)]
pub(super) mod tests {
    #[test]
    fn filtered_listing_uses_the_lookup_index() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::super::migrate::run(&mut conn).unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", super::FILTERED_USERS_SQL))
            .unwrap()
            .query_map(rusqlite::params!["p", "email", "a", "a", "", 10], |r| {
                r.get::<_, String>(3)
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(plan.iter().any(|l| l.contains("user_attrs_lookup")), "{plan:?}");
    }

    /// A migrated in-memory database with pool `p` and these sessions, created in this order.
    pub(in crate::sqlite) fn with_sessions(rows: &[(&str, f64)]) -> rusqlite::Connection {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        super::super::migrate::run(&mut conn).unwrap();
        conn.execute("INSERT INTO pools (id, version, data) VALUES ('p', 1, '{}')", [])
            .unwrap();
        for (id, expires_at) in rows {
            conn.execute(
                "INSERT INTO sessions (id, pool_id, expires_at, data) VALUES (?1, 'p', ?2, '{}')",
                rusqlite::params![id, expires_at],
            )
            .unwrap();
        }
        conn
    }

    /// The ids of the sessions left, in creation order.
    pub(in crate::sqlite) fn left(conn: &rusqlite::Connection) -> Vec<String> {
        conn.prepare("SELECT id FROM sessions ORDER BY rowid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn the_sweep_deletes_only_sessions_expired_before_the_cutoff_oldest_first() {
        // Created in this order; "long" outlives those after it.
        let conn = with_sessions(&[("a", 10.0), ("long", 500.0), ("b", 20.0), ("c", 30.0), ("fresh", 900.0)]);
        // Only the two oldest are looked at: "a" goes, "long" stays, "b" waits its turn.
        assert_eq!(super::sweep_sessions(&conn, 100.0, 1e12, 2).unwrap(), 1);
        assert_eq!(left(&conn), ["long", "b", "c", "fresh"]);
        assert_eq!(super::sweep_sessions(&conn, 100.0, 1e12, 2).unwrap(), 1);
        assert_eq!(left(&conn), ["long", "c", "fresh"]);
        assert_eq!(super::sweep_sessions(&conn, 100.0, 1e12, 10).unwrap(), 1);
        assert_eq!(left(&conn), ["long", "fresh"]);
        // Nothing expired before the cutoff: nothing goes.
        assert_eq!(super::sweep_sessions(&conn, 100.0, 1e12, 10).unwrap(), 0);
        assert_eq!(super::sweep_sessions(&conn, 600.0, 1e12, 10).unwrap(), 1);
        assert_eq!(left(&conn), ["fresh"]);
        // An expiry later than any session can live: stored under a clock set ahead; it goes.
        assert_eq!(super::sweep_sessions(&conn, 600.0, 800.0, 10).unwrap(), 1);
        assert!(left(&conn).is_empty());
    }

    #[test]
    fn sessions_have_no_expiry_index_to_maintain() {
        let conn = with_sessions(&[]);
        let indexes: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sessions'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(indexes.iter().all(|n| n.starts_with("sqlite_autoindex")), "{indexes:?}");
    }
}
