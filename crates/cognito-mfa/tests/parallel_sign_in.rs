//! Many sign-ins of one user at once, as a test suite sharing one test user makes them: every
//! correct sign-in succeeds (a success never fails because another succeeded at the same moment),
//! while the things that must stay exact under races still are: the lockout counts every
//! concurrent failure, a TOTP code signs in once however many sessions present it, and unconfirmed
//! users hear `UserNotConfirmedException` before any password check.

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::types::{AuthFlowType, ChallengeNameType, MessageActionType, SoftwareTokenMfaSettingsType, UserPoolMfaType};
use cmfa_core::Clock;
use cmfa_core::clock::FixedClock;
use cmfa_core::compute::ComputeSettings;
use cmfa_testkit::cognito::{ALL_FLOWS, service_err, service_fail, totp};
use cmfa_testkit::{Options, TestServer, sdk_client};
use std::sync::Arc;
use tokio::task::JoinSet;

const PASSWORD: &str = "Parallel-Passw0rd!";
const N: usize = 32;

struct Env {
    _server: TestServer,
    clock: Arc<FixedClock>,
    c: Client,
    pool: String,
    client: String,
}

impl Env {
    async fn new(mode: UserPoolMfaType) -> Env {
        Self::with(mode, None).await
    }

    /// A server on a stopped clock (near the real time, at the start of a TOTP step), a pool in
    /// `mode` with TOTP, and a client allowing every flow.
    async fn with(mode: UserPoolMfaType, compute: Option<ComputeSettings>) -> Env {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let clock = Arc::new(FixedClock::at((now / 30 * 30 + 1) as f64));
        let server = TestServer::start_with(Options {
            clock: Some(clock.clone()),
            compute,
            ..Options::default()
        })
        .await;
        let c = sdk_client(&server.url);
        let pool = c
            .create_user_pool()
            .pool_name("parallel")
            .send()
            .await
            .expect("CreateUserPool")
            .user_pool
            .unwrap()
            .id
            .unwrap();
        if mode != UserPoolMfaType::Off {
            c.set_user_pool_mfa_config()
                .user_pool_id(&pool)
                .mfa_configuration(mode)
                .software_token_mfa_configuration(totp(true))
                .send()
                .await
                .expect("SetUserPoolMfaConfig");
        }
        let client = c
            .create_user_pool_client()
            .user_pool_id(&pool)
            .client_name("app")
            .set_explicit_auth_flows(Some(ALL_FLOWS.to_vec()))
            .send()
            .await
            .expect("CreateUserPoolClient")
            .user_pool_client
            .unwrap()
            .client_id
            .unwrap();
        Env {
            _server: server,
            clock,
            c,
            pool,
            client,
        }
    }

    async fn confirmed_user(&self, name: &str) {
        self.c
            .admin_create_user()
            .user_pool_id(&self.pool)
            .username(name)
            .temporary_password("Temp-Passw0rd!")
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("AdminCreateUser");
        self.c
            .admin_set_user_password()
            .user_pool_id(&self.pool)
            .username(name)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("AdminSetUserPassword");
    }

    /// USER_PASSWORD_AUTH: the challenge name (None for tokens) and Session, or the error.
    async fn password(
        c: Client,
        client: String,
        name: String,
        password: String,
    ) -> Result<(Option<ChallengeNameType>, Option<String>), (u16, String, String)> {
        c.initiate_auth()
            .client_id(client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", name)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map(|o| {
                if o.challenge_name().is_none() {
                    assert!(o.authentication_result().and_then(|r| r.id_token()).is_some(), "tokens");
                }
                (o.challenge_name().cloned(), o.session().map(str::to_owned))
            })
            .map_err(service_fail)
    }

    /// USER_SRP_AUTH answered by aws-cognito-srp (PASSWORD_VERIFIER without a Session, as AWS).
    async fn srp(
        c: Client,
        pool: String,
        client: String,
        name: String,
    ) -> Result<(Option<ChallengeNameType>, Option<String>), (u16, String, String)> {
        use aws_cognito_srp::{SrpClient, User};
        let srp = SrpClient::<User>::new(User::new(&pool, &name, PASSWORD), &client, None);
        let first = c
            .initiate_auth()
            .client_id(&client)
            .auth_flow(AuthFlowType::UserSrpAuth)
            .auth_parameters("USERNAME", &name)
            .auth_parameters("SRP_A", srp.get_auth_parameters().a)
            .send()
            .await
            .map_err(service_fail)?;
        let p = first.challenge_parameters().expect("parameters");
        let proof = srp
            .verify(&p["SECRET_BLOCK"], &p["USER_ID_FOR_SRP"], &p["SALT"], &p["SRP_B"])
            .expect("proof");
        c.respond_to_auth_challenge()
            .client_id(&client)
            .challenge_name(ChallengeNameType::PasswordVerifier)
            .challenge_responses("USERNAME", &name)
            .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", proof.password_claim_secret_block)
            .challenge_responses("PASSWORD_CLAIM_SIGNATURE", proof.password_claim_signature)
            .challenge_responses("TIMESTAMP", proof.timestamp)
            .send()
            .await
            .map(|o| (o.challenge_name().cloned(), o.session().map(str::to_owned)))
            .map_err(service_fail)
    }

    /// `n` USER_PASSWORD_AUTH sign-ins of `name` at once.
    async fn passwords_at_once(
        &self,
        name: &str,
        password: &str,
        n: usize,
    ) -> Vec<Result<(Option<ChallengeNameType>, Option<String>), (u16, String, String)>> {
        let mut set = JoinSet::new();
        for _ in 0..n {
            set.spawn(Self::password(
                self.c.clone(),
                self.client.clone(),
                name.to_owned(),
                password.to_owned(),
            ));
        }
        set.join_all().await
    }
}

fn totp_code(secret: &str, t: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned()).to_bytes().expect("Base32");
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .expect("TOTP")
        .generate(t)
}

#[tokio::test]
async fn thirty_two_parallel_sign_ins_of_one_user_all_succeed() {
    let env = Env::new(UserPoolMfaType::Off).await;
    env.confirmed_user("shared").await;
    // Two failures first, so the first success has a lockout count to clear (a real write).
    for r in env.passwords_at_once("shared", "Wrong-Passw0rd!", 2).await {
        assert_eq!(r.unwrap_err().1, "NotAuthorizedException");
    }
    let results = env.passwords_at_once("shared", PASSWORD, N).await;
    let failed: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
    assert!(
        failed.is_empty(),
        "every parallel password sign-in succeeds: {failed:?}"
    );
    assert!(
        results.iter().all(|r| r.as_ref().unwrap().0.is_none()),
        "tokens, no challenge"
    );

    // SRP too (its PASSWORD_VERIFIER step consumes a session per sign-in).
    let mut set = JoinSet::new();
    for _ in 0..N {
        set.spawn(Env::srp(
            env.c.clone(),
            env.pool.clone(),
            env.client.clone(),
            "shared".into(),
        ));
    }
    let results = set.join_all().await;
    let failed: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
    assert!(failed.is_empty(), "every parallel SRP sign-in succeeds: {failed:?}");
}

#[tokio::test]
async fn thirty_two_parallel_sign_ins_reach_their_mfa_challenge_and_one_code_signs_in_once() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.confirmed_user("totp").await;
    // Enrol an authenticator and prefer it.
    let (_, _) = Env::password(env.c.clone(), env.client.clone(), "totp".into(), PASSWORD.into())
        .await
        .unwrap();
    let access = env
        .c
        .initiate_auth()
        .client_id(&env.client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "totp")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap()
        .authentication_result
        .unwrap()
        .access_token
        .unwrap();
    let secret = env
        .c
        .associate_software_token()
        .access_token(&access)
        .send()
        .await
        .unwrap()
        .secret_code
        .unwrap();
    let now = env.clock.now() as u64;
    env.c
        .verify_software_token()
        .access_token(&access)
        .user_code(totp_code(&secret, now))
        .send()
        .await
        .expect("VerifySoftwareToken");
    env.c
        .set_user_mfa_preference()
        .access_token(&access)
        .software_token_mfa_settings(
            SoftwareTokenMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    env.clock.advance(30.0);

    // 32 parallel first factors (half password, half SRP): each gets its own challenge.
    let mut set = JoinSet::new();
    for i in 0..N {
        if i % 2 == 0 {
            set.spawn(Env::password(
                env.c.clone(),
                env.client.clone(),
                "totp".into(),
                PASSWORD.into(),
            ));
        } else {
            set.spawn(Env::srp(
                env.c.clone(),
                env.pool.clone(),
                env.client.clone(),
                "totp".into(),
            ));
        }
    }
    let sessions: Vec<String> = set
        .join_all()
        .await
        .into_iter()
        .map(|r| {
            let (name, session) = r.expect("every parallel first factor succeeds");
            assert_eq!(name, Some(ChallengeNameType::SoftwareTokenMfa));
            session.expect("a Session")
        })
        .collect();

    // The same code on all 32 sessions at once: exactly one signs in.
    let code = totp_code(&secret, env.clock.now() as u64);
    let mut set = JoinSet::new();
    for session in sessions {
        let (c, client, code) = (env.c.clone(), env.client.clone(), code.clone());
        set.spawn(async move {
            c.respond_to_auth_challenge()
                .client_id(client)
                .challenge_name(ChallengeNameType::SoftwareTokenMfa)
                .session(session)
                .challenge_responses("USERNAME", "totp")
                .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", code)
                .send()
                .await
                .map_err(service_fail)
        });
    }
    let results = set.join_all().await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "one TOTP code signs in once");
    for r in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(
            (r.1.as_str(), r.2.as_str()),
            (
                "ExpiredCodeException",
                "Your software token has already been used once."
            ),
            "{r:?}"
        );
    }
}

#[tokio::test]
async fn the_lockout_counts_every_parallel_failure() {
    let env = Env::new(UserPoolMfaType::Off).await;
    env.confirmed_user("locked").await;
    // Four failures at once do not lock (five would): the right password still works...
    for r in env.passwords_at_once("locked", "Wrong-Passw0rd!", 4).await {
        assert_eq!(r.unwrap_err().2, "Incorrect username or password.");
    }
    Env::password(env.c.clone(), env.client.clone(), "locked".into(), PASSWORD.into())
        .await
        .expect("four failures do not lock");
    // ...and clears the count. Five at once lock: none was lost to a race.
    for r in env.passwords_at_once("locked", "Wrong-Passw0rd!", 5).await {
        assert_eq!(r.unwrap_err().2, "Incorrect username or password.");
    }
    let (_, code, message) = Env::password(env.c.clone(), env.client.clone(), "locked".into(), PASSWORD.into())
        .await
        .unwrap_err();
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("NotAuthorizedException", "Password attempts exceeded")
    );
}

#[tokio::test]
async fn an_unconfirmed_user_hears_so_before_any_password_check() {
    let env = Env::new(UserPoolMfaType::Off).await;
    env.c
        .sign_up()
        .client_id(&env.client)
        .username("pending")
        .password(PASSWORD)
        .send()
        .await
        .expect("SignUp");
    for password in [PASSWORD, "Wrong-Passw0rd!"] {
        let (status, code, message) =
            Env::password(env.c.clone(), env.client.clone(), "pending".into(), password.into())
                .await
                .unwrap_err();
        assert_eq!(
            (status, code.as_str(), message.as_str()),
            (400, "UserNotConfirmedException", "User is not confirmed."),
            "USER_PASSWORD_AUTH with {password}"
        );
        let admin = env
            .c
            .admin_initiate_auth()
            .user_pool_id(&env.pool)
            .client_id(&env.client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "pending")
            .auth_parameters("PASSWORD", password)
            .send()
            .await;
        let (_, code, message) = service_err(admin);
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("UserNotConfirmedException", "User is not confirmed."),
            "ADMIN_USER_PASSWORD_AUTH with {password}"
        );
    }
    // USER_SRP_AUTH says so at InitiateAuth, before any proof.
    let (_, code, message) = Env::srp(env.c.clone(), env.pool.clone(), env.client.clone(), "pending".into())
        .await
        .unwrap_err();
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("UserNotConfirmedException", "User is not confirmed.")
    );
    // Wrong passwords of an unconfirmed user count toward nothing: after confirmation it signs in.
    env.c
        .admin_confirm_sign_up()
        .user_pool_id(&env.pool)
        .username("pending")
        .send()
        .await
        .unwrap();
    Env::password(env.c.clone(), env.client.clone(), "pending".into(), PASSWORD.into())
        .await
        .expect("signs in once confirmed");
}

#[tokio::test]
async fn a_full_compute_queue_answers_too_many_requests_and_the_sdk_retries_through_it() {
    // One thread and one waiting job: a burst of raw sign-ins must overflow it.
    let env = Env::with(UserPoolMfaType::Off, Some(ComputeSettings { threads: 1, queue: 1 })).await;
    env.confirmed_user("burst").await;
    let url = env._server.url.clone();
    let body = serde_json::json!({
        "ClientId": env.client,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "burst", "PASSWORD": PASSWORD},
    })
    .to_string();
    let mut set = JoinSet::new();
    for _ in 0..N {
        let (url, body) = (url.clone(), body.clone());
        set.spawn(async move { cmfa_testkit::http::post_raw(&url, "InitiateAuth", body.as_bytes()).await });
    }
    let (mut ok, mut refused) = (0, 0);
    for (status, head, body) in set.join_all().await {
        let v: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        match status {
            200 => {
                assert!(v["AuthenticationResult"]["IdToken"].is_string(), "{v}");
                ok += 1;
            }
            400 => {
                assert_eq!(v["__type"], "TooManyRequestsException", "{v}");
                assert_eq!(v["message"], "Too many requests", "{v}");
                assert!(head.contains("x-amzn-errortype: toomanyrequestsexception"), "{head}");
                refused += 1;
            }
            other => panic!("HTTP {other}: {v}"),
        }
    }
    assert!(
        ok >= 1 && refused >= 1,
        "{ok} signed in, {refused} refused: the queue bound is real"
    );

    // The SDK treats it as throttling and retries with backoff (standard mode; more attempts than
    // the default 3 so a slow CI machine cannot exhaust them): every sign-in succeeds.
    let retrying = Client::from_conf(
        env.c
            .config()
            .to_builder()
            .retry_config(cip::config::retry::RetryConfig::standard().with_max_attempts(10))
            .build(),
    );
    let mut set = JoinSet::new();
    for _ in 0..8 {
        set.spawn(Env::password(
            retrying.clone(),
            env.client.clone(),
            "burst".into(),
            PASSWORD.into(),
        ));
    }
    for r in set.join_all().await {
        r.expect("the SDK's standard retries get through a full queue");
    }
}
