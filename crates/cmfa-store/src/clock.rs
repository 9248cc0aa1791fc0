//! The OS clock, for what the stores time themselves: revocation and outbox timestamps, session
//! sweeps and eviction (the domain's own times come from its injectable clock).

/// Now, in Unix seconds.
pub(crate) fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
