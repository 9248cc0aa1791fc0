//! Fault injection: rules that make matching API calls fail, slow down or lose their
//! connection, so a client's test suite can prove its retry and error paths against the errors
//! AWS answers on a bad day.
//!
//! A rule names an operation (or all of them) and optionally one user pool, an action (answer
//! an error, add latency, drop the connection) and how often: for the next `count` matching
//! calls, on each matching call with a `probability`, or, with neither, on every matching call
//! until it is removed. Dispatch asks [`Faults::decide`] once per call, after the operation and
//! the body are known and before the domain runs. Rules are tried in the order they were added:
//! every latency rule that fires adds its delay, and the first error or drop rule that fires
//! decides the answer. A rule whose count is spent is removed.
//!
//! With no rule in place, deciding costs one atomic load; rules live behind a mutex that is
//! only taken while some exist.

use crate::ApiError;
use cmfa_wire::{ErrorCode, Operation};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// Longest delay a rule may add: long enough for any client timeout test.
pub const MAX_LATENCY_MS: u64 = 300_000;

/// The rules in force. Cheap to share behind an `Arc`.
#[derive(Debug, Default)]
pub struct Faults {
    /// Whether `rules` is non-empty; read without the lock on every call.
    any: AtomicBool,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_id: u64,
    rules: Vec<Rule>,
}

/// What a rule does to a call it fires on.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Answer this error instead of running the operation.
    Error { code: ErrorCode, message: String },
    /// Wait this long first, then go on (to the next rule, or the operation).
    Latency(Duration),
    /// Close the connection without answering.
    Drop,
}

/// One rule, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: u64,
    /// `None`: every operation.
    pub operation: Option<Operation>,
    /// `None`: any pool (and calls that name none).
    pub pool_id: Option<String>,
    pub action: Action,
    /// How many matching calls it was given, if counted.
    pub count: Option<u64>,
    /// How many of those are left.
    pub remaining: Option<u64>,
    /// The chance it fires on a matching call, if it is not counted.
    pub probability: Option<f64>,
    /// How many calls it has fired on.
    pub applied: u64,
}

/// What [`Faults::decide`] says to do with one call.
#[derive(Debug, Default, PartialEq)]
pub struct Decision {
    /// Wait this long before going on.
    pub delay: Duration,
    /// Answer this instead of running the operation.
    pub outcome: Option<Injected>,
}

/// An answer a rule puts in place of the operation's.
#[derive(Debug, PartialEq)]
pub enum Injected {
    Error(ApiError),
    Drop,
}

/// A rule as posted to `/_cognito-mfa/faults`: exactly one of `error`, `latencyMs` and
/// `drop`, and at most one of `count` and `probability`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSpec {
    /// An operation name; absent or `"*"` for every operation.
    pub operation: Option<String>,
    /// Only calls whose body names this `UserPoolId`.
    pub pool_id: Option<String>,
    /// An error `__type` to answer, e.g. `TooManyRequestsException`.
    pub error: Option<String>,
    /// The error's message (a default per error otherwise).
    pub message: Option<String>,
    /// Milliseconds to wait before answering.
    pub latency_ms: Option<u64>,
    /// `true`: close the connection without an answer.
    pub drop: Option<bool>,
    /// Fire on the next `count` matching calls, then go away.
    pub count: Option<u64>,
    /// Fire on each matching call with this chance, from 0 to 1.
    pub probability: Option<f64>,
}

/// A rule that cannot be added, with a message for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRule(pub String);

impl RuleSpec {
    fn check(self) -> Result<Rule, BadRule> {
        let bad = |m: String| Err(BadRule(m));
        let operation = match self.operation.as_deref() {
            None | Some("*") => None,
            Some(name) => match Operation::from_name(name) {
                Some(op) => Some(op),
                None => {
                    return bad(format!(
                        "operation {name:?} is not a cognito-idp operation (or \"*\" for all)."
                    ));
                }
            },
        };
        if let Some(p) = &self.pool_id
            && (p.is_empty() || p.len() > 55)
        {
            return bad("poolId must be a user pool id (1 to 55 characters).".into());
        }
        if self.message.is_some() && self.error.is_none() {
            return bad("message goes with error.".into());
        }
        let action = match (self.error, self.latency_ms, self.drop) {
            (Some(name), None, None | Some(false)) => {
                let Some(code) = ErrorCode::from_name(&name) else {
                    return bad(format!(
                        "error {name:?} is not an error type of the model (e.g. TooManyRequestsException)."
                    ));
                };
                let message = self.message.unwrap_or_else(|| default_message(code).to_owned());
                Action::Error { code, message }
            }
            (None, Some(ms), None | Some(false)) => {
                if ms == 0 || ms > MAX_LATENCY_MS {
                    return bad(format!("latencyMs must be from 1 to {MAX_LATENCY_MS}."));
                }
                Action::Latency(Duration::from_millis(ms))
            }
            (None, None, Some(true)) => Action::Drop,
            _ => return bad("give exactly one of error, latencyMs and drop: true.".into()),
        };
        match (self.count, self.probability) {
            (Some(_), Some(_)) => return bad("give count or probability, not both.".into()),
            (Some(0), None) => return bad("count must be at least 1.".into()),
            (None, Some(p)) if !(0.0..=1.0).contains(&p) => {
                return bad("probability must be from 0 to 1.".into());
            }
            _ => {}
        }
        Ok(Rule {
            id: 0,
            operation,
            pool_id: self.pool_id,
            action,
            count: self.count,
            remaining: self.count,
            probability: self.probability,
            applied: 0,
        })
    }
}

/// AWS's wording where it is known, a plain one otherwise.
fn default_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::TooManyRequestsException => "Rate exceeded",
        ErrorCode::InternalErrorException => "An internal error occurred.",
        ErrorCode::ConcurrentModificationException => "The resource was modified by another request; please retry.",
        ErrorCode::LimitExceededException => "Limit exceeded.",
        _ => "Injected by a cognito-mfa fault rule.",
    }
}

impl Rule {
    fn matches(&self, op: Operation, pool_id: Option<&str>) -> bool {
        self.operation.is_none_or(|o| o == op)
            && match &self.pool_id {
                None => true,
                Some(p) => pool_id == Some(p.as_str()),
            }
    }

    /// Whether the rule fires on this matching call, spending one of its count if so.
    fn fires(&mut self) -> bool {
        let fire = match (&mut self.remaining, self.probability) {
            (Some(0), _) => false,
            (Some(n), _) => {
                *n -= 1;
                true
            }
            (None, Some(p)) => rand::random::<f64>() < p,
            (None, None) => true,
        };
        if fire {
            self.applied += 1;
        }
        fire
    }

    fn spent(&self) -> bool {
        self.remaining == Some(0)
    }
}

impl Faults {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Every change below leaves the list consistent before anything can panic.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a rule; returns it with its id.
    pub fn add(&self, spec: RuleSpec) -> Result<Rule, BadRule> {
        let mut rule = spec.check()?;
        let mut g = self.lock();
        g.next_id += 1;
        rule.id = g.next_id;
        g.rules.push(rule.clone());
        self.any.store(true, Ordering::Release);
        Ok(rule)
    }

    /// The rules in force, oldest first.
    pub fn list(&self) -> Vec<Rule> {
        self.lock().rules.clone()
    }

    /// Removes every rule; returns how many there were.
    pub fn clear(&self) -> usize {
        let mut g = self.lock();
        let n = g.rules.len();
        g.rules.clear();
        self.any.store(false, Ordering::Release);
        n
    }

    /// Removes one rule; whether it existed.
    pub fn remove(&self, id: u64) -> bool {
        let mut g = self.lock();
        let before = g.rules.len();
        g.rules.retain(|r| r.id != id);
        self.any.store(!g.rules.is_empty(), Ordering::Release);
        g.rules.len() < before
    }

    /// What to do with a call of `op` naming `pool_id` (its body's `UserPoolId`, if any).
    pub fn decide(&self, op: Operation, pool_id: Option<&str>) -> Decision {
        if !self.any.load(Ordering::Acquire) {
            return Decision::default();
        }
        let mut g = self.lock();
        let mut decision = Decision::default();
        for rule in g.rules.iter_mut() {
            if !rule.matches(op, pool_id) || !rule.fires() {
                continue;
            }
            match &rule.action {
                Action::Latency(d) => decision.delay += *d,
                Action::Error { code, message } => {
                    decision.outcome = Some(Injected::Error(ApiError::new(*code, message.clone())));
                    break;
                }
                Action::Drop => {
                    decision.outcome = Some(Injected::Drop);
                    break;
                }
            }
        }
        g.rules.retain(|r| !r.spent());
        self.any.store(!g.rules.is_empty(), Ordering::Release);
        decision
    }
}

/// A rule as `/_cognito-mfa/faults` lists it (the fields of [`RuleSpec`], plus its id, what is
/// left of its count and how often it fired).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleView<'a> {
    id: u64,
    operation: &'static str,
    pool_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<u128>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    drop: bool,
    count: Option<u64>,
    remaining: Option<u64>,
    probability: Option<f64>,
    applied: u64,
}

impl<'a> From<&'a Rule> for RuleView<'a> {
    fn from(r: &'a Rule) -> Self {
        let (error, message, latency_ms, drop) = match &r.action {
            Action::Error { code, message } => (Some(code.name()), Some(message.as_str()), None, false),
            Action::Latency(d) => (None, None, Some(d.as_millis()), false),
            Action::Drop => (None, None, None, true),
        };
        RuleView {
            id: r.id,
            operation: r.operation.map_or("*", Operation::name),
            pool_id: r.pool_id.as_deref(),
            error,
            message,
            latency_ms,
            drop,
            count: r.count,
            remaining: r.remaining,
            probability: r.probability,
            applied: r.applied,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: serde_json::Value) -> RuleSpec {
        serde_json::from_value(json).expect("a rule spec")
    }

    fn error_of(d: &Decision) -> Option<ErrorCode> {
        match &d.outcome {
            Some(Injected::Error(e)) => Some(e.code),
            _ => None,
        }
    }

    #[test]
    fn no_rule_decides_nothing() {
        let f = Faults::default();
        assert_eq!(f.decide(Operation::ListUserPools, None), Decision::default());
    }

    #[test]
    fn a_counted_rule_fires_exactly_count_times_then_goes_away() {
        let f = Faults::default();
        f.add(spec(
            serde_json::json!({"operation": "GetUserPoolMfaConfig", "error": "TooManyRequestsException", "count": 2}),
        ))
        .unwrap();
        assert_eq!(
            error_of(&f.decide(Operation::ListUserPools, None)),
            None,
            "another operation"
        );
        let fired: Vec<_> = (0..4)
            .map(|_| error_of(&f.decide(Operation::GetUserPoolMfaConfig, Some("p_1"))))
            .collect();
        assert_eq!(
            fired,
            [
                Some(ErrorCode::TooManyRequestsException),
                Some(ErrorCode::TooManyRequestsException),
                None,
                None
            ]
        );
        assert!(f.list().is_empty());
        assert!(!f.any.load(Ordering::Acquire));
    }

    #[test]
    fn pool_rules_match_only_calls_naming_that_pool() {
        let f = Faults::default();
        f.add(spec(serde_json::json!({"poolId": "us-east-1_A", "drop": true})))
            .unwrap();
        assert_eq!(f.decide(Operation::DescribeUserPool, Some("us-east-1_B")).outcome, None);
        assert_eq!(
            f.decide(Operation::InitiateAuth, None).outcome,
            None,
            "a client-only call"
        );
        assert_eq!(
            f.decide(Operation::DescribeUserPool, Some("us-east-1_A")).outcome,
            Some(Injected::Drop)
        );
    }

    #[test]
    fn latencies_add_up_and_the_first_error_decides() {
        let f = Faults::default();
        for j in [
            serde_json::json!({"latencyMs": 30}),
            serde_json::json!({"latencyMs": 20, "operation": "*"}),
            serde_json::json!({"error": "InternalErrorException"}),
            serde_json::json!({"error": "LimitExceededException", "message": "slow down"}),
        ] {
            f.add(spec(j)).unwrap();
        }
        let d = f.decide(Operation::CreateUserPool, None);
        assert_eq!(d.delay, Duration::from_millis(50));
        match d.outcome {
            Some(Injected::Error(e)) => {
                assert_eq!(e.code, ErrorCode::InternalErrorException);
                assert_eq!(e.message, "An internal error occurred.");
            }
            other => panic!("{other:?}"),
        }
        let applied: Vec<u64> = f.list().iter().map(|r| r.applied).collect();
        assert_eq!(applied, [1, 1, 1, 0]);
    }

    #[test]
    fn probabilities_zero_and_one_are_never_and_always() {
        let f = Faults::default();
        f.add(spec(
            serde_json::json!({"error": "TooManyRequestsException", "probability": 0.0}),
        ))
        .unwrap();
        assert!((0..200).all(|_| f.decide(Operation::GetUser, None).outcome.is_none()));
        f.clear();
        f.add(spec(
            serde_json::json!({"error": "TooManyRequestsException", "probability": 1.0}),
        ))
        .unwrap();
        assert!((0..200).all(|_| f.decide(Operation::GetUser, None).outcome.is_some()));
        assert_eq!(f.list()[0].applied, 200);
    }

    #[test]
    fn rules_are_removed_one_by_one_or_all_at_once() {
        let f = Faults::default();
        let a = f.add(spec(serde_json::json!({"drop": true}))).unwrap();
        let b = f.add(spec(serde_json::json!({"latencyMs": 5}))).unwrap();
        assert_eq!((a.id, b.id), (1, 2));
        assert!(f.remove(a.id));
        assert!(!f.remove(a.id));
        assert_eq!(f.list().iter().map(|r| r.id).collect::<Vec<_>>(), [2]);
        assert_eq!(f.decide(Operation::GetUser, None).outcome, None);
        assert_eq!(f.clear(), 1);
        assert_eq!(f.decide(Operation::GetUser, None), Decision::default());
    }

    #[test]
    fn bad_rules_say_what_is_wrong() {
        for (json, why) in [
            (serde_json::json!({}), "exactly one of"),
            (
                serde_json::json!({"error": "TooManyRequestsException", "drop": true}),
                "exactly one of",
            ),
            (serde_json::json!({"drop": false}), "exactly one of"),
            (serde_json::json!({"error": "NoSuchException"}), "not an error type"),
            (
                serde_json::json!({"operation": "Frobnicate", "drop": true}),
                "not a cognito-idp operation",
            ),
            (serde_json::json!({"latencyMs": 0}), "latencyMs"),
            (serde_json::json!({"latencyMs": MAX_LATENCY_MS + 1}), "latencyMs"),
            (serde_json::json!({"drop": true, "count": 0}), "at least 1"),
            (
                serde_json::json!({"drop": true, "count": 1, "probability": 0.5}),
                "not both",
            ),
            (serde_json::json!({"drop": true, "probability": 1.5}), "from 0 to 1"),
            (serde_json::json!({"drop": true, "message": "x"}), "goes with error"),
            (serde_json::json!({"drop": true, "poolId": ""}), "poolId"),
        ] {
            let err = Faults::default().add(spec(json.clone())).unwrap_err();
            assert!(err.0.contains(why), "{json}: {}", err.0);
        }
        assert!(serde_json::from_value::<RuleSpec>(serde_json::json!({"drp": true})).is_err());
    }

    #[test]
    fn a_listed_rule_shows_its_action_and_what_is_left() {
        let f = Faults::default();
        let r = f
            .add(spec(
                serde_json::json!({"operation": "InitiateAuth", "error": "TooManyRequestsException", "count": 3}),
            ))
            .unwrap();
        f.decide(Operation::InitiateAuth, None);
        let listed = f.list();
        let view = serde_json::to_value(RuleView::from(&listed[0])).unwrap();
        assert_eq!(
            view,
            serde_json::json!({
                "id": r.id, "operation": "InitiateAuth", "poolId": null,
                "error": "TooManyRequestsException", "message": "Rate exceeded",
                "count": 3, "remaining": 2, "probability": null, "applied": 1,
            })
        );
    }
}
