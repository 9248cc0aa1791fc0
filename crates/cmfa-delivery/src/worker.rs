//! The outbox worker: claim due messages, send each through the transport for its channel,
//! settle it as delivered or schedule another attempt with exponential backoff.
//!
//! The store does the bookkeeping that must survive a crash: a claim pushes the message's next
//! attempt 60 s out and counts the attempt, so a worker that dies mid-send only delays the
//! message. Sends are bounded by a timeout well under those 60 s, so a slow send is never
//! claimed twice. Messages given up on stay in the outbox (undelivered) for anyone to read.

use crate::Transports;
use cmfa_core::Clock;
use cmfa_core::outbound::OutboxEntry;
use cmfa_core::store::Outbox;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;

/// When to try again, and when to stop.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Wait after the first failed attempt, in seconds; doubled after each further failure.
    pub first_delay: f64,
    /// Longest wait between attempts, in seconds.
    pub max_delay: f64,
    /// Attempts before a message is given up on.
    pub max_attempts: u32,
    /// How often the outbox is checked for new messages when idle.
    pub poll: Duration,
    /// Messages claimed (and sent concurrently) per pass.
    pub batch: usize,
    /// Longest a single send may take; must stay under the store's 60 s claim.
    pub send_timeout: Duration,
}

impl Default for RetryPolicy {
    /// 5 s, 10 s, 20 s, ... up to 15 min between attempts; 10 attempts (about 40 minutes).
    fn default() -> Self {
        RetryPolicy {
            first_delay: 5.0,
            max_delay: 900.0,
            max_attempts: 10,
            poll: Duration::from_millis(250),
            batch: 32,
            send_timeout: Duration::from_secs(45),
        }
    }
}

impl RetryPolicy {
    /// Seconds to wait after the `attempts`-th failed attempt (1-based).
    pub fn delay(&self, attempts: u32) -> f64 {
        let exp = attempts.saturating_sub(1).min(30) as i32;
        (self.first_delay * 2f64.powi(exp)).min(self.max_delay)
    }
}

/// A message given up on is scheduled here, which no clock reaches; it stays listed in the
/// outbox as undelivered.
const NEVER: f64 = cmfa_core::store::NEVER_RETRY;

/// Wait after the store fails before trying it again, so a broken store does not flood the log.
const STORE_ERROR_PAUSE: Duration = Duration::from_secs(5);

/// Time in-flight sends get to finish when the worker is asked to stop.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Sends what the outbox holds.
pub struct Worker {
    store: Arc<dyn Outbox>,
    transports: Transports,
    clock: Arc<dyn Clock>,
    policy: RetryPolicy,
    backlog: Option<BacklogReport>,
}

/// Told how many messages wait for delivery (see [`Worker::reporting_backlog`]).
pub type BacklogReport = Arc<dyn Fn(u64) + Send + Sync>;

/// How often the worker counts its backlog, at most.
const BACKLOG_EVERY: Duration = Duration::from_secs(1);

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("transports", &self.transports)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub claimed: usize,
    pub delivered: usize,
    pub retried: usize,
    pub given_up: usize,
}

impl Worker {
    pub fn new(store: Arc<dyn Outbox>, transports: Transports, clock: Arc<dyn Clock>) -> Self {
        Worker {
            store,
            transports,
            clock,
            policy: RetryPolicy::default(),
            backlog: None,
        }
    }

    /// Before a pass, at most once a second, counts the messages still waiting (undelivered,
    /// not given up) and tells `report`.
    pub fn reporting_backlog(mut self, report: BacklogReport) -> Self {
        self.backlog = Some(report);
        self
    }

    async fn report_backlog(&self) {
        let Some(report) = &self.backlog else { return };
        match self.store.outbound_backlog().await {
            Ok(n) => report(n),
            Err(e) => tracing::debug!(error = %e, "cannot count the delivery backlog"),
        }
    }

    /// Replaces the default retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Runs until `shutdown` completes: passes back to back while the outbox is busy, a poll
    /// interval apart when it is idle. In-flight sends get a short grace period at shutdown;
    /// any cut off come back after the claim expires.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        tracing::info!(
            email = self.transports.email.name(),
            sms = self.transports.sms.name(),
            "delivery worker started"
        );
        let mut counted_at: Option<tokio::time::Instant> = None;
        loop {
            if counted_at.is_none_or(|t| t.elapsed() >= BACKLOG_EVERY) {
                self.report_backlog().await;
                counted_at = Some(tokio::time::Instant::now());
            }
            let pass = self.pass();
            tokio::pin!(pass);
            let outcome = tokio::select! {
                r = &mut pass => r,
                () = &mut shutdown => {
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, pass).await;
                    break;
                }
            };
            let pause = match outcome {
                Ok(p) if p.claimed >= self.policy.batch => Duration::ZERO,
                Ok(_) => self.policy.poll,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery worker cannot reach the store");
                    STORE_ERROR_PAUSE
                }
            };
            if !pause.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = &mut shutdown => break,
                }
            }
        }
        tracing::info!("delivery worker stopped");
    }

    /// One pass: claims what is due, sends it all concurrently, settles each message.
    pub async fn pass(&self) -> cmfa_core::store::StoreResult<Pass> {
        let due = self.store.claim_outbound(self.clock.now(), self.policy.batch).await?;
        let mut pass = Pass {
            claimed: due.len(),
            ..Pass::default()
        };
        let mut sends = JoinSet::new();
        for entry in due {
            let transport = self.transports.for_channel(entry.message.channel).clone();
            let timeout = self.policy.send_timeout;
            sends.spawn(async move {
                let result = match tokio::time::timeout(timeout, transport.send(&entry.message)).await {
                    Ok(r) => r,
                    Err(_) => Err(crate::DeliveryError::transient(format!("no answer within {timeout:?}"))),
                };
                (entry, transport.name(), result)
            });
        }
        let mut first_error = None;
        while let Some(joined) = sends.join_next().await {
            let Ok((entry, transport, result)) = joined else {
                // A transport panicked; its claim expires and the message comes back.
                continue;
            };
            if let Err(e) = self.settle(&entry, transport, result, &mut pass).await {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(pass),
        }
    }

    async fn settle(
        &self,
        entry: &OutboxEntry,
        transport: &str,
        result: crate::Result<()>,
        pass: &mut Pass,
    ) -> cmfa_core::store::StoreResult<()> {
        let now = self.clock.now();
        let m = &entry.message;
        // A claimed entry carries the attempts made before this claim (on every backend).
        let attempts = entry.attempts.saturating_add(1);
        match result {
            Ok(()) => {
                tracing::info!(id = entry.id, channel = ?m.channel, transport, purpose = %m.purpose, pool_id = %m.pool_id, "message delivered");
                pass.delivered += 1;
                self.store.settle_outbound(entry.id, Some(now), now).await
            }
            Err(e) if e.permanent || attempts >= self.policy.max_attempts => {
                tracing::error!(
                    id = entry.id, channel = ?m.channel, transport, attempts, error = %e,
                    "giving up on a message; it stays undelivered in the outbox"
                );
                pass.given_up += 1;
                self.store.settle_outbound(entry.id, None, NEVER).await
            }
            Err(e) => {
                let delay = self.policy.delay(attempts);
                tracing::warn!(
                    id = entry.id, channel = ?m.channel, transport, attempts, retry_in_secs = delay, error = %e,
                    "delivery failed; will retry"
                );
                pass.retried += 1;
                self.store.settle_outbound(entry.id, None, now + delay).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CaptureTransport, Transport};
    use cmfa_core::Store;
    use cmfa_core::clock::FixedClock;
    use cmfa_core::outbound::{Channel, OutboundMessage};
    use cmfa_core::pool::rules;
    use cmfa_core::store::OutboxQuery;
    use cmfa_core::user::User;
    use cmfa_store::SqliteStore;
    use cmfa_wire::shapes::CreateUserPoolRequest;

    const POOL: &str = "us-east-1_test";
    const T0: f64 = 1_700_000_000.0;

    struct Fixture {
        store: Arc<dyn Store>,
        clock: Arc<FixedClock>,
        email: Arc<CaptureTransport>,
        sms: Arc<CaptureTransport>,
        user: User,
    }

    impl Fixture {
        async fn new() -> Fixture {
            let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().unwrap());
            let pool = rules::create(
                POOL.into(),
                format!("arn:{POOL}"),
                T0,
                CreateUserPoolRequest {
                    pool_name: "p".into(),
                    ..Default::default()
                },
            )
            .unwrap();
            store.create_pool(&pool).await.unwrap();
            // Through serde, so fields that have defaults need not be spelled out here.
            let user: User = serde_json::from_value(serde_json::json!({
                "pool_id": POOL, "username": "alice", "sub": "sub-1", "attributes": [],
                "enabled": true, "status": "UNCONFIRMED", "created": T0, "modified": T0,
                "password": null, "lockout": {"failures": 0, "last_failure": 0.0, "locked_until": 0.0},
                "fresh_from_sign_up": false, "version": 1,
            }))
            .unwrap();
            store.create_user(&user, "alice", &[], None).await.unwrap();
            Fixture {
                store,
                clock: Arc::new(FixedClock::at(T0)),
                email: Arc::new(CaptureTransport::new()),
                sms: Arc::new(CaptureTransport::new()),
                user,
            }
        }

        /// Records a message the way the domain does: with a user update.
        async fn enqueue(&mut self, channel: Channel, body: &str) {
            self.user.version += 1;
            let m = OutboundMessage {
                pool_id: POOL.into(),
                username: "alice".into(),
                channel,
                destination: match channel {
                    Channel::Email => "alice@example.com".into(),
                    Channel::Sms => "+15550100".into(),
                },
                subject: Some("s".into()),
                body: body.into(),
                purpose: "SIGN_UP".into(),
            };
            self.store
                .update_user(&self.user, "alice", &[], Some(&m))
                .await
                .unwrap();
        }

        fn worker(&self, policy: RetryPolicy) -> Worker {
            let transports = Transports {
                email: self.email.clone(),
                sms: self.sms.clone(),
            };
            Worker::new(self.store.clone(), transports, self.clock.clone()).with_policy(policy)
        }

        async fn outbox(&self) -> Vec<OutboxEntry> {
            self.store
                .list_outbox(&OutboxQuery {
                    pool_id: Some(POOL.into()),
                    username: None,
                    destination: None,
                    limit: 100,
                })
                .await
                .unwrap()
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        let delays: Vec<f64> = (1..=10).map(|n| p.delay(n)).collect();
        assert_eq!(delays, [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0, 900.0, 900.0]);
        assert_eq!(p.delay(u32::MAX), 900.0);
    }

    #[tokio::test]
    async fn each_channel_goes_to_its_transport_and_is_settled_delivered() {
        let mut f = Fixture::new().await;
        f.enqueue(Channel::Email, "email 111111").await;
        f.enqueue(Channel::Sms, "sms 222222").await;
        let w = f.worker(RetryPolicy::default());
        let pass = w.pass().await.unwrap();
        assert_eq!((pass.claimed, pass.delivered), (2, 2));
        assert_eq!(f.email.sent()[0].body, "email 111111");
        assert_eq!(f.sms.sent()[0].body, "sms 222222");
        for e in f.outbox().await {
            assert_eq!((e.delivered_at, e.attempts), (Some(T0), 1), "{e:?}");
        }
        // Delivered messages are never claimed again, however late it gets.
        f.clock.advance(86_400.0);
        assert_eq!(w.pass().await.unwrap().claimed, 0);
        assert_eq!(f.email.attempts() + f.sms.attempts(), 2);
    }

    #[tokio::test]
    async fn failures_are_retried_after_a_doubling_backoff() {
        let mut f = Fixture::new().await;
        f.enqueue(Channel::Email, "code").await;
        f.email.fail_next(2, false);
        let w = f.worker(RetryPolicy::default());

        let p = w.pass().await.unwrap();
        assert_eq!((p.claimed, p.retried), (1, 1));
        assert_eq!(w.pass().await.unwrap().claimed, 0, "not due before the backoff");
        f.clock.advance(4.9);
        assert_eq!(w.pass().await.unwrap().claimed, 0);
        f.clock.advance(0.2);
        assert_eq!(w.pass().await.unwrap().retried, 1, "second attempt fails too");
        f.clock.advance(9.8);
        assert_eq!(w.pass().await.unwrap().claimed, 0, "the second wait is 10 s");
        f.clock.advance(0.3);
        assert_eq!(w.pass().await.unwrap().delivered, 1);

        let e = &f.outbox().await[0];
        assert_eq!(e.attempts, 3);
        assert_eq!(e.delivered_at, Some(f.clock.now()));
        assert_eq!(f.email.sent().len(), 1);
        assert_eq!(f.email.attempts(), 3);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts_and_keeps_the_message() {
        let mut f = Fixture::new().await;
        f.enqueue(Channel::Sms, "code").await;
        f.sms.fail_next(usize::MAX, false);
        let w = f.worker(RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        });
        let mut outcomes = Vec::new();
        for _ in 0..5 {
            let p = w.pass().await.unwrap();
            outcomes.push((p.retried, p.given_up));
            f.clock.advance(1000.0);
        }
        assert_eq!(outcomes, [(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]);
        f.clock.advance(10.0 * 365.0 * 86_400.0);
        assert_eq!(w.pass().await.unwrap().claimed, 0);
        let e = &f.outbox().await[0];
        assert_eq!((e.delivered_at, e.attempts), (None, 3));
        assert_eq!(e.message.body, "code", "still readable in the outbox");
    }

    #[tokio::test]
    async fn the_backlog_counts_what_still_waits_and_not_what_was_given_up() {
        let mut f = Fixture::new().await;
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let sink = seen.clone();
        let w = f
            .worker(RetryPolicy {
                max_attempts: 2,
                ..RetryPolicy::default()
            })
            .reporting_backlog(Arc::new(move |n| sink.lock().unwrap().push(n)));
        f.enqueue(Channel::Email, "one").await;
        f.enqueue(Channel::Sms, "two").await;
        f.enqueue(Channel::Sms, "three").await;
        w.report_backlog().await;
        f.sms.fail_next(usize::MAX, false);
        w.pass().await.unwrap(); // email delivered; both SMS wait to retry
        w.report_backlog().await;
        f.clock.advance(1000.0);
        w.pass().await.unwrap(); // both SMS given up
        w.report_backlog().await;
        assert_eq!(*seen.lock().unwrap(), [3, 2, 0]);
    }

    #[tokio::test]
    async fn a_permanent_refusal_is_not_retried() {
        let mut f = Fixture::new().await;
        f.enqueue(Channel::Email, "code").await;
        f.email.fail_next(1, true);
        let w = f.worker(RetryPolicy::default());
        assert_eq!(w.pass().await.unwrap().given_up, 1);
        f.clock.advance(3600.0);
        assert_eq!(w.pass().await.unwrap().claimed, 0);
        assert_eq!(f.email.attempts(), 1);
    }

    #[tokio::test]
    async fn a_stuck_transport_is_cut_off_and_retried() {
        struct Stuck;
        #[async_trait::async_trait]
        impl Transport for Stuck {
            fn name(&self) -> &'static str {
                "stuck"
            }
            async fn send(&self, _: &OutboundMessage) -> crate::Result<()> {
                std::future::pending().await
            }
        }
        let mut f = Fixture::new().await;
        f.enqueue(Channel::Sms, "code").await;
        let w = Worker::new(
            f.store.clone(),
            Transports {
                email: f.email.clone(),
                sms: Arc::new(Stuck),
            },
            f.clock.clone(),
        )
        .with_policy(RetryPolicy {
            send_timeout: Duration::from_millis(50),
            ..RetryPolicy::default()
        });
        assert_eq!(w.pass().await.unwrap().retried, 1);
    }

    #[tokio::test]
    async fn run_delivers_new_messages_promptly_and_stops_on_shutdown() {
        let mut f = Fixture::new().await;
        let w = Worker::new(
            f.store.clone(),
            Transports {
                email: f.email.clone(),
                sms: f.sms.clone(),
            },
            Arc::new(cmfa_core::SystemClock),
        )
        .with_policy(RetryPolicy {
            poll: Duration::from_millis(20),
            ..RetryPolicy::default()
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(w.run(async {
            let _ = rx.await;
        }));
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Recorded "now" by the system clock, so it is due at once.
        f.user.modified = cmfa_core::SystemClock.now();
        f.enqueue(Channel::Email, "late").await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while f.email.sent().is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "not delivered");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tx.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(2), handle)
            .await
            .unwrap()
            .unwrap();
    }
}
