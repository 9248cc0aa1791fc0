//! SQL for user pool groups and their members. Each function runs inside the transaction the
//! writer (or a reader) hands it; none commits. The member's group names are kept twice, in
//! `group_members` and in the `groups` column of its user row, and every function here that
//! changes one changes the other (see `cmfa_core::group`).

use super::encode;
use crate::error::{corrupt, from_sqlite};
use cmfa_core::group::Group;
use cmfa_core::store::{StoreError, StoreResult};
use cmfa_core::user::User;
use rusqlite::{Connection, OptionalExtension, params};

/// A user row's group names (`None`: no such user).
pub(super) fn user_groups(conn: &Connection, pool_id: &str, key: &str) -> StoreResult<Option<Vec<String>>> {
    let row: Option<String> = conn
        .prepare_cached("SELECT groups FROM users WHERE pool_id = ?1 AND key = ?2")
        .and_then(|mut s| s.query_row(params![pool_id, key], |r| r.get(0)).optional())
        .map_err(from_sqlite)?;
    row.map(|d| serde_json::from_str(&d).map_err(corrupt)).transpose()
}

fn set_user_groups(conn: &Connection, pool_id: &str, key: &str, groups: &[String]) -> StoreResult<()> {
    let data = encode(&groups)?;
    conn.prepare_cached("UPDATE users SET groups = ?3 WHERE pool_id = ?1 AND key = ?2")
        .and_then(|mut s| s.execute(params![pool_id, key, data]))
        .map_err(from_sqlite)?;
    Ok(())
}

fn group_exists(conn: &Connection, pool_id: &str, name: &str) -> StoreResult<bool> {
    conn.prepare_cached("SELECT 1 FROM groups WHERE pool_id = ?1 AND name = ?2")
        .and_then(|mut s| s.query_row(params![pool_id, name], |_| Ok(())).optional())
        .map(|r| r.is_some())
        .map_err(from_sqlite)
}

pub(super) fn create_group(conn: &Connection, g: &Group) -> StoreResult<()> {
    let pool_exists = conn
        .prepare_cached("SELECT 1 FROM pools WHERE id = ?1")
        .and_then(|mut s| s.query_row(params![g.pool_id], |_| Ok(())).optional())
        .map_err(from_sqlite)?;
    if pool_exists.is_none() {
        return Err(StoreError::NotFound);
    }
    // A taken name violates the primary key: Conflict.
    let data = encode(g)?;
    conn.prepare_cached("INSERT INTO groups (pool_id, name, data) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![g.pool_id, g.name, data]))
        .map_err(from_sqlite)?;
    Ok(())
}

pub(super) fn get_group(conn: &Connection, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
    let row: Option<String> = conn
        .prepare_cached("SELECT data FROM groups WHERE pool_id = ?1 AND name = ?2")
        .and_then(|mut s| s.query_row(params![pool_id, name], |r| r.get(0)).optional())
        .map_err(from_sqlite)?;
    row.map(|d| serde_json::from_str(&d).map_err(corrupt)).transpose()
}

pub(super) fn update_group(conn: &Connection, g: &Group) -> StoreResult<()> {
    let data = encode(g)?;
    let n = conn
        .prepare_cached("UPDATE groups SET data = ?3 WHERE pool_id = ?1 AND name = ?2")
        .and_then(|mut s| s.execute(params![g.pool_id, g.name, data]))
        .map_err(from_sqlite)?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Deletes a group; returns its former members' keys and their remaining group names.
pub(super) fn delete_group(conn: &Connection, pool_id: &str, name: &str) -> StoreResult<Vec<(String, Vec<String>)>> {
    let members: Vec<String> = conn
        .prepare_cached("SELECT key FROM group_members WHERE pool_id = ?1 AND name = ?2")
        .and_then(|mut s| {
            s.query_map(params![pool_id, name], |r| r.get(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(from_sqlite)?;
    let mut changed = Vec::with_capacity(members.len());
    for key in members {
        let mut groups = user_groups(conn, pool_id, &key)?.unwrap_or_default();
        groups.retain(|g| g != name);
        set_user_groups(conn, pool_id, &key, &groups)?;
        changed.push((key, groups));
    }
    // The memberships go with the group (ON DELETE CASCADE).
    let n = conn
        .prepare_cached("DELETE FROM groups WHERE pool_id = ?1 AND name = ?2")
        .and_then(|mut s| s.execute(params![pool_id, name]))
        .map_err(from_sqlite)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(changed)
}

fn decode_groups(rows: Vec<String>) -> StoreResult<Vec<Group>> {
    rows.iter().map(|d| serde_json::from_str(d).map_err(corrupt)).collect()
}

pub(super) fn list_groups(conn: &Connection, pool_id: &str, after: &str, limit: usize) -> StoreResult<Vec<Group>> {
    let rows = conn
        .prepare_cached("SELECT data FROM groups WHERE pool_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3")
        .and_then(|mut s| {
            s.query_map(params![pool_id, after, limit as i64], |r| r.get(0))?
                .collect::<Result<Vec<String>, _>>()
        })
        .map_err(from_sqlite)?;
    decode_groups(rows)
}

pub(super) fn get_groups(conn: &Connection, pool_id: &str, names: &[String]) -> StoreResult<Vec<Group>> {
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        if let Some(g) = get_group(conn, pool_id, n)? {
            out.push(g);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub(super) fn count_groups(conn: &Connection, pool_id: &str) -> StoreResult<u64> {
    conn.prepare_cached("SELECT count(*) FROM groups WHERE pool_id = ?1")
        .and_then(|mut s| s.query_row(params![pool_id], |r| r.get::<_, i64>(0)))
        .map(|n| n as u64)
        .map_err(from_sqlite)
}

/// Adds a membership; returns the user's group names after it.
pub(super) fn add_to_group(conn: &Connection, pool_id: &str, name: &str, key: &str) -> StoreResult<Vec<String>> {
    if !group_exists(conn, pool_id, name)? {
        return Err(StoreError::NotFound);
    }
    let mut groups = user_groups(conn, pool_id, key)?.ok_or(StoreError::NotFound)?;
    if let Err(at) = groups.binary_search_by(|g| g.as_str().cmp(name)) {
        groups.insert(at, name.to_owned());
        set_user_groups(conn, pool_id, key, &groups)?;
    }
    conn.prepare_cached("INSERT OR IGNORE INTO group_members (pool_id, name, key) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![pool_id, name, key]))
        .map_err(from_sqlite)?;
    Ok(groups)
}

/// Ends a membership; returns the user's group names after it.
pub(super) fn remove_from_group(conn: &Connection, pool_id: &str, name: &str, key: &str) -> StoreResult<Vec<String>> {
    let mut groups = user_groups(conn, pool_id, key)?.ok_or(StoreError::NotFound)?;
    if let Some(at) = groups.iter().position(|g| g == name) {
        groups.remove(at);
        set_user_groups(conn, pool_id, key, &groups)?;
    }
    conn.prepare_cached("DELETE FROM group_members WHERE pool_id = ?1 AND name = ?2 AND key = ?3")
        .and_then(|mut s| s.execute(params![pool_id, name, key]))
        .map_err(from_sqlite)?;
    Ok(groups)
}

pub(super) fn list_members(
    conn: &Connection,
    pool_id: &str,
    name: &str,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<(String, User)>> {
    let rows: Vec<(String, String, String)> = conn
        .prepare_cached(
            "SELECT m.key, u.data, u.groups FROM group_members m \
             JOIN users u ON u.pool_id = m.pool_id AND u.key = m.key \
             WHERE m.pool_id = ?1 AND m.name = ?2 AND m.key > ?3 ORDER BY m.key LIMIT ?4",
        )
        .and_then(|mut s| {
            s.query_map(params![pool_id, name, after, limit as i64], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(from_sqlite)?;
    rows.into_iter()
        .map(|(key, data, groups)| {
            let mut u: User = serde_json::from_str(&data).map_err(corrupt)?;
            u.groups = serde_json::from_str(&groups).map_err(corrupt)?;
            Ok((key, u))
        })
        .collect()
}
