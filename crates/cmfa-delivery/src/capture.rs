//! A transport that keeps messages in memory, for tests: it can be told to fail the next few
//! sends, to exercise the worker's retries.

use crate::{DeliveryError, OutboundMessage, Result, Transport};
use async_trait::async_trait;
use std::sync::Mutex;

/// Records every message it is given.
#[derive(Debug, Default)]
pub struct CaptureTransport {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    sent: Vec<OutboundMessage>,
    attempts: usize,
    fail_next: usize,
    permanent: bool,
}

impl CaptureTransport {
    /// A transport that accepts everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Fails the next `n` sends (transient failures unless `permanent`).
    pub fn fail_next(&self, n: usize, permanent: bool) {
        let mut s = self.lock();
        s.fail_next = n;
        s.permanent = permanent;
    }

    /// Messages delivered so far, oldest first.
    pub fn sent(&self) -> Vec<OutboundMessage> {
        self.lock().sent.clone()
    }

    /// Sends attempted so far, failed ones included.
    pub fn attempts(&self) -> usize {
        self.lock().attempts
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Transport for CaptureTransport {
    fn name(&self) -> &'static str {
        "capture"
    }

    async fn send(&self, msg: &OutboundMessage) -> Result<()> {
        let mut s = self.lock();
        s.attempts += 1;
        if s.fail_next > 0 {
            s.fail_next -= 1;
            return Err(if s.permanent {
                DeliveryError::permanent("refused (test)")
            } else {
                DeliveryError::transient("unavailable (test)")
            });
        }
        s.sent.push(msg.clone());
        Ok(())
    }
}
