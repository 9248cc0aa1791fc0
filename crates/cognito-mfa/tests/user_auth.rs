//! Choice-based sign-in (USER_AUTH) through the Rust SDK: what `AvailableChallenges` and the
//! challenge are for every pool MFA mode, user and preference, and complete sign-ins with each
//! first factor (PASSWORD, PASSWORD_SRP with aws-cognito-srp, EMAIL_OTP and SMS_OTP with the
//! code read from the outbox), through SELECT_CHALLENGE and the admin operations.

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::types::{
    AuthFactorType, AuthFlowType, ChallengeNameType, EmailMfaConfigType, ExplicitAuthFlowsType, SignInPolicyType,
    SmsMfaConfigType, SmsMfaSettingsType, SoftwareTokenMfaConfigType, UserPoolMfaType, UserPoolPolicyType,
    UserPoolTierType,
};
use cmfa_core::Clock;
use cmfa_core::clock::FixedClock;
use cmfa_testkit::cognito::{attr, confirmed_user, developer_email, recovery, service_fail, sns_config, totp_at};
use cmfa_testkit::{Options, TestServer, outbox, sdk_client};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

const PASSWORD: &str = "Choice-Passw0rd!";

type Fail = (u16, String, String);

/// One step's answer, whatever the operation.
#[derive(Debug)]
struct Out {
    challenge: Option<ChallengeNameType>,
    session: Option<String>,
    params: HashMap<String, String>,
    available: Vec<String>,
    tokens: bool,
}

macro_rules! out {
    ($o:expr) => {{
        let o = $o;
        Out {
            challenge: o.challenge_name,
            session: o.session,
            params: o.challenge_parameters.unwrap_or_default(),
            available: o
                .available_challenges
                .unwrap_or_default()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
            tokens: o.authentication_result.is_some_and(|r| r.access_token.is_some()),
        }
    }};
}

impl Out {
    fn name(&self) -> &str {
        self.challenge.as_ref().map_or("TOKENS", ChallengeNameType::as_str)
    }
}

struct Env {
    server: TestServer,
    clock: Arc<FixedClock>,
    c: Client,
    pool: String,
    client: String,
}

fn choice_flows() -> Vec<ExplicitAuthFlowsType> {
    vec![
        ExplicitAuthFlowsType::AllowUserAuth,
        ExplicitAuthFlowsType::AllowUserSrpAuth,
        ExplicitAuthFlowsType::AllowRefreshTokenAuth,
    ]
}

impl Env {
    /// A pool in `mode` with SMS, email and TOTP MFA; passwordless first factors allowed unless
    /// MFA is ON (which refuses them, rule 8).
    async fn new(mode: UserPoolMfaType) -> Env {
        Self::with(mode, UserPoolTierType::Essentials).await
    }

    async fn with(mode: UserPoolMfaType, tier: UserPoolTierType) -> Env {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        // Stopped at the start of a TOTP time step (plus one second), near the real time (SRP
        // timestamps are checked against it).
        let clock = Arc::new(FixedClock::at((now / 30 * 30 + 1) as f64));
        let server = TestServer::start_with(Options {
            clock: Some(clock.clone()),
            ..Options::default()
        })
        .await;
        let c = sdk_client(&server.url);
        let mut factors = vec![AuthFactorType::Password];
        if mode != UserPoolMfaType::On && tier != UserPoolTierType::Lite {
            factors.extend([AuthFactorType::EmailOtp, AuthFactorType::SmsOtp]);
        }
        let pool = c
            .create_user_pool()
            .pool_name("choice")
            .user_pool_tier(tier.clone())
            .sms_configuration(sns_config())
            .email_configuration(developer_email())
            .account_recovery_setting(recovery(&[cip::types::RecoveryOptionNameType::AdminOnly]))
            .auto_verified_attributes(cip::types::VerifiedAttributeType::Email)
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
            .expect("pool id");
        if mode != UserPoolMfaType::Off {
            let mut req = c
                .set_user_pool_mfa_config()
                .user_pool_id(&pool)
                .mfa_configuration(mode)
                .sms_mfa_configuration(SmsMfaConfigType::builder().build())
                .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build());
            if tier != UserPoolTierType::Lite {
                req = req.email_mfa_configuration(EmailMfaConfigType::builder().build());
            }
            req.send().await.expect("SetUserPoolMfaConfig");
        }
        let client = c
            .create_user_pool_client()
            .user_pool_id(&pool)
            .client_name("app")
            .set_explicit_auth_flows(Some(choice_flows()))
            .send()
            .await
            .expect("CreateUserPoolClient")
            .user_pool_client
            .and_then(|c| c.client_id)
            .expect("client id");
        Env {
            server,
            clock,
            c,
            pool,
            client,
        }
    }

    /// A confirmed user with [`PASSWORD`] and these attributes.
    async fn user(&self, name: &str, attrs: &[(&str, &str)]) {
        confirmed_user(&self.c, &self.pool, name, PASSWORD, attrs).await;
    }

    /// A user without a password and with a verified email: SignUp without one, confirmed by
    /// the code from the outbox.
    async fn passwordless(&self, name: &str, email: &str) {
        self.c
            .sign_up()
            .client_id(&self.client)
            .username(name)
            .user_attributes(attr("email", email))
            .send()
            .await
            .expect("SignUp without a password");
        let code = self.code(name, 6).await;
        self.c
            .confirm_sign_up()
            .client_id(&self.client)
            .username(name)
            .confirmation_code(code)
            .send()
            .await
            .expect("ConfirmSignUp");
    }

    /// The newest code sent to `name`.
    async fn code(&self, name: &str, digits: usize) -> String {
        let m = outbox::latest_message(&self.server.url, &self.pool, name).await;
        outbox::code(m["body"].as_str().expect("body"), digits)
    }

    async fn initiate(&self, name: &str, params: &[(&str, &str)]) -> Result<Out, Fail> {
        let mut req = self
            .c
            .initiate_auth()
            .client_id(&self.client)
            .auth_flow(AuthFlowType::UserAuth)
            .auth_parameters("USERNAME", name);
        for (k, v) in params {
            req = req.auth_parameters(*k, *v);
        }
        req.send().await.map(|o| out!(o)).map_err(service_fail)
    }

    async fn admin_initiate(&self, name: &str, params: &[(&str, &str)]) -> Result<Out, Fail> {
        let mut req = self
            .c
            .admin_initiate_auth()
            .user_pool_id(&self.pool)
            .client_id(&self.client)
            .auth_flow(AuthFlowType::UserAuth)
            .auth_parameters("USERNAME", name);
        for (k, v) in params {
            req = req.auth_parameters(*k, *v);
        }
        req.send().await.map(|o| out!(o)).map_err(service_fail)
    }

    async fn respond(
        &self,
        challenge: ChallengeNameType,
        session: Option<&str>,
        r: &[(&str, &str)],
    ) -> Result<Out, Fail> {
        let responses: HashMap<String, String> = r.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.c
            .respond_to_auth_challenge()
            .client_id(&self.client)
            .challenge_name(challenge)
            .set_session(session.map(str::to_owned))
            .set_challenge_responses(Some(responses))
            .send()
            .await
            .map(|o| out!(o))
            .map_err(service_fail)
    }

    async fn admin_respond(
        &self,
        challenge: ChallengeNameType,
        session: &str,
        r: &[(&str, &str)],
    ) -> Result<Out, Fail> {
        let responses: HashMap<String, String> = r.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.c
            .admin_respond_to_auth_challenge()
            .user_pool_id(&self.pool)
            .client_id(&self.client)
            .challenge_name(challenge)
            .session(session)
            .set_challenge_responses(Some(responses))
            .send()
            .await
            .map(|o| out!(o))
            .map_err(service_fail)
    }

    /// Answers PASSWORD_VERIFIER with aws-cognito-srp's proof (the client made `SRP_A`).
    async fn finish_srp(&self, srp: &aws_cognito_srp::SrpClient<aws_cognito_srp::User>, pv: &Out) -> Result<Out, Fail> {
        assert_eq!(pv.challenge, Some(ChallengeNameType::PasswordVerifier), "{pv:?}");
        let p = &pv.params;
        let user_id = p["USER_ID_FOR_SRP"].clone();
        let proof = srp
            .verify(&p["SECRET_BLOCK"], &user_id, &p["SALT"], &p["SRP_B"])
            .expect("aws-cognito-srp accepts the challenge");
        self.respond(
            ChallengeNameType::PasswordVerifier,
            pv.session.as_deref(),
            &[
                ("USERNAME", &user_id),
                ("PASSWORD_CLAIM_SECRET_BLOCK", &proof.password_claim_secret_block),
                ("PASSWORD_CLAIM_SIGNATURE", &proof.password_claim_signature),
                ("TIMESTAMP", &proof.timestamp),
            ],
        )
        .await
    }

    fn srp_client(&self, name: &str) -> aws_cognito_srp::SrpClient<aws_cognito_srp::User> {
        aws_cognito_srp::SrpClient::new(
            aws_cognito_srp::User::new(&self.pool, name, PASSWORD),
            &self.client,
            None,
        )
    }
}

/// A matrix user: name, attributes, and whether SMS MFA is enabled for them.
type MatrixUser = (&'static str, &'static [(&'static str, &'static str)], bool);

/// The users of the matrix.
const USERS: &[MatrixUser] = &[
    ("pw", &[], false),
    (
        "pw-email",
        &[("email", "e@example.com"), ("email_verified", "true")],
        false,
    ),
    (
        "pw-phone",
        &[("phone_number", "+15555550101"), ("phone_number_verified", "true")],
        false,
    ),
    (
        "pw-both",
        &[
            ("email", "b@example.com"),
            ("email_verified", "true"),
            ("phone_number", "+15555550102"),
            ("phone_number_verified", "true"),
        ],
        false,
    ),
    (
        "pw-both-mfa",
        &[
            ("email", "m@example.com"),
            ("email_verified", "true"),
            ("phone_number", "+15555550103"),
            ("phone_number_verified", "true"),
        ],
        true,
    ),
    // An unverified email is not a first factor.
    ("pw-unverified", &[("email", "u@example.com")], false),
];

/// For one mode and user: AvailableChallenges, then the challenge (or TOKENS) for no
/// preference, PASSWORD, PASSWORD_SRP, EMAIL_OTP and SMS_OTP.
struct Expect {
    mode: UserPoolMfaType,
    user: &'static str,
    available: &'static [&'static str],
    password: &'static str,
    email_otp: &'static str,
    sms_otp: &'static str,
}

const PW: &[&str] = &["PASSWORD", "PASSWORD_SRP"];
const ALL4: &[&str] = &["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP"];
const SELECT: &str = "SELECT_CHALLENGE";

const EXPECT: &[Expect] = &[
    // OFF: every factor the user has; a password never asks for MFA.
    Expect {
        mode: UserPoolMfaType::Off,
        user: "pw",
        available: PW,
        password: "TOKENS",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
    Expect {
        mode: UserPoolMfaType::Off,
        user: "pw-email",
        available: &["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"],
        password: "TOKENS",
        email_otp: "EMAIL_OTP",
        sms_otp: SELECT,
    },
    Expect {
        mode: UserPoolMfaType::Off,
        user: "pw-phone",
        available: &["PASSWORD", "PASSWORD_SRP", "SMS_OTP"],
        password: "TOKENS",
        email_otp: SELECT,
        sms_otp: "SMS_OTP",
    },
    Expect {
        mode: UserPoolMfaType::Off,
        user: "pw-both",
        available: ALL4,
        password: "TOKENS",
        email_otp: "EMAIL_OTP",
        sms_otp: "SMS_OTP",
    },
    Expect {
        mode: UserPoolMfaType::Off,
        user: "pw-both-mfa",
        available: ALL4,
        password: "TOKENS",
        email_otp: "EMAIL_OTP",
        sms_otp: "SMS_OTP",
    },
    Expect {
        mode: UserPoolMfaType::Off,
        user: "pw-unverified",
        available: PW,
        password: "TOKENS",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
    // OPTIONAL: passwordless only for users without MFA; MFA after a password for those with it.
    Expect {
        mode: UserPoolMfaType::Optional,
        user: "pw",
        available: PW,
        password: "TOKENS",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
    Expect {
        mode: UserPoolMfaType::Optional,
        user: "pw-email",
        available: &["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"],
        password: "TOKENS",
        email_otp: "EMAIL_OTP",
        sms_otp: SELECT,
    },
    Expect {
        mode: UserPoolMfaType::Optional,
        user: "pw-phone",
        available: &["PASSWORD", "PASSWORD_SRP", "SMS_OTP"],
        password: "TOKENS",
        email_otp: SELECT,
        sms_otp: "SMS_OTP",
    },
    Expect {
        mode: UserPoolMfaType::Optional,
        user: "pw-both",
        available: ALL4,
        password: "TOKENS",
        email_otp: "EMAIL_OTP",
        sms_otp: "SMS_OTP",
    },
    Expect {
        mode: UserPoolMfaType::Optional,
        user: "pw-both-mfa",
        available: PW,
        password: "SMS_MFA",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
    Expect {
        mode: UserPoolMfaType::Optional,
        user: "pw-unverified",
        available: PW,
        password: "TOKENS",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
    // ON: the password factors only, and MFA after them (reference §4.4).
    Expect {
        mode: UserPoolMfaType::On,
        user: "pw",
        available: PW,
        password: "MFA_SETUP",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
    Expect {
        mode: UserPoolMfaType::On,
        user: "pw-email",
        available: PW,
        password: "EMAIL_OTP",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
    Expect {
        mode: UserPoolMfaType::On,
        user: "pw-phone",
        available: PW,
        password: "SMS_MFA",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
    Expect {
        mode: UserPoolMfaType::On,
        user: "pw-both",
        available: PW,
        password: "SELECT_MFA_TYPE",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
    Expect {
        mode: UserPoolMfaType::On,
        user: "pw-both-mfa",
        available: PW,
        password: "SELECT_MFA_TYPE",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
    Expect {
        mode: UserPoolMfaType::On,
        user: "pw-unverified",
        available: PW,
        password: "EMAIL_OTP",
        email_otp: SELECT,
        sms_otp: SELECT,
    },
];

#[tokio::test]
async fn available_challenges_and_the_challenge_for_every_mode_user_and_preference() {
    for mode in [UserPoolMfaType::Off, UserPoolMfaType::Optional, UserPoolMfaType::On] {
        let env = Env::new(mode.clone()).await;
        for (name, attrs, sms_mfa) in USERS {
            env.user(name, attrs).await;
            if *sms_mfa {
                env.c
                    .admin_set_user_mfa_preference()
                    .user_pool_id(&env.pool)
                    .username(*name)
                    .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
                    .send()
                    .await
                    .expect("AdminSetUserMFAPreference");
            }
        }
        if mode != UserPoolMfaType::On {
            env.passwordless("nopw", "n@example.com").await;
        }
        for e in EXPECT.iter().filter(|e| e.mode == mode) {
            let ctx = format!("{mode:?} {}", e.user);
            // No preference: SELECT_CHALLENGE listing exactly what the user may use.
            let o = env
                .initiate(e.user, &[])
                .await
                .unwrap_or_else(|f| panic!("{ctx}: {f:?}"));
            assert_eq!(o.name(), SELECT, "{ctx}");
            assert_eq!(o.available, e.available, "{ctx}");
            assert!(o.session.is_some() && o.params.is_empty() && !o.tokens, "{ctx}: {o:?}");

            let o = env
                .initiate(e.user, &[("PREFERRED_CHALLENGE", "PASSWORD"), ("PASSWORD", PASSWORD)])
                .await
                .unwrap();
            assert_eq!(o.name(), e.password, "{ctx} PASSWORD");
            assert_eq!(o.tokens, e.password == "TOKENS", "{ctx}");
            if !o.tokens {
                assert_eq!(o.available, e.available, "{ctx}: AvailableChallenges rides along");
            }

            let srp = env.srp_client(e.user);
            let a = srp.get_auth_parameters().a;
            let o = env
                .initiate(e.user, &[("PREFERRED_CHALLENGE", "PASSWORD_SRP"), ("SRP_A", &a)])
                .await
                .unwrap();
            assert_eq!(o.name(), "PASSWORD_VERIFIER", "{ctx}");
            assert_eq!(
                env.finish_srp(&srp, &o).await.unwrap().name(),
                e.password,
                "{ctx} PASSWORD_SRP"
            );

            for (pref, want) in [("EMAIL_OTP", e.email_otp), ("SMS_OTP", e.sms_otp)] {
                let o = env.initiate(e.user, &[("PREFERRED_CHALLENGE", pref)]).await.unwrap();
                assert_eq!(o.name(), want, "{ctx} {pref}");
                assert_eq!(o.available, e.available, "{ctx} {pref}");
            }
        }
        if mode != UserPoolMfaType::On {
            // The passwordless user: only the code it can receive.
            let o = env.initiate("nopw", &[]).await.unwrap();
            assert_eq!(
                (o.name(), o.available.clone()),
                (SELECT, vec!["EMAIL_OTP".to_owned()]),
                "{mode:?}"
            );
            let o = env
                .initiate("nopw", &[("PREFERRED_CHALLENGE", "PASSWORD"), ("PASSWORD", "x")])
                .await
                .unwrap();
            assert_eq!(o.name(), SELECT, "no password to check: the choice instead");
            let o = env
                .initiate("nopw", &[("PREFERRED_CHALLENGE", "EMAIL_OTP")])
                .await
                .unwrap();
            assert_eq!(o.name(), "EMAIL_OTP");
        }
    }
}

#[tokio::test]
async fn email_and_sms_codes_sign_in_without_a_password_and_without_mfa() {
    let env = Env::new(UserPoolMfaType::Optional).await;
    env.user("otp", USERS[3].1).await;
    for (pref, channel, field, name) in [
        ("EMAIL_OTP", "EMAIL", "EMAIL_OTP_CODE", ChallengeNameType::EmailOtp),
        ("SMS_OTP", "SMS", "SMS_OTP_CODE", ChallengeNameType::SmsOtp),
    ] {
        let o = env.initiate("otp", &[("PREFERRED_CHALLENGE", pref)]).await.unwrap();
        assert_eq!(o.challenge.as_ref(), Some(&name));
        assert_eq!(o.params["CODE_DELIVERY_DELIVERY_MEDIUM"], channel);
        let masked = &o.params["CODE_DELIVERY_DESTINATION"];
        assert!(masked == "b***@e***" || masked == "+*******0102", "{masked}");
        let m = outbox::latest_message(&env.server.url, &env.pool, "otp").await;
        assert_eq!(
            (m["channel"].as_str(), m["purpose"].as_str()),
            (Some(channel), Some(pref)),
            "{m}"
        );
        let code = outbox::code(m["body"].as_str().unwrap(), 8);
        // A wrong code may be retried on the same session; the right one gives tokens at once.
        let wrong = env
            .respond(
                name.clone(),
                o.session.as_deref(),
                &[("USERNAME", "otp"), (field, "00000000")],
            )
            .await
            .unwrap_err();
        assert_eq!((wrong.0, wrong.1.as_str()), (400, "CodeMismatchException"), "{wrong:?}");
        let done = env
            .respond(
                name.clone(),
                o.session.as_deref(),
                &[("USERNAME", "otp"), (field, &code)],
            )
            .await
            .unwrap();
        assert!(done.tokens, "{pref}: {done:?}");
        // Single use.
        let again = env
            .respond(name, o.session.as_deref(), &[("USERNAME", "otp"), (field, &code)])
            .await
            .unwrap_err();
        assert_eq!(again.1, "NotAuthorizedException", "{again:?}");
    }
}

#[tokio::test]
async fn select_challenge_answered_with_each_choice() {
    let env = Env::new(UserPoolMfaType::Off).await;
    env.user("sel", USERS[3].1).await;
    let select = || async { env.initiate("sel", &[]).await.unwrap() };

    let s = select().await;
    let o = env
        .respond(
            ChallengeNameType::SelectChallenge,
            s.session.as_deref(),
            &[("USERNAME", "sel"), ("ANSWER", "PASSWORD"), ("PASSWORD", PASSWORD)],
        )
        .await
        .unwrap();
    assert!(o.tokens && o.available.is_empty(), "{o:?}");

    let s = select().await;
    let srp = env.srp_client("sel");
    let a = srp.get_auth_parameters().a;
    let pv = env
        .respond(
            ChallengeNameType::SelectChallenge,
            s.session.as_deref(),
            &[("USERNAME", "sel"), ("ANSWER", "PASSWORD_SRP"), ("SRP_A", &a)],
        )
        .await
        .unwrap();
    assert!(env.finish_srp(&srp, &pv).await.unwrap().tokens);

    for (answer, field, digits) in [("EMAIL_OTP", "EMAIL_OTP_CODE", 8), ("SMS_OTP", "SMS_OTP_CODE", 8)] {
        let s = select().await;
        let o = env
            .respond(
                ChallengeNameType::SelectChallenge,
                s.session.as_deref(),
                &[("USERNAME", "sel"), ("ANSWER", answer)],
            )
            .await
            .unwrap();
        assert_eq!(o.name(), answer);
        let code = env.code("sel", digits).await;
        let done = env
            .respond(
                o.challenge.clone().unwrap(),
                o.session.as_deref(),
                &[("USERNAME", "sel"), (field, &code)],
            )
            .await
            .unwrap();
        assert!(done.tokens, "{answer}");
        // The SELECT_CHALLENGE session was spent by the choice.
        let reuse = env
            .respond(
                ChallengeNameType::SelectChallenge,
                s.session.as_deref(),
                &[("USERNAME", "sel"), ("ANSWER", answer)],
            )
            .await
            .unwrap_err();
        assert_eq!(reuse.1, "NotAuthorizedException", "{reuse:?}");
    }

    // A wrong password counts and may be retried; a factor not offered is refused.
    let s = select().await;
    let wrong = env
        .respond(
            ChallengeNameType::SelectChallenge,
            s.session.as_deref(),
            &[("USERNAME", "sel"), ("ANSWER", "PASSWORD"), ("PASSWORD", "wrong")],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (wrong.1.as_str(), wrong.2.as_str()),
        ("NotAuthorizedException", "Incorrect username or password.")
    );
    let env2 = Env::new(UserPoolMfaType::Off).await;
    env2.user("plain", &[]).await;
    let s = env2.initiate("plain", &[]).await.unwrap();
    let refused = env2
        .respond(
            ChallengeNameType::SelectChallenge,
            s.session.as_deref(),
            &[("USERNAME", "plain"), ("ANSWER", "EMAIL_OTP")],
        )
        .await
        .unwrap_err();
    assert_eq!(refused.1, "InvalidParameterException", "{refused:?}");
    let missing = env2
        .respond(
            ChallengeNameType::SelectChallenge,
            s.session.as_deref(),
            &[("USERNAME", "plain"), ("ANSWER", "PASSWORD")],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (missing.1.as_str(), missing.2.as_str()),
        ("InvalidParameterException", "Missing required parameter PASSWORD")
    );
}

#[tokio::test]
async fn password_then_software_token_mfa_in_an_on_pool() {
    let env = Env::new(UserPoolMfaType::On).await;
    env.user("app", &[]).await;
    // First sign-in: MFA_SETUP with an authenticator.
    let o = env
        .initiate("app", &[("PREFERRED_CHALLENGE", "PASSWORD"), ("PASSWORD", PASSWORD)])
        .await
        .unwrap();
    assert_eq!(o.name(), "MFA_SETUP");
    let assoc = env
        .c
        .associate_software_token()
        .session(o.session.clone().unwrap())
        .send()
        .await
        .expect("Associate");
    let secret = assoc.secret_code.expect("secret");
    let now = env.clock.now() as u64;
    let v = env
        .c
        .verify_software_token()
        .session(assoc.session.unwrap())
        .user_code(totp_at(&secret, now))
        .send()
        .await
        .expect("Verify");
    let done = env
        .respond(
            ChallengeNameType::MfaSetup,
            v.session.as_deref(),
            &[("USERNAME", "app")],
        )
        .await
        .unwrap();
    assert!(done.tokens);
    // Next sign-in, a time step later: PASSWORD, then SOFTWARE_TOKEN_MFA.
    env.clock.advance(30.0);
    let o = env
        .initiate("app", &[("PREFERRED_CHALLENGE", "PASSWORD"), ("PASSWORD", PASSWORD)])
        .await
        .unwrap();
    assert_eq!(o.name(), "SOFTWARE_TOKEN_MFA");
    let done = env
        .respond(
            ChallengeNameType::SoftwareTokenMfa,
            o.session.as_deref(),
            &[
                ("USERNAME", "app"),
                ("SOFTWARE_TOKEN_MFA_CODE", &totp_at(&secret, now + 30)),
            ],
        )
        .await
        .unwrap();
    assert!(done.tokens, "{done:?}");
}

#[tokio::test]
async fn the_admin_operations_run_the_same_choices() {
    let env = Env::new(UserPoolMfaType::Off).await;
    env.user("adm", USERS[3].1).await;
    let o = env
        .admin_initiate("adm", &[("PREFERRED_CHALLENGE", "EMAIL_OTP")])
        .await
        .unwrap();
    assert_eq!((o.name(), o.available.len()), ("EMAIL_OTP", 4));
    let code = env.code("adm", 8).await;
    let done = env
        .admin_respond(
            ChallengeNameType::EmailOtp,
            o.session.as_deref().unwrap(),
            &[("USERNAME", "adm"), ("EMAIL_OTP_CODE", &code)],
        )
        .await
        .unwrap();
    assert!(done.tokens);

    let s = env.admin_initiate("adm", &[]).await.unwrap();
    assert_eq!(s.name(), SELECT);
    let o = env
        .admin_respond(
            ChallengeNameType::SelectChallenge,
            s.session.as_deref().unwrap(),
            &[("USERNAME", "adm"), ("ANSWER", "SMS_OTP")],
        )
        .await
        .unwrap();
    let code = env.code("adm", 8).await;
    let done = env
        .admin_respond(
            ChallengeNameType::SmsOtp,
            o.session.as_deref().unwrap(),
            &[("USERNAME", "adm"), ("SMS_OTP_CODE", &code)],
        )
        .await
        .unwrap();
    assert!(done.tokens);
    let o = env
        .admin_initiate("adm", &[("PREFERRED_CHALLENGE", "PASSWORD"), ("PASSWORD", PASSWORD)])
        .await
        .unwrap();
    assert!(o.tokens);
}

#[tokio::test]
async fn user_auth_needs_the_client_flow_and_an_essentials_pool() {
    let env = Env::new(UserPoolMfaType::Off).await;
    env.user("x", &[]).await;
    let other = env
        .c
        .create_user_pool_client()
        .user_pool_id(&env.pool)
        .client_name("legacy")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .and_then(|c| c.client_id)
        .unwrap();
    let f = env
        .c
        .initiate_auth()
        .client_id(other)
        .auth_flow(AuthFlowType::UserAuth)
        .auth_parameters("USERNAME", "x")
        .send()
        .await
        .map_err(service_fail)
        .unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        (
            "InvalidParameterException",
            "USER_AUTH flow not enabled for this client"
        )
    );

    let lite = Env::with(UserPoolMfaType::Off, UserPoolTierType::Lite).await;
    lite.user("x", &[]).await;
    let f = lite.initiate("x", &[]).await.unwrap_err();
    assert_eq!(f.1, "FeatureUnavailableInTierException", "{f:?}");

    // An unknown user: UserNotFoundException (existence errors are not hidden by default).
    let f = env.initiate("nobody", &[]).await.unwrap_err();
    assert_eq!(f.1, "UserNotFoundException", "{f:?}");
}

#[tokio::test]
async fn confirm_sign_up_session_signs_the_new_user_in_once() {
    let env = Env::new(UserPoolMfaType::Off).await;
    env.c
        .sign_up()
        .client_id(&env.client)
        .username("fresh")
        .user_attributes(attr("email", "fresh@example.com"))
        .send()
        .await
        .expect("SignUp without a password");
    let code = env.code("fresh", 6).await;
    let confirmed = env
        .c
        .confirm_sign_up()
        .client_id(&env.client)
        .username("fresh")
        .confirmation_code(code)
        .send()
        .await
        .expect("ConfirmSignUp");
    let session = confirmed.session.expect("a Session for USER_AUTH");
    let signed_in = |s: String| async {
        env.c
            .initiate_auth()
            .client_id(&env.client)
            .auth_flow(AuthFlowType::UserAuth)
            .auth_parameters("USERNAME", "fresh")
            .session(s)
            .send()
            .await
            .map_err(service_fail)
    };
    let o = signed_in(session.clone()).await.expect("signed in with the Session");
    assert!(o.authentication_result.and_then(|r| r.access_token).is_some());
    let again = signed_in(session).await.unwrap_err();
    assert_eq!(again.1, "NotAuthorizedException", "once: {again:?}");
    // GetUserAuthFactors: the verified email is the passwordless user's factor.
    let o = env
        .initiate("fresh", &[("PREFERRED_CHALLENGE", "EMAIL_OTP")])
        .await
        .unwrap();
    let code = env.code("fresh", 8).await;
    let done = env
        .c
        .respond_to_auth_challenge()
        .client_id(&env.client)
        .challenge_name(ChallengeNameType::EmailOtp)
        .session(o.session.unwrap())
        .challenge_responses("USERNAME", "fresh")
        .challenge_responses("EMAIL_OTP_CODE", code)
        .send()
        .await
        .expect("EMAIL_OTP");
    let access = done.authentication_result.and_then(|r| r.access_token).unwrap();
    let f = env.c.get_user_auth_factors().access_token(access).send().await.unwrap();
    assert_eq!(f.configured_user_auth_factors(), [AuthFactorType::EmailOtp]);

    // In a pool with no passwordless factor, SignUp needs a password.
    let on = Env::new(UserPoolMfaType::On).await;
    let f =
        on.c.sign_up()
            .client_id(&on.client)
            .username("needs-pw")
            .user_attributes(attr("email", "p@example.com"))
            .send()
            .await
            .map_err(service_fail)
            .unwrap_err();
    assert_eq!(f.1, "InvalidParameterException", "{f:?}");
}

#[tokio::test]
async fn codes_are_single_use_attempt_limited_and_bound_to_user_and_client() {
    let env = Env::new(UserPoolMfaType::Off).await;
    env.user("sec", USERS[3].1).await;
    env.user("other", USERS[1].1).await;
    let o = env
        .initiate("sec", &[("PREFERRED_CHALLENGE", "EMAIL_OTP")])
        .await
        .unwrap();
    let session = o.session.clone().unwrap();
    let code = env.code("sec", 8).await;
    let answer = |user: &'static str, code: String| {
        let session = session.clone();
        let env = &env;
        async move {
            env.respond(
                ChallengeNameType::EmailOtp,
                Some(&session),
                &[("USERNAME", user), ("EMAIL_OTP_CODE", &code)],
            )
            .await
        }
    };
    // Another user's name on this session, or another client: refused, the session unspent.
    let f = answer("other", code.clone()).await.unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        ("NotAuthorizedException", "Invalid session for the user.")
    );
    let second = env
        .c
        .create_user_pool_client()
        .user_pool_id(&env.pool)
        .client_name("second")
        .set_explicit_auth_flows(Some(choice_flows()))
        .send()
        .await
        .unwrap()
        .user_pool_client
        .and_then(|c| c.client_id)
        .unwrap();
    let f = env
        .c
        .respond_to_auth_challenge()
        .client_id(second)
        .challenge_name(ChallengeNameType::EmailOtp)
        .session(&session)
        .challenge_responses("USERNAME", "sec")
        .challenge_responses("EMAIL_OTP_CODE", &code)
        .send()
        .await
        .map_err(service_fail)
        .unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        ("NotAuthorizedException", "Invalid session for the user.")
    );
    // Codes of the wrong length are just wrong codes; five wrong codes lock the user out, and
    // then even the right code is refused.
    for bad in ["1", "1234567", "123456789", "abcdefgh", "00000000"] {
        let f = answer("sec", bad.into()).await.unwrap_err();
        assert_eq!((f.0, f.1.as_str()), (400, "CodeMismatchException"), "{bad}: {f:?}");
    }
    let f = answer("sec", code.clone()).await.unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        ("NotAuthorizedException", "Password attempts exceeded")
    );
    // Once the lockout is over the code works, once.
    env.clock.advance(2.0);
    assert!(answer("sec", code.clone()).await.unwrap().tokens);
    assert_eq!(answer("sec", code).await.unwrap_err().1, "NotAuthorizedException");
}

#[tokio::test]
async fn bad_choices_are_clear_4xx_errors() {
    let env = Env::new(UserPoolMfaType::Off).await;
    env.user("bad", USERS[1].1).await;
    let f = env
        .initiate("bad", &[("PREFERRED_CHALLENGE", "SOFTWARE_TOKEN_MFA")])
        .await
        .unwrap_err();
    assert_eq!((f.0, f.1.as_str()), (400, "InvalidParameterException"), "{f:?}");
    assert!(
        f.2.starts_with("Invalid PREFERRED_CHALLENGE SOFTWARE_TOKEN_MFA"),
        "{f:?}"
    );
    let f = env
        .initiate("bad", &[("PREFERRED_CHALLENGE", "PASSWORD_SRP")])
        .await
        .unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        ("InvalidParameterException", "Missing required parameter SRP_A")
    );
    let s = env.initiate("bad", &[]).await.unwrap();
    for (answer, want) in [
        ("SMS_OTP", "InvalidParameterException"),
        ("NOPE", "InvalidParameterException"),
    ] {
        let f = env
            .respond(
                ChallengeNameType::SelectChallenge,
                s.session.as_deref(),
                &[("USERNAME", "bad"), ("ANSWER", answer)],
            )
            .await
            .unwrap_err();
        assert_eq!((f.0, f.1.as_str()), (400, want), "{answer}: {f:?}");
    }
    let f = env
        .respond(
            ChallengeNameType::SelectChallenge,
            s.session.as_deref(),
            &[("USERNAME", "bad")],
        )
        .await
        .unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        ("InvalidParameterException", "Missing required parameter ANSWER")
    );

    // A factor the pool does not allow is never offered, and answering it is refused.
    let strict = Env::new(UserPoolMfaType::On).await;
    strict.user("strict", USERS[3].1).await;
    let s = strict
        .initiate("strict", &[("PREFERRED_CHALLENGE", "EMAIL_OTP")])
        .await
        .unwrap();
    assert_eq!(
        (s.name(), s.available.clone()),
        (SELECT, vec!["PASSWORD".to_owned(), "PASSWORD_SRP".to_owned()])
    );
    let f = strict
        .respond(
            ChallengeNameType::SelectChallenge,
            s.session.as_deref(),
            &[("USERNAME", "strict"), ("ANSWER", "EMAIL_OTP")],
        )
        .await
        .unwrap_err();
    assert_eq!(f.1, "InvalidParameterException", "{f:?}");
}

#[tokio::test]
async fn hidden_existence_gives_an_unknown_user_a_plausible_choice() {
    let env = Env::new(UserPoolMfaType::Off).await;
    let hiding = env
        .c
        .create_user_pool_client()
        .user_pool_id(&env.pool)
        .client_name("hiding")
        .set_explicit_auth_flows(Some(choice_flows()))
        .prevent_user_existence_errors(cip::types::PreventUserExistenceErrorTypes::Enabled)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .and_then(|c| c.client_id)
        .unwrap();
    let start = |params: Vec<(&'static str, String)>| {
        let c = env.c.clone();
        let hiding = hiding.clone();
        async move {
            let mut req = c
                .initiate_auth()
                .client_id(hiding)
                .auth_flow(AuthFlowType::UserAuth)
                .auth_parameters("USERNAME", "ghost");
            for (k, v) in params {
                req = req.auth_parameters(k, v);
            }
            req.send().await.map(|o| out!(o)).map_err(service_fail)
        }
    };
    let s = start(vec![])
        .await
        .expect("a SELECT_CHALLENGE, not UserNotFoundException");
    assert_eq!(
        (s.name(), s.available.clone()),
        (SELECT, vec!["PASSWORD".to_owned(), "PASSWORD_SRP".to_owned()])
    );
    let f = env
        .c
        .respond_to_auth_challenge()
        .client_id(&hiding)
        .challenge_name(ChallengeNameType::SelectChallenge)
        .session(s.session.unwrap())
        .challenge_responses("USERNAME", "ghost")
        .challenge_responses("ANSWER", "PASSWORD")
        .challenge_responses("PASSWORD", "whatever")
        .send()
        .await
        .map_err(service_fail)
        .unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        ("NotAuthorizedException", "Incorrect username or password.")
    );
    let f = start(vec![
        ("PREFERRED_CHALLENGE", "PASSWORD".into()),
        ("PASSWORD", "x".into()),
    ])
    .await
    .unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        ("NotAuthorizedException", "Incorrect username or password.")
    );
    let o = start(vec![("PREFERRED_CHALLENGE", "EMAIL_OTP".into())]).await.unwrap();
    assert_eq!(o.name(), SELECT, "no code goes anywhere for a user who does not exist");
}
