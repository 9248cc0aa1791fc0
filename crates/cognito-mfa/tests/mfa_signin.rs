//! MFA at sign-in, end to end with the official Rust SDK (reference §3, §4.3-4.6, §5):
//!
//! - the decision matrix: pool OFF / OPTIONAL / ON × user state × USER_PASSWORD_AUTH,
//!   USER_SRP_AUTH (answered by the independent `aws-cognito-srp`) and ADMIN_USER_PASSWORD_AUTH;
//! - complete sign-ins: SMS and email codes read from the outbox, TOTP codes from the independent
//!   `totp-rs`, SELECT_MFA_TYPE, MFA_SETUP (TOTP and email), the user views of MFA settings and
//!   SetUserMFAPreference's rules;
//! - security: TOTP replay and old steps, expired, reused and moved sessions, the lockout after
//!   five wrong codes, retries on one session, one error for every wrong code;
//! - bad input: wrong ANSWERs, missing and extra ChallengeResponses, codes of the wrong shape,
//!   challenges answered out of order.
//!
//! Every server runs on an injected clock (starting at the real time, so SRP timestamps and tokens
//! look current), and TOTP codes are computed for that clock, so nothing waits for a time step.

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::types::{
    AuthFactorType, AuthFlowType, AuthenticationResultType, ChallengeNameType, DeliveryMediumType, EmailMfaConfigType,
    EmailMfaSettingsType, MessageActionType, MfaOptionType, RecoveryOptionNameType, SmsConfigurationType,
    SmsMfaConfigType, SmsMfaSettingsType, SoftwareTokenMfaConfigType, SoftwareTokenMfaSettingsType, UserPoolMfaType,
    VerifySoftwareTokenResponseType,
};
use cmfa_core::Clock;
use cmfa_core::clock::FixedClock;
use cmfa_testkit::cognito::{ALL_FLOWS, attr, developer_email, recovery, service_err, service_fail, totp_at};
use cmfa_testkit::{Options, TestServer, outbox, sdk_client};
use std::collections::{BTreeSet, HashMap};
use std::fmt::Debug;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

const PASSWORD: &str = "Mfa-Passw0rd!";
const CODE_MISMATCH: &str = "Invalid code or auth state for the user.";
const INVALID_SESSION: &str = "Invalid session for the user.";
const EXPIRED_SESSION: &str = "Invalid session for the user, session is expired.";
const USED_SESSION: &str = "Invalid session for the user, session can only be used once.";
const LOCKED: &str = "Password attempts exceeded";
const TOTP_REUSED: &str = "Your software token has already been used once.";
const SNS_ROLE: &str = "arn:aws:iam::123456789012:role/sms";

// ---------------------------------------------------------------------------------------------
// Helpers: codes, errors
// ---------------------------------------------------------------------------------------------

use cmfa_testkit::outbox::code as code_in;

/// A failed call: (HTTP status, `__type`, message). Never a dispatch failure.
type Fail = (u16, String, String);

/// Asserts a 400 with this `__type` (and this message, when given).
#[track_caller]
fn assert_fail(f: &Fail, code: &str, message: Option<&str>) {
    assert_eq!((f.0, f.1.as_str()), (400, code), "{f:?}");
    if let Some(m) = message {
        assert_eq!(f.2, m, "{f:?}");
    }
}

fn real_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("time").as_secs()
}

/// A 6-digit code that no step of the ±1 window around `t` produces.
fn wrong_totp(secret: &str, t: u64) -> String {
    let window = [totp_at(secret, t - 30), totp_at(secret, t), totp_at(secret, t + 30)];
    ["000000", "111111", "222222", "333333"]
        .into_iter()
        .find(|c| !window.iter().any(|w| w == c))
        .expect("four codes cannot all be in a window of three")
        .to_owned()
}

// ---------------------------------------------------------------------------------------------
// Helpers: pools, users, flows
// ---------------------------------------------------------------------------------------------

fn sns() -> SmsConfigurationType {
    SmsConfigurationType::builder().sns_caller_arn(SNS_ROLE).build()
}

/// A server on a stopped clock, a pool with SMS, email and TOTP MFA available, and a client.
struct Env {
    server: TestServer,
    clock: Arc<FixedClock>,
    c: Client,
    pool: String,
    client: String,
    /// The pool offers SMS only (no email configuration, no TOTP).
    sms_only: bool,
}

impl Env {
    /// A pool with SMS + TOTP + email factors (admin-only recovery) in `mode`.
    async fn new(mode: UserPoolMfaType) -> Env {
        Self::with_recovery(mode, &[RecoveryOptionNameType::AdminOnly]).await
    }

    async fn with_recovery(mode: UserPoolMfaType, recovery_names: &[RecoveryOptionNameType]) -> Env {
        Self::build(mode, recovery_names, false).await
    }

    /// A pool whose only factor is SMS.
    async fn sms_only(mode: UserPoolMfaType) -> Env {
        Self::build(mode, &[RecoveryOptionNameType::AdminOnly], true).await
    }

    async fn build(mode: UserPoolMfaType, recovery_names: &[RecoveryOptionNameType], sms_only: bool) -> Env {
        // The start of a time step (plus one second), near the real time.
        let t0 = real_now() / 30 * 30 + 1;
        let clock = Arc::new(FixedClock::at(t0 as f64));
        let server = TestServer::start_with(Options {
            clock: Some(clock.clone()),
            ..Options::default()
        })
        .await;
        let c = sdk_client(&server.url);
        let mut create = c
            .create_user_pool()
            .pool_name("mfa-sign-in")
            .sms_configuration(sns())
            .account_recovery_setting(recovery(recovery_names));
        if !sms_only {
            create = create.email_configuration(developer_email());
        }
        let pool = create
            .send()
            .await
            .expect("CreateUserPool")
            .user_pool
            .expect("pool")
            .id
            .expect("id");
        let client = new_client(&c, &pool).await;
        let env = Env {
            server,
            clock,
            c,
            pool,
            client,
            sms_only,
        };
        env.set_mode(mode).await;
        env
    }

    /// SetUserPoolMfaConfig: OFF, or the mode with all three factors.
    async fn set_mode(&self, mode: UserPoolMfaType) {
        let mut req = self
            .c
            .set_user_pool_mfa_config()
            .user_pool_id(&self.pool)
            .mfa_configuration(mode.clone());
        if mode != UserPoolMfaType::Off {
            req = req.sms_mfa_configuration(SmsMfaConfigType::builder().build());
        }
        if mode != UserPoolMfaType::Off && !self.sms_only {
            req = req
                .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build())
                .email_mfa_configuration(EmailMfaConfigType::builder().build());
        }
        req.send().await.expect("SetUserPoolMfaConfig");
    }

    fn now(&self) -> u64 {
        self.clock.now() as u64
    }

    fn advance(&self, secs: u64) {
        self.clock.advance(secs as f64);
    }

    /// A confirmed user with these attributes and [`PASSWORD`].
    async fn user(&self, username: &str, attrs: &[(&str, &str)]) {
        cmfa_testkit::cognito::confirmed_user(&self.c, &self.pool, username, PASSWORD, attrs).await;
    }

    /// The newest code sent to `username`, checking its channel and length.
    async fn code(&self, username: &str, channel: &str) -> String {
        let messages = outbox::messages(&self.server.url, &self.pool, username).await;
        let m = messages.first().expect("a message in the outbox");
        assert_eq!(m["channel"], channel, "{m}");
        code_in(m["body"].as_str().expect("body"), if channel == "SMS" { 6 } else { 8 })
    }

    async fn start(&self, flow: Flow, username: &str) -> Result<Out, Fail> {
        start(self, &self.client, flow, username, PASSWORD).await
    }

    async fn respond(
        &self,
        challenge: ChallengeNameType,
        session: Option<&str>,
        r: &[(&str, &str)],
    ) -> Result<Out, Fail> {
        respond(self, &self.client, challenge, session, r).await
    }

    /// USER_PASSWORD_AUTH that must give tokens: the access token.
    async fn access_token(&self, username: &str) -> String {
        let out = self.start(Flow::Password, username).await.expect("sign-in");
        out.tokens
            .unwrap_or_else(|| panic!("tokens expected: {:?}", out.challenge))
            .access_token
            .expect("AccessToken")
    }

    /// Registers an authenticator through AccessToken (the user must sign in without MFA now):
    /// (Base32 secret, access token). The step of registration is then used.
    async fn register_totp(&self, username: &str, friendly: Option<&str>) -> (String, String) {
        let access = self.access_token(username).await;
        let a = self
            .c
            .associate_software_token()
            .access_token(&access)
            .send()
            .await
            .expect("AssociateSoftwareToken");
        assert!(a.session.is_none(), "no Session without a Session");
        let secret = a.secret_code.expect("SecretCode");
        assert_eq!(secret.len(), 52, "32 bytes in Base32: {secret}");
        assert!(
            secret
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c))
        );
        let v = self
            .c
            .verify_software_token()
            .access_token(&access)
            .user_code(totp_at(&secret, self.now()))
            .set_friendly_device_name(friendly.map(str::to_owned))
            .send()
            .await
            .expect("VerifySoftwareToken");
        assert_eq!(v.status, Some(VerifySoftwareTokenResponseType::Success));
        assert!(v.session.is_none());
        (secret, access)
    }

    /// AdminSetUserMFAPreference: enables `factors`, prefers `preferred`.
    async fn admin_prefs(&self, username: &str, factors: &[&str], preferred: Option<&str>) {
        let (sms, totp, email) = prefs(factors, preferred);
        self.c
            .admin_set_user_mfa_preference()
            .user_pool_id(&self.pool)
            .username(username)
            .set_sms_mfa_settings(sms)
            .set_software_token_mfa_settings(totp)
            .set_email_mfa_settings(email)
            .send()
            .await
            .expect("AdminSetUserMFAPreference");
    }

    /// SetUserMFAPreference with an access token.
    async fn user_prefs(&self, access: &str, factors: &[&str], preferred: Option<&str>) {
        let (sms, totp, email) = prefs(factors, preferred);
        self.c
            .set_user_mfa_preference()
            .access_token(access)
            .set_sms_mfa_settings(sms)
            .set_software_token_mfa_settings(totp)
            .set_email_mfa_settings(email)
            .send()
            .await
            .expect("SetUserMFAPreference");
    }

    async fn admin_get_user(&self, username: &str) -> cip::operation::admin_get_user::AdminGetUserOutput {
        self.c
            .admin_get_user()
            .user_pool_id(&self.pool)
            .username(username)
            .send()
            .await
            .expect("AdminGetUser")
    }

    async fn attribute(&self, username: &str, name: &str) -> Option<String> {
        self.admin_get_user(username)
            .await
            .user_attributes()
            .iter()
            .find(|a| a.name() == name)
            .and_then(|a| a.value().map(str::to_owned))
    }
}

type Prefs = (
    Option<SmsMfaSettingsType>,
    Option<SoftwareTokenMfaSettingsType>,
    Option<EmailMfaSettingsType>,
);

fn prefs(factors: &[&str], preferred: Option<&str>) -> Prefs {
    let on = |f: &str| factors.contains(&f);
    let pref = |f: &str| preferred == Some(f);
    (
        on("SMS_MFA").then(|| {
            SmsMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(pref("SMS_MFA"))
                .build()
        }),
        on("SOFTWARE_TOKEN_MFA").then(|| {
            SoftwareTokenMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(pref("SOFTWARE_TOKEN_MFA"))
                .build()
        }),
        on("EMAIL_OTP").then(|| {
            EmailMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(pref("EMAIL_OTP"))
                .build()
        }),
    )
}

async fn new_client(c: &Client, pool: &str) -> String {
    c.create_user_pool_client()
        .user_pool_id(pool)
        .client_name("app")
        .set_explicit_auth_flows(Some(ALL_FLOWS.to_vec()))
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client
        .expect("client")
        .client_id
        .expect("client id")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Password,
    Srp,
    Admin,
}

/// One sign-in step's answer, whatever the operation.
#[derive(Debug)]
struct Out {
    challenge: Option<ChallengeNameType>,
    session: Option<String>,
    params: HashMap<String, String>,
    tokens: Option<AuthenticationResultType>,
}

impl Out {
    fn session(&self) -> &str {
        self.session.as_deref().expect("a Session")
    }
    fn access(&self) -> &str {
        self.tokens
            .as_ref()
            .unwrap_or_else(|| panic!("tokens expected: {self:?}"))
            .access_token()
            .expect("AccessToken")
    }
}

macro_rules! out {
    ($o:expr) => {{
        let o = $o;
        Out {
            challenge: o.challenge_name,
            session: o.session,
            params: o.challenge_parameters.unwrap_or_default(),
            tokens: o.authentication_result,
        }
    }};
}

/// The first step of a sign-in; for SRP, the PASSWORD_VERIFIER answer's result.
async fn start(env: &Env, client: &str, flow: Flow, username: &str, password: &str) -> Result<Out, Fail> {
    let c = &env.c;
    match flow {
        Flow::Password => c
            .initiate_auth()
            .client_id(client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map(|o| out!(o))
            .map_err(service_fail),
        Flow::Admin => c
            .admin_initiate_auth()
            .user_pool_id(&env.pool)
            .client_id(client)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .map(|o| out!(o))
            .map_err(service_fail),
        Flow::Srp => {
            use aws_cognito_srp::{SrpClient, User};
            let srp = SrpClient::<User>::new(User::new(&env.pool, username, password), client, None);
            let a = srp.get_auth_parameters().a;
            let first = c
                .initiate_auth()
                .client_id(client)
                .auth_flow(AuthFlowType::UserSrpAuth)
                .auth_parameters("USERNAME", username)
                .auth_parameters("SRP_A", a)
                .send()
                .await
                .map_err(service_fail)?;
            assert_eq!(first.challenge_name(), Some(&ChallengeNameType::PasswordVerifier));
            let p = first.challenge_parameters().expect("ChallengeParameters");
            let user_id = p["USER_ID_FOR_SRP"].clone();
            let answer = srp
                .verify(&p["SECRET_BLOCK"], &user_id, &p["SALT"], &p["SRP_B"])
                .expect("aws-cognito-srp accepts the challenge");
            // As AWS: no Session; the state travels in SECRET_BLOCK.
            assert_eq!(first.session(), None, "PASSWORD_VERIFIER comes without a Session");
            c.respond_to_auth_challenge()
                .client_id(client)
                .challenge_name(ChallengeNameType::PasswordVerifier)
                .challenge_responses("USERNAME", &user_id)
                .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", answer.password_claim_secret_block)
                .challenge_responses("PASSWORD_CLAIM_SIGNATURE", answer.password_claim_signature)
                .challenge_responses("TIMESTAMP", answer.timestamp)
                .send()
                .await
                .map(|o| out!(o))
                .map_err(service_fail)
        }
    }
}

/// RespondToAuthChallenge from `client`.
async fn respond(
    env: &Env,
    client: &str,
    challenge: ChallengeNameType,
    session: Option<&str>,
    r: &[(&str, &str)],
) -> Result<Out, Fail> {
    let responses: HashMap<String, String> = r.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    env.c
        .respond_to_auth_challenge()
        .client_id(client)
        .challenge_name(challenge)
        .set_session(session.map(str::to_owned))
        .set_challenge_responses((!r.is_empty()).then_some(responses))
        .send()
        .await
        .map(|o| out!(o))
        .map_err(service_fail)
}

/// AdminRespondToAuthChallenge.
async fn admin_respond(
    env: &Env,
    challenge: ChallengeNameType,
    session: &str,
    r: &[(&str, &str)],
) -> Result<Out, Fail> {
    let responses: HashMap<String, String> = r.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    env.c
        .admin_respond_to_auth_challenge()
        .user_pool_id(&env.pool)
        .client_id(&env.client)
        .challenge_name(challenge)
        .session(session)
        .set_challenge_responses(Some(responses))
        .send()
        .await
        .map(|o| out!(o))
        .map_err(service_fail)
}

// ---------------------------------------------------------------------------------------------
// Expectations
// ---------------------------------------------------------------------------------------------

/// What a sign-in should answer after the first factor.
#[derive(Debug, Clone, Copy)]
enum Exp {
    Tokens,
    Sms,
    Totp,
    Email,
    Select(&'static [&'static str]),
    Setup(&'static [&'static str]),
    NoMethod,
}

fn keys(p: &HashMap<String, String>) -> BTreeSet<&str> {
    p.keys().map(String::as_str).collect()
}

fn json_set(s: &str) -> BTreeSet<String> {
    serde_json::from_str::<Vec<String>>(s)
        .unwrap_or_else(|e| panic!("a JSON string array, not {s:?}: {e}"))
        .into_iter()
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Checks a sign-in step against `exp`: the challenge name and its exact parameter keys.
#[track_caller]
fn check(got: &Result<Out, Fail>, exp: Exp, username: &str, ctx: &str) {
    if let Exp::NoMethod = exp {
        let f = got.as_ref().expect_err(ctx);
        assert_fail(f, "MFAMethodNotFoundException", None);
        return;
    }
    let out = got.as_ref().unwrap_or_else(|e| panic!("{ctx}: {e:?}"));
    let want = match exp {
        Exp::Tokens => {
            assert!(out.challenge.is_none(), "{ctx}: {out:?}");
            assert!(out.session.is_none(), "{ctx}: {out:?}");
            assert!(out.params.is_empty(), "{ctx}: {out:?}");
            let t = out.tokens.as_ref().unwrap_or_else(|| panic!("{ctx}: tokens expected"));
            assert!(
                t.access_token.is_some() && t.id_token.is_some() && t.refresh_token.is_some(),
                "{ctx}"
            );
            return;
        }
        Exp::Sms => ChallengeNameType::SmsMfa,
        Exp::Email => ChallengeNameType::EmailOtp,
        Exp::Totp => ChallengeNameType::SoftwareTokenMfa,
        Exp::Select(_) => ChallengeNameType::SelectMfaType,
        Exp::Setup(_) => ChallengeNameType::MfaSetup,
        Exp::NoMethod => unreachable!(),
    };
    assert_eq!(out.challenge.as_ref(), Some(&want), "{ctx}: {out:?}");
    assert!(out.tokens.is_none(), "{ctx}: no tokens with a challenge");
    assert!(out.session().len() >= 20, "{ctx}: a Session of 20+ chars");
    assert_eq!(
        out.params.get("USER_ID_FOR_SRP").map(String::as_str),
        Some(username),
        "{ctx}"
    );
    let p = &out.params;
    match exp {
        Exp::Sms | Exp::Email => {
            assert_eq!(
                keys(p),
                BTreeSet::from([
                    "CODE_DELIVERY_DELIVERY_MEDIUM",
                    "CODE_DELIVERY_DESTINATION",
                    "USER_ID_FOR_SRP"
                ]),
                "{ctx}"
            );
            let medium = if matches!(exp, Exp::Sms) { "SMS" } else { "EMAIL" };
            assert_eq!(p["CODE_DELIVERY_DELIVERY_MEDIUM"], medium, "{ctx}");
        }
        Exp::Totp => {
            assert_eq!(
                keys(p),
                BTreeSet::from(["FRIENDLY_DEVICE_NAME", "USER_ID_FOR_SRP"]),
                "{ctx}"
            );
        }
        Exp::Select(list) => {
            assert_eq!(keys(p), BTreeSet::from(["MFAS_CAN_CHOOSE", "USER_ID_FOR_SRP"]), "{ctx}");
            assert_eq!(json_set(&p["MFAS_CAN_CHOOSE"]), set(list), "{ctx}");
        }
        Exp::Setup(list) => {
            assert_eq!(keys(p), BTreeSet::from(["MFAS_CAN_SETUP", "USER_ID_FOR_SRP"]), "{ctx}");
            assert_eq!(json_set(&p["MFAS_CAN_SETUP"]), set(list), "{ctx}");
        }
        Exp::Tokens | Exp::NoMethod => unreachable!(),
    }
}

const FLOWS: [Flow; 3] = [Flow::Password, Flow::Srp, Flow::Admin];
const ALL: &[&str] = &["SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP"];

// ---------------------------------------------------------------------------------------------
// 1. The matrix
// ---------------------------------------------------------------------------------------------

/// One user state of the matrix.
struct Row {
    name: &'static str,
    phone: bool,
    email: bool,
    /// Registers an authenticator (AccessToken path) first.
    totp: bool,
    /// Enabled factors.
    enable: &'static [&'static str],
    preferred: Option<&'static str>,
    /// Expected after the first factor with the pool OFF, OPTIONAL, ON.
    exp: [Exp; 3],
}

const ROWS: &[Row] = &[
    Row {
        name: "nofactor",
        phone: false,
        email: false,
        totp: false,
        enable: &[],
        preferred: None,
        exp: [
            Exp::Tokens,
            Exp::Tokens,
            Exp::Setup(&["SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP"]),
        ],
    },
    Row {
        name: "smsonly",
        phone: true,
        email: false,
        totp: false,
        enable: &["SMS_MFA"],
        preferred: None,
        exp: [Exp::Tokens, Exp::Sms, Exp::Sms],
    },
    Row {
        name: "totponly",
        phone: false,
        email: false,
        totp: true,
        enable: &["SOFTWARE_TOKEN_MFA"],
        preferred: None,
        exp: [Exp::Tokens, Exp::Totp, Exp::Totp],
    },
    Row {
        name: "emailonly",
        phone: false,
        email: true,
        totp: false,
        enable: &["EMAIL_OTP"],
        preferred: None,
        exp: [Exp::Tokens, Exp::Email, Exp::Email],
    },
    Row {
        name: "prefemail",
        phone: true,
        email: true,
        totp: true,
        enable: ALL,
        preferred: Some("EMAIL_OTP"),
        exp: [Exp::Tokens, Exp::Email, Exp::Email],
    },
    Row {
        name: "prefsms",
        phone: true,
        email: true,
        totp: true,
        enable: ALL,
        preferred: Some("SMS_MFA"),
        exp: [Exp::Tokens, Exp::Sms, Exp::Sms],
    },
    Row {
        name: "preftotp",
        phone: true,
        email: true,
        totp: true,
        enable: ALL,
        preferred: Some("SOFTWARE_TOKEN_MFA"),
        exp: [Exp::Tokens, Exp::Totp, Exp::Totp],
    },
    Row {
        name: "several",
        phone: true,
        email: true,
        totp: true,
        enable: ALL,
        preferred: None,
        exp: [Exp::Tokens, Exp::Select(ALL), Exp::Select(ALL)],
    },
    Row {
        name: "smsemail",
        phone: true,
        email: true,
        totp: false,
        enable: &["SMS_MFA", "EMAIL_OTP"],
        preferred: None,
        exp: [
            Exp::Tokens,
            Exp::Select(&["SMS_MFA", "EMAIL_OTP"]),
            Exp::Select(&["SMS_MFA", "EMAIL_OTP"]),
        ],
    },
    Row {
        // ON pools challenge a phone number by SMS even when SMS MFA was never enabled.
        name: "phonenotenabled",
        phone: true,
        email: false,
        totp: false,
        enable: &[],
        preferred: None,
        exp: [Exp::Tokens, Exp::Tokens, Exp::Sms],
    },
    Row {
        // A registered authenticator prompts even before it is enabled (reference §4.4).
        name: "totpnotenabled",
        phone: false,
        email: false,
        totp: true,
        enable: &[],
        preferred: None,
        exp: [Exp::Tokens, Exp::Totp, Exp::Totp],
    },
];

#[tokio::test]
async fn matrix_of_pool_modes_user_states_and_flows() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    for row in ROWS {
        let mut attrs = Vec::new();
        let phone = "+15555550100";
        let email = format!("{}@example.com", row.name);
        if row.phone {
            attrs.push(("phone_number", phone));
        }
        if row.email {
            attrs.push(("email", email.as_str()));
        }
        env.user(row.name, &attrs).await;
        if row.totp {
            // Signed in without MFA (nothing enabled yet) in the OPTIONAL pool.
            let (_, access) = env.register_totp(row.name, None).await;
            // Then enabled through the user's own SetUserMFAPreference.
            if !row.enable.is_empty() {
                env.user_prefs(&access, row.enable, row.preferred).await;
            }
        } else if !row.enable.is_empty() {
            env.admin_prefs(row.name, row.enable, row.preferred).await;
        }
        let u = env.admin_get_user(row.name).await;
        let mut want_list: Vec<String> = row.enable.iter().map(|s| s.to_string()).collect();
        want_list.sort();
        let mut got_list = u.user_mfa_setting_list.clone().unwrap_or_default();
        got_list.sort();
        assert_eq!(got_list, want_list, "{}: UserMFASettingList", row.name);
        assert_eq!(u.preferred_mfa_setting.as_deref(), row.preferred, "{}", row.name);
    }
    let modes = [UserPoolMfaType::Off, UserPoolMfaType::Optional, UserPoolMfaType::On];
    for (i, mode) in modes.iter().enumerate() {
        env.set_mode(mode.clone()).await;
        for row in ROWS {
            for flow in FLOWS {
                let got = env.start(flow, row.name).await;
                check(
                    &got,
                    row.exp[i],
                    row.name,
                    &format!("{mode:?} / {} / {flow:?}", row.name),
                );
            }
        }
    }
}

#[tokio::test]
async fn on_pool_skips_the_recovery_channel_and_reports_no_method() {
    // Email is the first recovery channel: not an MFA channel and not offered at MFA_SETUP.
    let env = Env::with_recovery(
        UserPoolMfaType::On,
        &[
            RecoveryOptionNameType::VerifiedEmail,
            RecoveryOptionNameType::VerifiedPhoneNumber,
        ],
    )
    .await;
    env.user("mailer", &[("email", "mailer@example.com")]).await;
    env.user(
        "both",
        &[("email", "both@example.com"), ("phone_number", "+15555550101")],
    )
    .await;
    for flow in FLOWS {
        check(
            &env.start(flow, "mailer").await,
            Exp::Setup(&["SMS_MFA", "SOFTWARE_TOKEN_MFA"]),
            "mailer",
            &format!("{flow:?}"),
        );
        check(&env.start(flow, "both").await, Exp::Sms, "both", &format!("{flow:?}"));
    }
}

#[tokio::test]
async fn on_pool_with_sms_only_offers_sms_setup_to_a_user_without_a_phone() {
    // ON with SMS only, and a user without a phone: AWS lists SMS_MFA in MFAS_CAN_SETUP, although
    // a phone number cannot be set up inside the challenge.
    let env = Env::sms_only(UserPoolMfaType::On).await;
    env.user("nophone", &[]).await;
    env.user("phone", &[("phone_number", "+15555550102")]).await;
    for flow in FLOWS {
        check(
            &env.start(flow, "nophone").await,
            Exp::Setup(&["SMS_MFA"]),
            "nophone",
            &format!("{flow:?}"),
        );
        check(&env.start(flow, "phone").await, Exp::Sms, "phone", &format!("{flow:?}"));
    }
    // SMS only, and SMS is the pool's recovery channel: nothing to challenge, nothing to set up.
    let env = Env::build(
        UserPoolMfaType::On,
        &[RecoveryOptionNameType::VerifiedPhoneNumber],
        true,
    )
    .await;
    env.user("nothing", &[]).await;
    for flow in FLOWS {
        check(
            &env.start(flow, "nothing").await,
            Exp::NoMethod,
            "nothing",
            &format!("{flow:?}"),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Complete sign-ins
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn sms_mfa_sign_in_with_the_outbox_code_verifies_the_phone() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user(
        "sam",
        &[("phone_number", "+15555550123"), ("phone_number_verified", "false")],
    )
    .await;
    env.admin_prefs("sam", &["SMS_MFA"], None).await;
    let u = env.admin_get_user("sam").await;
    assert_eq!(u.user_mfa_setting_list, Some(vec!["SMS_MFA".to_owned()]));
    assert_eq!(u.preferred_mfa_setting, None, "nothing preferred: left out");
    assert_eq!(
        u.mfa_options,
        Some(vec![
            MfaOptionType::builder()
                .delivery_medium(DeliveryMediumType::Sms)
                .attribute_name("phone_number")
                .build()
        ])
    );

    let ch = env.start(Flow::Password, "sam").await;
    check(&ch, Exp::Sms, "sam", "SMS");
    let ch = ch.unwrap();
    assert_eq!(ch.params["CODE_DELIVERY_DESTINATION"], "+*******0123");
    let messages = outbox::messages(&env.server.url, &env.pool, "sam").await;
    assert_eq!(messages[0]["destination"], "+15555550123");
    let body = messages[0]["body"].as_str().expect("body");
    let code = code_in(body, 6);
    assert_eq!(body, format!("Your authentication code is {code}."));
    assert!(
        ch.params.values().all(|v| !v.contains(&code)) && !ch.session().contains(&code),
        "the code never travels in the response"
    );
    let done = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "sam"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "sam", "SMS answer");
    assert_eq!(
        env.attribute("sam", "phone_number_verified").await.as_deref(),
        Some("true")
    );

    // AdminInitiateAuth answered with AdminRespondToAuthChallenge, SRP answered with the public one.
    let ch = env.start(Flow::Admin, "sam").await.unwrap();
    let code = env.code("sam", "SMS").await;
    let done = admin_respond(
        &env,
        ChallengeNameType::SmsMfa,
        ch.session(),
        &[("USERNAME", "sam"), ("SMS_MFA_CODE", &code)],
    )
    .await;
    check(&done, Exp::Tokens, "sam", "admin SMS answer");
    let ch = env.start(Flow::Srp, "sam").await;
    check(&ch, Exp::Sms, "sam", "SRP then SMS");
    let ch = ch.unwrap();
    let code = env.code("sam", "SMS").await;
    let done = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "sam"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "sam", "SRP SMS answer");
}

#[tokio::test]
async fn email_mfa_sign_in_with_the_outbox_code_verifies_the_email() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("erin", &[("email", "erin@example.com"), ("email_verified", "false")])
        .await;
    env.admin_prefs("erin", &["EMAIL_OTP"], Some("EMAIL_OTP")).await;
    let ch = env.start(Flow::Password, "erin").await;
    check(&ch, Exp::Email, "erin", "email");
    let ch = ch.unwrap();
    assert_eq!(ch.params["CODE_DELIVERY_DESTINATION"], "e***@e***");
    let messages = outbox::messages(&env.server.url, &env.pool, "erin").await;
    let m = &messages[0];
    assert_eq!(
        (m["channel"].as_str(), m["destination"].as_str()),
        (Some("EMAIL"), Some("erin@example.com"))
    );
    assert_eq!(m["subject"], "Your verification code");
    let body = m["body"].as_str().expect("body");
    let code = code_in(body, 8);
    assert_eq!(body, format!("Your verification code is {code}."));
    let done = env
        .respond(
            ChallengeNameType::EmailOtp,
            Some(ch.session()),
            &[("USERNAME", "erin"), ("EMAIL_OTP_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "erin", "email answer");
    assert_eq!(env.attribute("erin", "email_verified").await.as_deref(), Some("true"));

    let access = done.unwrap().access().to_owned();
    let me = env.c.get_user().access_token(&access).send().await.expect("GetUser");
    assert_eq!(me.user_mfa_setting_list, Some(vec!["EMAIL_OTP".to_owned()]));
    assert_eq!(me.preferred_mfa_setting.as_deref(), Some("EMAIL_OTP"));
    assert!(
        me.mfa_options.is_none(),
        "MFAOptions describes SMS only: {:?}",
        me.mfa_options
    );
}

#[tokio::test]
async fn totp_sign_in_user_views_and_admin_delete() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("tina", &[]).await;
    let (secret, access) = env.register_totp("tina", Some("My Phone")).await;
    // Registered, not yet enabled: GetUser lists nothing, the auth factors list the authenticator.
    let me = env.c.get_user().access_token(&access).send().await.expect("GetUser");
    assert_eq!(me.user_mfa_setting_list, None);
    let f = env
        .c
        .get_user_auth_factors()
        .access_token(&access)
        .send()
        .await
        .expect("GetUserAuthFactors");
    assert!(
        f.configured_user_auth_factors()
            .contains(&AuthFactorType::SoftwareToken),
        "{f:?}"
    );
    assert!(
        f.configured_user_auth_factors().contains(&AuthFactorType::Password),
        "{f:?}"
    );
    env.user_prefs(&access, &["SOFTWARE_TOKEN_MFA"], Some("SOFTWARE_TOKEN_MFA"))
        .await;

    env.advance(30);
    let ch = env.start(Flow::Password, "tina").await;
    check(&ch, Exp::Totp, "tina", "TOTP");
    let ch = ch.unwrap();
    assert_eq!(ch.params["FRIENDLY_DEVICE_NAME"], "My Phone");
    let code = totp_at(&secret, env.now());
    let done = env
        .respond(
            ChallengeNameType::SoftwareTokenMfa,
            Some(ch.session()),
            &[("USERNAME", "tina"), ("SOFTWARE_TOKEN_MFA_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "tina", "TOTP answer");
    let access = done.unwrap().access().to_owned();
    let me = env.c.get_user().access_token(&access).send().await.expect("GetUser");
    assert_eq!(me.user_mfa_setting_list, Some(vec!["SOFTWARE_TOKEN_MFA".to_owned()]));
    assert_eq!(me.preferred_mfa_setting.as_deref(), Some("SOFTWARE_TOKEN_MFA"));
    assert!(me.mfa_options.is_none());
    let f = env
        .c
        .admin_get_user_auth_factors()
        .user_pool_id(&env.pool)
        .username("tina")
        .send()
        .await
        .expect("AdminGetUserAuthFactors");
    assert_eq!(f.preferred_mfa_setting(), Some("SOFTWARE_TOKEN_MFA"));
    assert_eq!(f.user_mfa_setting_list(), ["SOFTWARE_TOKEN_MFA".to_owned()]);

    // The admin removes the authenticator: OPTIONAL with nothing left signs in without MFA.
    env.c
        .admin_delete_software_token()
        .user_pool_id(&env.pool)
        .username("tina")
        .send()
        .await
        .expect("AdminDeleteSoftwareToken");
    let u = env.admin_get_user("tina").await;
    assert_eq!(u.user_mfa_setting_list, None);
    assert_eq!(u.preferred_mfa_setting, None);
    check(
        &env.start(Flow::Password, "tina").await,
        Exp::Tokens,
        "tina",
        "after delete",
    );
    let again = service_err(
        env.c
            .admin_delete_software_token()
            .user_pool_id(&env.pool)
            .username("tina")
            .send()
            .await,
    );
    assert_fail(&again, "SoftwareTokenMFANotFoundException", None);
}

#[tokio::test]
async fn select_mfa_type_then_each_factor() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("sel", &[("phone_number", "+15555550124"), ("email", "sel@example.com")])
        .await;
    let (secret, access) = env.register_totp("sel", None).await;
    env.user_prefs(&access, ALL, None).await;
    env.advance(30);

    // SMS through USER_PASSWORD_AUTH.
    let sel = env.start(Flow::Password, "sel").await;
    check(&sel, Exp::Select(ALL), "sel", "select");
    let sel = sel.unwrap();
    let ch = env
        .respond(
            ChallengeNameType::SelectMfaType,
            Some(sel.session()),
            &[("USERNAME", "sel"), ("ANSWER", "SMS_MFA")],
        )
        .await;
    check(&ch, Exp::Sms, "sel", "chose SMS");
    let ch = ch.unwrap();
    assert_ne!(ch.session(), sel.session(), "a new Session with the chosen challenge");
    let code = env.code("sel", "SMS").await;
    let done = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "sel"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "sel", "SMS code");
    // The SELECT_MFA_TYPE session was consumed by the choice.
    let reused = env
        .respond(
            ChallengeNameType::SelectMfaType,
            Some(sel.session()),
            &[("USERNAME", "sel"), ("ANSWER", "SMS_MFA")],
        )
        .await;
    assert_fail(&reused.unwrap_err(), "NotAuthorizedException", Some(USED_SESSION));

    // Email through USER_SRP_AUTH.
    let sel = env.start(Flow::Srp, "sel").await;
    check(&sel, Exp::Select(ALL), "sel", "SRP select");
    let sel = sel.unwrap();
    let ch = env
        .respond(
            ChallengeNameType::SelectMfaType,
            Some(sel.session()),
            &[("USERNAME", "sel"), ("ANSWER", "EMAIL_OTP")],
        )
        .await;
    check(&ch, Exp::Email, "sel", "chose email");
    let code = env.code("sel", "EMAIL").await;
    let done = env
        .respond(
            ChallengeNameType::EmailOtp,
            Some(ch.unwrap().session()),
            &[("USERNAME", "sel"), ("EMAIL_OTP_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "sel", "email code");

    // TOTP through ADMIN_USER_PASSWORD_AUTH and the admin answers.
    let sel = env.start(Flow::Admin, "sel").await;
    check(&sel, Exp::Select(ALL), "sel", "admin select");
    let ch = admin_respond(
        &env,
        ChallengeNameType::SelectMfaType,
        sel.unwrap().session(),
        &[("USERNAME", "sel"), ("ANSWER", "SOFTWARE_TOKEN_MFA")],
    )
    .await;
    check(&ch, Exp::Totp, "sel", "chose TOTP");
    let ch = ch.unwrap();
    assert_eq!(
        ch.params["FRIENDLY_DEVICE_NAME"], "Unknown",
        "no FriendlyDeviceName was given"
    );
    let code = totp_at(&secret, env.now());
    let done = admin_respond(
        &env,
        ChallengeNameType::SoftwareTokenMfa,
        ch.session(),
        &[("USERNAME", "sel"), ("SOFTWARE_TOKEN_MFA_CODE", &code)],
    )
    .await;
    check(&done, Exp::Tokens, "sel", "TOTP code");
}

/// MFA_SETUP through TOTP: (Associate → Verify → answer), the answer's Session given either way.
async fn setup_totp(env: &Env, username: &str, session_in_responses: bool) {
    let ch = env.start(Flow::Password, username).await;
    check(
        &ch,
        Exp::Setup(&["SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP"]),
        username,
        "setup",
    );
    let ch = ch.unwrap();
    let a = env
        .c
        .associate_software_token()
        .session(ch.session())
        .send()
        .await
        .expect("AssociateSoftwareToken(Session)");
    let secret = a.secret_code.expect("SecretCode");
    let s1 = a.session.expect("a Session when a Session was sent");
    let v = env
        .c
        .verify_software_token()
        .session(&s1)
        .user_code(totp_at(&secret, env.now()))
        .send()
        .await
        .expect("VerifySoftwareToken(Session)");
    assert_eq!(v.status, Some(VerifySoftwareTokenResponseType::Success));
    let s2 = v.session.expect("the Session for MFA_SETUP");
    let done = if session_in_responses {
        env.respond(
            ChallengeNameType::MfaSetup,
            None,
            &[("USERNAME", username), ("SESSION", &s2)],
        )
        .await
    } else {
        env.respond(ChallengeNameType::MfaSetup, Some(&s2), &[("USERNAME", username)])
            .await
    };
    check(&done, Exp::Tokens, username, "MFA_SETUP answer");
    // Enabled, not preferred (docs/compatibility.md).
    let u = env.admin_get_user(username).await;
    assert_eq!(
        u.user_mfa_setting_list,
        Some(vec!["SOFTWARE_TOKEN_MFA".to_owned()]),
        "{username}"
    );
    assert_eq!(u.preferred_mfa_setting, None, "{username}");
    // The next sign-in asks for the authenticator (a later step: the setup step is used).
    env.advance(30);
    let ch = env.start(Flow::Password, username).await;
    check(&ch, Exp::Totp, username, "after setup");
    let ch = ch.unwrap();
    assert_eq!(ch.params["FRIENDLY_DEVICE_NAME"], "Unknown");
    let done = env
        .respond(
            ChallengeNameType::SoftwareTokenMfa,
            Some(ch.session()),
            &[
                ("USERNAME", username),
                ("SOFTWARE_TOKEN_MFA_CODE", &totp_at(&secret, env.now())),
            ],
        )
        .await;
    check(&done, Exp::Tokens, username, "TOTP after setup");
}

#[tokio::test]
async fn mfa_setup_for_totp_with_either_session_form() {
    let env = Env::new(UserPoolMfaType::On).await;
    env.user("top", &[]).await;
    env.user("inner", &[]).await;
    setup_totp(&env, "top", false).await;
    setup_totp(&env, "inner", true).await;
}

#[tokio::test]
async fn mfa_setup_session_steps_are_enforced() {
    let env = Env::new(UserPoolMfaType::On).await;
    env.user("steps", &[]).await;
    let ch = env.start(Flow::Password, "steps").await.unwrap();
    // Answering before any authenticator was verified is refused, and the session stays usable.
    let early = env
        .respond(
            ChallengeNameType::MfaSetup,
            Some(ch.session()),
            &[("USERNAME", "steps")],
        )
        .await;
    assert_fail(&early.unwrap_err(), "InvalidParameterException", None);
    let a = env
        .c
        .associate_software_token()
        .session(ch.session())
        .send()
        .await
        .expect("Associate");
    let (secret, s1) = (a.secret_code.unwrap(), a.session.unwrap());
    // The MFA_SETUP session was consumed by AssociateSoftwareToken.
    let reused = service_err(env.c.associate_software_token().session(ch.session()).send().await);
    assert_fail(&reused, "NotAuthorizedException", Some(USED_SESSION));
    // A wrong code: EnableSoftwareTokenMFAException, and the same Session may try again.
    let wrong = wrong_totp(&secret, env.now());
    let bad = service_err(env.c.verify_software_token().session(&s1).user_code(wrong).send().await);
    assert_fail(
        &bad,
        "EnableSoftwareTokenMFAException",
        Some("Code mismatch and fail enable Software Token MFA"),
    );
    let v = env
        .c
        .verify_software_token()
        .session(&s1)
        .user_code(totp_at(&secret, env.now()))
        .friendly_device_name("Laptop")
        .send()
        .await
        .expect("VerifySoftwareToken after a wrong code");
    let s2 = v.session.unwrap();
    // The Session of the verify step answers MFA_SETUP once.
    check(
        &env.respond(ChallengeNameType::MfaSetup, Some(&s2), &[("USERNAME", "steps")])
            .await,
        Exp::Tokens,
        "steps",
        "setup",
    );
    let again = env
        .respond(ChallengeNameType::MfaSetup, Some(&s2), &[("USERNAME", "steps")])
        .await;
    assert_fail(&again.unwrap_err(), "NotAuthorizedException", Some(USED_SESSION));
    env.advance(30);
    let ch = env.start(Flow::Admin, "steps").await;
    check(&ch, Exp::Totp, "steps", "after setup");
    assert_eq!(ch.unwrap().params["FRIENDLY_DEVICE_NAME"], "Laptop");
}

#[tokio::test]
async fn mfa_setup_for_email() {
    let env = Env::new(UserPoolMfaType::On).await;
    env.user("newmail", &[]).await;
    env.user("lower", &[]).await;
    for (username, key) in [("newmail", "EMAIL"), ("lower", "email")] {
        let address = format!("{username}@example.com");
        let ch = env.start(Flow::Password, username).await;
        check(
            &ch,
            Exp::Setup(&["SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP"]),
            username,
            "setup",
        );
        let ch = env
            .respond(
                ChallengeNameType::MfaSetup,
                Some(ch.unwrap().session()),
                &[("USERNAME", username), (key, &address)],
            )
            .await;
        check(&ch, Exp::Email, username, "setup by email");
        let code = env.code(username, "EMAIL").await;
        let messages = outbox::messages(&env.server.url, &env.pool, username).await;
        assert_eq!(messages[0]["destination"].as_str(), Some(address.as_str()));
        let done = env
            .respond(
                ChallengeNameType::EmailOtp,
                Some(ch.unwrap().session()),
                &[("USERNAME", username), ("EMAIL_OTP_CODE", &code)],
            )
            .await;
        check(&done, Exp::Tokens, username, "email code");
        let u = env.admin_get_user(username).await;
        assert_eq!(
            u.user_mfa_setting_list,
            Some(vec!["EMAIL_OTP".to_owned()]),
            "{username}"
        );
        assert_eq!(
            env.attribute(username, "email").await.as_deref(),
            Some(address.as_str())
        );
        assert_eq!(env.attribute(username, "email_verified").await.as_deref(), Some("true"));
        check(
            &env.start(Flow::Srp, username).await,
            Exp::Email,
            username,
            "next sign-in",
        );
    }
}

#[tokio::test]
async fn new_password_required_then_the_mfa_challenge() {
    let env = Env::new(UserPoolMfaType::On).await;
    env.c
        .admin_create_user()
        .user_pool_id(&env.pool)
        .username("invited")
        .temporary_password("Temp-Passw0rd!")
        .user_attributes(attr("phone_number", "+15555550125"))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser");
    let ch = start(&env, &env.client, Flow::Password, "invited", "Temp-Passw0rd!")
        .await
        .unwrap();
    assert_eq!(ch.challenge, Some(ChallengeNameType::NewPasswordRequired));
    let sms = env
        .respond(
            ChallengeNameType::NewPasswordRequired,
            Some(ch.session()),
            &[("USERNAME", "invited"), ("NEW_PASSWORD", PASSWORD)],
        )
        .await;
    check(&sms, Exp::Sms, "invited", "after NEW_PASSWORD_REQUIRED");
    let code = env.code("invited", "SMS").await;
    let done = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(sms.unwrap().session()),
            &[("USERNAME", "invited"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "invited", "SMS code");
}

#[tokio::test]
async fn mfa_preference_and_settings_rules() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("plain", &[]).await;
    let access = env.access_token("plain").await;
    let set = |sms: Option<SmsMfaSettingsType>,
               totp: Option<SoftwareTokenMfaSettingsType>,
               email: Option<EmailMfaSettingsType>| {
        env.c
            .set_user_mfa_preference()
            .access_token(&access)
            .set_sms_mfa_settings(sms)
            .set_software_token_mfa_settings(totp)
            .set_email_mfa_settings(email)
            .send()
    };
    let (sms, totp, email) = prefs(ALL, None);
    for (what, r) in [
        ("SOFTWARE_TOKEN_MFA", set(None, totp.clone(), None).await),
        ("SMS_MFA", set(sms.clone(), None, None).await),
        ("EMAIL_OTP", set(None, None, email.clone()).await),
    ] {
        assert_fail(
            &service_err(r),
            "InvalidParameterException",
            Some(&format!("User does not have delivery config set to turn on {what}")),
        );
    }
    // The admin form applies the same rules.
    let f = service_err(
        env.c
            .admin_set_user_mfa_preference()
            .user_pool_id(&env.pool)
            .username("plain")
            .set_software_token_mfa_settings(totp.clone())
            .send()
            .await,
    );
    assert_fail(
        &f,
        "InvalidParameterException",
        Some("User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA"),
    );
    // Associated but not verified is not enough.
    let pending = env
        .c
        .associate_software_token()
        .access_token(&access)
        .send()
        .await
        .expect("Associate")
        .secret_code
        .expect("SecretCode");
    assert_fail(
        &service_err(set(None, totp.clone(), None).await),
        "InvalidParameterException",
        Some("User does not have delivery config set to turn on SOFTWARE_TOKEN_MFA"),
    );
    // A wrong code at VerifySoftwareToken (the right one of two steps ago is outside the window).
    let f = service_err(
        env.c
            .verify_software_token()
            .access_token(&access)
            .user_code(wrong_totp(&pending, env.now()))
            .send()
            .await,
    );
    assert_fail(
        &f,
        "EnableSoftwareTokenMFAException",
        Some("Code mismatch and fail enable Software Token MFA"),
    );

    // Two preferred factors at once.
    env.user("two", &[("phone_number", "+15555550126"), ("email", "two@example.com")])
        .await;
    let f = service_err(
        env.c
            .admin_set_user_mfa_preference()
            .user_pool_id(&env.pool)
            .username("two")
            .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).preferred_mfa(true).build())
            .email_mfa_settings(
                EmailMfaSettingsType::builder()
                    .enabled(true)
                    .preferred_mfa(true)
                    .build(),
            )
            .send()
            .await,
    );
    assert_fail(&f, "InvalidParameterException", None);

    // Legacy SetUserSettings: SMS only, shows in MFAOptions and UserMFASettingList.
    let two = env.access_token("two").await;
    let email_option = MfaOptionType::builder()
        .delivery_medium(DeliveryMediumType::Email)
        .attribute_name("email")
        .build();
    let f = service_err(
        env.c
            .set_user_settings()
            .access_token(&two)
            .mfa_options(email_option)
            .send()
            .await,
    );
    assert_fail(
        &f,
        "InvalidParameterException",
        Some("Only phone_number attribute is currently supported as a MFA option."),
    );
    let sms_option = MfaOptionType::builder()
        .delivery_medium(DeliveryMediumType::Sms)
        .attribute_name("phone_number")
        .build();
    env.c
        .set_user_settings()
        .access_token(&two)
        .mfa_options(sms_option.clone())
        .send()
        .await
        .expect("SetUserSettings");
    let me = env.c.get_user().access_token(&two).send().await.expect("GetUser");
    assert_eq!(me.mfa_options, Some(vec![sms_option.clone()]));
    assert_eq!(me.user_mfa_setting_list, Some(vec!["SMS_MFA".to_owned()]));
    check(
        &env.start(Flow::Password, "two").await,
        Exp::Sms,
        "two",
        "SMS through MFAOptions",
    );
    env.c
        .admin_set_user_settings()
        .user_pool_id(&env.pool)
        .username("two")
        .set_mfa_options(Some(vec![]))
        .send()
        .await
        .expect("AdminSetUserSettings []");
    let u = env.admin_get_user("two").await;
    assert!(u.mfa_options.is_none() && u.user_mfa_setting_list.is_none(), "{u:?}");
    check(
        &env.start(Flow::Password, "two").await,
        Exp::Tokens,
        "two",
        "SMS off again",
    );
    let f = service_err(
        env.c
            .admin_set_user_settings()
            .user_pool_id(&env.pool)
            .username("plain")
            .mfa_options(sms_option)
            .send()
            .await,
    );
    assert_fail(
        &f,
        "InvalidParameterException",
        Some("User does not have delivery config set to turn on SMS_MFA"),
    );

    // ON: a factor cannot be switched off, only the preference moves.
    env.admin_prefs("two", &["SMS_MFA", "EMAIL_OTP"], None).await;
    env.set_mode(UserPoolMfaType::On).await;
    let f = service_err(
        env.c
            .admin_set_user_mfa_preference()
            .user_pool_id(&env.pool)
            .username("two")
            .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(false).build())
            .send()
            .await,
    );
    assert_fail(&f, "InvalidParameterException", None);
    env.admin_prefs("two", &["SMS_MFA", "EMAIL_OTP"], Some("EMAIL_OTP"))
        .await;
    check(
        &env.start(Flow::Admin, "two").await,
        Exp::Email,
        "two",
        "preferred email",
    );

    // A pool without TOTP: AssociateSoftwareToken is refused.
    env.set_mode(UserPoolMfaType::Off).await;
    let f = service_err(env.c.associate_software_token().access_token(&access).send().await);
    assert_fail(
        &f,
        "SoftwareTokenMFANotFoundException",
        Some("Software Token MFA has not been enabled by the userPool."),
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Security
// ---------------------------------------------------------------------------------------------

/// A user with an enabled, preferred authenticator, signed in at a later step than registration.
async fn totp_user(env: &Env, username: &str) -> String {
    env.user(username, &[]).await;
    let (secret, access) = env.register_totp(username, None).await;
    env.user_prefs(&access, &["SOFTWARE_TOKEN_MFA"], Some("SOFTWARE_TOKEN_MFA"))
        .await;
    env.advance(30);
    secret
}

async fn answer_totp(env: &Env, username: &str, code: &str) -> Result<Out, Fail> {
    let ch = env.start(Flow::Password, username).await;
    check(&ch, Exp::Totp, username, "TOTP challenge");
    env.respond(
        ChallengeNameType::SoftwareTokenMfa,
        Some(ch.unwrap().session()),
        &[("USERNAME", username), ("SOFTWARE_TOKEN_MFA_CODE", code)],
    )
    .await
}

#[tokio::test]
async fn a_totp_code_is_accepted_once_and_old_steps_are_refused() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    let secret = totp_user(&env, "replay").await;
    let now = env.now();
    let code = totp_at(&secret, now);
    check(
        &answer_totp(&env, "replay", &code).await,
        Exp::Tokens,
        "replay",
        "first use",
    );
    // The same code, the same step: refused, with AWS's answer.
    let again = answer_totp(&env, "replay", &code).await;
    assert_fail(&again.unwrap_err(), "ExpiredCodeException", Some(TOTP_REUSED));
    // The previous step's code is inside the ±1 window but older than the used step: refused.
    let previous = answer_totp(&env, "replay", &totp_at(&secret, now - 30)).await;
    assert_fail(&previous.unwrap_err(), "ExpiredCodeException", Some(TOTP_REUSED));
    // Two steps later, the code of two steps ago (outside the window) is refused, the current works.
    env.advance(60);
    let now = env.now();
    let stale = answer_totp(&env, "replay", &totp_at(&secret, now - 60)).await;
    assert_fail(&stale.unwrap_err(), "CodeMismatchException", Some(CODE_MISMATCH));
    check(
        &answer_totp(&env, "replay", &totp_at(&secret, now)).await,
        Exp::Tokens,
        "replay",
        "current step",
    );

    // A fresh user: a code from 2 steps ago is refused although never used; 1 step of skew is fine.
    let secret = totp_user(&env, "skew").await;
    env.advance(30);
    let now = env.now();
    let old = answer_totp(&env, "skew", &totp_at(&secret, now - 60)).await;
    assert_fail(&old.unwrap_err(), "CodeMismatchException", Some(CODE_MISMATCH));
    let ahead = answer_totp(&env, "skew", &totp_at(&secret, now + 60)).await;
    assert_fail(&ahead.unwrap_err(), "CodeMismatchException", Some(CODE_MISMATCH));
    check(
        &answer_totp(&env, "skew", &totp_at(&secret, now - 30)).await,
        Exp::Tokens,
        "skew",
        "one step behind",
    );
}

#[tokio::test]
async fn an_sms_code_is_refused_once_the_session_expired() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("late", &[("phone_number", "+15555550127")]).await;
    env.admin_prefs("late", &["SMS_MFA"], None).await;
    let ch = env.start(Flow::Password, "late").await.unwrap();
    let code = env.code("late", "SMS").await;
    env.advance(181);
    let f = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "late"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    assert_fail(&f.unwrap_err(), "NotAuthorizedException", Some(EXPIRED_SESSION));
    // Just inside the 3 minutes, the code works.
    let ch = env.start(Flow::Password, "late").await.unwrap();
    let code = env.code("late", "SMS").await;
    env.advance(179);
    let done = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "late"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "late", "within the session's life");
}

#[tokio::test]
async fn a_session_is_refused_on_reuse_and_from_another_client() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("once", &[("phone_number", "+15555550128")]).await;
    env.admin_prefs("once", &["SMS_MFA"], None).await;
    let other_client = new_client(&env.c, &env.pool).await;

    let ch = env.start(Flow::Password, "once").await.unwrap();
    let code = env.code("once", "SMS").await;
    let r = [("USERNAME", "once"), ("SMS_MFA_CODE", code.as_str())];
    // Another client of the same pool cannot use the session, even with the right code.
    let moved = respond(&env, &other_client, ChallengeNameType::SmsMfa, Some(ch.session()), &r).await;
    assert_fail(&moved.unwrap_err(), "NotAuthorizedException", Some(INVALID_SESSION));
    check(
        &env.respond(ChallengeNameType::SmsMfa, Some(ch.session()), &r).await,
        Exp::Tokens,
        "once",
        "right client",
    );
    let reused = env.respond(ChallengeNameType::SmsMfa, Some(ch.session()), &r).await;
    assert_fail(&reused.unwrap_err(), "NotAuthorizedException", Some(USED_SESSION));
    let admin_reused = admin_respond(&env, ChallengeNameType::SmsMfa, ch.session(), &r).await;
    assert_fail(&admin_reused.unwrap_err(), "NotAuthorizedException", Some(USED_SESSION));

    // A made-up session, and a missing one.
    let forged = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some("AYABeForgedSessionForgedSessionForged"),
            &r,
        )
        .await;
    assert_fail(&forged.unwrap_err(), "NotAuthorizedException", Some(INVALID_SESSION));
    let missing = env.respond(ChallengeNameType::SmsMfa, None, &r).await;
    assert_fail(
        &missing.unwrap_err(),
        "InvalidParameterException",
        Some("Missing required parameter Session"),
    );
}

#[tokio::test]
async fn five_wrong_codes_start_the_lockout() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("lock", &[("phone_number", "+15555550129")]).await;
    env.admin_prefs("lock", &["SMS_MFA"], None).await;
    let ch = env.start(Flow::Password, "lock").await.unwrap();
    let code = env.code("lock", "SMS").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let f = env
            .respond(
                ChallengeNameType::SmsMfa,
                Some(ch.session()),
                &[("USERNAME", "lock"), ("SMS_MFA_CODE", wrong)],
            )
            .await;
        assert_fail(&f.unwrap_err(), "CodeMismatchException", Some(CODE_MISMATCH));
    }
    // Locked: even the right code, and the password, are refused.
    let f = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "lock"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    assert_fail(&f.unwrap_err(), "NotAuthorizedException", Some(LOCKED));
    let f = env.start(Flow::Password, "lock").await;
    assert_fail(&f.unwrap_err(), "NotAuthorizedException", Some(LOCKED));
    // After the first lockout (1 s), the right code on the same session completes the sign-in.
    env.advance(2);
    let done = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "lock"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "lock", "after the lockout");

    // TOTP failures count the same way.
    let secret = totp_user(&env, "locktotp").await;
    let ch = env.start(Flow::Password, "locktotp").await.unwrap();
    let right = totp_at(&secret, env.now());
    let wrong = wrong_totp(&secret, env.now());
    for _ in 0..5 {
        let f = env
            .respond(
                ChallengeNameType::SoftwareTokenMfa,
                Some(ch.session()),
                &[("USERNAME", "locktotp"), ("SOFTWARE_TOKEN_MFA_CODE", &wrong)],
            )
            .await;
        assert_fail(&f.unwrap_err(), "CodeMismatchException", Some(CODE_MISMATCH));
    }
    let f = env
        .respond(
            ChallengeNameType::SoftwareTokenMfa,
            Some(ch.session()),
            &[("USERNAME", "locktotp"), ("SOFTWARE_TOKEN_MFA_CODE", &right)],
        )
        .await;
    assert_fail(&f.unwrap_err(), "NotAuthorizedException", Some(LOCKED));
}

#[tokio::test]
async fn wrong_codes_then_the_right_one_on_the_same_session() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user(
        "retry",
        &[("phone_number", "+15555550130"), ("email", "retry@example.com")],
    )
    .await;
    let secret = {
        let (secret, access) = env.register_totp("retry", None).await;
        env.user_prefs(&access, ALL, Some("SMS_MFA")).await;
        secret
    };
    env.advance(30);
    // SMS: every wrong code gets one and the same error, then the right one works.
    let ch = env.start(Flow::Password, "retry").await.unwrap();
    let code = env.code("retry", "SMS").await;
    let flip = |c: &str| -> String {
        c.chars()
            .map(|d| char::from(b'0' + ((d as u8 - b'0' + 1) % 10)))
            .collect()
    };
    let mut errors = Vec::new();
    for wrong in [
        flip(&code),
        code[..5].to_owned(),
        format!("{code}0"),
        "abcdef".to_owned(),
    ] {
        let f = env
            .respond(
                ChallengeNameType::SmsMfa,
                Some(ch.session()),
                &[("USERNAME", "retry"), ("SMS_MFA_CODE", &wrong)],
            )
            .await
            .unwrap_err();
        errors.push(f);
    }
    for f in &errors {
        assert_eq!(f, &errors[0], "every wrong SMS code gets the same answer");
    }
    assert_fail(&errors[0], "CodeMismatchException", Some(CODE_MISMATCH));
    let done = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "retry"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "retry", "right SMS code after wrong ones");

    // More wrong codes on a new session: the success reset the count, so four more do not lock.
    let ch = env.start(Flow::Srp, "retry").await.unwrap();
    let code = env.code("retry", "SMS").await;
    let mut errors = Vec::new();
    for wrong in ["000000", "999999", "123456", "654321"] {
        if wrong == code {
            continue;
        }
        errors.push(
            env.respond(
                ChallengeNameType::SmsMfa,
                Some(ch.session()),
                &[("USERNAME", "retry"), ("SMS_MFA_CODE", wrong)],
            )
            .await
            .unwrap_err(),
        );
    }
    assert!(errors.iter().all(|f| f == &errors[0]), "{errors:?}");
    assert_fail(&errors[0], "CodeMismatchException", Some(CODE_MISMATCH));
    check(
        &env.respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "retry"), ("SMS_MFA_CODE", &code)],
        )
        .await,
        Exp::Tokens,
        "retry",
        "right SMS code (SRP)",
    );

    // TOTP: a wrong code, then the right one, on one session.
    env.admin_prefs("retry", ALL, Some("SOFTWARE_TOKEN_MFA")).await;
    let ch = env.start(Flow::Admin, "retry").await;
    check(&ch, Exp::Totp, "retry", "TOTP preferred");
    let ch = ch.unwrap();
    let right = totp_at(&secret, env.now());
    let f = admin_respond(
        &env,
        ChallengeNameType::SoftwareTokenMfa,
        ch.session(),
        &[("USERNAME", "retry"), ("SOFTWARE_TOKEN_MFA_CODE", &flip(&right))],
    )
    .await;
    assert_fail(&f.unwrap_err(), "CodeMismatchException", Some(CODE_MISMATCH));
    let done = admin_respond(
        &env,
        ChallengeNameType::SoftwareTokenMfa,
        ch.session(),
        &[("USERNAME", "retry"), ("SOFTWARE_TOKEN_MFA_CODE", &right)],
    )
    .await;
    check(&done, Exp::Tokens, "retry", "right TOTP code after a wrong one");

    // Email: the same.
    env.admin_prefs("retry", ALL, Some("EMAIL_OTP")).await;
    let ch = env.start(Flow::Password, "retry").await.unwrap();
    let code = env.code("retry", "EMAIL").await;
    let f = env
        .respond(
            ChallengeNameType::EmailOtp,
            Some(ch.session()),
            &[("USERNAME", "retry"), ("EMAIL_OTP_CODE", &flip(&code))],
        )
        .await;
    assert_fail(&f.unwrap_err(), "CodeMismatchException", Some(CODE_MISMATCH));
    // An SMS-length code for an email challenge is just wrong.
    let f = env
        .respond(
            ChallengeNameType::EmailOtp,
            Some(ch.session()),
            &[("USERNAME", "retry"), ("EMAIL_OTP_CODE", &code[..6])],
        )
        .await;
    assert_fail(&f.unwrap_err(), "CodeMismatchException", Some(CODE_MISMATCH));
    let done = env
        .respond(
            ChallengeNameType::EmailOtp,
            Some(ch.session()),
            &[("USERNAME", "retry"), ("EMAIL_OTP_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "retry", "right email code after wrong ones");
}

// ---------------------------------------------------------------------------------------------
// 4. Bad input
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn select_mfa_type_refuses_bad_answers_and_keeps_the_session() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user(
        "pick",
        &[("phone_number", "+15555550131"), ("email", "pick@example.com")],
    )
    .await;
    env.admin_prefs("pick", &["SMS_MFA", "EMAIL_OTP"], None).await;
    let sel = env.start(Flow::Password, "pick").await;
    check(&sel, Exp::Select(&["SMS_MFA", "EMAIL_OTP"]), "pick", "select");
    let sel = sel.unwrap();
    for answer in [
        "SOFTWARE_TOKEN_MFA",
        "SMS",
        "sms_mfa",
        "EMAIL",
        "WEB_AUTHN",
        "PASSWORD",
        "",
        "SMS_MFA,EMAIL_OTP",
    ] {
        let f = env
            .respond(
                ChallengeNameType::SelectMfaType,
                Some(sel.session()),
                &[("USERNAME", "pick"), ("ANSWER", answer)],
            )
            .await;
        assert_fail(&f.unwrap_err(), "InvalidParameterException", None);
    }
    let f = env
        .respond(
            ChallengeNameType::SelectMfaType,
            Some(sel.session()),
            &[("USERNAME", "pick")],
        )
        .await;
    assert_fail(
        &f.unwrap_err(),
        "InvalidParameterException",
        Some("Missing required parameter ANSWER"),
    );
    // The session survived the bad answers.
    let ch = env
        .respond(
            ChallengeNameType::SelectMfaType,
            Some(sel.session()),
            &[("USERNAME", "pick"), ("ANSWER", "EMAIL_OTP")],
        )
        .await;
    check(&ch, Exp::Email, "pick", "a good answer");
    let code = env.code("pick", "EMAIL").await;
    let done = env
        .respond(
            ChallengeNameType::EmailOtp,
            Some(ch.unwrap().session()),
            &[("USERNAME", "pick"), ("EMAIL_OTP_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "pick", "email code");
}

#[tokio::test]
async fn missing_and_extra_challenge_responses() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("keys", &[("phone_number", "+15555550132")]).await;
    env.admin_prefs("keys", &["SMS_MFA"], None).await;
    let ch = env.start(Flow::Password, "keys").await.unwrap();
    let code = env.code("keys", "SMS").await;
    // No SMS_MFA_CODE; the TOTP key instead; no USERNAME; no ChallengeResponses at all.
    let f = env
        .respond(ChallengeNameType::SmsMfa, Some(ch.session()), &[("USERNAME", "keys")])
        .await;
    assert_fail(
        &f.unwrap_err(),
        "InvalidParameterException",
        Some("Missing required parameter SMS_MFA_CODE"),
    );
    let f = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "keys"), ("SOFTWARE_TOKEN_MFA_CODE", &code)],
        )
        .await;
    assert_fail(
        &f.unwrap_err(),
        "InvalidParameterException",
        Some("Missing required parameter SMS_MFA_CODE"),
    );
    let f = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("SMS_MFA_CODE", &code)],
        )
        .await;
    assert_fail(
        &f.unwrap_err(),
        "InvalidParameterException",
        Some("Missing required parameter USERNAME"),
    );
    let f = env.respond(ChallengeNameType::SmsMfa, Some(ch.session()), &[]).await;
    assert_fail(&f.unwrap_err(), "InvalidParameterException", None);
    // None of that consumed the session or counted as a failure; extra keys are tolerated.
    let done = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[
                ("USERNAME", "keys"),
                ("SMS_MFA_CODE", &code),
                ("SOFTWARE_TOKEN_MFA_CODE", &code),
                ("UNKNOWN_KEY", "x"),
            ],
        )
        .await;
    check(&done, Exp::Tokens, "keys", "SMS with extra keys");

    // amazon-cognito-identity-js sends both codes to a SOFTWARE_TOKEN_MFA challenge.
    let secret = totp_user(&env, "both").await;
    let ch = env.start(Flow::Password, "both").await;
    check(&ch, Exp::Totp, "both", "TOTP");
    let code = totp_at(&secret, env.now());
    let done = env
        .respond(
            ChallengeNameType::SoftwareTokenMfa,
            Some(ch.unwrap().session()),
            &[
                ("USERNAME", "both"),
                ("SMS_MFA_CODE", &code),
                ("SOFTWARE_TOKEN_MFA_CODE", &code),
            ],
        )
        .await;
    check(&done, Exp::Tokens, "both", "TOTP with both keys");
    // Missing SOFTWARE_TOKEN_MFA_CODE.
    env.advance(30);
    let ch = env.start(Flow::Password, "both").await.unwrap();
    let f = env
        .respond(
            ChallengeNameType::SoftwareTokenMfa,
            Some(ch.session()),
            &[("USERNAME", "both"), ("SMS_MFA_CODE", &totp_at(&secret, env.now()))],
        )
        .await;
    assert_fail(
        &f.unwrap_err(),
        "InvalidParameterException",
        Some("Missing required parameter SOFTWARE_TOKEN_MFA_CODE"),
    );
}

#[tokio::test]
async fn codes_of_the_wrong_shape_are_refused_never_with_a_500() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("shape", &[("phone_number", "+15555550133")]).await;
    env.admin_prefs("shape", &["SMS_MFA"], None).await;
    let long = "1".repeat(5000);
    let odd = [
        "",
        "12345",
        "1234567",
        "abcdef",
        "12 456",
        "１２３４５６",
        "-12345",
        "0x1234",
        long.as_str(),
        "123456\u{0}",
    ];
    // At most four failures between successes, so the lockout never starts.
    for batch in odd.chunks(4) {
        let ch = env.start(Flow::Password, "shape").await.unwrap();
        let code = env.code("shape", "SMS").await;
        for bad in batch {
            let f = env
                .respond(
                    ChallengeNameType::SmsMfa,
                    Some(ch.session()),
                    &[("USERNAME", "shape"), ("SMS_MFA_CODE", bad)],
                )
                .await
                .unwrap_err();
            assert_eq!(f.0, 400, "{bad:?}: {f:?}");
            assert!(
                matches!(f.1.as_str(), "CodeMismatchException" | "InvalidParameterException"),
                "{bad:?}: {f:?}"
            );
        }
        let done = env
            .respond(
                ChallengeNameType::SmsMfa,
                Some(ch.session()),
                &[("USERNAME", "shape"), ("SMS_MFA_CODE", &code)],
            )
            .await;
        check(&done, Exp::Tokens, "shape", "right code after odd ones");
    }

    // TOTP and VerifySoftwareToken: model validation (6 digits) or a mismatch, never a 500.
    let secret = totp_user(&env, "shapetotp").await;
    env.user("shapeverify", &[]).await;
    let access = env.access_token("shapeverify").await;
    env.c
        .associate_software_token()
        .access_token(&access)
        .send()
        .await
        .expect("Associate");
    for batch in odd.chunks(4) {
        let ch = env.start(Flow::Password, "shapetotp").await.unwrap();
        for bad in batch {
            let f = env
                .respond(
                    ChallengeNameType::SoftwareTokenMfa,
                    Some(ch.session()),
                    &[("USERNAME", "shapetotp"), ("SOFTWARE_TOKEN_MFA_CODE", bad)],
                )
                .await
                .unwrap_err();
            assert_eq!(f.0, 400, "{bad:?}: {f:?}");
            assert!(
                matches!(f.1.as_str(), "CodeMismatchException" | "InvalidParameterException"),
                "{bad:?}: {f:?}"
            );
            let v = service_err(
                env.c
                    .verify_software_token()
                    .access_token(&access)
                    .user_code(*bad)
                    .send()
                    .await,
            );
            assert_eq!(v.0, 400, "{bad:?}: {v:?}");
            assert!(
                matches!(
                    v.1.as_str(),
                    "InvalidParameterException" | "EnableSoftwareTokenMFAException" | "CodeMismatchException"
                ),
                "{bad:?}: {v:?}"
            );
        }
        let done = env
            .respond(
                ChallengeNameType::SoftwareTokenMfa,
                Some(ch.session()),
                &[
                    ("USERNAME", "shapetotp"),
                    ("SOFTWARE_TOKEN_MFA_CODE", &totp_at(&secret, env.now())),
                ],
            )
            .await;
        check(&done, Exp::Tokens, "shapetotp", "right TOTP after odd ones");
        env.advance(30);
    }
}

#[tokio::test]
async fn challenges_answered_out_of_order_are_refused() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    let secret = totp_user(&env, "order").await;
    let ch = env.start(Flow::Password, "order").await.unwrap();
    let code = totp_at(&secret, env.now());
    // An SMS_MFA answer (or any other name) to a SOFTWARE_TOKEN_MFA session.
    for (name, key) in [
        (ChallengeNameType::SmsMfa, "SMS_MFA_CODE"),
        (ChallengeNameType::EmailOtp, "EMAIL_OTP_CODE"),
        (ChallengeNameType::SelectMfaType, "ANSWER"),
        (ChallengeNameType::MfaSetup, "EMAIL"),
        (ChallengeNameType::NewPasswordRequired, "NEW_PASSWORD"),
        (ChallengeNameType::PasswordVerifier, "PASSWORD_CLAIM_SIGNATURE"),
    ] {
        let f = env
            .respond(
                name.clone(),
                Some(ch.session()),
                &[("USERNAME", "order"), (key, &code), ("SOFTWARE_TOKEN_MFA_CODE", &code)],
            )
            .await;
        assert_fail(&f.unwrap_err(), "NotAuthorizedException", Some(INVALID_SESSION));
    }
    // The session was not spent by the wrong answers.
    let done = env
        .respond(
            ChallengeNameType::SoftwareTokenMfa,
            Some(ch.session()),
            &[("USERNAME", "order"), ("SOFTWARE_TOKEN_MFA_CODE", &code)],
        )
        .await;
    check(&done, Exp::Tokens, "order", "the right challenge");

    // A SOFTWARE_TOKEN_MFA answer to an SMS session; a session outside MFA_SETUP at AssociateSoftwareToken.
    env.user("order2", &[("phone_number", "+15555550134")]).await;
    env.admin_prefs("order2", &["SMS_MFA"], None).await;
    let ch = env.start(Flow::Password, "order2").await.unwrap();
    let code = env.code("order2", "SMS").await;
    let f = env
        .respond(
            ChallengeNameType::SoftwareTokenMfa,
            Some(ch.session()),
            &[("USERNAME", "order2"), ("SOFTWARE_TOKEN_MFA_CODE", &code)],
        )
        .await;
    assert_fail(&f.unwrap_err(), "NotAuthorizedException", Some(INVALID_SESSION));
    let f = service_err(env.c.associate_software_token().session(ch.session()).send().await);
    assert_fail(&f, "NotAuthorizedException", Some(INVALID_SESSION));
    let f = service_err(
        env.c
            .verify_software_token()
            .session(ch.session())
            .user_code(&code)
            .send()
            .await,
    );
    assert_fail(&f, "NotAuthorizedException", Some(INVALID_SESSION));
    let f = service_err(env.c.associate_software_token().send().await);
    assert_fail(&f, "InvalidParameterException", None);
    // A challenge this server does not have.
    let f = env
        .respond(
            ChallengeNameType::CustomChallenge,
            Some(ch.session()),
            &[("USERNAME", "order2"), ("ANSWER", "x")],
        )
        .await;
    assert_fail(&f.unwrap_err(), "InvalidParameterException", None);
    check(
        &env.respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "order2"), ("SMS_MFA_CODE", &code)],
        )
        .await,
        Exp::Tokens,
        "order2",
        "the right challenge",
    );
}

// ---------------------------------------------------------------------------------------------
// 3b. State changes between the challenge and the answer; concurrency
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_sms_code_verifies_only_the_number_it_was_sent_to() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user(
        "mover",
        &[("phone_number", "+15555550140"), ("phone_number_verified", "false")],
    )
    .await;
    env.admin_prefs("mover", &["SMS_MFA"], None).await;
    let ch = env.start(Flow::Password, "mover").await.unwrap();
    let code = env.code("mover", "SMS").await;
    // The number changes while the code is on its way to the old one.
    env.c
        .admin_update_user_attributes()
        .user_pool_id(&env.pool)
        .username("mover")
        .user_attributes(attr("phone_number", "+15555550141"))
        .send()
        .await
        .expect("AdminUpdateUserAttributes");
    assert_ne!(
        env.attribute("mover", "phone_number_verified").await.as_deref(),
        Some("true")
    );
    let done = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "mover"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    // Whether the sign-in completes is not on record for AWS; the new number must not become
    // verified by a code that went to the old one.
    let _ = done;
    assert_eq!(
        env.attribute("mover", "phone_number").await.as_deref(),
        Some("+15555550141")
    );
    assert_ne!(
        env.attribute("mover", "phone_number_verified").await.as_deref(),
        Some("true"),
        "a code sent to +15555550140 proved nothing about +15555550141"
    );
}

#[tokio::test]
async fn a_user_disabled_during_the_challenge_gets_no_tokens() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("gone", &[("phone_number", "+15555550142")]).await;
    env.admin_prefs("gone", &["SMS_MFA"], None).await;
    let ch = env.start(Flow::Password, "gone").await.unwrap();
    let code = env.code("gone", "SMS").await;
    env.c
        .admin_disable_user()
        .user_pool_id(&env.pool)
        .username("gone")
        .send()
        .await
        .expect("AdminDisableUser");
    let f = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "gone"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    assert_fail(&f.unwrap_err(), "NotAuthorizedException", Some("User is disabled."));
}

#[tokio::test]
async fn an_authenticator_removed_during_the_challenge_is_not_accepted() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    let secret = totp_user(&env, "removed").await;
    let ch = env.start(Flow::Password, "removed").await.unwrap();
    env.c
        .admin_delete_software_token()
        .user_pool_id(&env.pool)
        .username("removed")
        .send()
        .await
        .expect("AdminDeleteSoftwareToken");
    let f = env
        .respond(
            ChallengeNameType::SoftwareTokenMfa,
            Some(ch.session()),
            &[
                ("USERNAME", "removed"),
                ("SOFTWARE_TOKEN_MFA_CODE", &totp_at(&secret, env.now())),
            ],
        )
        .await;
    assert_fail(
        &f.unwrap_err(),
        "SoftwareTokenMFANotFoundException",
        Some("Software Token MFA does not exist for the user."),
    );
}

#[tokio::test]
async fn first_factor_sessions_are_spent_by_the_mfa_challenge() {
    let env = Env::new(UserPoolMfaType::On).await;
    env.user("spent", &[("phone_number", "+15555550143")]).await;
    // PASSWORD_VERIFIER: the same proof replayed after it produced the SMS challenge.
    use aws_cognito_srp::{SrpClient, User};
    let srp = SrpClient::<User>::new(User::new(&env.pool, "spent", PASSWORD), &env.client, None);
    let first = env
        .c
        .initiate_auth()
        .client_id(&env.client)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", "spent")
        .auth_parameters("SRP_A", srp.get_auth_parameters().a)
        .send()
        .await
        .expect("USER_SRP_AUTH");
    let p = first.challenge_parameters().expect("parameters");
    let proof = srp
        .verify(&p["SECRET_BLOCK"], &p["USER_ID_FOR_SRP"], &p["SALT"], &p["SRP_B"])
        .expect("proof");
    let r = [
        ("USERNAME", "spent"),
        (
            "PASSWORD_CLAIM_SECRET_BLOCK",
            proof.password_claim_secret_block.as_str(),
        ),
        ("PASSWORD_CLAIM_SIGNATURE", proof.password_claim_signature.as_str()),
        ("TIMESTAMP", proof.timestamp.as_str()),
    ];
    // No Session (as AWS): the answer's SECRET_BLOCK names the sign-in.
    assert_eq!(first.session(), None);
    check(
        &env.respond(ChallengeNameType::PasswordVerifier, None, &r).await,
        Exp::Sms,
        "spent",
        "SRP then SMS",
    );
    let sent = outbox::messages(&env.server.url, &env.pool, "spent").await.len();
    let again = env.respond(ChallengeNameType::PasswordVerifier, None, &r).await;
    assert_fail(&again.unwrap_err(), "NotAuthorizedException", Some(USED_SESSION));
    assert_eq!(
        outbox::messages(&env.server.url, &env.pool, "spent").await.len(),
        sent,
        "no second SMS"
    );

    // NEW_PASSWORD_REQUIRED: the session is spent once the MFA challenge is issued.
    env.c
        .admin_create_user()
        .user_pool_id(&env.pool)
        .username("fresh")
        .temporary_password("Temp-Passw0rd!")
        .user_attributes(attr("phone_number", "+15555550144"))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser");
    let ch = start(&env, &env.client, Flow::Password, "fresh", "Temp-Passw0rd!")
        .await
        .unwrap();
    let r = [("USERNAME", "fresh"), ("NEW_PASSWORD", PASSWORD)];
    check(
        &env.respond(ChallengeNameType::NewPasswordRequired, Some(ch.session()), &r)
            .await,
        Exp::Sms,
        "fresh",
        "new password then SMS",
    );
    let again = env
        .respond(ChallengeNameType::NewPasswordRequired, Some(ch.session()), &r)
        .await;
    assert_fail(&again.unwrap_err(), "NotAuthorizedException", Some(USED_SESSION));
}

#[tokio::test]
async fn mfa_setup_refuses_a_bad_email_address() {
    let env = Env::new(UserPoolMfaType::On).await;
    env.user("badmail", &[]).await;
    let ch = env.start(Flow::Password, "badmail").await.unwrap();
    for bad in ["not-an-email", ""] {
        let f = env
            .respond(
                ChallengeNameType::MfaSetup,
                Some(ch.session()),
                &[("USERNAME", "badmail"), ("EMAIL", bad)],
            )
            .await;
        assert_fail(&f.unwrap_err(), "InvalidParameterException", None);
    }
    assert_eq!(env.attribute("badmail", "email").await, None);
    // The session is still good for a proper address.
    check(
        &env.respond(
            ChallengeNameType::MfaSetup,
            Some(ch.session()),
            &[("USERNAME", "badmail"), ("EMAIL", "ok@example.com")],
        )
        .await,
        Exp::Email,
        "badmail",
        "a proper address",
    );
}

#[tokio::test]
async fn wrong_codes_on_several_sessions_add_up_to_the_lockout() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("spread", &[("phone_number", "+15555550145")]).await;
    env.admin_prefs("spread", &["SMS_MFA"], None).await;
    let mut last = None;
    for wrong_count in [3, 2] {
        let ch = env.start(Flow::Password, "spread").await.unwrap();
        let code = env.code("spread", "SMS").await;
        let wrong = if code == "000000" { "111111" } else { "000000" };
        for _ in 0..wrong_count {
            let f = env
                .respond(
                    ChallengeNameType::SmsMfa,
                    Some(ch.session()),
                    &[("USERNAME", "spread"), ("SMS_MFA_CODE", wrong)],
                )
                .await;
            assert_fail(&f.unwrap_err(), "CodeMismatchException", Some(CODE_MISMATCH));
        }
        last = Some((ch, code));
    }
    let (ch, code) = last.unwrap();
    let f = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "spread"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    assert_fail(&f.unwrap_err(), "NotAuthorizedException", Some(LOCKED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_right_answers_on_one_session_sign_in_once() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("race", &[("phone_number", "+15555550146")]).await;
    env.admin_prefs("race", &["SMS_MFA"], None).await;
    let ch = env.start(Flow::Password, "race").await.unwrap();
    let code = env.code("race", "SMS").await;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (c, client, session, code) = (env.c.clone(), env.client.clone(), ch.session().to_owned(), code.clone());
        tasks.spawn(async move {
            c.respond_to_auth_challenge()
                .client_id(client)
                .challenge_name(ChallengeNameType::SmsMfa)
                .session(session)
                .challenge_responses("USERNAME", "race")
                .challenge_responses("SMS_MFA_CODE", code)
                .send()
                .await
                .map(|o| o.authentication_result.is_some())
                .map_err(service_fail)
        });
    }
    let mut signed_in = 0;
    while let Some(r) = tasks.join_next().await {
        match r.expect("task") {
            Ok(tokens) => {
                assert!(tokens);
                signed_in += 1;
            }
            Err(f) => assert_fail(&f, "NotAuthorizedException", None),
        }
    }
    assert_eq!(signed_in, 1, "one session, one sign-in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_totp_code_on_two_sessions_at_once_signs_in_once() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    let secret = totp_user(&env, "twin").await;
    let mut sessions = Vec::new();
    for _ in 0..4 {
        sessions.push(env.start(Flow::Password, "twin").await.unwrap().session().to_owned());
    }
    let code = totp_at(&secret, env.now());
    let mut tasks = tokio::task::JoinSet::new();
    for session in sessions {
        let (c, client, code) = (env.c.clone(), env.client.clone(), code.clone());
        tasks.spawn(async move {
            c.respond_to_auth_challenge()
                .client_id(client)
                .challenge_name(ChallengeNameType::SoftwareTokenMfa)
                .session(session)
                .challenge_responses("USERNAME", "twin")
                .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", code)
                .send()
                .await
                .map(|o| o.authentication_result.is_some())
                .map_err(service_fail)
        });
    }
    let mut signed_in = 0;
    let mut refused = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r.expect("task") {
            Ok(tokens) => {
                assert!(tokens);
                signed_in += 1;
            }
            Err(f) => refused.push(f),
        }
    }
    assert_eq!(
        signed_in, 1,
        "a TOTP code signs in once, however fast it is replayed: {refused:?}"
    );
    for f in &refused {
        assert_eq!(f.0, 400, "{f:?}");
        assert!(
            matches!(f.1.as_str(), "ExpiredCodeException" | "NotAuthorizedException"),
            "{f:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_codes_all_count_toward_the_lockout() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("burst", &[("phone_number", "+15555550147")]).await;
    env.admin_prefs("burst", &["SMS_MFA"], None).await;
    let ch = env.start(Flow::Password, "burst").await.unwrap();
    let code = env.code("burst", "SMS").await;
    // A burst of wrong guesses at once, as a brute-force script would send them.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..12u32 {
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        let (c, client, session) = (env.c.clone(), env.client.clone(), ch.session().to_owned());
        tasks.spawn(async move {
            c.respond_to_auth_challenge()
                .client_id(client)
                .challenge_name(ChallengeNameType::SmsMfa)
                .session(session)
                .challenge_responses("USERNAME", "burst")
                .challenge_responses("SMS_MFA_CODE", guess)
                .send()
                .await
                .map_err(service_fail)
        });
    }
    let mut checked = 0u32;
    while let Some(r) = tasks.join_next().await {
        let f = r.expect("task").expect_err("a wrong code");
        assert_eq!(f.0, 400, "{f:?}");
        if f.1 == "CodeMismatchException" {
            checked += 1;
        } else {
            assert!(f.1 == "NotAuthorizedException" && f.2 == LOCKED, "{f:?}");
        }
    }
    assert!(checked >= 5, "{checked} codes checked");
    // Every code that was checked counts: n failures lock for 2^(n-5) s, so just before that
    // ends the right code is still refused.
    let lock = 2u64.pow(checked - 5).min(900);
    let f = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "burst"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    assert_fail(&f.unwrap_err(), "NotAuthorizedException", Some(LOCKED));
    env.advance((lock - 1).min(170));
    let f = env
        .respond(
            ChallengeNameType::SmsMfa,
            Some(ch.session()),
            &[("USERNAME", "burst"), ("SMS_MFA_CODE", &code)],
        )
        .await;
    let f = f.err().unwrap_or_else(|| {
        panic!(
            "{checked} wrong codes were checked (a {lock} s lockout), yet the right code signed in {} s later",
            (lock - 1).min(170)
        )
    });
    assert_fail(&f, "NotAuthorizedException", Some(LOCKED));
}
