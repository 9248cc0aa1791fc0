//! Sign-in end to end with the official Rust SDK: sign-up confirmed with the code from the outbox,
//! password and SRP sign-in (SRP answered by the independent `aws-cognito-srp` client), the
//! administrator-created user's NEW_PASSWORD_REQUIRED, refresh, global sign-out, email-as-username
//! pools, and tokens checked by the independent `jsonwebtoken` crate against the served JWKS.

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::error::{ProvideErrorMetadata, SdkError};
use cip::types::{
    AuthFlowType, AuthenticationResultType, ChallengeNameType, MessageActionType, UsernameAttributeType,
    VerifiedAttributeType,
};
use cmfa_testkit::cognito::{ALL_FLOWS, attr, service_err};
use cmfa_testkit::http::get_json;
use cmfa_testkit::outbox::latest_code;
use cmfa_testkit::{TestServer, sdk_client};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::fmt::Debug;

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn assert_not_authorized<O: Debug, E: ProvideErrorMetadata + Debug>(r: Result<O, SdkError<E>>, message: Option<&str>) {
    let (status, code, msg) = service_err(r);
    assert_eq!((status, code.as_str()), (400, "NotAuthorizedException"), "{msg}");
    if let Some(m) = message {
        assert_eq!(msg, m);
    }
}

/// A pool that verifies email on sign-up (optionally with email as the username), and a client
/// allowing every flow the server has.
async fn pool_and_client(c: &Client, email_username: bool) -> (String, String) {
    let mut req = c
        .create_user_pool()
        .pool_name("sign-in")
        .auto_verified_attributes(VerifiedAttributeType::Email);
    if email_username {
        req = req.username_attributes(UsernameAttributeType::Email);
    }
    let pool = req
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .expect("pool")
        .id
        .expect("id");
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("app")
        .set_explicit_auth_flows(Some(ALL_FLOWS.to_vec()))
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client
        .expect("client")
        .client_id
        .expect("client id");
    (pool, client)
}

async fn password_sign_in(c: &Client, client: &str, username: &str, password: &str) -> AuthenticationResultType {
    let out = c
        .initiate_auth()
        .client_id(client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .expect("USER_PASSWORD_AUTH");
    assert!(out.challenge_name().is_none(), "no challenge expected: {out:?}");
    assert!(out.session().is_none());
    assert!(out.challenge_parameters().is_none_or(|p| p.is_empty()), "{out:?}");
    out.authentication_result.expect("tokens")
}

/// Signs up `username` (with `email`), confirms with the emailed code, returns the `UserSub`.
async fn sign_up_and_confirm(
    c: &Client,
    url: &str,
    pool: &str,
    client: &str,
    username: &str,
    email: &str,
    password: &str,
) -> String {
    let out = c
        .sign_up()
        .client_id(client)
        .username(username)
        .password(password)
        .user_attributes(attr("email", email))
        .send()
        .await
        .expect("SignUp");
    assert!(!out.user_confirmed);
    let details = out.code_delivery_details.expect("CodeDeliveryDetails");
    assert_eq!(details.attribute_name(), Some("email"));
    assert_eq!(details.delivery_medium().map(|m| m.as_str()), Some("EMAIL"));
    let sub = out.user_sub;
    // Unconfirmed users cannot sign in yet.
    let (_, code, _) = service_err(
        c.initiate_auth()
            .client_id(client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await,
    );
    assert_eq!(code, "UserNotConfirmedException");
    let internal = if username.contains('@') { sub.as_str() } else { username };
    let code = latest_code(url, pool, internal).await;
    c.confirm_sign_up()
        .client_id(client)
        .username(username)
        .confirmation_code(code)
        .send()
        .await
        .expect("ConfirmSignUp");
    sub
}

/// Tokens checked against the pool's served JWKS.
struct Verifier {
    jwks: JwkSet,
    issuer: String,
    client: String,
}

impl Verifier {
    async fn fetch(url: &str, pool: &str, client: &str) -> Verifier {
        let issuer = format!("{url}/{pool}");
        let oidc = get_json(url, &format!("/{pool}/.well-known/openid-configuration")).await;
        assert_eq!(oidc["issuer"], Value::String(issuer.clone()));
        assert_eq!(
            oidc["jwks_uri"],
            Value::String(format!("{issuer}/.well-known/jwks.json"))
        );
        let doc = get_json(url, &format!("/{pool}/.well-known/jwks.json")).await;
        let keys = doc["keys"].as_array().expect("keys");
        assert_eq!(keys.len(), 2, "one key for access tokens, one for ID tokens");
        for k in keys {
            assert_eq!(k["kty"], "RSA");
            assert_eq!(k["alg"], "RS256");
            assert_eq!(k["use"], "sig");
            assert_eq!(k["e"], "AQAB");
        }
        Verifier {
            jwks: serde_json::from_value(doc).expect("a JWK set"),
            issuer,
            client: client.to_owned(),
        }
    }

    fn decode(&self, token: &str, audience: Option<&str>) -> (String, Map<String, Value>) {
        let header = jsonwebtoken::decode_header(token).expect("JWT header");
        assert_eq!(header.alg, Algorithm::RS256);
        let kid = header.kid.expect("kid");
        let jwk = self.jwks.find(&kid).expect("kid in the served JWKS");
        let key = DecodingKey::from_jwk(jwk).expect("RSA key");
        let mut v = Validation::new(Algorithm::RS256);
        v.set_issuer(&[&self.issuer]);
        v.set_required_spec_claims(&["exp", "iss", "sub"]);
        match audience {
            Some(a) => v.set_audience(&[a]),
            None => v.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &v).expect("token verifies");
        (kid, data.claims)
    }

    /// Checks the access and ID tokens of a sign-in; returns their claims.
    fn check(&self, r: &AuthenticationResultType, username: &str) -> (Map<String, Value>, Map<String, Value>) {
        assert_eq!(r.token_type(), Some("Bearer"));
        assert_eq!(r.expires_in(), 3600);
        let (access_kid, access) = self.decode(r.access_token().expect("AccessToken"), None);
        let (id_kid, id) = self.decode(r.id_token().expect("IdToken"), Some(&self.client));
        assert_ne!(access_kid, id_kid, "access and ID tokens use different keys");

        assert_eq!(access["token_use"], "access");
        assert_eq!(access["client_id"], Value::String(self.client.clone()));
        assert!(access.get("aud").is_none(), "access tokens have no aud: {access:?}");
        assert_eq!(access["username"], Value::String(username.to_owned()));
        assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
        for k in ["origin_jti", "event_id", "jti", "auth_time", "iat", "exp"] {
            assert!(access.contains_key(k), "access token lacks {k}");
        }
        assert_eq!(access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(), 3600);

        assert_eq!(id["token_use"], "id");
        assert_eq!(id["aud"], Value::String(self.client.clone()));
        assert_eq!(id["cognito:username"], Value::String(username.to_owned()));
        assert_eq!(id["sub"], access["sub"]);
        assert_eq!(id["origin_jti"], access["origin_jti"]);
        assert!(id.get("client_id").is_none());
        (access, id)
    }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sign_up_confirm_sign_in_refresh_and_global_sign_out() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let c = sdk_client(&url);
    let (pool, client) = pool_and_client(&c, false).await;
    let password = "Sign-In-Passw0rd!";
    let sub = sign_up_and_confirm(&c, &url, &pool, &client, "alice", "alice@example.com", password).await;

    let tokens = password_sign_in(&c, &client, "alice", password).await;
    let refresh = tokens.refresh_token().expect("RefreshToken").to_owned();
    let v = Verifier::fetch(&url, &pool, &client).await;
    let (access, id) = v.check(&tokens, "alice");
    assert_eq!(access["sub"], Value::String(sub.clone()));
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(
        id["email_verified"],
        Value::Bool(true),
        "email_verified is a JSON boolean"
    );

    let me = c
        .get_user()
        .access_token(tokens.access_token().unwrap())
        .send()
        .await
        .expect("GetUser");
    assert_eq!(me.username(), "alice");
    let attrs: Vec<(&str, Option<&str>)> = me.user_attributes().iter().map(|a| (a.name(), a.value())).collect();
    assert!(attrs.contains(&("sub", Some(sub.as_str()))), "{attrs:?}");
    assert!(attrs.contains(&("email", Some("alice@example.com"))), "{attrs:?}");
    assert!(attrs.contains(&("email_verified", Some("true"))), "{attrs:?}");

    // REFRESH_TOKEN_AUTH: new access and ID tokens, no new refresh token, the original auth_time.
    let out = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh)
        .send()
        .await
        .expect("REFRESH_TOKEN_AUTH");
    assert!(out.challenge_name().is_none());
    assert!(out.challenge_parameters().is_none_or(|p| p.is_empty()), "{out:?}");
    let renewed = out.authentication_result.expect("tokens");
    assert!(renewed.refresh_token().is_none(), "refresh gives no new refresh token");
    assert_ne!(renewed.access_token(), tokens.access_token());
    let (access2, id2) = v.check(&renewed, "alice");
    assert_eq!(access2["auth_time"], access["auth_time"]);
    assert_eq!(access2["origin_jti"], access["origin_jti"]);
    assert_eq!(id2["email_verified"], Value::Bool(true));
    c.get_user()
        .access_token(renewed.access_token().unwrap())
        .send()
        .await
        .expect("GetUser with the refreshed token");

    // GlobalSignOut: every access token and the refresh token stop working.
    c.global_sign_out()
        .access_token(renewed.access_token().unwrap())
        .send()
        .await
        .expect("GlobalSignOut");
    for t in [tokens.access_token().unwrap(), renewed.access_token().unwrap()] {
        assert_not_authorized(c.get_user().access_token(t).send().await, None);
    }
    assert_not_authorized(
        c.initiate_auth()
            .client_id(&client)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", &refresh)
            .send()
            .await,
        None,
    );

    // A new sign-in works again.
    let again = password_sign_in(&c, &client, "alice", password).await;
    c.get_user()
        .access_token(again.access_token().unwrap())
        .send()
        .await
        .expect("GetUser after signing in again");
    server.stop().await;
}

#[tokio::test]
async fn admin_created_user_chooses_a_new_password() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let c = sdk_client(&url);
    let (pool, client) = pool_and_client(&c, false).await;
    let temporary = "Temp-Passw0rd!";
    c.admin_create_user()
        .user_pool_id(&pool)
        .username("bob")
        .temporary_password(temporary)
        .user_attributes(attr("email", "bob@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser");

    let out = c
        .admin_initiate_auth()
        .user_pool_id(&pool)
        .client_id(&client)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "bob")
        .auth_parameters("PASSWORD", temporary)
        .send()
        .await
        .expect("ADMIN_USER_PASSWORD_AUTH");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::NewPasswordRequired));
    assert!(out.authentication_result().is_none());
    let session = out.session().expect("Session");
    assert!(session.len() >= 20, "Session is at least 20 chars");
    let params = out.challenge_parameters().expect("ChallengeParameters");
    assert_eq!(params.get("USER_ID_FOR_SRP").map(String::as_str), Some("bob"));
    let user_attributes: Value =
        serde_json::from_str(params.get("userAttributes").expect("userAttributes")).expect("userAttributes is JSON");
    assert_eq!(user_attributes["email"], "bob@example.com");
    assert!(
        user_attributes.get("sub").is_none(),
        "sub is not offered: {user_attributes}"
    );
    let required: Value = serde_json::from_str(params.get("requiredAttributes").expect("requiredAttributes"))
        .expect("requiredAttributes is JSON");
    assert!(required.is_array(), "{required}");

    let new_password = "Chosen-Passw0rd!";
    let done = c
        .respond_to_auth_challenge()
        .client_id(&client)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(session)
        .challenge_responses("USERNAME", "bob")
        .challenge_responses("NEW_PASSWORD", new_password)
        .send()
        .await
        .expect("RespondToAuthChallenge");
    assert!(done.challenge_name().is_none());
    let tokens = done.authentication_result.expect("tokens");
    let v = Verifier::fetch(&url, &pool, &client).await;
    let (_, id) = v.check(&tokens, "bob");
    assert_eq!(id["email_verified"], Value::Bool(true));
    let user = c
        .admin_get_user()
        .user_pool_id(&pool)
        .username("bob")
        .send()
        .await
        .expect("AdminGetUser");
    assert_eq!(user.user_status().map(|s| s.as_str()), Some("CONFIRMED"));

    // The temporary password is gone; the chosen one works with the admin flow too.
    assert_not_authorized(
        c.admin_initiate_auth()
            .user_pool_id(&pool)
            .client_id(&client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "bob")
            .auth_parameters("PASSWORD", temporary)
            .send()
            .await,
        Some("Incorrect username or password."),
    );
    let out = c
        .admin_initiate_auth()
        .user_pool_id(&pool)
        .client_id(&client)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "bob")
        .auth_parameters("PASSWORD", new_password)
        .send()
        .await
        .expect("sign-in with the new password");
    v.check(out.authentication_result().expect("tokens"), "bob");
    server.stop().await;
}

/// USER_SRP_AUTH answered by `aws-cognito-srp`. `username` is what the user types; the proof is
/// made for the server's `USER_ID_FOR_SRP`.
async fn srp_sign_in(
    c: &Client,
    pool: &str,
    client: &str,
    username: &str,
    password: &str,
) -> Result<AuthenticationResultType, (u16, String, String)> {
    use aws_cognito_srp::{SrpClient, User};
    let srp = SrpClient::<User>::new(User::new(pool, username, password), client, None);
    let a = srp.get_auth_parameters().a;
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
    assert!(out.authentication_result().is_none());
    let p = out.challenge_parameters().expect("ChallengeParameters");
    let mut keys: Vec<&str> = p.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["SALT", "SECRET_BLOCK", "SRP_B", "USERNAME", "USER_ID_FOR_SRP"],
        "PASSWORD_VERIFIER's parameters, as AWS sends them"
    );
    assert_eq!(out.session(), None, "AWS sends PASSWORD_VERIFIER without a Session");
    let user_id = &p["USER_ID_FOR_SRP"];
    let answer = srp
        .verify(&p["SECRET_BLOCK"], user_id, &p["SALT"], &p["SRP_B"])
        .expect("aws-cognito-srp accepts the challenge");
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
            assert!(o.challenge_name().is_none(), "{o:?}");
            Ok(o.authentication_result.expect("tokens"))
        }
        Err(e) => Err(service_err::<(), _>(Err(e))),
    }
}

#[tokio::test]
async fn srp_sign_in_with_the_independent_client() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let c = sdk_client(&url);
    let (pool, client) = pool_and_client(&c, false).await;
    let password = "Srp-Passw0rd-\u{00e9}!";
    sign_up_and_confirm(&c, &url, &pool, &client, "carol", "carol@example.com", password).await;

    let tokens = srp_sign_in(&c, &pool, &client, "carol", password)
        .await
        .expect("SRP sign-in");
    let v = Verifier::fetch(&url, &pool, &client).await;
    v.check(&tokens, "carol");
    assert!(tokens.refresh_token().is_some());

    let wrong = srp_sign_in(&c, &pool, &client, "carol", "Not-The-Passw0rd!").await;
    assert_eq!(
        wrong.expect_err("wrong password"),
        (
            400,
            "NotAuthorizedException".to_owned(),
            "Incorrect username or password.".to_owned()
        )
    );
    // A wrong proof does not spoil the next sign-in.
    srp_sign_in(&c, &pool, &client, "carol", password)
        .await
        .expect("SRP sign-in after a miss");
    server.stop().await;
}

#[tokio::test]
async fn email_as_username_pool_signs_in_with_the_email() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let c = sdk_client(&url);
    let (pool, client) = pool_and_client(&c, true).await;
    let password = "Email-Passw0rd!";
    let email = "Dana@Example.com";
    let sub = sign_up_and_confirm(&c, &url, &pool, &client, email, email, password).await;

    let user = c
        .admin_get_user()
        .user_pool_id(&pool)
        .username(email)
        .send()
        .await
        .expect("AdminGetUser by email");
    assert_eq!(user.username(), sub, "the internal username is the sub");
    assert!(uuid_like(&sub), "{sub}");

    let v = Verifier::fetch(&url, &pool, &client).await;
    let tokens = password_sign_in(&c, &client, email, password).await;
    let (access, id) = v.check(&tokens, &sub);
    assert_eq!(access["sub"], Value::String(sub.clone()));
    assert_eq!(id["email"], email);
    assert_eq!(id["email_verified"], Value::Bool(true));
    // Email compares case-insensitively.
    password_sign_in(&c, &client, &email.to_lowercase(), password).await;
    let me = c
        .get_user()
        .access_token(tokens.access_token().unwrap())
        .send()
        .await
        .expect("GetUser");
    assert_eq!(me.username(), sub);

    // SRP: the user types the email; the proof is made for USER_ID_FOR_SRP (the sub).
    let srp = srp_sign_in(&c, &pool, &client, email, password)
        .await
        .expect("SRP sign-in with the email");
    v.check(&srp, &sub);

    // Refresh works with the internal username behind the refresh token.
    let out = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", tokens.refresh_token().unwrap())
        .send()
        .await
        .expect("REFRESH_TOKEN_AUTH");
    v.check(out.authentication_result().expect("tokens"), &sub);

    // Signing up with something that is not an email is refused.
    let (status, code, msg) = service_err(
        c.sign_up()
            .client_id(&client)
            .username("not-an-email")
            .password(password)
            .send()
            .await,
    );
    assert_eq!((status, code.as_str()), (400, "InvalidParameterException"), "{msg}");
    assert_eq!(msg, "Username should be an email.");
    server.stop().await;
}

fn uuid_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}
