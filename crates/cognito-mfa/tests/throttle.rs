//! `--throttle aws`: a burst above a category's rate gets `TooManyRequestsException` `Rate
//! exceeded` while a paced client does not, and the Rust SDK's default retries ride out a short
//! burst.

use cmfa_server::throttle::ThrottleSettings;
use cmfa_testkit::cognito::service_fail;
use cmfa_testkit::{Options, TestServer, sdk_client, sdk_client_without_retries};
use std::collections::HashMap;
use std::time::Duration;

async fn throttled(rates: &[(&str, f64)]) -> TestServer {
    let overrides: HashMap<String, f64> = rates.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
    TestServer::start_with(Options {
        throttle: Some(ThrottleSettings::aws(&overrides).unwrap()),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn a_burst_is_throttled_and_a_paced_client_is_not() {
    let server = throttled(&[("UserPoolRead", 5.0)]).await;
    let c = sdk_client_without_retries(&server.url);
    let pool = c
        .create_user_pool()
        .pool_name("t")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    // Let the bucket fill, then a burst of 20 at once.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut refused = 0;
    for _ in 0..20 {
        match c
            .describe_user_pool()
            .user_pool_id(&pool)
            .send()
            .await
            .map_err(service_fail)
        {
            Ok(_) => {}
            Err(f) => {
                assert_eq!(
                    (f.0, f.1.as_str(), f.2.as_str()),
                    (400, "TooManyRequestsException", "Rate exceeded")
                );
                refused += 1;
            }
        }
    }
    assert!(refused >= 10, "most of a burst of 20 over 5/s is refused ({refused})");
    // Paced at 4 a second: every call gets through.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..8 {
        c.describe_user_pool()
            .user_pool_id(&pool)
            .send()
            .await
            .expect("paced calls are not throttled");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Other categories have their own buckets.
    c.list_user_pools()
        .max_results(10)
        .send()
        .await
        .map_err(service_fail)
        .ok();
    c.get_user_pool_mfa_config()
        .user_pool_id(&pool)
        .send()
        .await
        .expect("UserPoolResourceRead");
}

#[tokio::test]
async fn the_sdks_default_retries_ride_out_a_short_burst() {
    let server = throttled(&[("UserPoolRead", 10.0)]).await;
    let c = sdk_client(&server.url);
    let pool = c
        .create_user_pool()
        .pool_name("t")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // 14 calls against a bucket of 10: the SDK retries the refused ones after a backoff.
    for i in 0..14 {
        c.describe_user_pool()
            .user_pool_id(&pool)
            .send()
            .await
            .unwrap_or_else(|e| panic!("call {i}: {:?}", service_fail(e)));
    }
}
