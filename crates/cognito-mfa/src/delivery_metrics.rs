//! Counts delivery attempts for `/_cognito-mfa/metrics`: each transport is wrapped so that every
//! send, delivered or failed, is reported to the server's [`Metrics`] by channel. An attempt the
//! worker gives up waiting for (its send timeout) counts as failed.

use async_trait::async_trait;
use cmfa_delivery::{Channel, OutboundMessage, Transport, Transports};
use cmfa_server::Metrics;
use std::sync::Arc;

/// `transports`, each reporting its attempts to `metrics`.
pub(crate) fn metered(transports: Transports, metrics: &Arc<Metrics>) -> Transports {
    let wrap = |inner: Arc<dyn Transport>| -> Arc<dyn Transport> {
        Arc::new(Metered {
            inner,
            metrics: metrics.clone(),
        })
    };
    Transports {
        email: wrap(transports.email),
        sms: wrap(transports.sms),
    }
}

struct Metered {
    inner: Arc<dyn Transport>,
    metrics: Arc<Metrics>,
}

/// Reports a failed attempt if dropped before [`Attempt::settle`]: the send was cut off.
struct Attempt<'a> {
    metrics: &'a Metrics,
    channel: Channel,
    settled: bool,
}

impl Attempt<'_> {
    fn settle(mut self, delivered: bool) {
        self.settled = true;
        self.metrics.record_delivery(self.channel, delivered);
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.metrics.record_delivery(self.channel, false);
        }
    }
}

#[async_trait]
impl Transport for Metered {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    async fn send(&self, msg: &OutboundMessage) -> cmfa_delivery::Result<()> {
        let attempt = Attempt {
            metrics: &self.metrics,
            channel: msg.channel,
            settled: false,
        };
        let result = self.inner.send(msg).await;
        attempt.settle(result.is_ok());
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Refusing;

    #[async_trait]
    impl Transport for Refusing {
        fn name(&self) -> &'static str {
            "refusing"
        }
        async fn send(&self, _: &OutboundMessage) -> cmfa_delivery::Result<()> {
            Err(cmfa_delivery::DeliveryError::transient("down"))
        }
    }

    struct Hanging;

    #[async_trait]
    impl Transport for Hanging {
        fn name(&self) -> &'static str {
            "hanging"
        }
        async fn send(&self, _: &OutboundMessage) -> cmfa_delivery::Result<()> {
            std::future::pending().await
        }
    }

    fn message(channel: Channel) -> OutboundMessage {
        OutboundMessage {
            pool_id: "us-east-1_a".into(),
            username: "u".into(),
            channel,
            destination: "+15550100".into(),
            subject: None,
            body: "Your code is 123456".into(),
            purpose: "SIGN_UP".into(),
        }
    }

    #[tokio::test]
    async fn every_attempt_is_counted_by_channel_and_outcome() {
        let metrics = Arc::new(Metrics::default());
        let t = metered(
            Transports {
                email: Arc::new(cmfa_delivery::LogTransport),
                sms: Arc::new(Refusing),
            },
            &metrics,
        );
        t.email.send(&message(Channel::Email)).await.unwrap();
        assert!(t.sms.send(&message(Channel::Sms)).await.is_err());
        let cut_off = metered(
            Transports {
                email: Arc::new(Hanging),
                sms: Arc::new(Hanging),
            },
            &metrics,
        );
        let sent = tokio::time::timeout(
            std::time::Duration::from_millis(10),
            cut_off.sms.send(&message(Channel::Sms)),
        )
        .await;
        assert!(sent.is_err(), "the hanging send timed out");
        let text = metrics.render();
        for line in [
            r#"cognito_mfa_messages_sent_total{channel="email",outcome="delivered"} 1"#,
            r#"cognito_mfa_messages_sent_total{channel="sms",outcome="failed"} 2"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no {line} in\n{text}");
        }
        assert!(!text.contains("123456") && !text.contains("+15550100"));
    }
}
