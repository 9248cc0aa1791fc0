//! A first end-to-end check with the official Rust SDK.

use cmfa_testkit::{TestServer, sdk_client};

#[tokio::test]
async fn fresh_pool_reports_mfa_off() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = c
        .create_user_pool()
        .pool_name("smoke")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    let id = pool.id.unwrap();
    assert!(id.starts_with("us-east-1_"));
    let got = c.get_user_pool_mfa_config().user_pool_id(&id).send().await.unwrap();
    assert_eq!(got.mfa_configuration.unwrap().as_str(), "OFF");
    assert!(got.software_token_mfa_configuration.is_none());
    server.stop().await;
}
