#![forbid(unsafe_code)]
//! Getting outbound messages out: the outbox worker and the transports it sends through.
//!
//! The domain never sends anything: it records an [`OutboundMessage`] in the store in the same
//! transaction as the code it carries. The [`Worker`] claims due messages, hands each to the
//! transport for its channel ([`Transports`]) and settles it (delivered, or another attempt
//! after a backoff). The store's outbox keeps every message whether or not it went out.
//!
//! - [`worker`]: the claim → send → settle loop and its retry policy.
//! - [`log`]: writes a line per message (destination only, never the body).
//! - [`smtp`]: email over SMTP (plain, STARTTLS, implicit TLS; AUTH PLAIN/LOGIN).
//! - [`webhook`]: a JSON POST per message, so any SMS gateway or mail API can be plugged in.
//! - [`capture`]: keeps messages in memory, for tests.

pub mod capture;
pub mod log;
pub mod smtp;
mod tls;
pub mod webhook;
pub mod worker;

use async_trait::async_trait;
pub use cmfa_core::outbound::{Channel, OutboundMessage};
use std::sync::Arc;

pub use capture::CaptureTransport;
pub use log::LogTransport;
pub use smtp::{SmtpConfig, SmtpTransport};
pub use webhook::{WebhookConfig, WebhookTransport};
pub use worker::{RetryPolicy, Worker};

/// Result alias for transports.
pub type Result<T> = std::result::Result<T, DeliveryError>;

/// Why a delivery failed. The text is for the log and never carries the message body.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub message: String,
    /// The receiving side refused the message itself (an SMTP 5xx to the sender, recipient or
    /// content): trying again cannot help, so the worker gives up at once.
    pub permanent: bool,
}

impl DeliveryError {
    /// A failure worth retrying (network, timeout, 4xx, a server error).
    pub fn transient(message: impl Into<String>) -> Self {
        DeliveryError {
            message: message.into(),
            permanent: false,
        }
    }

    /// A refusal that no retry will change.
    pub fn permanent(message: impl Into<String>) -> Self {
        DeliveryError {
            message: message.into(),
            permanent: true,
        }
    }
}

/// A transport setting that cannot work (a bad URL or sender); the text says why.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Something that can deliver a message.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// A short name for logs (`smtp`, `webhook`, `log`, ...).
    fn name(&self) -> &'static str;

    /// Delivers one message. Must not log the body: it may carry a code.
    async fn send(&self, msg: &OutboundMessage) -> Result<()>;
}

/// The transport for each channel.
#[derive(Clone)]
pub struct Transports {
    pub email: Arc<dyn Transport>,
    pub sms: Arc<dyn Transport>,
}

impl Transports {
    /// Both channels to the log: what runs when neither SMTP nor a webhook is configured (the
    /// outbox still has every message).
    pub fn log_only() -> Self {
        Transports {
            email: Arc::new(LogTransport),
            sms: Arc::new(LogTransport),
        }
    }

    /// The transport for `channel`.
    pub fn for_channel(&self, channel: Channel) -> &Arc<dyn Transport> {
        match channel {
            Channel::Email => &self.email,
            Channel::Sms => &self.sms,
        }
    }
}

impl std::fmt::Debug for Transports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transports")
            .field("email", &self.email.name())
            .field("sms", &self.sms.name())
            .finish()
    }
}
