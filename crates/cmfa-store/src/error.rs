//! Database errors as the domain sees them.

use cmfa_core::StoreError;

/// SQLite: a clashing unique key is `Conflict`; a row pointing at a missing parent (a user or
/// session for a pool that is gone) is `NotFound`, as on PostgreSQL.
pub(crate) fn from_sqlite(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, _) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => {
            StoreError::NotFound
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict
        }
        _ => StoreError::Unavailable(e.to_string()),
    }
}

/// PostgreSQL: unique violation (23505) is `Conflict`, foreign-key violation (23503) is
/// `NotFound`. Anything else is `Unavailable` with the SQLSTATE and the server's primary message
/// only: a server's DETAIL can quote row values (password hashes in a user's `data`), and those
/// must never reach a log.
#[cfg(feature = "postgres")]
pub(crate) fn from_pg(e: tokio_postgres::Error) -> StoreError {
    use tokio_postgres::error::SqlState;
    match e.as_db_error() {
        Some(db) if *db.code() == SqlState::UNIQUE_VIOLATION => StoreError::Conflict,
        Some(db) if *db.code() == SqlState::FOREIGN_KEY_VIOLATION => StoreError::NotFound,
        Some(db) => StoreError::Unavailable(format!("postgres {}: {}", db.code().code(), db.message())),
        None => StoreError::Unavailable(format!("postgres: {e}")),
    }
}

pub(crate) fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Unavailable(format!("stored row does not decode: {e}"))
}
