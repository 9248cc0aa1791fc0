//! Fault injection (`/_cognito-mfa/faults` and `cognito-mfa faults`), driven with the official
//! Rust SDK: its default retry policy rides out a throttling burst; counted, latency, drop,
//! probability and pool rules do what they say; the rule list is managed over HTTP and the CLI.

use aws_sdk_cognitoidentityprovider as cip;
use cip::error::SdkError;
use cmfa_testkit::cognito::{create_pool_id, service_err};
use cmfa_testkit::{Options, TestServer, http, sdk_client, sdk_client_without_retries};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn add_rule(url: &str, rule: Value) -> Value {
    http::send_json(url, "POST", "/_cognito-mfa/faults", Some(&rule)).await
}

async fn rules(url: &str) -> Vec<Value> {
    let doc = http::send_json(url, "GET", "/_cognito-mfa/faults", None).await;
    doc["rules"].as_array().expect("rules").clone()
}

async fn new_pool(c: &cip::Client, name: &str) -> String {
    create_pool_id(c.create_user_pool().pool_name(name)).await
}

#[tokio::test]
async fn the_sdk_default_retry_policy_rides_out_a_throttling_burst() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = new_pool(&c, "burst").await;
    add_rule(
        &server.url,
        json!({"operation": "DescribeUserPool", "error": "TooManyRequestsException", "count": 2}),
    )
    .await;
    let got = c.describe_user_pool().user_pool_id(&pool).send().await;
    let described = got.expect("the third attempt succeeds").user_pool.unwrap();
    assert_eq!(described.id.as_deref(), Some(pool.as_str()));
    // Both refusals were spent on this one call: the SDK retried them.
    assert!(rules(&server.url).await.is_empty());

    // A burst longer than the SDK's three attempts reaches the caller as the injected error.
    add_rule(
        &server.url,
        json!({"operation": "DescribeUserPool", "error": "TooManyRequestsException", "count": 3}),
    )
    .await;
    let (status, code, message) = service_err(c.describe_user_pool().user_pool_id(&pool).send().await);
    assert_eq!(
        (status, code.as_str(), message.as_str()),
        (400, "TooManyRequestsException", "Rate exceeded")
    );
}

#[tokio::test]
async fn a_counted_rule_affects_exactly_that_many_matching_calls() {
    let server = TestServer::start().await;
    let c = sdk_client_without_retries(&server.url);
    let (pool, other) = (new_pool(&c, "target").await, new_pool(&c, "bystander").await);
    let rule = add_rule(
        &server.url,
        json!({"operation": "GetUserPoolMfaConfig", "poolId": pool, "error": "ConcurrentModificationException",
               "message": "try again", "count": 3}),
    )
    .await;
    assert_eq!(rule["remaining"], 3);
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        // Calls that do not match go through and spend nothing.
        c.get_user_pool_mfa_config().user_pool_id(&other).send().await.unwrap();
        c.describe_user_pool().user_pool_id(&pool).send().await.unwrap();
        let r = c.get_user_pool_mfa_config().user_pool_id(&pool).send().await;
        outcomes.push(match r {
            Ok(_) => "ok".to_owned(),
            Err(e) => {
                let (status, code, message) = cmfa_testkit::cognito::service_fail(e);
                format!("{status} {code}: {message}")
            }
        });
    }
    let refused = "400 ConcurrentModificationException: try again";
    assert_eq!(outcomes, [refused, refused, refused, "ok", "ok"]);
    assert!(rules(&server.url).await.is_empty(), "a spent rule is removed");
}

#[tokio::test]
async fn a_latency_rule_delays_the_answer() {
    let server = TestServer::start().await;
    let c = sdk_client_without_retries(&server.url);
    add_rule(
        &server.url,
        json!({"operation": "ListUserPools", "latencyMs": 400, "count": 1}),
    )
    .await;
    let started = Instant::now();
    c.list_user_pools().max_results(10).send().await.unwrap();
    let slow = started.elapsed();
    assert!(slow >= Duration::from_millis(400), "{slow:?}");
    assert!(rules(&server.url).await.is_empty());

    // Latency stacks with an error rule: the answer is late and an error.
    add_rule(&server.url, json!({"latencyMs": 200, "count": 1})).await;
    add_rule(&server.url, json!({"error": "LimitExceededException", "count": 1})).await;
    let started = Instant::now();
    let (_, code, _) = service_err(c.list_user_pools().max_results(10).send().await);
    assert_eq!(code, "LimitExceededException");
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn a_drop_rule_closes_the_connection_without_an_answer() {
    let server = TestServer::start().await;
    add_rule(
        &server.url,
        json!({"operation": "ListUserPools", "drop": true, "count": 1}),
    )
    .await;
    // Raw: the server closes the connection having written nothing at all.
    let addr = server.url.strip_prefix("http://").unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let body = br#"{"MaxResults":10}"#;
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut got = Vec::new();
    // A clean close reads 0 bytes, a reset is an error: either way, no answer.
    let _closed = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut got))
        .await
        .expect("the server closes the connection");
    assert!(got.is_empty(), "answered: {}", String::from_utf8_lossy(&got));

    // The SDK sees a transport error, not a service error.
    add_rule(
        &server.url,
        json!({"operation": "ListUserPools", "drop": true, "count": 1}),
    )
    .await;
    let c = sdk_client_without_retries(&server.url);
    let e = c.list_user_pools().max_results(10).send().await.unwrap_err();
    assert!(matches!(e, SdkError::DispatchFailure(_)), "{e:?}");

    // With its default retries, the SDK reconnects and succeeds.
    add_rule(
        &server.url,
        json!({"operation": "ListUserPools", "drop": true, "count": 1}),
    )
    .await;
    sdk_client(&server.url)
        .list_user_pools()
        .max_results(10)
        .send()
        .await
        .unwrap();
    assert!(rules(&server.url).await.is_empty());
}

#[tokio::test]
async fn internal_error_is_answered_with_http_500() {
    let server = TestServer::start().await;
    add_rule(&server.url, json!({"error": "InternalErrorException", "count": 1})).await;
    let (status, head, body) = http::post_raw(&server.url, "ListUserPools", br#"{"MaxResults":1}"#).await;
    assert_eq!(status, 500);
    assert!(head.contains("x-amzn-errortype: internalerrorexception:"), "{head}");
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        doc,
        json!({"__type": "InternalErrorException", "message": "An internal error occurred."})
    );

    add_rule(&server.url, json!({"error": "InternalErrorException", "count": 1})).await;
    let c = sdk_client_without_retries(&server.url);
    let (status, code, _) = service_err(c.list_user_pools().max_results(1).send().await);
    assert_eq!((status, code.as_str()), (500, "InternalErrorException"));
}

#[tokio::test]
async fn probability_one_always_fires_and_zero_never_does() {
    let server = TestServer::start().await;
    let c = sdk_client_without_retries(&server.url);
    let pool = new_pool(&c, "dice").await;
    add_rule(
        &server.url,
        json!({"operation": "GetUserPoolMfaConfig", "error": "LimitExceededException", "probability": 1.0}),
    )
    .await;
    for _ in 0..10 {
        let (_, code, _) = service_err(c.get_user_pool_mfa_config().user_pool_id(&pool).send().await);
        assert_eq!(code, "LimitExceededException");
    }
    assert_eq!(rules(&server.url).await[0]["applied"], 10, "an uncounted rule stays");
    http::send_json(&server.url, "DELETE", "/_cognito-mfa/faults", None).await;

    add_rule(
        &server.url,
        json!({"operation": "GetUserPoolMfaConfig", "error": "LimitExceededException", "probability": 0.0}),
    )
    .await;
    for _ in 0..10 {
        c.get_user_pool_mfa_config().user_pool_id(&pool).send().await.unwrap();
    }
    assert_eq!(rules(&server.url).await[0]["applied"], 0);
}

#[tokio::test]
async fn a_pool_rule_leaves_other_pools_and_calls_without_a_pool_alone() {
    let server = TestServer::start().await;
    let c = sdk_client_without_retries(&server.url);
    let (a, b) = (new_pool(&c, "a").await, new_pool(&c, "b").await);
    add_rule(&server.url, json!({"poolId": a, "error": "TooManyRequestsException"})).await;
    let (_, code, _) = service_err(c.describe_user_pool().user_pool_id(&a).send().await);
    assert_eq!(code, "TooManyRequestsException");
    let (_, code, _) = service_err(c.get_user_pool_mfa_config().user_pool_id(&a).send().await);
    assert_eq!(code, "TooManyRequestsException");
    c.describe_user_pool().user_pool_id(&b).send().await.unwrap();
    c.list_user_pools().max_results(10).send().await.unwrap();
}

#[tokio::test]
async fn rules_are_listed_removed_and_refused_with_clear_errors() {
    let server = TestServer::start().await;
    let url = &server.url;
    let first = add_rule(
        url,
        json!({"operation": "InitiateAuth", "error": "TooManyRequestsException", "count": 2}),
    )
    .await;
    let second = add_rule(url, json!({"latencyMs": 50, "probability": 0.25})).await;
    assert_eq!(
        rules(url).await,
        [
            json!({"id": first["id"], "operation": "InitiateAuth", "poolId": null, "error": "TooManyRequestsException",
                   "message": "Rate exceeded", "count": 2, "remaining": 2, "probability": null, "applied": 0}),
            json!({"id": second["id"], "operation": "*", "poolId": null, "latencyMs": 50,
                   "count": null, "remaining": null, "probability": 0.25, "applied": 0}),
        ]
    );
    let one = format!("/_cognito-mfa/faults/{}", first["id"]);
    assert_eq!(http::send_json(url, "DELETE", &one, None).await, json!({"cleared": 1}));
    assert_eq!(rules(url).await.len(), 1);
    let (status, _, body) = http::send(url, "DELETE", &one, None).await;
    let doc: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (status, doc["__type"].as_str()),
        (400, Some("ResourceNotFoundException"))
    );
    assert_eq!(
        http::send_json(url, "DELETE", "/_cognito-mfa/faults", None).await,
        json!({"cleared": 1})
    );
    assert!(rules(url).await.is_empty());

    // Bad input: an AWS-shaped 400 that says what is wrong, and no rule added.
    for (method, path, body, code, says) in [
        (
            "POST",
            "/_cognito-mfa/faults",
            Some("{not json"),
            "SerializationException",
            "JSON object",
        ),
        (
            "POST",
            "/_cognito-mfa/faults",
            Some(r#"{"drp": true}"#),
            "SerializationException",
            "drp",
        ),
        (
            "POST",
            "/_cognito-mfa/faults",
            Some(r#"{"error": "NopeException"}"#),
            "InvalidParameterException",
            "not an error type",
        ),
        (
            "POST",
            "/_cognito-mfa/faults",
            Some(r#"{"operation": "Nope", "drop": true}"#),
            "InvalidParameterException",
            "not a cognito-idp operation",
        ),
        (
            "POST",
            "/_cognito-mfa/faults",
            Some(r#"{"drop": true, "count": 2, "probability": 1}"#),
            "InvalidParameterException",
            "not both",
        ),
        (
            "POST",
            "/_cognito-mfa/faults",
            Some("[]"),
            "SerializationException",
            "JSON object",
        ),
        (
            "DELETE",
            "/_cognito-mfa/faults/abc",
            None,
            "InvalidParameterException",
            "is a number",
        ),
        (
            "PUT",
            "/_cognito-mfa/faults",
            None,
            "UnknownOperationException",
            "GET, POST or DELETE",
        ),
        (
            "GET",
            "/_cognito-mfa/faults/1",
            None,
            "UnknownOperationException",
            "DELETE",
        ),
    ] {
        let (status, _, got) = raw_send(url, method, path, body.unwrap_or("")).await;
        let doc: Value = serde_json::from_slice(&got).unwrap_or_else(|_| panic!("{method} {path}: not JSON"));
        assert_eq!(status, 400, "{method} {path} {body:?}: {doc}");
        assert_eq!(doc["__type"], code, "{method} {path} {body:?}: {doc}");
        let message = doc["message"].as_str().unwrap();
        assert!(message.contains(says), "{method} {path} {body:?}: {message}");
    }
    assert!(rules(url).await.is_empty());
}

/// `http::send` with the body as given (malformed JSON included).
async fn raw_send(url: &str, method: &str, path: &str, body: &str) -> http::Response {
    let addr = url.strip_prefix("http://").unwrap();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head.to_ascii_lowercase(), body.as_bytes().to_vec())
}

#[tokio::test]
async fn with_test_routes_off_the_faults_route_does_not_exist() {
    let server = TestServer::start_with(Options {
        no_test_routes: true,
        ..Options::default()
    })
    .await;
    for (method, body) in [("GET", None), ("POST", Some(json!({"drop": true}))), ("DELETE", None)] {
        let (status, _, got) = http::send(&server.url, method, "/_cognito-mfa/faults", body.as_ref()).await;
        let doc: Value = serde_json::from_slice(&got).unwrap();
        assert_eq!(
            (status, doc["__type"].as_str()),
            (400, Some("UnknownOperationException")),
            "{method}"
        );
    }
    // Nothing was added: calls go through.
    sdk_client_without_retries(&server.url)
        .list_user_pools()
        .max_results(1)
        .send()
        .await
        .unwrap();
}

fn cli(args: &[&str]) -> std::process::Output {
    cmfa_testkit::binary::command(env!("CARGO_BIN_EXE_cognito-mfa"))
        .args(args)
        .output()
        .expect("run cognito-mfa")
}

#[tokio::test]
async fn the_cli_adds_lists_and_clears_rules() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        let added = cli(&[
            "faults",
            "add",
            "--url",
            &url,
            "--operation",
            "ListUserPools",
            "--error",
            "TooManyRequestsException",
            "--count",
            "1",
        ]);
        let listed = cli(&["faults", "list", "--url", &url]);
        let refused = cli(&["faults", "add", "--url", &url, "--error", "NopeException"]);
        (added, listed, refused)
    })
    .await
    .unwrap();
    let (added, listed, refused) = out;
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let rule: Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!(
        (rule["operation"].as_str(), rule["count"].as_u64()),
        (Some("ListUserPools"), Some(1))
    );
    let lines: Vec<Value> = String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines, [rule]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("InvalidParameterException"), "{stderr}");

    // The rule the CLI added is in force.
    let c = sdk_client_without_retries(&server.url);
    let (_, code, _) = service_err(c.list_user_pools().max_results(1).send().await);
    assert_eq!(code, "TooManyRequestsException");

    let url = server.url.clone();
    let cleared = tokio::task::spawn_blocking(move || {
        cli(&["faults", "add", "--url", &url, "--drop"]);
        cli(&["faults", "clear", "--url", &url])
    })
    .await
    .unwrap();
    assert!(cleared.status.success());
    assert_eq!(
        serde_json::from_slice::<Value>(&cleared.stdout).unwrap(),
        json!({"cleared": 1})
    );
    c.list_user_pools().max_results(1).send().await.unwrap();
}
