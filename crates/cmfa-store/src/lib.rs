#![forbid(unsafe_code)]
//! Storage adapters for `cmfa_core::Store`.
//!
//! - [`SqliteStore`]: the embedded default. One process owns a data directory (an exclusive file
//!   lock enforces it), which is what makes its in-memory read cache correct.
//!
//! Each adapter maps its database errors to `StoreError` in [`error`], so no database type
//! crosses into the domain.

mod error;
pub mod sqlite;

pub use sqlite::SqliteStore;
