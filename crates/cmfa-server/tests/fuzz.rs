//! Hostile input at the edge, property-based: every operation of the model gets arbitrary JSON
//! (built from real member names and random ones, any types, nested) and arbitrary bytes, through
//! the whole router (target, body, constraints, the typed decoders, the domain on a real store).
//! No answer may be a 5xx, no request may panic or hang.
//!
//! The test command runs `FUZZ_CASES` (default 2,000) cases; `scripts/fuzz.sh` runs 1,000,000
//! in a release build.

use axum::body::Body;
use cmfa_core::{CoreSettings, Service, SystemClock};
use cmfa_server::{AppState, AuthMode};
use cmfa_wire::Operation;
use http::Request;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value};
use std::sync::Arc;
use tower::ServiceExt;

/// Member names the operations take, so many cases get past "not an object" to the members.
const MEMBERS: &[&str] = &[
    "UserPoolId",
    "ClientId",
    "Username",
    "Password",
    "AuthFlow",
    "AuthParameters",
    "ChallengeName",
    "ChallengeResponses",
    "Session",
    "AccessToken",
    "MfaConfiguration",
    "SoftwareTokenMfaConfiguration",
    "SmsMfaConfiguration",
    "EmailMfaConfiguration",
    "WebAuthnConfiguration",
    "PoolName",
    "Policies",
    "UserAttributes",
    "ConfirmationCode",
    "SecretHash",
    "Credential",
    "CredentialId",
    "MaxResults",
    "NextToken",
    "Limit",
    "Filter",
    "Domain",
    "CustomDomainConfig",
    "GroupName",
    "UserCode",
    "USERNAME",
    "PASSWORD",
    "SRP_A",
    "PREFERRED_CHALLENGE",
    "ANSWER",
    "Enabled",
    "Name",
    "Value",
];

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        "\\PC{0,40}".prop_map(Value::String),
        prop::sample::select(MEMBERS).prop_map(|s| Value::String(s.to_owned())),
        prop::sample::select(
            &[
                "USER_AUTH",
                "USER_PASSWORD_AUTH",
                "USER_SRP_AUTH",
                "SMS_MFA",
                "WEB_AUTHN",
                "ON",
                "OFF",
                "us-east-1_abc"
            ][..]
        )
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![prop::sample::select(MEMBERS).prop_map(str::to_owned), "\\PC{0,12}"],
                    inner
                ),
                0..8
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn state() -> AppState {
    let store = Arc::new(cmfa_store::SqliteStore::open_in_memory().expect("store"));
    let clock: Arc<dyn cmfa_core::Clock> = Arc::new(SystemClock);
    let settings = CoreSettings {
        password_hash: cmfa_core::user::password::HashCost::Fast,
        ..CoreSettings::default()
    };
    AppState {
        service: Service::new(store, clock.clone(), settings),
        auth: AuthMode::None,
        clock,
        default_region: "us-east-1".into(),
        edge: Default::default(),
        test_routes: true,
        faults: Default::default(),
        metrics: Default::default(),
        throttle: Default::default(),
    }
}

#[test]
fn no_input_gets_a_5xx_a_panic_or_a_hang() {
    let cases: u32 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = cmfa_server::app(state());
    let arbitrary = (
        prop::sample::select(Operation::ALL.to_vec()),
        prop_oneof![
            3 => json().prop_map(|v| v.to_string().into_bytes()),
            1 => prop::collection::vec(any::<u8>(), 0..200),
        ],
    );
    // Valid requests with a random member beside them now and then, so the run also goes all the
    // way through the domain (and the check below can tell it did).
    let valid = (
        prop::sample::select(vec![
            (Operation::CreateUserPool, r#"{"PoolName":"fuzz"}"#),
            (Operation::ListUserPools, r#"{"MaxResults":10}"#),
        ]),
        json(),
    )
        .prop_map(|((op, body), extra)| {
            let mut v: Value = serde_json::from_str(body).unwrap();
            v["Extra"] = extra;
            (op, v.to_string().into_bytes())
        });
    let input = prop_oneof![9 => arbitrary, 1 => valid];
    let counts = std::sync::Mutex::new(std::collections::BTreeMap::<u16, u64>::new());
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&input, |(op, body)| {
            let req = Request::post("/")
                .header("content-type", "application/x-amz-json-1.1")
                .header(
                    "x-amz-target",
                    format!("AWSCognitoIdentityProviderService.{}", op.name()),
                )
                .body(Body::from(body))
                .unwrap();
            let app = app.clone();
            let res = rt
                .block_on(async { tokio::time::timeout(std::time::Duration::from_secs(10), app.oneshot(req)).await })
                .map_err(|_| TestCaseError::fail(format!("{}: no answer within 10 s", op.name())))?
                .unwrap();
            *counts.lock().unwrap().entry(res.status().as_u16()).or_default() += 1;
            prop_assert!(res.status().as_u16() < 500, "{} answered {}", op.name(), res.status());
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    let counts = counts.into_inner().unwrap();
    eprintln!("{cases} cases, answers by HTTP status: {counts:?}");
    assert!(
        counts.get(&200).is_some_and(|n| *n > 0),
        "some cases reach a successful operation: {counts:?}"
    );
}
