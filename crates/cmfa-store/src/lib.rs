#![forbid(unsafe_code)]
//! Storage adapters for `cmfa_core::Store`.
//!
//! - [`SqliteStore`]: the embedded default. One process owns a data directory (an exclusive file
//!   lock enforces it), which is what makes its in-memory read cache correct.
//! - [`PgStore`] (feature `postgres`, on by default): for several server processes on one
//!   database. It caches nothing that can change, so every process sees every write.
//!
//! Each adapter maps its database errors to `StoreError` in [`error`], so no database type
//! crosses into the domain.

mod clock;
mod error;
mod expiry;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;

#[cfg(feature = "postgres")]
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use std::sync::Arc;
use std::time::{Duration, Instant};

/// What kind of database call a [`DbTimer`] is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbCall {
    /// SQLite: a query on a reader connection.
    Read,
    /// SQLite: a write through the group-commit writer, the wait for its batch's commit included.
    Write,
    /// PostgreSQL: one statement outside an explicit transaction.
    Statement,
    /// PostgreSQL: an explicit transaction, from taking the connection to giving it back.
    Transaction,
}

impl DbCall {
    pub fn name(self) -> &'static str {
        match self {
            DbCall::Read => "read",
            DbCall::Write => "write",
            DbCall::Statement => "statement",
            DbCall::Transaction => "transaction",
        }
    }
}

/// Told how long each database call took (for metrics), the wait for a connection included.
/// Cache hits are no database call and are not reported.
pub type DbTimer = Arc<dyn Fn(DbCall, Duration) + Send + Sync>;

/// Reports a call that began at `started`, if anyone listens.
fn report(timer: Option<&DbTimer>, call: DbCall, started: Instant) {
    if let Some(t) = timer {
        t(call, started.elapsed());
    }
}
