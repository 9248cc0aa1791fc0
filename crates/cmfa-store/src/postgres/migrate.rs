//! Embedded, append-only migrations, tracked in a `schema_migrations` table.
//!
//! Several processes may start at once on one database: each takes a session-level advisory
//! lock first, so exactly one applies a migration and the others then find it applied.

use crate::error::from_pg;
use cmfa_core::store::{StoreError, StoreResult};
use tokio_postgres::Client;

/// Every migration, in order. Never edit one that has shipped; add a new one.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/postgres/0001_initial.sql"),
    include_str!("../../migrations/postgres/0002_groups.sql"),
];

/// The advisory lock key (any fixed bigint; "cmfa" in ASCII, then "migr").
const LOCK_KEY: i64 = 0x636d_6661_6d69_6772;

pub(super) async fn run(client: &mut Client) -> StoreResult<()> {
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(from_pg)?;
    let result = apply(client).await;
    // Also released if the connection drops, so an error here cannot wedge other processes.
    let unlock = client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await
        .map_err(from_pg);
    result.and(unlock.map(|_| ()))
}

async fn apply(client: &mut Client) -> StoreResult<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (\
                 version    bigint PRIMARY KEY, \
                 applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await
        .map_err(from_pg)?;
    let current: i64 = client
        .query_one("SELECT coalesce(max(version), 0) FROM schema_migrations", &[])
        .await
        .and_then(|r| r.try_get(0))
        .map_err(from_pg)?;
    if current as usize > MIGRATIONS.len() {
        return Err(StoreError::Unavailable(format!(
            "database schema version {current} is newer than this binary knows ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = (i + 1) as i64;
        let tx = client.transaction().await.map_err(from_pg)?;
        tx.batch_execute(sql).await.map_err(from_pg)?;
        tx.execute("INSERT INTO schema_migrations (version) VALUES ($1)", &[&version])
            .await
            .map_err(from_pg)?;
        tx.commit().await.map_err(from_pg)?;
        tracing::info!(version, "applied PostgreSQL migration");
    }
    Ok(())
}
