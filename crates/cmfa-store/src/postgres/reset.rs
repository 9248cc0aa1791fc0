//! Wiping data for test suites: everything, or one pool with all it holds, in one transaction.
//!
//! Other processes keep reading and writing meanwhile, so the order of the deletes is chosen
//! to take row locks in the order the other transactions take them (see `groups` and
//! `write_step`): sessions before users, a group before its members' users, a user before its
//! memberships, and the pool last, since every insert below it takes a key-share lock on it.
//! A transaction that waits for the reset then either finds its rows gone (`NotFound`) or runs
//! after it; none waits for the reset while the reset waits for it. Should PostgreSQL still
//! report a deadlock or a serialization failure, the reset is tried again from the start.

use crate::error::from_pg;
use cmfa_core::store::StoreResult;
use tokio_postgres::Client;
use tokio_postgres::error::SqlState;

/// Everything of one pool (`$1`), in lock order. Aliases, searchable attributes and
/// memberships go with their user (ON DELETE CASCADE).
const ONE_POOL: [&str; 10] = [
    "DELETE FROM sessions WHERE pool_id = $1",
    "DELETE FROM refresh_tokens WHERE pool_id = $1",
    "SELECT 1 FROM groups WHERE pool_id = $1 FOR UPDATE",
    "DELETE FROM users WHERE pool_id = $1",
    "DELETE FROM groups WHERE pool_id = $1",
    "DELETE FROM clients WHERE pool_id = $1",
    "DELETE FROM signing_keys WHERE pool_id = $1",
    "DELETE FROM pools WHERE id = $1",
    "DELETE FROM revoked_origins WHERE pool_id = $1",
    "DELETE FROM outbox WHERE pool_id = $1",
];

/// Everything, in the same order.
const EVERYTHING: [&str; 10] = [
    "DELETE FROM sessions",
    "DELETE FROM refresh_tokens",
    "SELECT 1 FROM groups FOR UPDATE",
    "DELETE FROM users",
    "DELETE FROM groups",
    "DELETE FROM clients",
    "DELETE FROM signing_keys",
    "DELETE FROM pools",
    "DELETE FROM revoked_origins",
    "DELETE FROM outbox",
];

/// Further attempts after a deadlock or serialization failure.
const RETRIES: usize = 3;

pub(super) async fn reset(client: &mut Client, pool: Option<&str>) -> StoreResult<()> {
    let mut retries = 0;
    loop {
        match run(client, pool).await {
            Ok(()) => return Ok(()),
            Err(e) if retries < RETRIES && is_transient(&e) => {
                retries += 1;
                tracing::debug!(retries, "reset lost a lock race; trying again");
            }
            Err(e) => return Err(from_pg(e)),
        }
    }
}

async fn run(client: &mut Client, pool: Option<&str>) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    match pool {
        None => {
            for sql in EVERYTHING {
                tx.execute(sql, &[]).await?;
            }
        }
        Some(id) => {
            for sql in ONE_POOL {
                tx.execute(sql, &[&id]).await?;
            }
        }
    }
    tx.commit().await
}

fn is_transient(e: &tokio_postgres::Error) -> bool {
    matches!(e.code(), Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE)
}
