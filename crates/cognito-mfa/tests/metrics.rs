//! `GET /_cognito-mfa/metrics`: the output parses as the Prometheus text format (a parser plus a
//! strict line check), its counters move with the requests made, and no label carries an id,
//! a username or a secret. The real binary adds the process's figures and counts deliveries.

use aws_sdk_cognitoidentityprovider as cip;
use cip::types::{AttributeType, AuthFlowType, ExplicitAuthFlowsType, VerifiedAttributeType};
use cmfa_testkit::cognito::{create_client_id, create_pool_id, service_err};
use cmfa_testkit::{Options, TestServer, binary, http, sdk_client, sdk_client_without_retries};
use prometheus_parse::{LineInfo, Scrape, Value};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

/// Scrapes `url`, checks every line strictly, and parses the text.
async fn scrape(url: &str) -> (String, Scrape) {
    let (status, head, body) = http::get(url, "/_cognito-mfa/metrics").await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/plain; version=0.0.4"), "{head}");
    let text = String::from_utf8(body).expect("UTF-8");
    check_lines(&text);
    let parsed = Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))).expect("parses");
    (text, parsed)
}

/// The parser skips what it does not understand; this does not: every line is a HELP, a TYPE or
/// a sample, every sample belongs to a family declared by a TYPE line before it (a histogram's
/// `_bucket`, `_sum` and `_count` included), and no family is declared twice.
fn check_lines(text: &str) {
    assert!(text.ends_with('\n'), "the text ends with a newline");
    let mut families: HashSet<String> = HashSet::new();
    for line in text.lines() {
        match LineInfo::parse(line) {
            LineInfo::Doc { .. } => {}
            LineInfo::Type {
                metric_name,
                metric_alias,
                ..
            } => {
                let family = metric_alias.unwrap_or(metric_name);
                assert!(families.insert(family.clone()), "{family} declared twice");
            }
            LineInfo::Sample { metric_name, value, .. } => {
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|s| metric_name.strip_suffix(s).filter(|f| families.contains(*f)))
                    .unwrap_or(metric_name);
                assert!(families.contains(family), "sample of an undeclared family: {line}");
                assert!(
                    value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
                    "bad value: {line}"
                );
            }
            LineInfo::Empty | LineInfo::Ignored => panic!("not a Prometheus text line: {line:?}"),
        }
    }
}

/// The value of the counter or gauge `metric` with exactly these labels (0 if absent).
fn value(s: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found: Vec<f64> = s
        .samples
        .iter()
        .filter(|x| x.metric == metric && labels.iter().all(|(k, v)| x.labels.get(k) == Some(*v)))
        .filter(|x| x.labels.len() == labels.len())
        .map(|x| match &x.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            other => panic!("{metric} is not a single value: {other:?}"),
        })
        .collect();
    assert!(found.len() <= 1, "{metric} {labels:?} appears {} times", found.len());
    found.first().copied().unwrap_or(0.0)
}

/// How many observations the histogram `metric` has for the label `name` = `value` (its `+Inf`
/// bucket).
fn observations(s: &Scrape, metric: &str, (name, value): (&str, &str)) -> f64 {
    s.samples
        .iter()
        .find(|x| x.metric == metric && x.labels.get(name) == Some(value))
        .map_or(0.0, |x| match &x.value {
            Value::Histogram(buckets) => {
                buckets
                    .iter()
                    .find(|b| b.less_than.is_infinite())
                    .expect("+Inf bucket")
                    .count
            }
            other => panic!("{metric} is not a histogram: {other:?}"),
        })
}

const REQUESTS: &str = "cognito_mfa_requests_total";

/// A pool that verifies email addresses (so a sign-up sends a code) and its app client's id.
async fn email_pool(c: &cip::Client, name: &str) -> String {
    let pool = create_pool_id(
        c.create_user_pool()
            .pool_name(name)
            .auto_verified_attributes(VerifiedAttributeType::Email),
    )
    .await;
    create_client_id(c.create_user_pool_client().user_pool_id(&pool).client_name("app")).await
}

/// Signs `name` up with the address `name@example.com`.
async fn sign_up_with_email(c: &cip::Client, client: &str, name: &str) {
    c.sign_up()
        .client_id(client)
        .username(name)
        .password("Passw0rd!x")
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value(format!("{name}@example.com"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

fn requests(s: &Scrape, operation: &str, outcome: &str) -> f64 {
    value(s, REQUESTS, &[("operation", operation), ("outcome", outcome)])
}

#[tokio::test]
async fn counters_move_with_the_requests_made() {
    let server = TestServer::start().await;
    let c = sdk_client_without_retries(&server.url);
    let pool = create_pool_id(c.create_user_pool().pool_name("metered")).await;
    let (_, before) = scrape(&server.url).await;

    for _ in 0..3 {
        c.get_user_pool_mfa_config().user_pool_id(&pool).send().await.unwrap();
    }
    let missing = format!("{pool}x");
    service_err(c.describe_user_pool().user_pool_id(&missing).send().await);
    http::send_json(
        &server.url,
        "POST",
        "/_cognito-mfa/faults",
        Some(&json!({"operation": "ListUserPools", "error": "TooManyRequestsException", "count": 1})),
    )
    .await;
    service_err(c.list_user_pools().max_results(1).send().await);
    http::post_raw(&server.url, "NoSuchOperation", b"{}").await;

    let (text, after) = scrape(&server.url).await;
    let moved = |op: &str, outcome: &str| requests(&after, op, outcome) - requests(&before, op, outcome);
    assert_eq!(moved("GetUserPoolMfaConfig", "ok"), 3.0);
    assert_eq!(moved("DescribeUserPool", "ResourceNotFoundException"), 1.0);
    assert_eq!(moved("ListUserPools", "TooManyRequestsException"), 1.0);
    assert_eq!(moved("unknown", "UnknownOperationException"), 1.0);
    assert_eq!(moved("CreateUserPool", "ok"), 0.0);
    let latency = "cognito_mfa_request_duration_seconds";
    assert_eq!(
        observations(&after, latency, ("operation", "GetUserPoolMfaConfig"))
            - observations(&before, latency, ("operation", "GetUserPoolMfaConfig")),
        3.0
    );
    assert!(after.docs.contains_key(REQUESTS), "HELP text for the request counter");
    assert!(!text.contains(&pool), "a pool id in the metrics");
}

#[tokio::test]
async fn sign_in_answers_are_counted_by_challenge() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = create_pool_id(c.create_user_pool().pool_name("signin")).await;
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    for (name, permanent) in [("settled-user", true), ("fresh-user", false)] {
        c.admin_create_user()
            .user_pool_id(&pool)
            .username(name)
            .temporary_password("Temp-Passw0rd!")
            .send()
            .await
            .unwrap();
        if permanent {
            c.admin_set_user_password()
                .user_pool_id(&pool)
                .username(name)
                .password("Sup3r-Secret!")
                .permanent(true)
                .send()
                .await
                .unwrap();
        }
    }
    let (_, before) = scrape(&server.url).await;
    let sign_in = |user: &str, password: &str| {
        c.initiate_auth()
            .client_id(&client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", user)
            .auth_parameters("PASSWORD", password)
            .send()
    };
    let tokens = sign_in("settled-user", "Sup3r-Secret!").await.unwrap();
    let access = tokens
        .authentication_result()
        .unwrap()
        .access_token()
        .unwrap()
        .to_owned();
    let challenged = sign_in("fresh-user", "Temp-Passw0rd!").await.unwrap();
    assert_eq!(
        challenged.challenge_name().map(|c| c.as_str()),
        Some("NEW_PASSWORD_REQUIRED")
    );
    service_err(sign_in("settled-user", "wrong-Passw0rd!").await);

    let (text, after) = scrape(&server.url).await;
    let answers = "cognito_mfa_sign_in_answers_total";
    let moved = |challenge: &str| {
        let labels = [("operation", "InitiateAuth"), ("challenge", challenge)];
        value(&after, answers, &labels) - value(&before, answers, &labels)
    };
    assert_eq!(moved("tokens"), 1.0);
    assert_eq!(moved("NEW_PASSWORD_REQUIRED"), 1.0);
    assert_eq!(requests(&after, "InitiateAuth", "NotAuthorizedException"), 1.0);
    for secret in [
        pool.as_str(),
        client.as_str(),
        "settled-user",
        "fresh-user",
        "Sup3r-Secret!",
        access.as_str(),
    ] {
        assert!(!text.contains(secret), "{secret} appears in the metrics");
    }
}

#[tokio::test]
async fn metrics_stay_on_when_the_test_routes_are_off() {
    let server = TestServer::start_with(Options {
        no_test_routes: true,
        ..Options::default()
    })
    .await;
    sdk_client(&server.url)
        .list_user_pools()
        .max_results(1)
        .send()
        .await
        .unwrap();
    let (_, s) = scrape(&server.url).await;
    assert_eq!(requests(&s, "ListUserPools", "ok"), 1.0);
    let (status, _, body) = http::send(&server.url, "POST", "/_cognito-mfa/metrics", None).await;
    let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, doc["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
}

#[tokio::test]
async fn the_binary_shows_process_figures_and_counts_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = binary::serve_command(env!("CARGO_BIN_EXE_cognito-mfa"));
    cmd.arg("--data-dir").arg(dir.path());
    let server = binary::spawn_server(cmd, Duration::from_secs(30));
    let c = sdk_client(&server.url);
    let client = email_pool(&c, "deliveries").await;
    sign_up_with_email(&c, &client, "mailed").await;

    // The worker delivers the confirmation code (to the log, nothing else being configured).
    let delivered = [("channel", "email"), ("outcome", "delivered")];
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let (text, s) = loop {
        let (text, s) = scrape(&server.url).await;
        if value(&s, "cognito_mfa_messages_sent_total", &delivered) >= 1.0 {
            break (text, s);
        }
        assert!(std::time::Instant::now() < deadline, "no delivery counted:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(value(&s, "cognito_mfa_messages_sent_total", &delivered), 1.0);
    assert!(!text.contains("mailed@example.com"), "a destination in the metrics");
    // The pool, the client and the user were written; the sign-up read the user first.
    let store = "cognito_mfa_store_call_duration_seconds";
    assert!(observations(&s, store, ("kind", "write")) >= 3.0, "{text}");
    assert!(observations(&s, store, ("kind", "read")) >= 1.0, "{text}");

    assert!(value(&s, "process_resident_memory_bytes", &[]) > 1_000_000.0);
    assert!(value(&s, "process_virtual_memory_bytes", &[]) > 1_000_000.0);
    assert!(value(&s, "process_cpu_seconds_total", &[]) > 0.0);
    assert!(value(&s, "process_open_fds", &[]) >= 3.0);
    assert!(value(&s, "process_max_fds", &[]) >= value(&s, "process_open_fds", &[]));
    assert!(value(&s, "process_threads", &[]) >= 2.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = value(&s, "process_start_time_seconds", &[]);
    assert!(started > now - 120.0 && started <= now, "{started} vs {now}");
}

#[tokio::test]
async fn a_message_that_cannot_be_delivered_stays_in_the_backlog() {
    // Email goes to an SMTP port where nothing listens: every attempt fails and is retried.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = binary::serve_command(env!("CARGO_BIN_EXE_cognito-mfa"));
    cmd.args(["--smtp-url", &format!("smtp://127.0.0.1:{port}"), "--data-dir"])
        .arg(dir.path());
    let server = binary::spawn_server(cmd, Duration::from_secs(30));
    let c = sdk_client(&server.url);
    let client = email_pool(&c, "undeliverable").await;
    let (_, before) = scrape(&server.url).await;
    assert_eq!(value(&before, "cognito_mfa_delivery_backlog", &[]), 0.0);
    for name in ["first", "second"] {
        sign_up_with_email(&c, &client, name).await;
    }
    let failed = [("channel", "email"), ("outcome", "failed")];
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (text, s) = scrape(&server.url).await;
        if value(&s, "cognito_mfa_delivery_backlog", &[]) == 2.0
            && value(&s, "cognito_mfa_messages_sent_total", &failed) >= 2.0
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the backlog never showed both:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
