//! Durability of the real binary: pools and MFA configurations survive a graceful stop (SIGTERM)
//! and a hard kill (SIGKILL) right after an acknowledged write, and a second process cannot open
//! a data dir that is in use.

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use cip::types::{
    AccountRecoverySettingType, DeletionProtectionType, EmailConfigurationType, EmailMfaConfigType,
    EmailSendingAccountType, RecoveryOptionNameType, RecoveryOptionType, SmsConfigurationType, SmsMfaConfigType,
    SoftwareTokenMfaConfigType, UserPoolMfaType, UserPoolType, UserVerificationType, WebAuthnConfigurationType,
    WebAuthnFactorConfigurationType,
};
use cmfa_testkit::{sdk_client, sdk_client_in};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

const READY_PREFIX: &str = "cognito-mfa listening on ";
const TIMEOUT: Duration = Duration::from_secs(10);

/// A `cognito-mfa serve` child process. Killed on drop so a failing test leaves nothing behind.
struct Server {
    child: Child,
    url: String,
    stderr: Arc<Mutex<String>>,
}

/// Starts the binary on `dir` without waiting for it to become ready.
fn spawn_raw(dir: &Path) -> (Child, mpsc::Receiver<String>, Arc<Mutex<String>>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognito-mfa"));
    // The binary refuses unknown COGNITO_MFA_* variables, and known ones would override our flags.
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("COGNITO_MFA_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--log", "warn", "--data-dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn cognito-mfa");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut stderr = child.stderr.take().expect("stderr");
    let collected = Arc::new(Mutex::new(String::new()));
    let sink = collected.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    (child, rx, collected)
}

/// Starts the binary on `dir` and waits for its "listening" line.
fn spawn(dir: &Path) -> Server {
    let (mut child, lines, stderr) = spawn_raw(dir);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix(READY_PREFIX) {
                    return Server {
                        child,
                        url: url.trim().to_owned(),
                        stderr,
                    };
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "cognito-mfa did not report readiness within {TIMEOUT:?}; stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        }
    }
}

fn wait_exit(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

impl Server {
    /// SIGTERM, then the exit status of a graceful shutdown.
    fn terminate(mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let status = wait_exit(&mut self.child);
        let stderr = self.stderr.lock().unwrap().clone();
        status.unwrap_or_else(|| panic!("no exit within {TIMEOUT:?} of SIGTERM; stderr:\n{stderr}"))
    }

    /// SIGKILL: no chance to flush or clean up.
    fn kill_hard(mut self) {
        self.child.kill().expect("SIGKILL");
        assert!(wait_exit(&mut self.child).is_some(), "no exit after SIGKILL");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
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

async fn describe(c: &Client, id: &str) -> UserPoolType {
    c.describe_user_pool()
        .user_pool_id(id)
        .send()
        .await
        .expect("DescribeUserPool")
        .user_pool
        .expect("UserPool")
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
            pool: describe(&c, id).await,
            mfa: get_mfa(&c, id).await,
        });
    }
    (pools, listed)
}

fn totp(enabled: bool) -> SoftwareTokenMfaConfigType {
    SoftwareTokenMfaConfigType::builder().enabled(enabled).build()
}

fn sns_config() -> SmsConfigurationType {
    SmsConfigurationType::builder()
        .sns_caller_arn("arn:aws:iam::123456789012:role/service-role/cognito-sms")
        .external_id("external-1")
        .sns_region("us-east-1")
        .build()
}

async fn create_id(b: CreateUserPoolFluentBuilder) -> String {
    b.send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .and_then(|p| p.id)
        .expect("pool id")
}

/// Pools in several states: every factor on, TOTP only, an updated plain pool, another region.
async fn populate(url: &str) -> Vec<String> {
    let c = sdk_client(url);
    let all = create_id(
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

    let totp_only = create_id(c.create_user_pool().pool_name("totp")).await;
    c.set_user_pool_mfa_config()
        .user_pool_id(&totp_only)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(totp(true))
        .send()
        .await
        .expect("SetUserPoolMfaConfig (totp)");

    let plain = create_id(c.create_user_pool().pool_name("plain")).await;
    c.update_user_pool()
        .user_pool_id(&plain)
        .deletion_protection(DeletionProtectionType::Active)
        .send()
        .await
        .expect("UpdateUserPool");

    let eu = sdk_client_in(url, "eu-west-1");
    let ireland = create_id(eu.create_user_pool().pool_name("ireland")).await;
    vec![all, totp_only, plain, ireland]
}

#[tokio::test]
async fn everything_survives_a_graceful_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = spawn(dir.path());
    let ids = populate(&server.url).await;
    let before = snapshot(&server.url, &ids).await;
    for (id, state) in ids.iter().zip(&before.0) {
        assert_eq!(state.pool.id.as_ref(), Some(id));
    }
    assert!(before.0[0].mfa.email.is_some() && before.0[0].mfa.sms.is_some());
    assert!(!before.1.is_empty());

    let status = server.terminate();
    assert!(status.success(), "SIGTERM exit status {status:?}");

    let server = spawn(dir.path());
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
    let first = create_id(c.create_user_pool().pool_name("first")).await;
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
    assert_eq!(describe(&c, &first).await.mfa_configuration, Some(UserPoolMfaType::On));
    let second_id = second.id.clone().expect("id");
    assert_eq!(
        describe(&c, &second_id).await,
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

    let server = spawn(dir.path());
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
    let server = spawn(dir.path());
    let c = sdk_client(&server.url);
    let id = create_id(c.create_user_pool().pool_name("owner")).await;

    let (mut second, _lines, stderr) = spawn_raw(dir.path());
    let status = wait_exit(&mut second);
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
    assert_eq!(describe(&c, &id).await.name.as_deref(), Some("owner"));
    let status = server.terminate();
    assert!(status.success(), "SIGTERM exit status {status:?}");

    // Once the owner has stopped, the dir can be used again.
    let server = spawn(dir.path());
    assert_eq!(
        describe(&sdk_client(&server.url), &id).await.name.as_deref(),
        Some("owner")
    );
}
