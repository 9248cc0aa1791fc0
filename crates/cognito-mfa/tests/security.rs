//! Sign-in under attack, with the official Rust SDK: sessions that are reused, expired or moved
//! to another client or challenge; SECRET_HASH; existence errors; the password lockout; disabled
//! users; forged, tampered and expired tokens; token revocation; and the real binary's debug log,
//! which must never carry a password, a code or a token.

use aws_sdk_cognitoidentityprovider as cip;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use cip::Client;
use cip::error::{ProvideErrorMetadata, SdkError};
use cip::types::{
    AuthFlowType, AuthenticationResultType, ChallengeNameType, MessageActionType, PreventUserExistenceErrorTypes,
    VerifiedAttributeType,
};
use cmfa_core::clock::FixedClock;
use cmfa_testkit::cognito::{ALL_FLOWS, attr, service_err};
use cmfa_testkit::outbox::latest_code;
use cmfa_testkit::{Options, TestServer, binary, http, sdk_client};
use serde_json::{Map, Value, json};
use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const BAD_CREDENTIALS: &str = "Incorrect username or password.";
const INVALID_SESSION: &str = "Invalid session for the user.";

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

async fn jwks(url: &str, pool: &str) -> Value {
    let (status, _, body) = http::get(url, &format!("/{pool}/.well-known/jwks.json")).await;
    assert_eq!(status, 200);
    serde_json::from_slice(&body).expect("JWKS")
}

fn assert_err<O: Debug, E: ProvideErrorMetadata + Debug>(r: Result<O, SdkError<E>>, code: &str, message: Option<&str>) {
    let (status, got, msg) = service_err(r);
    assert_eq!((status, got.as_str()), (400, code), "{msg}");
    if let Some(m) = message {
        assert_eq!(msg, m);
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("time")
        .as_secs_f64()
}

/// A server whose clock the test moves (starting at the real time, so the tokens it signs
/// look current to any verifier).
async fn server_with_clock() -> (TestServer, Arc<FixedClock>) {
    let clock = Arc::new(FixedClock::at(now().floor()));
    let server = TestServer::start_with(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    (server, clock)
}

async fn new_pool(c: &Client) -> String {
    c.create_user_pool()
        .pool_name("security")
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .expect("pool")
        .id
        .expect("id")
}

/// A client allowing every flow: (client id, secret when asked for).
async fn app_client(
    c: &Client,
    pool: &str,
    secret: bool,
    existence: Option<PreventUserExistenceErrorTypes>,
) -> (String, Option<String>) {
    let out = c
        .create_user_pool_client()
        .user_pool_id(pool)
        .client_name("app")
        .generate_secret(secret)
        .set_explicit_auth_flows(Some(ALL_FLOWS.to_vec()))
        .set_prevent_user_existence_errors(existence)
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client
        .expect("client");
    (out.client_id.expect("client id"), out.client_secret)
}

/// A confirmed user with a permanent password.
async fn confirmed_user(c: &Client, pool: &str, username: &str, password: &str) {
    c.admin_create_user()
        .user_pool_id(pool)
        .username(username)
        .user_attributes(attr("email", &format!("{username}@example.com")))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser");
    c.admin_set_user_password()
        .user_pool_id(pool)
        .username(username)
        .password(password)
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword");
}

/// A FORCE_CHANGE_PASSWORD user.
async fn invited_user(c: &Client, pool: &str, username: &str, temporary: &str) {
    c.admin_create_user()
        .user_pool_id(pool)
        .username(username)
        .temporary_password(temporary)
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser");
}

type InitiateResult = Result<
    cip::operation::initiate_auth::InitiateAuthOutput,
    SdkError<cip::operation::initiate_auth::InitiateAuthError>,
>;

async fn password_auth(c: &Client, client: &str, username: &str, password: &str) -> InitiateResult {
    c.initiate_auth()
        .client_id(client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
}

async fn sign_in(c: &Client, client: &str, username: &str, password: &str) -> AuthenticationResultType {
    password_auth(c, client, username, password)
        .await
        .expect("USER_PASSWORD_AUTH")
        .authentication_result
        .expect("tokens")
}

async fn refresh(c: &Client, client: &str, token: &str) -> InitiateResult {
    c.initiate_auth()
        .client_id(client)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", token)
        .send()
        .await
}

/// The NEW_PASSWORD_REQUIRED session of an invited user.
async fn new_password_session(c: &Client, client: &str, username: &str, temporary: &str) -> String {
    let out = password_auth(c, client, username, temporary)
        .await
        .expect("USER_PASSWORD_AUTH");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::NewPasswordRequired));
    out.session.expect("Session")
}

type RespondResult = Result<
    cip::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput,
    SdkError<cip::operation::respond_to_auth_challenge::RespondToAuthChallengeError>,
>;

async fn answer_new_password(
    c: &Client,
    client: &str,
    challenge: ChallengeNameType,
    session: &str,
    username: &str,
) -> RespondResult {
    c.respond_to_auth_challenge()
        .client_id(client)
        .challenge_name(challenge)
        .session(session)
        .challenge_responses("USERNAME", username)
        .challenge_responses("NEW_PASSWORD", "Brand-New-Passw0rd!")
        .send()
        .await
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sessions_are_single_use_bound_to_client_and_challenge_and_expire() {
    let (server, clock) = server_with_clock().await;
    let c = sdk_client(&server.url);
    let pool = new_pool(&c).await;
    let (client_a, _) = app_client(&c, &pool, false, None).await;
    let (client_b, _) = app_client(&c, &pool, false, None).await;
    let temporary = "Temp-Passw0rd!";
    for u in ["u1", "u2", "u3"] {
        invited_user(&c, &pool, u, temporary).await;
    }

    let other_pool = new_pool(&c).await;
    let (client_elsewhere, _) = app_client(&c, &other_pool, false, None).await;
    invited_user(&c, &other_pool, "u1", temporary).await;

    let s1 = new_password_session(&c, &client_a, "u1", temporary).await;
    // Another client of the same pool or of another pool, or another challenge name: refused.
    for other in [&client_b, &client_elsewhere] {
        assert_err(
            answer_new_password(&c, other, ChallengeNameType::NewPasswordRequired, &s1, "u1").await,
            "NotAuthorizedException",
            Some(INVALID_SESSION),
        );
    }
    assert_err(
        c.respond_to_auth_challenge()
            .client_id(&client_a)
            .challenge_name(ChallengeNameType::PasswordVerifier)
            .session(&s1)
            .challenge_responses("USERNAME", "u1")
            .challenge_responses("PASSWORD_CLAIM_SIGNATURE", "c2lnbmF0dXJl")
            .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", "YmxvY2s=")
            .challenge_responses("TIMESTAMP", "Mon Jan 5 10:00:00 UTC 2026")
            .send()
            .await,
        "NotAuthorizedException",
        Some(INVALID_SESSION),
    );
    // Those refusals did not spend the session; the right answer completes the sign-in ...
    let done = answer_new_password(&c, &client_a, ChallengeNameType::NewPasswordRequired, &s1, "u1")
        .await
        .expect("answer");
    assert!(done.authentication_result().is_some());
    // ... and the session cannot be used again.
    assert_err(
        answer_new_password(&c, &client_a, ChallengeNameType::NewPasswordRequired, &s1, "u1").await,
        "NotAuthorizedException",
        Some("Invalid session for the user, session can only be used once."),
    );

    // AuthSessionValidity defaults to 3 minutes.
    let s2 = new_password_session(&c, &client_a, "u2", temporary).await;
    let s3 = new_password_session(&c, &client_a, "u3", temporary).await;
    clock.advance(170.0);
    answer_new_password(&c, &client_a, ChallengeNameType::NewPasswordRequired, &s3, "u3")
        .await
        .expect("a session is valid for 3 minutes");
    clock.advance(11.0);
    assert_err(
        answer_new_password(&c, &client_a, ChallengeNameType::NewPasswordRequired, &s2, "u2").await,
        "NotAuthorizedException",
        Some("Invalid session for the user, session is expired."),
    );
    // A fresh session for the same user still works.
    let s2b = new_password_session(&c, &client_a, "u2", temporary).await;
    answer_new_password(&c, &client_a, ChallengeNameType::NewPasswordRequired, &s2b, "u2")
        .await
        .expect("a fresh session");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// SECRET_HASH
// ---------------------------------------------------------------------------------------------

fn secret_hash(pool: &str, client: &str, secret: &str, username: &str) -> String {
    use aws_cognito_srp::{SrpClient, User};
    SrpClient::<User>::new(User::new(pool, username, ""), client, Some(secret))
        .get_secret_hash()
        .expect("a secret hash")
}

#[tokio::test]
async fn secret_hash_is_required_and_checked() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = new_pool(&c).await;
    let (client, secret) = app_client(&c, &pool, true, None).await;
    let secret = secret.expect("ClientSecret");
    let password = "Secret-Hash-Passw0rd!";
    confirmed_user(&c, &pool, "gina", password).await;
    let missing = format!("Client {client} is configured with secret but SECRET_HASH was not received");
    let wrong = format!("Unable to verify secret hash for client {client}");

    assert_err(
        password_auth(&c, &client, "gina", password).await,
        "NotAuthorizedException",
        Some(&missing),
    );
    for bad in [
        secret_hash(&pool, &client, &secret, "someone-else"),
        secret_hash(&pool, &client, "not-the-secret", "gina"),
        "not base64 at all!".to_owned(),
        String::new(),
    ] {
        assert_err(
            c.initiate_auth()
                .client_id(&client)
                .auth_flow(AuthFlowType::UserPasswordAuth)
                .auth_parameters("USERNAME", "gina")
                .auth_parameters("PASSWORD", password)
                .auth_parameters("SECRET_HASH", &bad)
                .send()
                .await,
            "NotAuthorizedException",
            Some(&wrong),
        );
    }
    let good = secret_hash(&pool, &client, &secret, "gina");
    let tokens = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "gina")
        .auth_parameters("PASSWORD", password)
        .auth_parameters("SECRET_HASH", &good)
        .send()
        .await
        .expect("sign-in with the right SECRET_HASH")
        .authentication_result
        .expect("tokens");
    let rt = tokens.refresh_token().expect("RefreshToken");

    // Refresh needs it too (computed with the internal username).
    assert_err(refresh(&c, &client, rt).await, "NotAuthorizedException", Some(&missing));
    c.initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", rt)
        .auth_parameters("SECRET_HASH", &good)
        .send()
        .await
        .expect("refresh with SECRET_HASH");

    // SignUp and the admin flow check it as well.
    assert_err(
        c.sign_up()
            .client_id(&client)
            .username("hank")
            .password(password)
            .send()
            .await,
        "NotAuthorizedException",
        Some(&format!(
            "Client {client} is configured with secret but SECRET_HASH was not received"
        )),
    );
    assert_err(
        c.sign_up()
            .client_id(&client)
            .username("hank")
            .password(password)
            .secret_hash(secret_hash(&pool, &client, &secret, "gina"))
            .send()
            .await,
        "NotAuthorizedException",
        Some(&format!("Unable to verify secret hash for client {client}")),
    );
    assert_err(
        c.admin_initiate_auth()
            .user_pool_id(&pool)
            .client_id(&client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "gina")
            .auth_parameters("PASSWORD", password)
            .send()
            .await,
        "NotAuthorizedException",
        Some(&missing),
    );
    // RevokeToken on a client with a secret needs the secret.
    let (_, code, _) = service_err(c.revoke_token().client_id(&client).token(rt).send().await);
    assert_eq!(code, "NotAuthorizedException");
    c.revoke_token()
        .client_id(&client)
        .client_secret(&secret)
        .token(rt)
        .send()
        .await
        .expect("RevokeToken with the secret");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Existence errors, lockout, disabled users
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn prevent_user_existence_errors_hides_unknown_users() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = new_pool(&c).await;
    let (hiding, _) = app_client(&c, &pool, false, Some(PreventUserExistenceErrorTypes::Enabled)).await;
    let (legacy, _) = app_client(&c, &pool, false, Some(PreventUserExistenceErrorTypes::Legacy)).await;
    let password = "Existence-Passw0rd!";
    confirmed_user(&c, &pool, "erin", password).await;

    // ENABLED: unknown user and wrong password look the same.
    let unknown = service_err(password_auth(&c, &hiding, "nobody-here", password).await);
    let wrong = service_err(password_auth(&c, &hiding, "erin", "Wrong-Passw0rd!").await);
    assert_eq!(unknown, (400, "NotAuthorizedException".into(), BAD_CREDENTIALS.into()));
    assert_eq!(unknown, wrong);
    assert_err(
        c.admin_initiate_auth()
            .user_pool_id(&pool)
            .client_id(&hiding)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "nobody-here")
            .auth_parameters("PASSWORD", password)
            .send()
            .await,
        "NotAuthorizedException",
        Some(BAD_CREDENTIALS),
    );
    // SRP: an unknown user still gets a PASSWORD_VERIFIER challenge, and the answer fails like a
    // wrong password.
    for user in ["nobody-here", "erin"] {
        let r = srp_attempt(&c, &pool, &hiding, user, "Wrong-Passw0rd!").await;
        assert_eq!(
            r,
            Err((400, "NotAuthorizedException".into(), BAD_CREDENTIALS.into())),
            "{user}"
        );
    }

    // LEGACY: the unknown user is named as such.
    assert_err(
        password_auth(&c, &legacy, "nobody-here", password).await,
        "UserNotFoundException",
        Some("User does not exist."),
    );
    assert_err(
        password_auth(&c, &legacy, "erin", "Wrong-Passw0rd!").await,
        "NotAuthorizedException",
        Some(BAD_CREDENTIALS),
    );
    assert_err(
        c.initiate_auth()
            .client_id(&legacy)
            .auth_flow(AuthFlowType::UserSrpAuth)
            .auth_parameters("USERNAME", "nobody-here")
            .auth_parameters("SRP_A", "0a1b")
            .send()
            .await,
        "UserNotFoundException",
        Some("User does not exist."),
    );
    password_auth(&c, &legacy, "erin", password)
        .await
        .expect("right password");
    server.stop().await;
}

/// The PASSWORD_VERIFIER parameters USER_SRP_AUTH gives `username`.
async fn srp_challenge(c: &Client, client: &str, username: &str) -> std::collections::HashMap<String, String> {
    let a = aws_cognito_srp::SrpClient::<aws_cognito_srp::User>::new(
        aws_cognito_srp::User::new("us-east-1_x", username, "x"),
        client,
        None,
    )
    .get_auth_parameters()
    .a;
    let out = c
        .initiate_auth()
        .client_id(client)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("SRP_A", a)
        .send()
        .await
        .expect("USER_SRP_AUTH");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::PasswordVerifier));
    out.challenge_parameters.expect("ChallengeParameters")
}

fn uuid_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// With existence errors hidden, the SRP challenge of an unknown user must look like a real
/// user's: a real user's SALT is the same on every attempt, and in an email-as-username pool
/// USER_ID_FOR_SRP is the sub (a UUID), not what was typed.
#[tokio::test]
async fn srp_challenge_does_not_reveal_whether_the_user_exists() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = c
        .create_user_pool()
        .pool_name("srp-existence")
        .username_attributes(cip::types::UsernameAttributeType::Email)
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .expect("pool")
        .id
        .expect("id");
    let (client, _) = app_client(&c, &pool, false, Some(PreventUserExistenceErrorTypes::Enabled)).await;
    c.admin_create_user()
        .user_pool_id(&pool)
        .username("known@example.com")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser");
    c.admin_set_user_password()
        .user_pool_id(&pool)
        .username("known@example.com")
        .password("Known-Passw0rd!")
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword");

    let known = [
        srp_challenge(&c, &client, "known@example.com").await,
        srp_challenge(&c, &client, "known@example.com").await,
    ];
    assert_eq!(known[0]["SALT"], known[1]["SALT"], "a real user's salt is stable");
    assert!(uuid_like(&known[0]["USER_ID_FOR_SRP"]));

    let unknown = [
        srp_challenge(&c, &client, "unknown@example.com").await,
        srp_challenge(&c, &client, "unknown@example.com").await,
    ];
    assert_eq!(
        unknown[0]["SALT"], unknown[1]["SALT"],
        "an unknown user's salt must be stable too"
    );
    let names = |m: &std::collections::HashMap<String, String>| {
        let mut k: Vec<String> = m.keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(names(&known[0]), names(&unknown[0]), "same parameters");
    assert!(
        uuid_like(&unknown[0]["USER_ID_FOR_SRP"]),
        "USER_ID_FOR_SRP of an unknown user: {:?}",
        unknown[0]["USER_ID_FOR_SRP"]
    );
    assert_eq!(
        unknown[0]["USER_ID_FOR_SRP"], unknown[1]["USER_ID_FOR_SRP"],
        "stable USER_ID_FOR_SRP"
    );
    server.stop().await;
}

/// One SRP sign-in answered by `aws-cognito-srp`: Ok(()) for tokens, else the error.
async fn srp_attempt(
    c: &Client,
    pool: &str,
    client: &str,
    username: &str,
    password: &str,
) -> Result<(), (u16, String, String)> {
    use aws_cognito_srp::{SrpClient, User};
    let srp = SrpClient::<User>::new(User::new(pool, username, password), client, None);
    let out = c
        .initiate_auth()
        .client_id(client)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("SRP_A", srp.get_auth_parameters().a)
        .send()
        .await
        .expect("USER_SRP_AUTH");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::PasswordVerifier));
    let p = out.challenge_parameters().expect("ChallengeParameters");
    let user_id = &p["USER_ID_FOR_SRP"];
    let answer = srp
        .verify(&p["SECRET_BLOCK"], user_id, &p["SALT"], &p["SRP_B"])
        .expect("a well-formed challenge");
    let r = c
        .respond_to_auth_challenge()
        .client_id(client)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .challenge_responses("USERNAME", user_id)
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", answer.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", answer.password_claim_signature)
        .challenge_responses("TIMESTAMP", answer.timestamp)
        .send()
        .await;
    match r {
        Ok(o) => {
            assert!(o.authentication_result().is_some());
            Ok(())
        }
        Err(e) => Err(service_err::<(), _>(Err(e))),
    }
}

#[tokio::test]
async fn five_wrong_passwords_lock_the_user_out_for_a_while() {
    let (server, clock) = server_with_clock().await;
    let c = sdk_client(&server.url);
    let pool = new_pool(&c).await;
    let (client, _) = app_client(&c, &pool, false, None).await;
    let password = "Lockout-Passw0rd!";
    confirmed_user(&c, &pool, "frank", password).await;

    // Four misses, then success: the count starts over.
    for _ in 0..4 {
        assert_err(
            password_auth(&c, &client, "frank", "Wrong-Passw0rd!").await,
            "NotAuthorizedException",
            Some(BAD_CREDENTIALS),
        );
    }
    sign_in(&c, &client, "frank", password).await;

    for _ in 0..5 {
        assert_err(
            password_auth(&c, &client, "frank", "Wrong-Passw0rd!").await,
            "NotAuthorizedException",
            Some(BAD_CREDENTIALS),
        );
    }
    // Locked: even the right password is refused, and so is any attempt, without extending it.
    for p in [password, "Wrong-Passw0rd!", password] {
        assert_err(
            password_auth(&c, &client, "frank", p).await,
            "NotAuthorizedException",
            Some("Password attempts exceeded"),
        );
    }
    assert_err(
        c.admin_initiate_auth()
            .user_pool_id(&pool)
            .client_id(&client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "frank")
            .auth_parameters("PASSWORD", password)
            .send()
            .await,
        "NotAuthorizedException",
        Some("Password attempts exceeded"),
    );
    // SRP is locked too.
    assert_err(
        c.initiate_auth()
            .client_id(&client)
            .auth_flow(AuthFlowType::UserSrpAuth)
            .auth_parameters("USERNAME", "frank")
            .auth_parameters("SRP_A", "0a1b")
            .send()
            .await,
        "NotAuthorizedException",
        Some("Password attempts exceeded"),
    );
    // The first lock lasts 1 s (2^(5-5)); attempts during it did not extend it.
    clock.advance(1.5);
    sign_in(&c, &client, "frank", password).await;
    server.stop().await;
}

#[tokio::test]
async fn disabled_users_are_refused() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = new_pool(&c).await;
    let (client, _) = app_client(&c, &pool, false, None).await;
    let password = "Disabled-Passw0rd!";
    confirmed_user(&c, &pool, "ivan", password).await;
    let tokens = sign_in(&c, &client, "ivan", password).await;

    c.admin_disable_user()
        .user_pool_id(&pool)
        .username("ivan")
        .send()
        .await
        .expect("AdminDisableUser");
    assert_err(
        password_auth(&c, &client, "ivan", password).await,
        "NotAuthorizedException",
        Some("User is disabled."),
    );
    assert_err(
        c.get_user().access_token(tokens.access_token().unwrap()).send().await,
        "NotAuthorizedException",
        None,
    );
    assert_err(
        refresh(&c, &client, tokens.refresh_token().unwrap()).await,
        "NotAuthorizedException",
        None,
    );
    c.admin_enable_user()
        .user_pool_id(&pool)
        .username("ivan")
        .send()
        .await
        .expect("AdminEnableUser");
    sign_in(&c, &client, "ivan", password).await;
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

fn split(token: &str) -> (Map<String, Value>, Map<String, Value>, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let dec = |p: &str| -> Map<String, Value> {
        serde_json::from_slice(&B64URL.decode(p).expect("base64url")).expect("JSON")
    };
    (dec(parts[0]), dec(parts[1]), parts[2].to_owned())
}

fn join(header: &Map<String, Value>, payload: &Map<String, Value>, signature: &str) -> String {
    let enc = |m: &Map<String, Value>| B64URL.encode(serde_json::to_vec(m).expect("JSON"));
    format!("{}.{}.{signature}", enc(header), enc(payload))
}

#[tokio::test]
async fn forged_tampered_foreign_and_expired_tokens_are_refused() {
    let (server, clock) = server_with_clock().await;
    let c = sdk_client(&server.url);
    let pool_a = new_pool(&c).await;
    let pool_b = new_pool(&c).await;
    let (client_a, _) = app_client(&c, &pool_a, false, None).await;
    let (client_b, _) = app_client(&c, &pool_b, false, None).await;
    let password = "Token-Passw0rd!";
    confirmed_user(&c, &pool_a, "judy", password).await;
    confirmed_user(&c, &pool_a, "victim", password).await;
    confirmed_user(&c, &pool_b, "judy", password).await;
    let a = sign_in(&c, &client_a, "judy", password).await;
    let b = sign_in(&c, &client_b, "judy", password).await;
    let access = a.access_token().unwrap().to_owned();
    let got = c.get_user().access_token(&access).send().await.expect("GetUser");
    assert_eq!(got.username(), "judy");

    let (header, payload, signature) = split(&access);
    let mut forged: Vec<(&str, String)> = Vec::new();

    // A changed signature.
    let mut sig: Vec<char> = signature.chars().collect();
    let mid = sig.len() / 2;
    sig[mid] = if sig[mid] == 'A' { 'B' } else { 'A' };
    forged.push((
        "changed signature",
        join(&header, &payload, &sig.iter().collect::<String>()),
    ));
    forged.push(("no signature", join(&header, &payload, "")));
    // A payload naming another user, under the original signature.
    let mut other = payload.clone();
    other.insert("username".into(), json!("victim"));
    forged.push(("tampered payload", join(&header, &other, &signature)));
    let mut longer = payload.clone();
    longer.insert("exp".into(), json!(payload["exp"].as_i64().unwrap() + 86_400));
    forged.push(("extended exp", join(&header, &longer, &signature)));
    // alg none, with and without the real kid.
    let none = Map::from_iter([("alg".to_owned(), json!("none")), ("typ".to_owned(), json!("JWT"))]);
    forged.push(("alg none", join(&none, &other, "")));
    let mut none_kid = header.clone();
    none_kid.insert("alg".into(), json!("none"));
    forged.push(("alg none with kid", join(&none_kid, &payload, "")));
    // HS256 keyed with the public key (algorithm confusion).
    let keys = jwks(&server.url, &pool_a).await;
    let kid = header["kid"].as_str().unwrap();
    let jwk = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .expect("the access key in the JWKS");
    for secret in [
        jwk["n"].as_str().unwrap().as_bytes().to_vec(),
        serde_json::to_vec(jwk).unwrap(),
    ] {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        h.kid = Some(kid.to_owned());
        let t = jsonwebtoken::encode(&h, &payload, &jsonwebtoken::EncodingKey::from_secret(&secret)).expect("HS256");
        forged.push(("HS256 with the public key", t));
    }
    // Pool B's token, relabelled as pool A's (pool B's signature), and with pool A's kid.
    let (b_header, b_payload, b_signature) = split(b.access_token().unwrap());
    let mut relabelled = b_payload.clone();
    relabelled.insert("iss".into(), json!(format!("{}/{pool_a}", server.url)));
    relabelled.insert("client_id".into(), json!(client_a));
    forged.push((
        "pool B token claiming pool A",
        join(&b_header, &relabelled, &b_signature),
    ));
    forged.push(("pool B token with pool A kid", join(&header, &relabelled, &b_signature)));
    let mut foreign_iss = payload.clone();
    foreign_iss.insert(
        "iss".into(),
        json!(format!("https://cognito-idp.us-east-1.amazonaws.com/{pool_a}")),
    );
    forged.push(("another issuer host", join(&header, &foreign_iss, &signature)));
    // The ID token is not an access token.
    forged.push(("ID token", a.id_token().unwrap().to_owned()));
    // Plain garbage.
    for g in ["x", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.", "....", "eyJ.eyJ.eyJ"] {
        forged.push(("garbage", g.to_owned()));
    }

    for (what, token) in &forged {
        let (status, code, msg) = service_err(c.get_user().access_token(token).send().await);
        assert_eq!(status, 400, "{what}: {code} {msg}");
        assert!(
            code == "NotAuthorizedException" || (what == &"garbage" && code == "InvalidParameterException"),
            "{what}: {code} {msg}"
        );
        let (status, code, msg) = service_err(c.global_sign_out().access_token(token).send().await);
        assert_eq!(status, 400, "GlobalSignOut, {what}: {code} {msg}");
    }
    // None of that signed anyone out.
    c.get_user().access_token(&access).send().await.expect("still valid");
    // Pool B's own token is valid for pool B's user.
    let got = c
        .get_user()
        .access_token(b.access_token().unwrap())
        .send()
        .await
        .expect("pool B token");
    assert_eq!(got.username(), "judy");

    // Expiry (1 h by default).
    clock.advance(3590.0);
    c.get_user()
        .access_token(&access)
        .send()
        .await
        .expect("not yet expired");
    clock.advance(20.0);
    assert_err(
        c.get_user().access_token(&access).send().await,
        "NotAuthorizedException",
        Some("Access Token has expired"),
    );
    // The refresh token outlives it.
    let renewed = refresh(&c, &client_a, a.refresh_token().unwrap())
        .await
        .expect("refresh")
        .authentication_result
        .expect("tokens");
    c.get_user()
        .access_token(renewed.access_token().unwrap())
        .send()
        .await
        .expect("refreshed token");
    server.stop().await;
}

#[tokio::test]
async fn revoke_token_revokes_the_refresh_token_and_its_access_tokens() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = new_pool(&c).await;
    let (client, _) = app_client(&c, &pool, false, None).await;
    let (other_client, _) = app_client(&c, &pool, false, None).await;
    let password = "Revoke-Passw0rd!";
    confirmed_user(&c, &pool, "kate", password).await;
    let first = sign_in(&c, &client, "kate", password).await;
    let second = sign_in(&c, &client, "kate", password).await;
    let rt = first.refresh_token().unwrap();
    let renewed = refresh(&c, &client, rt)
        .await
        .expect("refresh")
        .authentication_result
        .expect("tokens");

    // Another client can neither use nor revoke it; an unknown token "succeeds" (nothing to probe).
    assert_err(
        refresh(&c, &other_client, rt).await,
        "NotAuthorizedException",
        Some("Invalid Refresh Token"),
    );
    let (status, code, _) = service_err(c.revoke_token().client_id(&other_client).token(rt).send().await);
    assert_eq!((status, code.as_str()), (400, "UnauthorizedException"));
    c.revoke_token()
        .client_id(&client)
        .token("not-a-refresh-token")
        .send()
        .await
        .expect("unknown token");
    c.get_user()
        .access_token(first.access_token().unwrap())
        .send()
        .await
        .expect("not revoked yet");

    c.revoke_token()
        .client_id(&client)
        .token(rt)
        .send()
        .await
        .expect("RevokeToken");
    for t in [first.access_token().unwrap(), renewed.access_token().unwrap()] {
        assert_err(
            c.get_user().access_token(t).send().await,
            "NotAuthorizedException",
            Some("Access Token has been revoked"),
        );
    }
    assert_err(refresh(&c, &client, rt).await, "NotAuthorizedException", None);
    // The other sign-in is untouched.
    c.get_user()
        .access_token(second.access_token().unwrap())
        .send()
        .await
        .expect("other sign-in");
    refresh(&c, &client, second.refresh_token().unwrap())
        .await
        .expect("other refresh token");
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Logs of the real binary
// ---------------------------------------------------------------------------------------------

const TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `haystack` contains `code` as a number of its own (not inside a longer number or
/// after a decimal point, as in a timestamp's fraction).
fn contains_code(haystack: &str, code: &str) -> bool {
    haystack.match_indices(code).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + code.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_digit() || c == '.') && !after.is_some_and(|c| c.is_ascii_digit())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_carry_no_password_code_or_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cmd = binary::command(env!("CARGO_BIN_EXE_cognito-mfa"));
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--password-hash",
        "fast",
        "--log",
        "debug",
        "--data-dir",
    ])
    .arg(dir.path())
    .env_remove("RUST_LOG");
    let mut server = binary::spawn_server(cmd, TIMEOUT);
    let url = server.url.clone();

    let mut secrets: Vec<(&str, String)> = Vec::new();
    let c = sdk_client(&url);
    let pool = new_pool(&c).await;
    let (client, _) = app_client(&c, &pool, false, None).await;
    let signup_password = "Quokka-Lantern-4417!";
    let wrong_password = "Narwhal-Compass-9862!";
    let temporary = "Walrus-Temporary-5531!";
    let chosen = "Otter-Chosen-2290!";
    secrets.extend([
        ("sign-up password", signup_password.to_owned()),
        ("wrong password", wrong_password.to_owned()),
        ("temporary password", temporary.to_owned()),
        ("chosen password", chosen.to_owned()),
    ]);

    c.sign_up()
        .client_id(&client)
        .username("logan")
        .password(signup_password)
        .user_attributes(attr("email", "logan@example.com"))
        .send()
        .await
        .expect("SignUp");
    let code = latest_code(&url, &pool, "logan").await;
    let wrong_code = if code == "135792" { "246801" } else { "135792" };
    assert_err(
        c.confirm_sign_up()
            .client_id(&client)
            .username("logan")
            .confirmation_code(wrong_code)
            .send()
            .await,
        "CodeMismatchException",
        None,
    );
    c.confirm_sign_up()
        .client_id(&client)
        .username("logan")
        .confirmation_code(&code)
        .send()
        .await
        .expect("ConfirmSignUp");
    assert_err(
        password_auth(&c, &client, "logan", wrong_password).await,
        "NotAuthorizedException",
        None,
    );
    let tokens = sign_in(&c, &client, "logan", signup_password).await;
    c.get_user()
        .access_token(tokens.access_token().unwrap())
        .send()
        .await
        .expect("GetUser");
    let renewed = refresh(&c, &client, tokens.refresh_token().unwrap())
        .await
        .expect("refresh")
        .authentication_result
        .expect("tokens");

    c.admin_create_user()
        .user_pool_id(&pool)
        .username("morgan")
        .temporary_password(temporary)
        .user_attributes(attr("email", "morgan@example.com"))
        .send()
        .await
        .expect("AdminCreateUser");
    let session = new_password_session(&c, &client, "morgan", temporary).await;
    let done = c
        .respond_to_auth_challenge()
        .client_id(&client)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(&session)
        .challenge_responses("USERNAME", "morgan")
        .challenge_responses("NEW_PASSWORD", chosen)
        .send()
        .await
        .expect("NEW_PASSWORD_REQUIRED");
    let morgan = done.authentication_result.expect("tokens");
    let srp = srp_attempt(&c, &pool, &client, "morgan", chosen).await;
    assert_eq!(srp, Ok(()));
    c.revoke_token()
        .client_id(&client)
        .token(tokens.refresh_token().unwrap())
        .send()
        .await
        .expect("RevokeToken");
    c.global_sign_out()
        .access_token(morgan.access_token().unwrap())
        .send()
        .await
        .expect("GlobalSignOut");

    for (what, t) in [
        ("access token", tokens.access_token()),
        ("ID token", tokens.id_token()),
        ("refresh token", tokens.refresh_token()),
        ("refreshed access token", renewed.access_token()),
        ("refreshed ID token", renewed.id_token()),
        ("second access token", morgan.access_token()),
        ("second refresh token", morgan.refresh_token()),
    ] {
        let t = t.expect("token").to_owned();
        // A token's signature alone is as telling as the whole token.
        let sig = t.rsplit('.').next().unwrap_or("").to_owned();
        secrets.push((what, t));
        if sig.len() > 20 {
            secrets.push((what, sig));
        }
    }
    secrets.push(("session", session));

    let status = server.terminate();
    assert!(status.success(), "graceful exit: {status:?}");
    let log = server.stderr();

    assert!(!log.trim().is_empty(), "--log debug wrote nothing to stderr");
    for (what, s) in &secrets {
        assert!(!log.contains(s.as_str()), "the log contains the {what}:\n{log}");
    }
    for (what, s) in [("confirmation code", &code), ("wrong code", &wrong_code.to_owned())] {
        assert!(!contains_code(&log, s), "the log contains the {what} {s}:\n{log}");
    }
}

#[tokio::test]
async fn refresh_tokens_are_sealed_bound_to_their_pool_and_refused_when_altered() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let (pool, other_pool) = (new_pool(&c).await, new_pool(&c).await);
    let (client, _) = app_client(&c, &pool, false, None).await;
    let (foreign_client, _) = app_client(&c, &other_pool, false, None).await;
    let password = "Sealed-Passw0rd!";
    confirmed_user(&c, &pool, "lena", password).await;
    confirmed_user(&c, &other_pool, "lena", password).await;
    let tokens = sign_in(&c, &client, "lena", password).await;
    let rt = tokens.refresh_token().unwrap();

    // Shaped like Cognito's: a five-part compact JWE whose header names A256GCM; nothing of the
    // user readable inside.
    let parts: Vec<&str> = rt.split('.').collect();
    assert_eq!(parts.len(), 5, "{rt}");
    let header: Value = serde_json::from_slice(&B64URL.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["cty"], "JWT");
    assert_eq!(header["enc"], "A256GCM");
    assert!(!rt.contains("lena") && !rt.contains(&pool));

    // A same-named user of another pool cannot use it, nor can anyone with any part altered.
    assert_err(
        refresh(&c, &foreign_client, rt).await,
        "NotAuthorizedException",
        Some("Invalid Refresh Token"),
    );
    for i in 2..5 {
        let mut altered: Vec<String> = parts.iter().map(|p| p.to_string()).collect();
        let first = if altered[i].starts_with('A') { 'B' } else { 'A' };
        altered[i].replace_range(0..1, &first.to_string());
        assert_err(
            refresh(&c, &client, &altered.join(".")).await,
            "NotAuthorizedException",
            Some("Invalid Refresh Token"),
        );
    }
    // Untouched, it works, and keeps working for the same sign-in.
    for _ in 0..2 {
        refresh(&c, &client, rt).await.expect("refresh");
    }
    server.stop().await;
}
