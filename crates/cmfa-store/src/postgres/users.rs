//! SQL for users, tokens and the outbox. Each function runs on the `Db` it is handed (inside
//! the caller's transaction when there is one); none commits.

use super::pool::Db;
use super::{decode, decode_all, encode, versioned};
use crate::error::from_pg;
use cmfa_core::outbound::{OutboundMessage, OutboxEntry};
use cmfa_core::store::{AliasKey, OutboxQuery, RefreshRecord, StoreResult, UserFilter};
use cmfa_core::user::User;
use tokio_postgres::{GenericClient, Row};

fn index_rows(user: &User) -> (Vec<&'static str>, Vec<String>) {
    cmfa_core::user::search_index(user).into_iter().unzip()
}

pub(super) async fn insert_user<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    user: &User,
    key: &str,
) -> StoreResult<()> {
    let data = encode(user)?;
    db.exec(
        "INSERT INTO users (pool_id, key, version, data) VALUES ($1, $2, $3, $4)",
        &[&user.pool_id, &key, &(user.version as i64), &data],
    )
    .await?;
    Ok(())
}

/// Replaces the user's record if its stored version is `user.version - 1`.
pub(super) async fn update_user<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    user: &User,
    key: &str,
) -> StoreResult<()> {
    let data = encode(user)?;
    let (version, prev) = (user.version as i64, user.version as i64 - 1);
    let row = db
        .one(
            "WITH u AS (UPDATE users SET version = $1, data = $2 WHERE pool_id = $3 AND key = $4 AND version = $5 RETURNING 1) \
             SELECT (SELECT count(*) FROM u), EXISTS (SELECT 1 FROM users WHERE pool_id = $3 AND key = $4)",
            &[&version, &data, &user.pool_id, &key, &prev],
        )
        .await?;
    versioned(&row)
}

/// Writes the user's alias keys and searchable attributes (replacing the old ones if `replace`).
pub(super) async fn write_keys<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    user: &User,
    key: &str,
    aliases: &[AliasKey],
    replace: bool,
) -> StoreResult<()> {
    if replace {
        db.exec(
            "DELETE FROM user_aliases WHERE pool_id = $1 AND key = $2",
            &[&user.pool_id, &key],
        )
        .await?;
        db.exec(
            "DELETE FROM user_attrs WHERE pool_id = $1 AND key = $2",
            &[&user.pool_id, &key],
        )
        .await?;
    }
    if !aliases.is_empty() {
        let kinds: Vec<&str> = aliases.iter().map(|a| a.kind).collect();
        let values: Vec<&str> = aliases.iter().map(|a| a.value.as_str()).collect();
        // A value another user holds violates the primary key: Conflict.
        db.exec(
            "INSERT INTO user_aliases (pool_id, kind, value, key) \
             SELECT $1::text, k, v, $2::text FROM unnest($3::text[], $4::text[]) AS t (k, v)",
            &[&user.pool_id, &key, &kinds, &values],
        )
        .await?;
    }
    let (names, values) = index_rows(user);
    db.exec(
        "INSERT INTO user_attrs (pool_id, key, name, value) \
         SELECT $1::text, $2::text, n, v FROM unnest($3::text[], $4::text[]) AS t (n, v)",
        &[&user.pool_id, &key, &names, &values],
    )
    .await?;
    Ok(())
}

pub(super) async fn enqueue<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    m: &OutboundMessage,
    now: f64,
) -> StoreResult<()> {
    let data = encode(m)?;
    db.exec(
        "INSERT INTO outbox (pool_id, username, destination, created_at, next_at, data) \
         VALUES ($1, $2, $3, $4, $4, $5)",
        &[&m.pool_id, &m.username, &m.destination, &now, &data],
    )
    .await?;
    Ok(())
}

pub(super) async fn get_user<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    key: &str,
) -> StoreResult<Option<User>> {
    db.opt(
        "SELECT data, groups FROM users WHERE pool_id = $1 AND key = $2",
        &[&pool_id, &key],
    )
    .await?
    .map(|r| {
        let mut u: User = decode(&r, 0)?;
        u.groups = decode(&r, 1)?;
        Ok(u)
    })
    .transpose()
}

pub(super) async fn find_alias<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    a: &AliasKey,
) -> StoreResult<Option<String>> {
    db.opt(
        "SELECT key FROM user_aliases WHERE pool_id = $1 AND kind = $2 AND value = $3",
        &[&pool_id, &a.kind, &a.value],
    )
    .await?
    .map(|r| r.try_get(0).map_err(from_pg))
    .transpose()
}

pub(super) async fn list_users<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    pool_id: &str,
    filter: Option<&UserFilter>,
    after: &str,
    limit: usize,
) -> StoreResult<Vec<User>> {
    let limit = limit as i64;
    let rows = match filter {
        None => {
            db.rows(
                "SELECT data FROM users WHERE pool_id = $1 AND key > $2 ORDER BY key LIMIT $3",
                &[&pool_id, &after, &limit],
            )
            .await?
        }
        Some(f) => {
            let (lo, hi) = if f.prefix {
                (f.value.clone(), format!("{}\u{10FFFF}", f.value))
            } else {
                (f.value.clone(), f.value.clone())
            };
            // The filter picks the matching keys by index; pages follow key order.
            db.rows(
                "SELECT u.data FROM user_attrs a JOIN users u ON u.pool_id = a.pool_id AND u.key = a.key \
                 WHERE a.pool_id = $1 AND a.name = $2 AND a.value >= $3 AND a.value <= $4 AND a.key > $5 \
                 ORDER BY a.key LIMIT $6",
                &[&pool_id, &f.attribute, &lo, &hi, &after, &limit],
            )
            .await?
        }
    };
    decode_all(&rows)
}

pub(super) async fn put_refresh<C: GenericClient + Sync>(db: &mut Db<'_, C>, r: &RefreshRecord) -> StoreResult<()> {
    let data = encode(r)?;
    db.exec(
        "INSERT INTO refresh_tokens (hash, pool_id, user_key, origin_jti, expires_at, data) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &r.hash,
            &r.pool_id,
            &r.username_key,
            &r.origin_jti,
            &r.expires_at,
            &data,
        ],
    )
    .await?;
    Ok(())
}

pub(super) async fn get_refresh<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    hash: &str,
) -> StoreResult<Option<RefreshRecord>> {
    let row = db
        .opt(
            "SELECT t.data, r.origin_jti IS NOT NULL FROM refresh_tokens t \
             LEFT JOIN revoked_origins r ON r.origin_jti = t.origin_jti WHERE t.hash = $1",
            &[&hash],
        )
        .await?;
    row.map(|r| {
        let mut rec: RefreshRecord = decode(&r, 0)?;
        rec.revoked |= r.try_get::<_, bool>(1).map_err(from_pg)?;
        Ok(rec)
    })
    .transpose()
}

fn entries(rows: &[Row]) -> StoreResult<Vec<OutboxEntry>> {
    rows.iter()
        .map(|r| {
            Ok(OutboxEntry {
                id: r.try_get(0).map_err(from_pg)?,
                created_at: r.try_get(1).map_err(from_pg)?,
                delivered_at: r.try_get(2).map_err(from_pg)?,
                attempts: r.try_get::<_, i32>(3).map_err(from_pg)? as u32,
                message: decode(r, 4)?,
            })
        })
        .collect()
}

pub(super) async fn list_outbox<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    q: &OutboxQuery,
) -> StoreResult<Vec<OutboxEntry>> {
    let limit = q.limit.max(1) as i64;
    let rows = db
        .rows(
            "SELECT id, created_at, delivered_at, attempts, data FROM outbox \
             WHERE ($1::text IS NULL OR pool_id = $1) AND ($2::text IS NULL OR username = $2) \
             AND ($3::text IS NULL OR destination = $3) ORDER BY id DESC LIMIT $4",
            &[&q.pool_id, &q.username, &q.destination, &limit],
        )
        .await?;
    entries(&rows)
}

/// Claims due messages; each is pushed a minute out so a crashed worker's claims come back.
/// Rows another process is claiming right now are skipped, not waited for. The entries carry
/// the attempt count from before this claim, as SQLite's do.
pub(super) async fn claim_outbound<C: GenericClient + Sync>(
    db: &mut Db<'_, C>,
    now: f64,
    limit: usize,
) -> StoreResult<Vec<OutboxEntry>> {
    let limit = limit as i64;
    let rows = db
        .rows(
            "WITH due AS (SELECT id FROM outbox WHERE delivered_at IS NULL AND next_at <= $1::float8 \
                          ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) \
             UPDATE outbox o SET next_at = $1::float8 + 60, attempts = o.attempts + 1 FROM due WHERE o.id = due.id \
             RETURNING o.id, o.created_at, o.delivered_at, o.attempts - 1, o.data",
            &[&now, &limit],
        )
        .await?;
    let mut out = entries(&rows)?;
    out.sort_by_key(|e| e.id);
    Ok(out)
}
