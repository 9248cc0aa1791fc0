//! SQL for user pool groups and their members. Each function runs on the `Db` it is handed
//! (inside the caller's transaction when there is one); none commits. As in the SQLite store,
//! a member's group names live in `group_members` and in the `groups` column of its user row.
//!
//! Locks, always in this order, so that processes racing on one group or one user queue up
//! instead of overwriting each other's names or deadlocking: first the group row (`FOR UPDATE`
//! to delete it, `FOR KEY SHARE` to change a membership in it), then the user rows
//! (`FOR UPDATE`). A membership added while its group is being deleted thus waits for the
//! delete and then finds no group, instead of being missed by it and leaving a stale name on
//! the user row.

use super::pool::Db;
use super::{decode, decode_all, encode};
use crate::error::{corrupt, from_pg};
use cmfa_core::group::Group;
use cmfa_core::store::{StoreError, StoreResult};
use cmfa_core::user::User;
use tokio_postgres::GenericClient;

fn names(data: &str) -> StoreResult<Vec<String>> {
    serde_json::from_str(data).map_err(corrupt)
}

/// Locks the group row against deletion (or, with `delete`, for it); whether it exists.
async fn lock_group<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    name: &str,
    delete: bool,
) -> StoreResult<bool> {
    let sql = if delete {
        "SELECT 1 FROM groups WHERE pool_id = $1 AND name = $2 FOR UPDATE"
    } else {
        "SELECT 1 FROM groups WHERE pool_id = $1 AND name = $2 FOR KEY SHARE"
    };
    Ok(db.opt(sql, &[&pool_id, &name]).await?.is_some())
}

/// The user row's group names, locked until the transaction ends (`None`: no such user).
pub(super) async fn lock_user_groups<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    key: &str,
) -> StoreResult<Option<Vec<String>>> {
    let row = db
        .opt(
            "SELECT groups FROM users WHERE pool_id = $1 AND key = $2 FOR UPDATE",
            &[&pool_id, &key],
        )
        .await?;
    row.map(|r| names(r.try_get(0).map_err(from_pg)?)).transpose()
}

pub(super) async fn set_user_groups<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    key: &str,
    groups: &[String],
) -> StoreResult<()> {
    let data = encode(&groups)?;
    db.exec(
        "UPDATE users SET groups = $3 WHERE pool_id = $1 AND key = $2",
        &[&pool_id, &key, &data],
    )
    .await?;
    Ok(())
}

pub(super) async fn get_group<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    name: &str,
) -> StoreResult<Option<Group>> {
    db.opt(
        "SELECT data FROM groups WHERE pool_id = $1 AND name = $2",
        &[&pool_id, &name],
    )
    .await?
    .map(|r| decode(&r, 0))
    .transpose()
}

pub(super) async fn list_groups<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<Group>> {
    let rows = db
        .rows(
            "SELECT data FROM groups WHERE pool_id = $1 AND name > $2 ORDER BY name LIMIT $3",
            &[&pool_id, &after, &(limit as i64)],
        )
        .await?;
    decode_all(&rows)
}

pub(super) async fn get_groups<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    names: &[String],
) -> StoreResult<Vec<Group>> {
    let rows = db
        .rows(
            "SELECT data FROM groups WHERE pool_id = $1 AND name = ANY ($2::text[]) ORDER BY name",
            &[&pool_id, &names],
        )
        .await?;
    decode_all(&rows)
}

/// Deletes a group, taking its name off its members' rows first.
pub(super) async fn delete_group<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    name: &str,
) -> StoreResult<()> {
    if !lock_group(db, pool_id, name, true).await? {
        return Err(StoreError::NotFound);
    }
    let members = db
        .rows(
            "SELECT key FROM group_members WHERE pool_id = $1 AND name = $2 ORDER BY key",
            &[&pool_id, &name],
        )
        .await?;
    for m in &members {
        let key: String = m.try_get(0).map_err(from_pg)?;
        if let Some(mut groups) = lock_user_groups(db, pool_id, &key).await? {
            groups.retain(|g| g != name);
            set_user_groups(db, pool_id, &key, &groups).await?;
        }
    }
    // The memberships go with the group (ON DELETE CASCADE).
    let n = db
        .exec(
            "DELETE FROM groups WHERE pool_id = $1 AND name = $2",
            &[&pool_id, &name],
        )
        .await?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub(super) async fn add_to_group<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    name: &str,
    key: &str,
) -> StoreResult<()> {
    if !lock_group(db, pool_id, name, false).await? {
        return Err(StoreError::NotFound);
    }
    let mut groups = lock_user_groups(db, pool_id, key).await?.ok_or(StoreError::NotFound)?;
    db.exec(
        "INSERT INTO group_members (pool_id, name, key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        &[&pool_id, &name, &key],
    )
    .await?;
    if let Err(at) = groups.binary_search_by(|g| g.as_str().cmp(name)) {
        groups.insert(at, name.to_owned());
        set_user_groups(db, pool_id, key, &groups).await?;
    }
    Ok(())
}

pub(super) async fn remove_from_group<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    name: &str,
    key: &str,
) -> StoreResult<()> {
    // Only for the lock order: a group that is gone has no membership left to end.
    lock_group(db, pool_id, name, false).await?;
    let mut groups = lock_user_groups(db, pool_id, key).await?.ok_or(StoreError::NotFound)?;
    db.exec(
        "DELETE FROM group_members WHERE pool_id = $1 AND name = $2 AND key = $3",
        &[&pool_id, &name, &key],
    )
    .await?;
    if let Some(at) = groups.iter().position(|g| g == name) {
        groups.remove(at);
        set_user_groups(db, pool_id, key, &groups).await?;
    }
    Ok(())
}

pub(super) async fn list_members<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    name: &str,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<(String, User)>> {
    let rows = db
        .rows(
            "SELECT m.key, u.data, u.groups FROM group_members m \
             JOIN users u ON u.pool_id = m.pool_id AND u.key = m.key \
             WHERE m.pool_id = $1 AND m.name = $2 AND m.key > $3 ORDER BY m.key LIMIT $4",
            &[&pool_id, &name, &after, &(limit as i64)],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let mut u: User = decode(r, 1)?;
            u.groups = names(r.try_get(2).map_err(from_pg)?)?;
            Ok((r.try_get(0).map_err(from_pg)?, u))
        })
        .collect()
}
