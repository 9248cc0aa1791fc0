//! How long stores keep what expires (sign-in sessions, outbox messages, legacy refresh-token
//! rows), shared by both adapters.

/// Sessions are kept this long after they expire, so a late answer still hears "session is
/// expired" rather than "invalid session"; then the store deletes them.
pub(crate) const SESSION_KEPT_AFTER_EXPIRY_SECS: f64 = 3_600.0;

/// Sessions deleted per sweep, so one sweep is a short transaction.
pub(crate) const SESSION_SWEEP_LIMIT: usize = 1_000;

/// Time between sweeps while the last one found nothing more to delete.
pub(crate) const SWEEP_EVERY_SECS: u64 = 60;

/// No sign-in session lives longer than this (AuthSessionValidity is at most 15 minutes); one
/// that claims to was stored while the clock was set ahead. The SQLite sweep, which looks only at
/// the oldest rows, deletes those too, or they would stall it; PostgreSQL's sweep goes by expiry
/// and never looks at them.
pub(crate) const SESSION_LONGEST_PLAUSIBLE_SECS: f64 = 86_400.0;

/// The expiry before which sessions are deleted, at Unix time `now`.
pub(crate) fn session_cutoff(now: f64) -> f64 {
    now - SESSION_KEPT_AFTER_EXPIRY_SECS
}

/// Outbox messages are kept this long after they were recorded, then deleted once delivered or
/// given up on (their codes expired long before: sign-in codes with the session, others within a
/// day). Messages still waiting for a delivery attempt are kept.
pub(crate) const OUTBOX_KEPT_SECS: f64 = 7.0 * 86_400.0;

/// Outbox messages and refresh-token rows deleted per sweep, like sessions.
pub(crate) const PRUNE_LIMIT: usize = 1_000;

/// The recording time before which outbox messages are deleted, at Unix time `now`.
pub(crate) fn outbox_cutoff(now: f64) -> f64 {
    now - OUTBOX_KEPT_SECS
}
