//! The server's Prometheus metrics, served at `GET /_cognito-mfa/metrics` in the Prometheus
//! text format (0.0.4).
//!
//! Dispatch reports every call here: its operation, how it ended (`ok` or the error's
//! `__type`) and how long it took; for the sign-in operations also what the answer asked for
//! next (a `ChallengeName`, or `tokens`), read from the response body, so the domain needs no
//! hook. The binary reports each delivery attempt ([`Metrics::record_delivery`]), the delivery
//! backlog and every database call's duration, and adds the process's own figures as a
//! collector. Labels only ever hold names from a closed set
//! (operations, error types, challenge names, channels): never a pool, client or user id, a
//! username or anything secret, so a scrape is safe to share and its size stays bounded.

use crate::dispatch::Stop;
use bytes::Bytes;
use cmfa_core::outbound::Channel;
use cmfa_wire::Operation;
use cmfa_wire::shapes::ChallengeNameType;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::time::Duration;

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Request latency buckets, in seconds: from a cached read (well under a millisecond) to a
/// sign-in behind a busy hashing pool or an injected delay.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Database call buckets, in seconds: from a reader's point lookup (tens of microseconds) to a
/// write stuck behind a checkpoint or an unreachable database.
const STORE_BUCKETS: [f64; 13] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0,
];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StoreLabels {
    kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ChallengeLabels {
    operation: &'static str,
    challenge: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    channel: &'static str,
    outcome: &'static str,
}

type HistogramFamily = Family<OperationLabels, Histogram, fn() -> Histogram>;
type StoreFamily = Family<StoreLabels, Histogram, fn() -> Histogram>;

/// The metrics of one server. Share it behind an `Arc`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    sign_ins: Family<ChallengeLabels, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
    backlog: Gauge,
    store: StoreFamily,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "cognito_mfa_requests",
            "API calls by operation and outcome (ok, or the error __type; dropped: a fault rule closed the connection)",
            requests.clone(),
        );
        let latency: HistogramFamily = Family::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register_with_unit(
            "cognito_mfa_request_duration",
            "Time from a call's arrival to its answer, by operation",
            Unit::Seconds,
            latency.clone(),
        );
        let sign_ins = Family::<ChallengeLabels, Counter>::default();
        registry.register(
            "cognito_mfa_sign_in_answers",
            "Successful sign-in steps by what they answered: the next ChallengeName, or tokens",
            sign_ins.clone(),
        );
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "cognito_mfa_messages_sent",
            "Delivery attempts of recorded messages (codes, invitations) by channel and outcome (delivered, failed)",
            deliveries.clone(),
        );
        let backlog = Gauge::default();
        registry.register(
            "cognito_mfa_delivery_backlog",
            "Recorded messages waiting for delivery (due, being sent, or waiting to retry), as the delivery worker last counted",
            backlog.clone(),
        );
        let store: StoreFamily = Family::new_with_constructor(|| Histogram::new(STORE_BUCKETS));
        registry.register_with_unit(
            "cognito_mfa_store_call_duration",
            "Database calls by kind (SQLite: read, write with the wait for its group commit; PostgreSQL: statement, transaction), the wait for a connection included",
            Unit::Seconds,
            store.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            sign_ins,
            deliveries,
            backlog,
            store,
        }
    }
}

impl Metrics {
    /// Adds figures computed at each scrape (the binary adds the process's own).
    pub fn register_collector(&mut self, collector: Box<dyn Collector>) {
        self.registry.register_collector(collector);
    }

    /// One API call: `op` if the target named one, how it ended, how long it took.
    pub(crate) fn observe(&self, op: Option<Operation>, result: &Result<Bytes, Stop>, elapsed: Duration) {
        let operation = op.map_or("unknown", Operation::name);
        let outcome = match result {
            Ok(_) => "ok",
            Err(Stop::Error(e)) => e.code.name(),
            Err(Stop::Drop) => "dropped",
        };
        self.requests.get_or_create(&RequestLabels { operation, outcome }).inc();
        self.latency
            .get_or_create(&OperationLabels { operation })
            .observe(elapsed.as_secs_f64());
        if let (Some(op), Ok(body)) = (op, result)
            && is_sign_in(op)
        {
            let challenge = sign_in_answer(body);
            self.sign_ins
                .get_or_create(&ChallengeLabels { operation, challenge })
                .inc();
        }
    }

    /// One attempt to deliver a recorded message.
    pub fn record_delivery(&self, channel: Channel, delivered: bool) {
        let channel = match channel {
            Channel::Email => "email",
            Channel::Sms => "sms",
        };
        let outcome = if delivered { "delivered" } else { "failed" };
        self.deliveries
            .get_or_create(&DeliveryLabels { channel, outcome })
            .inc();
    }

    /// How many recorded messages wait for delivery.
    pub fn set_delivery_backlog(&self, messages: u64) {
        self.backlog.set(i64::try_from(messages).unwrap_or(i64::MAX));
    }

    /// One database call of the store (`kind` names its sort, from a closed set).
    pub fn observe_store(&self, kind: &'static str, elapsed: Duration) {
        self.store
            .get_or_create(&StoreLabels { kind })
            .observe(elapsed.as_secs_f64());
    }

    /// Everything, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail; a collector's error would only cut the text short.
        if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry) {
            tracing::warn!(error = %e, "metrics text cut short");
        }
        out
    }
}

fn is_sign_in(op: Operation) -> bool {
    matches!(
        op,
        Operation::InitiateAuth
            | Operation::AdminInitiateAuth
            | Operation::RespondToAuthChallenge
            | Operation::AdminRespondToAuthChallenge
    )
}

/// What a successful sign-in step answered: its `ChallengeName`, `tokens` for an
/// `AuthenticationResult`, `other` for anything else.
fn sign_in_answer(body: &[u8]) -> &'static str {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "ChallengeName")]
        challenge: Option<serde_json::Value>,
        #[serde(rename = "AuthenticationResult")]
        result: Option<serde::de::IgnoredAny>,
    }
    match serde_json::from_slice::<Answer>(body) {
        Ok(Answer {
            challenge: Some(name), ..
        }) => serde_json::from_value::<ChallengeNameType>(name).map_or("other", ChallengeNameType::as_str),
        Ok(Answer { result: Some(_), .. }) => "tokens",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ApiError;
    use cmfa_wire::ErrorCode;

    #[test]
    fn calls_are_counted_by_operation_outcome_and_answer() {
        let m = Metrics::default();
        let ok = |b: &'static str| Ok(Bytes::from_static(b.as_bytes()));
        let d = Duration::from_millis(3);
        m.observe(Some(Operation::GetUserPoolMfaConfig), &ok("{}"), d);
        m.observe(Some(Operation::GetUserPoolMfaConfig), &ok("{}"), d);
        let throttled = Err(Stop::Error(ApiError::new(ErrorCode::TooManyRequestsException, "x")));
        m.observe(Some(Operation::GetUserPoolMfaConfig), &throttled, d);
        m.observe(None, &Err(Stop::Drop), d);
        m.observe(
            Some(Operation::InitiateAuth),
            &ok(r#"{"ChallengeName":"SOFTWARE_TOKEN_MFA","Session":"s","ChallengeParameters":{}}"#),
            d,
        );
        m.observe(
            Some(Operation::RespondToAuthChallenge),
            &ok(r#"{"AuthenticationResult":{"AccessToken":"secret-token"},"ChallengeParameters":{}}"#),
            d,
        );
        m.record_delivery(Channel::Sms, true);
        m.record_delivery(Channel::Email, false);
        m.set_delivery_backlog(7);
        m.observe_store("read", Duration::from_micros(80));
        m.observe_store("write", Duration::from_millis(2));
        let text = m.render();
        for line in [
            r#"cognito_mfa_requests_total{operation="GetUserPoolMfaConfig",outcome="ok"} 2"#,
            r#"cognito_mfa_requests_total{operation="GetUserPoolMfaConfig",outcome="TooManyRequestsException"} 1"#,
            r#"cognito_mfa_requests_total{operation="unknown",outcome="dropped"} 1"#,
            r#"cognito_mfa_request_duration_seconds_count{operation="GetUserPoolMfaConfig"} 3"#,
            r#"cognito_mfa_request_duration_seconds_bucket{operation="GetUserPoolMfaConfig",le="0.005"} 3"#,
            r#"cognito_mfa_sign_in_answers_total{operation="InitiateAuth",challenge="SOFTWARE_TOKEN_MFA"} 1"#,
            r#"cognito_mfa_sign_in_answers_total{operation="RespondToAuthChallenge",challenge="tokens"} 1"#,
            r#"cognito_mfa_messages_sent_total{channel="sms",outcome="delivered"} 1"#,
            r#"cognito_mfa_messages_sent_total{channel="email",outcome="failed"} 1"#,
            "cognito_mfa_delivery_backlog 7",
            r#"cognito_mfa_store_call_duration_seconds_bucket{kind="read",le="0.0001"} 1"#,
            r#"cognito_mfa_store_call_duration_seconds_bucket{kind="write",le="0.001"} 0"#,
            r#"cognito_mfa_store_call_duration_seconds_bucket{kind="write",le="0.0025"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "no line {line} in\n{text}");
        }
        assert!(!text.contains("secret-token"));
    }

    #[test]
    fn odd_sign_in_answers_are_other() {
        assert_eq!(sign_in_answer(br#"{"ChallengeName":"NOT_A_CHALLENGE"}"#), "other");
        assert_eq!(sign_in_answer(b"not json"), "other");
        assert_eq!(sign_in_answer(br#"{"ChallengeName":"MFA_SETUP"}"#), "MFA_SETUP");
    }
}
