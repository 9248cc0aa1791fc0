//! Two real server processes on one PostgreSQL database, as behind a load balancer: what one
//! writes the other reads, a configuration race across them loses no write, and a sign-in
//! started on one is finished on the other.
//!
//! Runs only when `TEST_DATABASE_URL` is set (each test in a fresh schema); fails, never skips,
//! if it is set and the database cannot be reached.

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::error::ProvideErrorMetadata;
use cip::operation::set_user_pool_mfa_config::SetUserPoolMfaConfigError;
use cip::types::{
    AuthFlowType, ChallengeNameType, ExplicitAuthFlowsType, MessageActionType, SoftwareTokenMfaConfigType,
    UserPoolMfaType, UserVerificationType, WebAuthnConfigurationType, WebAuthnFactorConfigurationType,
};
use cmfa_testkit::binary::{self, Server};
use cmfa_testkit::cognito::{attr, totp};
use cmfa_testkit::sdk_client;
use std::sync::Arc;
use std::time::Duration;

const TIMEOUT: Duration = Duration::from_secs(20);
/// Put into the URL the servers get (PostgreSQL on trust auth ignores it) to prove no log shows it.
const FAKE_PASSWORD: &str = "not-a-real-pw-7f3a";

/// A fresh schema on `TEST_DATABASE_URL`, dropped when the test passes.
struct Schema {
    client: tokio_postgres::Client,
    name: String,
    /// A URL whose connections use the schema (and carry a password if the original had none).
    url: String,
}

async fn fresh_schema() -> Option<Schema> {
    let url = std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())?;
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e} (unset it to skip these tests)")
        });
    tokio::spawn(conn);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("cmfa_multi_{}_{nanos}", std::process::id());
    // A failed run leaves its schema for inspection; those over an hour old are dropped.
    for row in client
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname::text, $1)",
            &[&"cmfa_multi_"],
        )
        .await
        .expect("list schemas")
    {
        let old: String = row.get(0);
        let made = old.rsplit('_').next().and_then(|t| t.parse::<u128>().ok());
        if made.is_some_and(|t| nanos.saturating_sub(t) > 3_600_000_000_000) {
            let _ = client
                .batch_execute(&format!("DROP SCHEMA IF EXISTS {old} CASCADE"))
                .await;
        }
    }
    client
        .batch_execute(&format!("CREATE SCHEMA {name}"))
        .await
        .expect("CREATE SCHEMA");
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = with_fake_password(&format!("{url}{sep}options=-csearch_path%3D{name}"));
    Some(Schema { client, name, url })
}

/// `postgres://user@host/db` becomes `postgres://user:PW@host/db`; URLs with a password or no
/// user are left alone.
fn with_fake_password(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let end = url[start..].find(['/', '?']).map_or(url.len(), |i| start + i);
    match url[start..end].rfind('@') {
        Some(at) if !url[start..start + at].contains(':') => {
            format!("{}:{FAKE_PASSWORD}{}", &url[..start + at], &url[start + at..])
        }
        _ => url.to_owned(),
    }
}

impl Schema {
    async fn drop(self) {
        self.client
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name))
            .await
            .expect("DROP SCHEMA");
    }
}

/// Starts the binary on `database_url` and waits for its "listening" line.
fn start_server(database_url: &str, data_dir: &std::path::Path) -> Server {
    let mut cmd = binary::command(env!("CARGO_BIN_EXE_cognito-mfa"));
    // Both processes get one data dir: were SQLite used, the second would be refused. They
    // share one public URL, as behind a load balancer: it is the issuer of their tokens.
    cmd.args([
        "serve",
        "--public-url",
        "http://cognito-mfa.test",
        "--listen",
        "127.0.0.1:0",
        "--password-hash",
        "fast",
        "--log",
        "info",
    ])
    .arg("--database-url")
    .arg(database_url)
    .arg("--data-dir")
    .arg(data_dir);
    binary::spawn_server(cmd, TIMEOUT)
}

/// Two servers on one fresh schema, or `None` when `TEST_DATABASE_URL` is unset.
async fn two_servers() -> Option<(Schema, Server, Server, tempfile::TempDir)> {
    let Some(schema) = fresh_schema().await else {
        eprintln!("TEST_DATABASE_URL unset: multi-process PostgreSQL test skipped");
        return None;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // Started together, so they also race to migrate the new schema.
    let (u1, u2, d1, d2) = (
        schema.url.clone(),
        schema.url.clone(),
        dir.path().to_owned(),
        dir.path().to_owned(),
    );
    let a = std::thread::spawn(move || start_server(&u1, &d1));
    let b = std::thread::spawn(move || start_server(&u2, &d2));
    let (a, b) = (a.join().expect("server A"), b.join().expect("server B"));
    Some((schema, a, b, dir))
}

fn web_authn(rp: &str, uv: UserVerificationType) -> WebAuthnConfigurationType {
    WebAuthnConfigurationType::builder()
        .relying_party_id(rp)
        .user_verification(uv)
        .factor_configuration(WebAuthnFactorConfigurationType::SingleFactor)
        .build()
}

#[derive(Debug, Clone, PartialEq)]
struct MfaView {
    totp: Option<SoftwareTokenMfaConfigType>,
    mfa: Option<UserPoolMfaType>,
    web_authn: Option<WebAuthnConfigurationType>,
    sms: bool,
    email: bool,
}

async fn mfa_of(c: &Client, pool: &str) -> MfaView {
    let o = c
        .get_user_pool_mfa_config()
        .user_pool_id(pool)
        .send()
        .await
        .expect("GetUserPoolMfaConfig");
    MfaView {
        totp: o.software_token_mfa_configuration,
        mfa: o.mfa_configuration,
        web_authn: o.web_authn_configuration,
        sms: o.sms_mfa_configuration.is_some(),
        email: o.email_mfa_configuration.is_some(),
    }
}

async fn create_pool(c: &Client, name: &str) -> String {
    c.create_user_pool()
        .pool_name(name)
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .and_then(|p| p.id)
        .expect("pool id")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_pool_written_through_one_process_reads_the_same_through_the_other() {
    let Some((schema, a, b, _dir)) = two_servers().await else {
        return;
    };
    let (ca, cb) = (sdk_client(&a.url), sdk_client(&b.url));
    let pool = create_pool(&ca, "multi").await;
    ca.set_user_pool_mfa_config()
        .user_pool_id(&pool)
        .mfa_configuration(UserPoolMfaType::Optional)
        .software_token_mfa_configuration(totp(true))
        .web_authn_configuration(web_authn("a.example.com", UserVerificationType::Required))
        .send()
        .await
        .expect("SetUserPoolMfaConfig on A");
    let on_a = mfa_of(&ca, &pool).await;
    assert_eq!(on_a.mfa, Some(UserPoolMfaType::Optional));
    assert_eq!(mfa_of(&cb, &pool).await, on_a);
    let describe = |c: Client| {
        let pool = pool.clone();
        async move {
            c.describe_user_pool()
                .user_pool_id(pool)
                .send()
                .await
                .expect("DescribeUserPool")
                .user_pool
                .expect("pool")
        }
    };
    assert_eq!(describe(cb.clone()).await, describe(ca.clone()).await);
    let listed = cb
        .list_user_pools()
        .max_results(10)
        .send()
        .await
        .expect("ListUserPools on B");
    assert_eq!(listed.user_pools().len(), 1);

    // A write through B is what A reads next (no process serves a stale copy).
    cb.set_user_pool_mfa_config()
        .user_pool_id(&pool)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(totp(true))
        .send()
        .await
        .expect("SetUserPoolMfaConfig on B");
    assert_eq!(mfa_of(&ca, &pool).await.mfa, Some(UserPoolMfaType::On));
    cb.delete_user_pool()
        .user_pool_id(&pool)
        .send()
        .await
        .expect("DeleteUserPool on B");
    let gone = ca.describe_user_pool().user_pool_id(&pool).send().await;
    assert_eq!(
        gone.expect_err("deleted through B").code(),
        Some("ResourceNotFoundException")
    );

    // The log names the database without its password.
    for s in [&a, &b] {
        let log = s.stderr();
        assert!(!log.contains(FAKE_PASSWORD), "password in the log:\n{log}");
        assert!(log.contains("PostgreSQL"), "no store line in the log:\n{log}");
    }
    drop((a, b));
    schema.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_configuration_race_across_processes_loses_no_write() {
    let Some((schema, a, b, _dir)) = two_servers().await else {
        return;
    };
    let (ca, cb) = (sdk_client(&a.url), sdk_client(&b.url));
    let pool = create_pool(&ca, "race").await;
    const N: usize = 24;
    let start = Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = Vec::with_capacity(N);
    for i in 0..N {
        let c = if i % 2 == 0 { ca.clone() } else { cb.clone() };
        let (pool, start) = (pool.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            let mfa = if i % 3 == 0 {
                UserPoolMfaType::On
            } else {
                UserPoolMfaType::Optional
            };
            let wa = web_authn(&format!("rp{i}.example.com"), UserVerificationType::Preferred);
            start.wait().await;
            let res = c
                .set_user_pool_mfa_config()
                .user_pool_id(&pool)
                .mfa_configuration(mfa.clone())
                .software_token_mfa_configuration(totp(true))
                .web_authn_configuration(wa.clone())
                .send()
                .await;
            (i, mfa, wa, res)
        }));
    }
    let mut won = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (i, mfa, wa, res) = t.await.expect("task");
        match res {
            Ok(_) => won.push(MfaView {
                totp: Some(totp(true)),
                mfa: Some(mfa),
                web_authn: Some(wa),
                sms: false,
                email: false,
            }),
            Err(e) => {
                let e = e.into_service_error();
                assert!(
                    matches!(e, SetUserPoolMfaConfigError::ConcurrentModificationException(_)),
                    "call {i}: expected success or ConcurrentModificationException, got {e:?}"
                );
                refused += 1;
            }
        }
    }
    eprintln!(
        "{} won, {refused} refused with ConcurrentModificationException",
        won.len()
    );
    assert_eq!(won.len() + refused, N);
    assert!(!won.is_empty(), "every call was refused");
    let (on_a, on_b) = (mfa_of(&ca, &pool).await, mfa_of(&cb, &pool).await);
    assert_eq!(on_a, on_b);
    assert!(
        won.contains(&on_a),
        "final {on_a:?} is not what any successful call stored"
    );
    drop((a, b));
    schema.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sign_in_started_on_one_process_finishes_on_the_other() {
    let Some((schema, a, b, _dir)) = two_servers().await else {
        return;
    };
    let (ca, cb) = (sdk_client(&a.url), sdk_client(&b.url));
    let pool = create_pool(&ca, "sign-in").await;
    let client = cb
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("CreateUserPoolClient on B")
        .user_pool_client
        .and_then(|c| c.client_id)
        .expect("client id");
    let temporary = "Temp-Passw0rd!";
    ca.admin_create_user()
        .user_pool_id(&pool)
        .username("bob")
        .temporary_password(temporary)
        .user_attributes(attr("email", "bob@example.com"))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser on A");

    // NEW_PASSWORD_REQUIRED: InitiateAuth on A, the answer on B.
    let out = ca
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "bob")
        .auth_parameters("PASSWORD", temporary)
        .send()
        .await
        .expect("InitiateAuth on A");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::NewPasswordRequired));
    let session = out.session().expect("Session").to_owned();
    let chosen = "Chosen-Passw0rd!";
    let answer = |c: &Client| {
        c.respond_to_auth_challenge()
            .client_id(&client)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(&session)
            .challenge_responses("USERNAME", "bob")
            .challenge_responses("NEW_PASSWORD", chosen)
            .send()
    };
    let done = answer(&cb).await.expect("RespondToAuthChallenge on B");
    let tokens = done.authentication_result.expect("tokens from B");
    // The session is spent on every process.
    let again = answer(&ca).await.expect_err("a second answer, on A");
    assert_eq!(again.code(), Some("NotAuthorizedException"), "{again:?}");

    // Tokens issued by B are honoured by A (one key pair per pool, shared through the database).
    let access = tokens.access_token().expect("access token");
    let me = ca.get_user().access_token(access).send().await.expect("GetUser on A");
    assert_eq!(me.username(), "bob");

    // USER_SRP_AUTH with the chosen password: the challenge from B, the proof to A.
    use aws_cognito_srp::{SrpClient, User};
    let srp = SrpClient::<User>::new(User::new(&pool, "bob", chosen), &client, None);
    let out = cb
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", "bob")
        .auth_parameters("SRP_A", srp.get_auth_parameters().a)
        .send()
        .await
        .expect("USER_SRP_AUTH on B");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::PasswordVerifier));
    let p = out.challenge_parameters().expect("ChallengeParameters");
    let proof = srp
        .verify(&p["SECRET_BLOCK"], &p["USER_ID_FOR_SRP"], &p["SALT"], &p["SRP_B"])
        .expect("aws-cognito-srp accepts the challenge");
    // No Session, as AWS: process A finds the sign-in from the SECRET_BLOCK B issued.
    assert_eq!(out.session(), None);
    let done = ca
        .respond_to_auth_challenge()
        .client_id(&client)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .challenge_responses("USERNAME", &p["USER_ID_FOR_SRP"])
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", proof.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", proof.password_claim_signature)
        .challenge_responses("TIMESTAMP", proof.timestamp)
        .send()
        .await
        .expect("PASSWORD_VERIFIER on A");
    let srp_tokens = done.authentication_result.expect("tokens from A");
    let srp_access = srp_tokens.access_token().expect("access token");
    cb.get_user()
        .access_token(srp_access)
        .send()
        .await
        .expect("GetUser on B");

    // A global sign-out through A is seen by B at once.
    ca.global_sign_out()
        .access_token(srp_access)
        .send()
        .await
        .expect("GlobalSignOut on A");
    for t in [access, srp_access] {
        let e = cb.get_user().access_token(t).send().await.expect_err("revoked on B");
        assert_eq!(e.code(), Some("NotAuthorizedException"), "{e:?}");
    }
    drop((a, b));
    schema.drop().await;
}
