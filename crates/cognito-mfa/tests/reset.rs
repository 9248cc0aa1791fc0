//! `POST /_cognito-mfa/reset` and moto's `POST /moto-api/reset`: everything, or one pool, is
//! wiped in one call, while concurrent requests either complete or fail cleanly.

use aws_sdk_cognitoidentityprovider as cip;
use cip::error::{ProvideErrorMetadata, SdkError};
use cip::types::{AttributeType, DeliveryMediumType};
use cmfa_testkit::cognito::{create_pool_id, service_err};
use cmfa_testkit::{Options, TestServer, http, sdk_client_without_retries};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What one call of the load came to: `ok`, an error `__type`, or `transport`/`hang`.
fn outcome<O, E: ProvideErrorMetadata>(
    r: Result<Result<O, SdkError<E>>, tokio::time::error::Elapsed>,
) -> (String, Option<O>) {
    match r {
        Err(_) => ("hang".into(), None),
        Ok(Ok(v)) => ("ok".into(), Some(v)),
        Ok(Err(e)) => match e.code() {
            Some(code) => (code.to_owned(), None),
            None => ("transport".into(), None),
        },
    }
}

const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// Sets up a pool with an app client, a group and a user invited by email (an outbox message).
async fn fixture(c: &cip::Client, name: &str) -> (String, String) {
    let pool = create_pool_id(c.create_user_pool().pool_name(name)).await;
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("app")
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    c.create_group()
        .user_pool_id(&pool)
        .group_name("staff")
        .send()
        .await
        .unwrap();
    c.admin_create_user()
        .user_pool_id(&pool)
        .username("alice")
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value("alice@example.com")
                .build()
                .unwrap(),
        )
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .send()
        .await
        .unwrap();
    c.admin_add_user_to_group()
        .user_pool_id(&pool)
        .username("alice")
        .group_name("staff")
        .send()
        .await
        .unwrap();
    (pool, client)
}

async fn outbox_of(url: &str, pool: &str) -> Vec<Value> {
    let doc = http::get_json(url, &format!("/_cognito-mfa/outbox?pool_id={pool}&limit=100")).await;
    doc["messages"].as_array().unwrap().clone()
}

async fn pool_ids(c: &cip::Client) -> Vec<String> {
    let pools = c.list_user_pools().max_results(60).send().await.unwrap();
    pools.user_pools().iter().filter_map(|p| p.id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_under_load_wipes_what_came_before_and_fails_no_request() {
    let server = TestServer::start().await;
    reset_under_load(&server.url, &server.url).await;
}

/// Loads the server at `load_url` with pool and user writes and reads, wipes everything
/// through `reset_url` meanwhile (the same server, or another process on the same database),
/// and checks what the reset left and how every call ended.
async fn reset_under_load(load_url: &str, reset_url: &str) {
    let c = sdk_client_without_retries(load_url);
    let mut before = Vec::new();
    for i in 0..3 {
        before.push(fixture(&c, &format!("fixture-{i}")).await.0);
    }

    // Load: tasks creating pools and users and reading them back, each call tried once.
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes: Arc<Mutex<BTreeMap<String, usize>>> = Default::default();
    // Pools created, with the moment their creation was answered.
    let created: Arc<Mutex<Vec<(Instant, String)>>> = Default::default();
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (c, stop, outcomes, created) = (c.clone(), stop.clone(), outcomes.clone(), created.clone());
        tasks.push(tokio::spawn(async move {
            let count = |o: String| *outcomes.lock().unwrap().entry(o).or_default() += 1;
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let made = tokio::time::timeout(
                    CALL_TIMEOUT,
                    c.create_user_pool().pool_name(format!("load-{t}-{i}")).send(),
                )
                .await;
                let (o, made) = outcome(made);
                count(o);
                let Some(pool) = made.and_then(|m| m.user_pool).and_then(|p| p.id) else {
                    continue;
                };
                created.lock().unwrap().push((Instant::now(), pool.clone()));
                for u in 0..3 {
                    let r = c
                        .admin_create_user()
                        .user_pool_id(&pool)
                        .username(format!("user{u}"))
                        .user_attributes(
                            AttributeType::builder()
                                .name("email")
                                .value(format!("u{u}@example.com"))
                                .build()
                                .unwrap(),
                        )
                        .desired_delivery_mediums(DeliveryMediumType::Email)
                        .send();
                    count(outcome(tokio::time::timeout(CALL_TIMEOUT, r).await).0);
                }
                let r = c.list_users().user_pool_id(&pool).send();
                count(outcome(tokio::time::timeout(CALL_TIMEOUT, r).await).0);
                let r = c.admin_get_user().user_pool_id(&pool).username("user0").send();
                count(outcome(tokio::time::timeout(CALL_TIMEOUT, r).await).0);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    let reset_sent = Instant::now();
    let answer = http::send_json(reset_url, "POST", "/_cognito-mfa/reset", None).await;
    assert_eq!(answer, json!({"status": "ok", "reset": "all"}));
    tokio::time::sleep(Duration::from_millis(400)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .expect("a load task hung")
            .unwrap();
    }

    // Every call completed or failed cleanly: its pool or user was gone, never a 500, a
    // dropped connection or a hang.
    let outcomes = outcomes.lock().unwrap().clone();
    eprintln!("load outcomes: {outcomes:?}");
    for (o, n) in &outcomes {
        assert!(
            ["ok", "ResourceNotFoundException", "UserNotFoundException"].contains(&o.as_str()),
            "{n} calls ended with {o}: {outcomes:?}"
        );
    }
    // The load ran on both sides of the reset.
    let created = created.lock().unwrap().clone();
    assert!(
        created.iter().any(|(at, _)| *at < reset_sent),
        "no pool made before the reset"
    );
    assert!(
        created.iter().any(|(at, _)| *at > reset_sent),
        "no pool made after the reset"
    );

    // What was answered before the reset was sent is gone; what came after may remain.
    let left = pool_ids(&c).await;
    for (at, pool) in created.iter().filter(|(at, _)| *at < reset_sent) {
        assert!(
            !left.contains(pool),
            "{pool}, made {:?} before the reset, survived it",
            reset_sent - *at
        );
    }
    for pool in &before {
        let (_, code, _) = service_err(c.describe_user_pool().user_pool_id(pool).send().await);
        assert_eq!(code, "ResourceNotFoundException");
        assert!(outbox_of(load_url, pool).await.is_empty());
    }

    // With the load stopped, one more reset leaves nothing at all.
    http::send_json(reset_url, "POST", "/_cognito-mfa/reset", None).await;
    assert!(pool_ids(&c).await.is_empty());
    let all = http::get_json(load_url, "/_cognito-mfa/outbox?limit=10").await;
    assert_eq!(all["messages"], json!([]));
    // And the server works as new.
    let (pool, _) = fixture(&c, "afterwards").await;
    assert_eq!(pool_ids(&c).await, [pool]);
}

#[tokio::test]
async fn a_pool_reset_takes_that_pool_and_nothing_else() {
    let server = TestServer::start().await;
    let c = sdk_client_without_retries(&server.url);
    let (a, a_client) = fixture(&c, "a").await;
    let (b, b_client) = fixture(&c, "b").await;
    assert_eq!(outbox_of(&server.url, &a).await.len(), 1);
    http::send_json(
        &server.url,
        "POST",
        "/_cognito-mfa/faults",
        Some(&json!({"latencyMs": 1, "count": 1000})),
    )
    .await;

    let answer = http::send_json(&server.url, "POST", &format!("/_cognito-mfa/reset?pool_id={a}"), None).await;
    assert_eq!(answer, json!({"status": "ok", "reset": "pool", "poolId": a}));

    let (_, code, _) = service_err(c.describe_user_pool().user_pool_id(&a).send().await);
    assert_eq!(code, "ResourceNotFoundException");
    let (_, code, _) = service_err(
        c.describe_user_pool_client()
            .user_pool_id(&a)
            .client_id(&a_client)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert!(outbox_of(&server.url, &a).await.is_empty());

    c.describe_user_pool().user_pool_id(&b).send().await.unwrap();
    c.describe_user_pool_client()
        .user_pool_id(&b)
        .client_id(&b_client)
        .send()
        .await
        .unwrap();
    let users = c.list_users().user_pool_id(&b).send().await.unwrap();
    assert_eq!(users.users().len(), 1);
    let groups = c
        .admin_list_groups_for_user()
        .user_pool_id(&b)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(groups.groups().len(), 1);
    assert_eq!(outbox_of(&server.url, &b).await.len(), 1);
    assert_eq!(pool_ids(&c).await, [b.as_str()]);
    // Fault rules are not pool data: they stay.
    let rules = http::send_json(&server.url, "GET", "/_cognito-mfa/faults", None).await;
    assert_eq!(rules["rules"].as_array().unwrap().len(), 1);

    // A pool that is not there is nothing to wipe, not an error.
    let gone = http::send_json(&server.url, "POST", &format!("/_cognito-mfa/reset?pool_id={a}"), None).await;
    assert_eq!(gone["status"], "ok");
}

#[tokio::test]
async fn moto_api_reset_wipes_everything_and_answers_as_moto_does() {
    let server = TestServer::start().await;
    let c = sdk_client_without_retries(&server.url);
    let (a, _) = fixture(&c, "a").await;
    fixture(&c, "b").await;
    http::send_json(
        &server.url,
        "POST",
        "/_cognito-mfa/faults",
        Some(&json!({"latencyMs": 1})),
    )
    .await;

    // Refused without wiping anything: a wrong method, an unknown parameter (a typo must not
    // wipe everything), a malformed pool id.
    for (method, path, code) in [
        ("GET", "/moto-api/reset".to_owned(), "UnknownOperationException"),
        ("GET", "/_cognito-mfa/reset".to_owned(), "UnknownOperationException"),
        (
            "POST",
            format!("/_cognito-mfa/reset?pool={a}"),
            "InvalidParameterException",
        ),
        (
            "POST",
            "/_cognito-mfa/reset?pool_id=no%20such%20thing".to_owned(),
            "InvalidParameterException",
        ),
    ] {
        let (status, _, body) = http::send(&server.url, method, &path, None).await;
        let doc: Value = serde_json::from_slice(&body).unwrap_or_else(|_| panic!("{method} {path}: not JSON"));
        assert_eq!(
            (status, doc["__type"].as_str()),
            (400, Some(code)),
            "{method} {path}: {doc}"
        );
        assert!(!doc["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(pool_ids(&c).await.len(), 2);

    let (status, head, body) = http::send(&server.url, "POST", "/moto-api/reset", None).await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_eq!(serde_json::from_slice::<Value>(&body).unwrap(), json!({"status": "ok"}));
    assert!(pool_ids(&c).await.is_empty());
    let all = http::get_json(&server.url, "/_cognito-mfa/outbox?limit=10").await;
    assert_eq!(all["messages"], json!([]));
    // A full wipe takes the fault rules too.
    let rules = http::send_json(&server.url, "GET", "/_cognito-mfa/faults", None).await;
    assert_eq!(rules["rules"], json!([]));
}

#[tokio::test]
async fn with_test_routes_off_nothing_can_be_wiped() {
    let server = TestServer::start_with(Options {
        no_test_routes: true,
        ..Options::default()
    })
    .await;
    let c = sdk_client_without_retries(&server.url);
    let pool = create_pool_id(c.create_user_pool().pool_name("kept")).await;
    for path in ["/_cognito-mfa/reset", "/moto-api/reset"] {
        let (status, _, body) = http::send(&server.url, "POST", path, None).await;
        let doc: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            (status, doc["__type"].as_str()),
            (400, Some("UnknownOperationException")),
            "{path}"
        );
    }
    assert_eq!(pool_ids(&c).await, [pool]);
}

/// The same load and reset on PostgreSQL, with the load on one server process and the reset
/// sent to another on the same database. Runs when `TEST_DATABASE_URL` is set (in a schema of
/// its own); fails, never skips, if it is set and unreachable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_reset_under_load_across_two_processes() {
    let Some(url) = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) else {
        eprintln!("TEST_DATABASE_URL unset: PostgreSQL reset under load skipped");
        return;
    };
    let (db, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
    tokio::spawn(conn);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let schema = format!("cmfa_reset_{}_{nanos}", std::process::id());
    db.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{sep}options=-csearch_path%3D{schema}");
    let serve = || {
        let mut cmd = cmfa_testkit::binary::serve_command(env!("CARGO_BIN_EXE_cognito-mfa"));
        cmd.arg("--database-url").arg(&scoped);
        cmfa_testkit::binary::spawn_server(cmd, Duration::from_secs(30))
    };
    let (a, b) = (serve(), serve());
    reset_under_load(&a.url, &b.url).await;
    drop((a, b));
    db.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap();
}
