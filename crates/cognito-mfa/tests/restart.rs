//! Durability of the real binary: pools and MFA configurations survive a graceful stop (SIGTERM)
//! and a hard kill (SIGKILL) right after an acknowledged write, and a second process cannot open
//! a data dir that is in use.

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::types::{
    AccountRecoverySettingType, DeletionProtectionType, EmailConfigurationType, EmailMfaConfigType,
    EmailSendingAccountType, RecoveryOptionNameType, RecoveryOptionType, SmsMfaConfigType, SoftwareTokenMfaConfigType,
    UserPoolMfaType, UserPoolType, UserVerificationType, WebAuthnConfigurationType, WebAuthnFactorConfigurationType,
};
use cmfa_testkit::binary::{self, Server};
use cmfa_testkit::cognito::{create_pool_id, describe_pool, sns_config, totp};
use cmfa_testkit::{sdk_client, sdk_client_in};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const TIMEOUT: Duration = Duration::from_secs(10);

/// `cognito-mfa serve` on `dir`.
fn serve(dir: &Path) -> Command {
    let mut cmd = binary::command(env!("CARGO_BIN_EXE_cognito-mfa"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--log", "warn", "--data-dir"])
        .arg(dir);
    cmd
}

/// Starts the binary on `dir` and waits for its "listening" line.
fn spawn(dir: &Path) -> Server {
    binary::spawn_server(serve(dir), TIMEOUT)
}

// ---------------------------------------------------------------------------------------------
// What is compared across a restart
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
struct MfaView {
    sms: Option<SmsMfaConfigType>,
    totp: Option<SoftwareTokenMfaConfigType>,
    email: Option<EmailMfaConfigType>,
    mfa: Option<UserPoolMfaType>,
    web_authn: Option<WebAuthnConfigurationType>,
}

#[derive(Debug, Clone, PartialEq)]
struct PoolState {
    pool: UserPoolType,
    mfa: MfaView,
}

async fn get_mfa(c: &Client, id: &str) -> MfaView {
    let o = c
        .get_user_pool_mfa_config()
        .user_pool_id(id)
        .send()
        .await
        .expect("GetUserPoolMfaConfig");
    MfaView {
        sms: o.sms_mfa_configuration,
        totp: o.software_token_mfa_configuration,
        email: o.email_mfa_configuration,
        mfa: o.mfa_configuration,
        web_authn: o.web_authn_configuration,
    }
}

/// The full description and MFA view of each pool, plus the ids ListUserPools returns (sorted).
/// Pools are regional, so each pool is read, and each region listed, with a client of its region.
async fn snapshot(url: &str, ids: &[String]) -> (Vec<PoolState>, Vec<String>) {
    let region_of = |id: &str| id.split('_').next().unwrap_or("us-east-1").to_owned();
    let mut regions: Vec<String> = ids.iter().map(|id| region_of(id)).collect();
    regions.sort();
    regions.dedup();
    let mut listed = Vec::new();
    for region in &regions {
        let c = sdk_client_in(url, region);
        listed.extend(
            c.list_user_pools()
                .max_results(60)
                .send()
                .await
                .expect("ListUserPools")
                .user_pools()
                .iter()
                .filter_map(|p| p.id.clone()),
        );
    }
    listed.sort();
    let mut pools = Vec::with_capacity(ids.len());
    for id in ids {
        let c = sdk_client_in(url, &region_of(id));
        pools.push(PoolState {
            pool: describe_pool(&c, id).await,
            mfa: get_mfa(&c, id).await,
        });
    }
    (pools, listed)
}

/// Pools in several states: every factor on, TOTP only, an updated plain pool, another region.
async fn populate(url: &str) -> Vec<String> {
    let c = sdk_client(url);
    let all = create_pool_id(
        c.create_user_pool()
            .pool_name("all-factors")
            .sms_configuration(sns_config())
            .email_configuration(
                EmailConfigurationType::builder()
                    .email_sending_account(EmailSendingAccountType::Developer)
                    .source_arn("arn:aws:ses:us-east-1:123456789012:identity/a@example.com")
                    .build(),
            )
            .account_recovery_setting(
                AccountRecoverySettingType::builder()
                    .recovery_mechanisms(
                        RecoveryOptionType::builder()
                            .name(RecoveryOptionNameType::AdminOnly)
                            .priority(1)
                            .build()
                            .expect("recovery option"),
                    )
                    .build(),
            ),
    )
    .await;
    c.set_user_pool_mfa_config()
        .user_pool_id(&all)
        .mfa_configuration(UserPoolMfaType::Optional)
        .sms_mfa_configuration(
            SmsMfaConfigType::builder()
                .sms_authentication_message("Your code is {####}")
                .build(),
        )
        .software_token_mfa_configuration(totp(true))
        .email_mfa_configuration(
            EmailMfaConfigType::builder()
                .message("Your email code is {####}")
                .subject("Code")
                .build(),
        )
        .web_authn_configuration(
            WebAuthnConfigurationType::builder()
                .relying_party_id("auth.example.com")
                .user_verification(UserVerificationType::Required)
                .factor_configuration(WebAuthnFactorConfigurationType::MultiFactorWithUserVerification)
                .build(),
        )
        .send()
        .await
        .expect("SetUserPoolMfaConfig (all)");

    let totp_only = create_pool_id(c.create_user_pool().pool_name("totp")).await;
    c.set_user_pool_mfa_config()
        .user_pool_id(&totp_only)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(totp(true))
        .send()
        .await
        .expect("SetUserPoolMfaConfig (totp)");

    let plain = create_pool_id(c.create_user_pool().pool_name("plain")).await;
    c.update_user_pool()
        .user_pool_id(&plain)
        .deletion_protection(DeletionProtectionType::Active)
        .send()
        .await
        .expect("UpdateUserPool");

    let eu = sdk_client_in(url, "eu-west-1");
    let ireland = create_pool_id(eu.create_user_pool().pool_name("ireland")).await;
    vec![all, totp_only, plain, ireland]
}

#[tokio::test]
async fn everything_survives_a_graceful_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = spawn(dir.path());
    let ids = populate(&server.url).await;
    let before = snapshot(&server.url, &ids).await;
    for (id, state) in ids.iter().zip(&before.0) {
        assert_eq!(state.pool.id.as_ref(), Some(id));
    }
    assert!(before.0[0].mfa.email.is_some() && before.0[0].mfa.sms.is_some());
    assert!(!before.1.is_empty());

    let status = server.terminate();
    assert!(status.success(), "SIGTERM exit status {status:?}");

    let mut server = spawn(dir.path());
    let c = sdk_client(&server.url);
    assert_eq!(
        snapshot(&server.url, &ids).await,
        before,
        "state differs after a graceful restart"
    );

    // The restarted server takes writes as usual.
    c.set_user_pool_mfa_config()
        .user_pool_id(&ids[1])
        .send()
        .await
        .expect("SetUserPoolMfaConfig after restart");
    assert_eq!(get_mfa(&c, &ids[1]).await.mfa, Some(UserPoolMfaType::Off));
    let status = server.terminate();
    assert!(status.success(), "SIGTERM exit status {status:?}");
}

#[tokio::test]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");

    // Round 1: create, set, create; SIGKILL straight after the last acknowledgement.
    let server = spawn(dir.path());
    let c = sdk_client(&server.url);
    let first = create_pool_id(c.create_user_pool().pool_name("first")).await;
    let set = c
        .set_user_pool_mfa_config()
        .user_pool_id(&first)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(totp(true))
        .web_authn_configuration(
            WebAuthnConfigurationType::builder()
                .relying_party_id("example.com")
                .build(),
        )
        .send()
        .await
        .expect("SetUserPoolMfaConfig");
    let expected_first = MfaView {
        sms: set.sms_mfa_configuration,
        totp: set.software_token_mfa_configuration,
        email: set.email_mfa_configuration,
        mfa: set.mfa_configuration,
        web_authn: set.web_authn_configuration,
    };
    let second = c
        .create_user_pool()
        .pool_name("second")
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .expect("UserPool");
    server.kill_hard();

    let server = spawn(dir.path());
    let c = sdk_client(&server.url);
    assert_eq!(get_mfa(&c, &first).await, expected_first);
    assert_eq!(
        describe_pool(&c, &first).await.mfa_configuration,
        Some(UserPoolMfaType::On)
    );
    let second_id = second.id.clone().expect("id");
    assert_eq!(
        describe_pool(&c, &second_id).await,
        second,
        "created pool differs after SIGKILL"
    );

    // Round 2: the very last write is a reset, then SIGKILL.
    let reset = c
        .set_user_pool_mfa_config()
        .user_pool_id(&first)
        .mfa_configuration(UserPoolMfaType::Off)
        .send()
        .await
        .expect("SetUserPoolMfaConfig reset");
    assert_eq!(reset.mfa_configuration, Some(UserPoolMfaType::Off));
    server.kill_hard();

    let mut server = spawn(dir.path());
    let c = sdk_client(&server.url);
    let got = get_mfa(&c, &first).await;
    assert_eq!(got.mfa, Some(UserPoolMfaType::Off));
    assert_eq!(got.totp, reset.software_token_mfa_configuration);
    assert_eq!(got.web_authn, reset.web_authn_configuration);
    assert_eq!(got.totp, None);
    let status = server.terminate();
    assert!(status.success(), "SIGTERM exit status {status:?}");
}

#[tokio::test]
async fn a_second_process_cannot_use_the_same_data_dir() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut server = spawn(dir.path());
    let c = sdk_client(&server.url);
    let id = create_pool_id(c.create_user_pool().pool_name("owner")).await;

    let binary::Spawned {
        child: mut second,
        lines: _lines,
        stderr,
        ..
    } = binary::spawn(serve(dir.path()));
    let status = binary::wait_exit(&mut second, TIMEOUT);
    if status.is_none() {
        let _ = second.kill();
        let _ = second.wait();
    }
    let status = status.expect("the second process kept running on a data dir in use");
    assert!(!status.success(), "second process exited with {status:?}");
    // Let the drain thread finish reading what the process wrote before it exited.
    let deadline = Instant::now() + TIMEOUT;
    while !stderr.lock().unwrap().contains("in use") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let text = stderr.lock().unwrap().clone();
    assert!(
        text.contains("is in use"),
        "stderr does not say the dir is in use:\n{text}"
    );
    assert!(
        text.contains(&dir.path().display().to_string()),
        "stderr does not name the dir:\n{text}"
    );

    // The first server is unaffected.
    assert_eq!(describe_pool(&c, &id).await.name.as_deref(), Some("owner"));
    let status = server.terminate();
    assert!(status.success(), "SIGTERM exit status {status:?}");

    // Once the owner has stopped, the dir can be used again.
    let server = spawn(dir.path());
    assert_eq!(
        describe_pool(&sdk_client(&server.url), &id).await.name.as_deref(),
        Some("owner")
    );
}
