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
