//! Passkeys through the Rust SDK with a software authenticator (`cmfa_core::webauthn::soft`):
//! registration (Start/CompleteWebAuthnRegistration), the credential list and deletion, and
//! USER_AUTH sign-in with WEB_AUTHN; every refusal the model names, one broken thing at a time.

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::types::{
    AuthFactorType, AuthFlowType, ChallengeNameType, ExplicitAuthFlowsType, SignInPolicyType, UserPoolMfaType,
    UserPoolPolicyType, UserVerificationType, WebAuthnConfigurationType,
};
use cmfa_core::clock::FixedClock;
use cmfa_core::webauthn::soft::SoftPasskey;
use cmfa_testkit::cognito::service_fail;
use cmfa_testkit::document::{from_json, to_json};
use cmfa_testkit::{Options, TestServer, sdk_client};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

const PASSWORD: &str = "Passkey-Passw0rd!";
const ORIGIN: &str = "http://localhost:5173";

type Fail = (u16, String, String);

struct Env {
    _server: TestServer,
    clock: Arc<FixedClock>,
    c: Client,
    pool: String,
    client: String,
}

/// A pool that allows WEB_AUTHN with RP ID `localhost` (unless `rp` is None), MFA off.
async fn env_with(rp: Option<&str>, allow_passkeys: bool) -> Env {
    env_uv(rp, allow_passkeys, UserVerificationType::Preferred).await
}

async fn env_uv(rp: Option<&str>, allow_passkeys: bool, uv: UserVerificationType) -> Env {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
    let clock = Arc::new(FixedClock::at(now));
    let server = TestServer::start_with(Options {
        clock: Some(clock.clone()),
        ..Options::default()
    })
    .await;
    let c = sdk_client(&server.url);
    let mut factors = vec![AuthFactorType::Password];
    if allow_passkeys {
        factors.push(AuthFactorType::WebAuthn);
    }
    let pool = c
        .create_user_pool()
        .pool_name("passkeys")
        .policies(
            UserPoolPolicyType::builder()
                .sign_in_policy(
                    SignInPolicyType::builder()
                        .set_allowed_first_auth_factors(Some(factors))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .and_then(|p| p.id)
        .unwrap();
    if let Some(rp) = rp {
        c.set_user_pool_mfa_config()
            .user_pool_id(&pool)
            .mfa_configuration(UserPoolMfaType::Off)
            .web_authn_configuration(
                WebAuthnConfigurationType::builder()
                    .relying_party_id(rp)
                    .user_verification(uv)
                    .build(),
            )
            .send()
            .await
            .expect("SetUserPoolMfaConfig");
    }
    let client = new_client(&c, &pool).await;
    Env {
        _server: server,
        clock,
        c,
        pool,
        client,
    }
}

async fn new_client(c: &Client, pool: &str) -> String {
    c.create_user_pool_client()
        .user_pool_id(pool)
        .client_name("web")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client
        .and_then(|c| c.client_id)
        .unwrap()
}

impl Env {
    /// A confirmed user with a password, signed in: the access token.
    async fn user(&self, name: &str) -> String {
        cmfa_testkit::cognito::confirmed_user(&self.c, &self.pool, name, PASSWORD, &[]).await;
        self.token(name, &self.client).await
    }

    async fn token(&self, name: &str, client: &str) -> String {
        self.c
            .initiate_auth()
            .client_id(client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", name)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .expect("sign-in")
            .authentication_result
            .and_then(|r| r.access_token)
            .expect("tokens")
    }

    async fn start(&self, access: &str) -> Result<Value, Fail> {
        self.c
            .start_web_authn_registration()
            .access_token(access)
            .send()
            .await
            .map(|o| to_json(o.credential_creation_options()))
            .map_err(service_fail)
    }

    async fn complete(&self, access: &str, credential: &Value) -> Result<(), Fail> {
        self.c
            .complete_web_authn_registration()
            .access_token(access)
            .credential(from_json(credential))
            .send()
            .await
            .map(|_| ())
            .map_err(service_fail)
    }

    /// Registers `pk` for the user of `access`.
    async fn register(&self, access: &str, pk: &SoftPasskey) {
        let options = self.start(access).await.expect("StartWebAuthnRegistration");
        self.complete(access, &pk.register(&options, "none"))
            .await
            .expect("CompleteWebAuthnRegistration");
    }

    /// USER_AUTH with PREFERRED_CHALLENGE WEB_AUTHN: (session, request options).
    async fn passkey_challenge(&self, name: &str) -> (String, Value) {
        let o = self
            .c
            .initiate_auth()
            .client_id(&self.client)
            .auth_flow(AuthFlowType::UserAuth)
            .auth_parameters("USERNAME", name)
            .auth_parameters("PREFERRED_CHALLENGE", "WEB_AUTHN")
            .send()
            .await
            .expect("USER_AUTH");
        assert_eq!(o.challenge_name(), Some(&ChallengeNameType::WebAuthn), "{o:?}");
        let p = o.challenge_parameters().unwrap();
        let options: Value = serde_json::from_str(&p["CREDENTIAL_REQUEST_OPTIONS"]).expect("a JSON string");
        (o.session.unwrap(), options)
    }

    async fn answer(&self, name: &str, session: &str, assertion: &Value) -> Result<bool, Fail> {
        self.c
            .respond_to_auth_challenge()
            .client_id(&self.client)
            .challenge_name(ChallengeNameType::WebAuthn)
            .session(session)
            .challenge_responses("USERNAME", name)
            .challenge_responses("CREDENTIAL", assertion.to_string())
            .send()
            .await
            .map(|o| o.authentication_result.and_then(|r| r.access_token).is_some())
            .map_err(service_fail)
    }
}

#[tokio::test]
async fn register_list_sign_in_and_delete_a_passkey() {
    let env = env_with(Some("localhost"), true).await;
    let access = env.user("alice").await;
    let options = env.start(&access).await.unwrap();
    // The options as AWS shapes them (reference §4.8).
    assert_eq!(options["rp"], json!({ "id": "localhost", "name": "localhost" }));
    assert_eq!(
        options["pubKeyCredParams"],
        json!([{ "alg": -7, "type": "public-key" }, { "alg": -257, "type": "public-key" }])
    );
    assert_eq!(options["authenticatorSelection"]["userVerification"], "preferred");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(options["excludeCredentials"], json!([]));
    let user = env.c.get_user().access_token(&access).send().await.unwrap();
    let sub = user
        .user_attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value())
        .unwrap();
    use base64::Engine;
    let user_id = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(options["user"]["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(String::from_utf8(user_id).unwrap(), sub, "user.id is the sub");

    let mut pk = SoftPasskey::new(ORIGIN);
    env.complete(&access, &pk.register(&options, "packed"))
        .await
        .expect("packed self attestation");
    let list = env
        .c
        .list_web_authn_credentials()
        .access_token(&access)
        .send()
        .await
        .unwrap();
    let creds = list.credentials();
    assert_eq!(creds.len(), 1);
    assert_eq!(creds[0].relying_party_id(), "localhost");
    assert_eq!(creds[0].authenticator_attachment(), Some("platform"));
    assert_eq!(creds[0].authenticator_transports(), ["internal"]);
    assert!(creds[0].created_at().secs() > 0);
    let factors = env
        .c
        .get_user_auth_factors()
        .access_token(&access)
        .send()
        .await
        .unwrap();
    assert!(
        factors
            .configured_user_auth_factors()
            .contains(&AuthFactorType::WebAuthn)
    );

    // A second registration excludes the first passkey.
    let again = env.start(&access).await.unwrap();
    assert_eq!(again["excludeCredentials"][0]["id"], json!(creds[0].credential_id()));

    // USER_AUTH offers the passkey and signs in with it.
    let select = env
        .c
        .initiate_auth()
        .client_id(&env.client)
        .auth_flow(AuthFlowType::UserAuth)
        .auth_parameters("USERNAME", "alice")
        .send()
        .await
        .unwrap();
    assert!(
        select.available_challenges().contains(&ChallengeNameType::WebAuthn),
        "{select:?}"
    );
    let (session, request) = env.passkey_challenge("alice").await;
    assert_eq!(request["rpId"], "localhost");
    assert_eq!(request["allowCredentials"][0]["id"], json!(creds[0].credential_id()));
    let assertion = pk.assert(&request);
    assert!(env.answer("alice", &session, &assertion).await.unwrap(), "tokens");
    // The same assertion again, on a new challenge: refused.
    let (session2, _) = env.passkey_challenge("alice").await;
    let f = env.answer("alice", &session2, &assertion).await.unwrap_err();
    assert_eq!(f.1, "NotAuthorizedException", "{f:?}");
    // A forged signature, then the right passkey on the same session.
    pk.forge = true;
    let f = env
        .answer("alice", &session2, &pk.assert(&env.passkey_challenge("alice").await.1))
        .await;
    assert!(f.is_err());
    pk.forge = false;
    let (session3, request3) = env.passkey_challenge("alice").await;
    assert!(env.answer("alice", &session3, &pk.assert(&request3)).await.unwrap());
    // A page elsewhere.
    let mut evil = SoftPasskey::new("https://evil.example");
    evil.credential_id = pk.credential_id.clone();
    let (session4, request4) = env.passkey_challenge("alice").await;
    let f = env
        .answer("alice", &session4, &evil.assert(&request4))
        .await
        .unwrap_err();
    assert_eq!(f.1, "WebAuthnOriginNotAllowedException", "{f:?}");

    // Delete: gone from the list; unknown ids are not found.
    let id = creds[0].credential_id().to_owned();
    env.c
        .delete_web_authn_credential()
        .access_token(&access)
        .credential_id(&id)
        .send()
        .await
        .unwrap();
    let list = env
        .c
        .list_web_authn_credentials()
        .access_token(&access)
        .send()
        .await
        .unwrap();
    assert!(list.credentials().is_empty());
    let f = env
        .c
        .delete_web_authn_credential()
        .access_token(&access)
        .credential_id(&id)
        .send()
        .await
        .map_err(service_fail)
        .unwrap_err();
    assert_eq!(f.1, "ResourceNotFoundException");
}

#[tokio::test]
async fn registrations_are_refused_as_the_model_names() {
    let env = env_with(Some("localhost"), true).await;
    let access = env.user("bob").await;

    let options = env.start(&access).await.unwrap();
    let pk = SoftPasskey::new(ORIGIN);
    let reg = pk.register(&options, "none");
    env.complete(&access, &reg).await.unwrap();
    // The challenge is single-use.
    let f = env.complete(&access, &reg).await.unwrap_err();
    assert_eq!(f.1, "WebAuthnChallengeNotFoundException", "{f:?}");

    let options = env.start(&access).await.unwrap();
    let f = env
        .complete(
            &access,
            &SoftPasskey::new("https://evil.example").register(&options, "none"),
        )
        .await
        .unwrap_err();
    assert_eq!(f.1, "WebAuthnOriginNotAllowedException", "{f:?}");

    let mut other_rp = env.start(&access).await.unwrap();
    other_rp["rp"]["id"] = json!("example.com");
    let f = env
        .complete(&access, &SoftPasskey::new(ORIGIN).register(&other_rp, "none"))
        .await
        .unwrap_err();
    assert_eq!(f.1, "WebAuthnRelyingPartyMismatchException", "{f:?}");

    // The same credential id twice in the pool, even for another user.
    let carol = env.user("carol").await;
    let options = env.start(&carol).await.unwrap();
    let mut twin = SoftPasskey::new(ORIGIN);
    twin.credential_id = pk.credential_id.clone();
    let f = env
        .complete(&carol, &twin.register(&options, "none"))
        .await
        .unwrap_err();
    assert_eq!(f.1, "InvalidParameterException", "{f:?}");

    // Started on one app client, completed with a token of another.
    let second = new_client(&env.c, &env.pool).await;
    let options = env.start(&access).await.unwrap();
    let other_token = env.token("bob", &second).await;
    let f = env
        .complete(&other_token, &SoftPasskey::new(ORIGIN).register(&options, "none"))
        .await
        .unwrap_err();
    assert_eq!(f.1, "WebAuthnClientMismatchException", "{f:?}");

    // Garbage.
    for bad in [
        json!({}),
        json!({"type": "public-key"}),
        json!("text"),
        json!({"response": {"clientDataJSON": "!!"}}),
    ] {
        let f = env.complete(&access, &bad).await.unwrap_err();
        assert_eq!((f.0, f.1.as_str()), (400, "InvalidParameterException"), "{bad}: {f:?}");
    }

    // Twenty passkeys per user.
    for _ in 0..19 {
        env.register(&access, &SoftPasskey::new(ORIGIN)).await;
    }
    let f = env.start(&access).await.unwrap_err();
    assert_eq!(f.1, "LimitExceededException", "{f:?}");
}

#[tokio::test]
async fn pools_without_passkeys_say_why() {
    let no_rp = env_with(None, true).await;
    let access = no_rp.user("dan").await;
    let f = no_rp.start(&access).await.unwrap_err();
    assert_eq!(f.1, "WebAuthnConfigurationMissingException", "{f:?}");

    let off = env_with(Some("localhost"), false).await;
    let access = off.user("erin").await;
    let f = off.start(&access).await.unwrap_err();
    assert_eq!(f.1, "WebAuthnNotEnabledException", "{f:?}");
}

#[tokio::test]
async fn algorithms_user_verification_and_expiry() {
    // RS256 registers and signs in; EdDSA (not offered) is refused.
    let env = env_uv(Some("localhost"), true, UserVerificationType::Required).await;
    let access = env.user("rsa").await;
    let mut rsa = SoftPasskey::rsa(ORIGIN);
    env.register(&access, &rsa).await;
    let (session, request) = env.passkey_challenge("rsa").await;
    assert_eq!(request["userVerification"], "required");
    assert!(env.answer("rsa", &session, &rsa.assert(&request)).await.unwrap());
    let options = env.start(&access).await.unwrap();
    let f = env
        .complete(&access, &SoftPasskey::ed25519(ORIGIN).register(&options, "none"))
        .await
        .unwrap_err();
    assert_eq!(f.1, "WebAuthnCredentialNotSupportedException", "{f:?}");

    // UV required: an authenticator that does not verify the user can neither register nor sign in.
    let options = env.start(&access).await.unwrap();
    assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
    let mut no_uv = SoftPasskey::new(ORIGIN);
    no_uv.flags = 0x01;
    let f = env
        .complete(&access, &no_uv.register(&options, "none"))
        .await
        .unwrap_err();
    assert_eq!(f.1, "WebAuthnCredentialNotSupportedException", "{f:?}");
    rsa.flags = 0x01;
    let (session, request) = env.passkey_challenge("rsa").await;
    let f = env.answer("rsa", &session, &rsa.assert(&request)).await.unwrap_err();
    assert_eq!(f.1, "NotAuthorizedException", "{f:?}");
    // UP missing.
    let mut absent = SoftPasskey::new(ORIGIN);
    absent.flags = 0x04;
    let options = env.start(&access).await.unwrap();
    let f = env
        .complete(&access, &absent.register(&options, "none"))
        .await
        .unwrap_err();
    assert_eq!(f.1, "InvalidParameterException", "{f:?}");

    // An expired registration challenge (the client's AuthSessionValidity, 3 minutes).
    let options = env.start(&access).await.unwrap();
    env.clock.advance(181.0);
    let f = env
        .complete(&access, &SoftPasskey::new(ORIGIN).register(&options, "none"))
        .await
        .unwrap_err();
    assert_eq!(f.1, "WebAuthnChallengeNotFoundException", "{f:?}");
}

#[tokio::test]
async fn an_assertion_is_bound_to_its_session_user_and_counter() {
    let env = env_with(Some("localhost"), true).await;
    let alice = env.user("alice").await;
    let bob = env.user("bob").await;
    let mut a = SoftPasskey::new(ORIGIN);
    let mut b = SoftPasskey::new(ORIGIN);
    env.register(&alice, &a).await;
    env.register(&bob, &b).await;
    // Bob's passkey answering Alice's challenge: not one of her passkeys.
    let (session, request) = env.passkey_challenge("alice").await;
    let f = env.answer("alice", &session, &b.assert(&request)).await.unwrap_err();
    assert_eq!(f.1, "NotAuthorizedException", "{f:?}");
    // Alice's assertion for another session's challenge.
    let (other_session, _) = env.passkey_challenge("alice").await;
    let f = env
        .answer("alice", &other_session, &a.assert(&request))
        .await
        .unwrap_err();
    assert_eq!(f.1, "NotAuthorizedException", "{f:?}");
    // Bob's name on Alice's session.
    let (session, request) = env.passkey_challenge("alice").await;
    let f = env.answer("bob", &session, &a.assert(&request)).await.unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        ("NotAuthorizedException", "Invalid session for the user.")
    );
    // A counter that goes backwards (a cloned authenticator) is refused after a good sign-in.
    let (session, request) = env.passkey_challenge("bob").await;
    b.counter = 10;
    assert!(env.answer("bob", &session, &b.assert(&request)).await.unwrap());
    b.counter = 3;
    let (session, request) = env.passkey_challenge("bob").await;
    let f = env.answer("bob", &session, &b.assert(&request)).await.unwrap_err();
    assert_eq!(f.1, "NotAuthorizedException", "{f:?}");
    // Malformed CREDENTIAL strings are 4xx.
    let (session, _) = env.passkey_challenge("bob").await;
    for bad in ["not json", "{}", "[]", r#"{"id":"!!"}"#] {
        let f = env
            .c
            .respond_to_auth_challenge()
            .client_id(&env.client)
            .challenge_name(ChallengeNameType::WebAuthn)
            .session(&session)
            .challenge_responses("USERNAME", "bob")
            .challenge_responses("CREDENTIAL", bad)
            .send()
            .await
            .map_err(service_fail)
            .unwrap_err();
        assert!(
            f.0 == 400 && (f.1 == "InvalidParameterException" || f.1 == "NotAuthorizedException"),
            "{bad}: {f:?}"
        );
    }
    // Deleting the user deletes the passkeys: the id is free again in the pool.
    env.c
        .admin_delete_user()
        .user_pool_id(&env.pool)
        .username("bob")
        .send()
        .await
        .unwrap();
    let carol = env.user("carol").await;
    let options = env.start(&carol).await.unwrap();
    let mut twin = SoftPasskey::new(ORIGIN);
    twin.credential_id = b.credential_id.clone();
    env.complete(&carol, &twin.register(&options, "none"))
        .await
        .expect("the id was freed");
    let _ = &mut a;
}

#[tokio::test]
async fn a_passkey_with_user_verification_counts_as_mfa_when_the_pool_or_the_user_says_so() {
    use cip::types::{
        SmsMfaSettingsType, SoftwareTokenMfaConfigType, WebAuthnFactorConfigurationType, WebAuthnMfaSettingsType,
    };
    let env = env_with(Some("localhost"), true).await;
    let access = env.user("mfa").await;
    let mut pk = SoftPasskey::new(ORIGIN);
    env.register(&access, &pk).await;
    let available = |env: &Env| {
        let c = env.c.clone();
        let client = env.client.clone();
        async move {
            c.initiate_auth()
                .client_id(client)
                .auth_flow(AuthFlowType::UserAuth)
                .auth_parameters("USERNAME", "mfa")
                .send()
                .await
                .unwrap()
                .available_challenges()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(available(&env).await, ["PASSWORD", "PASSWORD_SRP", "WEB_AUTHN"]);

    // MFA ON with MULTI_FACTOR_WITH_USER_VERIFICATION: the passkey stays, with UV required.
    let webauthn = |f| {
        WebAuthnConfigurationType::builder()
            .relying_party_id("localhost")
            .user_verification(UserVerificationType::Preferred)
            .factor_configuration(f)
            .build()
    };
    env.c
        .set_user_pool_mfa_config()
        .user_pool_id(&env.pool)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .web_authn_configuration(webauthn(
            WebAuthnFactorConfigurationType::MultiFactorWithUserVerification,
        ))
        .send()
        .await
        .expect("ON with multi-factor passkeys");
    assert_eq!(available(&env).await, ["PASSWORD", "PASSWORD_SRP", "WEB_AUTHN"]);
    let (session, request) = env.passkey_challenge("mfa").await;
    assert_eq!(
        request["userVerification"], "preferred",
        "the page is asked as configured"
    );
    pk.flags = 0x01; // no UV: not enough to stand in for MFA
    let f = env.answer("mfa", &session, &pk.assert(&request)).await.unwrap_err();
    assert_eq!(f.1, "NotAuthorizedException", "{f:?}");
    pk.flags = 0x05;
    let (session, request) = env.passkey_challenge("mfa").await;
    assert!(
        env.answer("mfa", &session, &pk.assert(&request)).await.unwrap(),
        "tokens, no MFA challenge"
    );

    // OPTIONAL, single factor: a user with MFA configured loses the passkey, until the user
    // turns on passkey MFA (which needs another MFA method).
    env.c
        .set_user_pool_mfa_config()
        .user_pool_id(&env.pool)
        .mfa_configuration(UserPoolMfaType::Optional)
        .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .web_authn_configuration(webauthn(WebAuthnFactorConfigurationType::SingleFactor))
        .send()
        .await
        .unwrap();
    let passkey_mfa = |on: bool| {
        env.c
            .admin_set_user_mfa_preference()
            .user_pool_id(&env.pool)
            .username("mfa")
            .web_authn_mfa_settings(WebAuthnMfaSettingsType::builder().enabled(on).build())
            .send()
    };
    let f = passkey_mfa(true).await.map_err(service_fail).unwrap_err();
    assert_eq!(f.1, "InvalidParameterException", "no other MFA method: {f:?}");
    env.c
        .admin_update_user_attributes()
        .user_pool_id(&env.pool)
        .username("mfa")
        .user_attributes(cmfa_testkit::cognito::attr("phone_number", "+15555550199"))
        .send()
        .await
        .unwrap();
    env.c
        .admin_set_user_mfa_preference()
        .user_pool_id(&env.pool)
        .username("mfa")
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
        .send()
        .await
        .unwrap();
    assert_eq!(
        available(&env).await,
        ["PASSWORD", "PASSWORD_SRP"],
        "MFA configured: password factors only"
    );
    passkey_mfa(true).await.expect("passkey MFA with SMS MFA beside it");
    assert_eq!(available(&env).await, ["PASSWORD", "PASSWORD_SRP", "WEB_AUTHN"]);
    let (session, request) = env.passkey_challenge("mfa").await;
    assert!(env.answer("mfa", &session, &pk.assert(&request)).await.unwrap());
    passkey_mfa(false).await.unwrap();
    assert_eq!(available(&env).await, ["PASSWORD", "PASSWORD_SRP"]);
}

#[tokio::test]
async fn select_challenge_takes_a_passkey_at_once_or_next_and_binds_it_to_the_client() {
    let env = env_with(Some("localhost"), true).await;
    let access = env.user("sel").await;
    let mut pk = SoftPasskey::new(ORIGIN);
    env.register(&access, &pk).await;
    let select = || async {
        env.c
            .initiate_auth()
            .client_id(&env.client)
            .auth_flow(AuthFlowType::UserAuth)
            .auth_parameters("USERNAME", "sel")
            .send()
            .await
            .unwrap()
    };
    let respond = |session: String, r: Vec<(&'static str, String)>, client: String| {
        let c = env.c.clone();
        async move {
            let mut req = c
                .respond_to_auth_challenge()
                .client_id(client)
                .challenge_name(ChallengeNameType::SelectChallenge)
                .session(session);
            for (k, v) in r {
                req = req.challenge_responses(k, v);
            }
            req.send().await.map_err(service_fail)
        }
    };
    // At once: SELECT_CHALLENGE's parameters carry request options for its own session.
    let s = select().await;
    let options: Value =
        serde_json::from_str(&s.challenge_parameters().unwrap()["CREDENTIAL_REQUEST_OPTIONS"]).unwrap();
    let credential = pk.assert(&options).to_string();
    let done = respond(
        s.session.clone().unwrap(),
        vec![
            ("USERNAME", "sel".into()),
            ("ANSWER", "WEB_AUTHN".into()),
            ("CREDENTIAL", credential.clone()),
        ],
        env.client.clone(),
    )
    .await
    .unwrap();
    assert!(done.authentication_result.is_some(), "{done:?}");
    // Next: ANSWER alone opens WEB_AUTHN.
    let s = select().await;
    let next = respond(
        s.session.unwrap(),
        vec![("USERNAME", "sel".into()), ("ANSWER", "WEB_AUTHN".into())],
        env.client.clone(),
    )
    .await
    .unwrap();
    assert_eq!(next.challenge_name(), Some(&ChallengeNameType::WebAuthn));
    // Another app client cannot answer this client's session.
    let other = new_client(&env.c, &env.pool).await;
    let s = select().await;
    let options: Value =
        serde_json::from_str(&s.challenge_parameters().unwrap()["CREDENTIAL_REQUEST_OPTIONS"]).unwrap();
    let f = respond(
        s.session.unwrap(),
        vec![
            ("USERNAME", "sel".into()),
            ("ANSWER", "WEB_AUTHN".into()),
            ("CREDENTIAL", pk.assert(&options).to_string()),
        ],
        other,
    )
    .await
    .unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        ("NotAuthorizedException", "Invalid session for the user.")
    );
}
