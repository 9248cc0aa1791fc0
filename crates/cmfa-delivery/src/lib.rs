#![forbid(unsafe_code)]
//! Getting outbound messages out: the `Transport` trait and its implementations.
//!
//! The domain never sends anything: it records an outbound message in the store in the same
//! transaction as the code it carries, and a worker here hands it to the transports. Only the
//! log transport exists so far; the outbox worker, SMTP and the webhook arrive with code
//! delivery (sign-up and MFA codes).

use async_trait::async_trait;

/// One message to deliver. The body may carry a code, so `Debug` leaves it out.
#[derive(Clone)]
pub struct Outbound {
    /// `EMAIL` or `SMS`.
    pub channel: Channel,
    /// Email address or E.164 phone number.
    pub destination: String,
    pub subject: Option<String>,
    pub body: String,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("channel", &self.channel)
            .field("destination", &self.destination)
            .finish_non_exhaustive()
    }
}

/// Delivery channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Sms,
}

/// Why a delivery failed; the worker retries with backoff.
#[derive(Debug, thiserror::Error)]
#[error("delivery failed: {0}")]
pub struct DeliveryError(pub String);

/// Something that can deliver a message.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Delivers one message.
    async fn send(&self, msg: &Outbound) -> Result<(), DeliveryError>;
}

/// Writes a line per message to the log, without the body (it may carry a code).
#[derive(Debug, Default)]
pub struct LogTransport;

#[async_trait]
impl Transport for LogTransport {
    async fn send(&self, msg: &Outbound) -> Result<(), DeliveryError> {
        tracing::info!(channel = ?msg.channel, destination = %msg.destination, "message delivered to the log transport");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn debug_and_log_never_show_the_body() {
        let m = Outbound {
            channel: Channel::Sms,
            destination: "+15550100".into(),
            subject: None,
            body: "code 123456".into(),
        };
        assert!(!format!("{m:?}").contains("123456"));
        LogTransport.send(&m).await.unwrap();
    }
}
