//! Database errors as the domain sees them.

use cmfa_core::StoreError;

pub(crate) fn from_sqlite(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            StoreError::Conflict
        }
        _ => StoreError::Unavailable(e.to_string()),
    }
}

pub(crate) fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Unavailable(format!("stored row does not decode: {e}"))
}
