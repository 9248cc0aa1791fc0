//! `cognito-mfa outbox` reads a code from a running server well enough to complete a sign-up.

use aws_sdk_cognitoidentityprovider::types::{AttributeType, VerifiedAttributeType};
use cmfa_testkit::{TestServer, sdk_client};

#[tokio::test]
async fn the_cli_prints_the_newest_code_and_it_confirms_the_sign_up() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = c
        .create_user_pool()
        .pool_name("cli")
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("w")
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    c.sign_up()
        .client_id(&client)
        .username("cli-user")
        .password("Passw0rd!")
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value("cli@example.com")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let url = server.url.clone();
    let pool_arg = pool.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cognito-mfa"))
            .args([
                "outbox",
                "--url",
                &url,
                "--pool-id",
                &pool_arg,
                "--username",
                "cli-user",
                "--code",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let code = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(code.len(), 6, "{code:?}");
    c.confirm_sign_up()
        .client_id(&client)
        .username("cli-user")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();

    // No message for an unknown user: a clear failure, not an empty success.
    let url = server.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_cognito-mfa"))
            .args(["outbox", "--url", &url, "--username", "nobody", "--code"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no message matches"));
}
