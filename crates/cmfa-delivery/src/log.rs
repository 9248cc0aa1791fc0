//! The log transport: one line per message, with its destination and never its body (the body
//! may carry a code). What email and SMS go to when nothing else is configured.

use crate::{OutboundMessage, Result, Transport};
use async_trait::async_trait;

/// Writes a line per message to the log.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogTransport;

#[async_trait]
impl Transport for LogTransport {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn send(&self, msg: &OutboundMessage) -> Result<()> {
        tracing::info!(
            channel = ?msg.channel,
            destination = %msg.destination,
            pool_id = %msg.pool_id,
            purpose = %msg.purpose,
            "message delivered to the log (read it at /_cognito-mfa/outbox)"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel;

    #[tokio::test]
    async fn debug_and_log_never_show_the_body() {
        let m = OutboundMessage {
            pool_id: "us-east-1_a".into(),
            username: "u".into(),
            channel: Channel::Sms,
            destination: "+15550100".into(),
            subject: None,
            body: "code 123456".into(),
            purpose: "SIGN_UP".into(),
        };
        assert!(!format!("{m:?}").contains("123456"));
        LogTransport.send(&m).await.unwrap();
    }
}
