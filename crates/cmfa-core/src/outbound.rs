//! Messages the domain wants delivered. The domain only records them (in the same store
//! transaction as the code they carry); `cmfa-delivery` sends them.

use serde::{Deserialize, Serialize};

/// Email or SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Channel {
    #[serde(rename = "EMAIL")]
    Email,
    #[serde(rename = "SMS")]
    Sms,
}

/// One message to deliver. The body may carry a code, so `Debug` leaves it out.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboundMessage {
    pub pool_id: String,
    pub username: String,
    pub channel: Channel,
    pub destination: String,
    pub subject: Option<String>,
    pub body: String,
    /// Why it was sent: `SIGN_UP`, `INVITATION`, `FORGOT_PASSWORD`, `VERIFY_ATTRIBUTE`, ...
    pub purpose: String,
}

impl std::fmt::Debug for OutboundMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundMessage")
            .field("pool_id", &self.pool_id)
            .field("channel", &self.channel)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// A recorded message, as the outbox lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: i64,
    pub created_at: f64,
    pub delivered_at: Option<f64>,
    pub attempts: u32,
    pub message: OutboundMessage,
}
