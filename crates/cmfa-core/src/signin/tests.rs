//! In-process tests of the transitions: each step module called directly with a pool, a client
//! and a user, no store and no HTTP. The end-to-end suites (Rust SDK, boto3, Node) cover the
//! same paths over the wire.

use super::otp::Medium;
use super::password_verifier::{Proof, State};
use super::*;
use crate::auth::session::{Challenge, code_hash, secret_block_for};
use crate::client::{self, AppClient};
use crate::compute::{Compute, ComputeSettings};
use crate::mfa::totp;
use crate::pool::{MfaFactors, rules};
use crate::user::mfa::{Factor, TotpDevice};
use crate::user::password::PasswordRecord;
use crate::user::{Lockout, User};
use cmfa_wire::shapes::{
    AttributeType, CreateUserPoolClientRequest, CreateUserPoolRequest, EmailMfaConfigType, SoftwareTokenMfaConfigType,
    UserPoolMfaType, UserStatusType,
};
use std::sync::OnceLock;

const NOW: f64 = 1_800_000_000.0;
const POOL_ID: &str = "us-east-1_engine";
const PASSWORD: &str = "Passw0rd!";

fn cpu() -> &'static Compute {
    static CPU: OnceLock<Compute> = OnceLock::new();
    CPU.get_or_init(|| Compute::new(ComputeSettings { threads: 1, queue: 64 }))
}

fn pool(mfa: UserPoolMfaType) -> UserPool {
    let mut p = rules::create(
        POOL_ID.into(),
        "arn".into(),
        1.0,
        CreateUserPoolRequest {
            pool_name: "p".into(),
            ..Default::default()
        },
    )
    .unwrap();
    p.config.mfa_configuration = Some(mfa);
    p.mfa = MfaFactors {
        sms_enabled: true,
        software_token: Some(SoftwareTokenMfaConfigType { enabled: Some(true) }),
        email: Some(EmailMfaConfigType::default()),
        web_authn: None,
        configured: true,
    };
    p
}

fn client() -> AppClient {
    client::create(
        "client1".into(),
        1.0,
        CreateUserPoolClientRequest {
            user_pool_id: POOL_ID.into(),
            client_name: "c".into(),
            ..Default::default()
        },
    )
    .unwrap()
}

fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType {
        name: name.into(),
        value: Some(value.into()),
    }
}

fn user() -> User {
    User {
        pool_id: POOL_ID.into(),
        username: "alice".into(),
        sub: "sub-1".into(),
        attributes: vec![
            attr("sub", "sub-1"),
            attr("email", "alice@example.com"),
            attr("phone_number", "+15550100"),
        ],
        enabled: true,
        status: UserStatusType::Confirmed,
        created: 0.0,
        modified: 0.0,
        password: Some(
            PasswordRecord::new(
                POOL_ID,
                "alice",
                PASSWORD,
                false,
                NOW - 60.0,
                crate::user::password::HashCost::Fast,
            )
            .unwrap(),
        ),
        lockout: Lockout::default(),
        fresh_from_sign_up: false,
        codes: vec![],
        mfa: Default::default(),
        signed_out_at_ms: 0,
        groups: vec![],
        version: 1,
    }
}

fn with_totp(mut u: User, secret: &[u8]) -> User {
    u.mfa.totp = Some(TotpDevice {
        secret_hex: hex::encode(secret),
        friendly_name: Some("phone".into()),
        last_step: None,
    });
    u.mfa.totp_enabled = true;
    u
}

fn locked(mut u: User) -> User {
    for _ in 0..6 {
        u.lockout.fail(NOW - 1.0);
    }
    assert!(u.lockout.is_locked(NOW));
    u
}

fn turn<'a>(pool: &'a UserPool, client: &'a AppClient, user: &'a User) -> Turn<'a> {
    Turn {
        pool,
        client,
        key: "alice",
        user,
        now: NOW,
        cpu: cpu(),
        hash_cost: crate::user::password::HashCost::Fast,
    }
}

fn prompt(o: Outcome) -> Prompt {
    match o {
        Outcome::Challenge(p) => *p,
        other => panic!("expected a challenge, got {other:?}"),
    }
}

fn refused(r: Result<Outcome>) -> DomainError {
    match r {
        Err(e) => e,
        Ok(o) => panic!("expected a refusal, got {o:?}"),
    }
}

fn failed(r: Result<Outcome>) -> DomainError {
    match r {
        Ok(Outcome::Fail(e)) => e,
        other => panic!("expected a counted failure, got {other:?}"),
    }
}

fn is_not_authorized(e: &DomainError, text: &str) -> bool {
    matches!(e, DomainError::NotAuthorized(m) if m == text)
}

// --- first factor: password -------------------------------------------------------------------

#[tokio::test]
async fn a_right_password_in_an_off_pool_gives_tokens() {
    let (p, c, u) = (pool(UserPoolMfaType::Off), client(), user());
    let o = password::answer(&turn(&p, &c, &u), PASSWORD).await.unwrap();
    assert!(matches!(o, Outcome::Tokens(Change::None)), "{o:?}");
}

#[tokio::test]
async fn a_wrong_password_counts_and_a_locked_or_unconfirmed_user_is_refused_first() {
    let (p, c, u) = (pool(UserPoolMfaType::Off), client(), user());
    let e = failed(password::answer(&turn(&p, &c, &u), "nope").await);
    assert!(is_not_authorized(&e, crate::messages::BAD_CREDENTIALS));

    let l = locked(user());
    let e = refused(password::answer(&turn(&p, &c, &l), PASSWORD).await);
    assert!(
        is_not_authorized(&e, crate::messages::LOCKED),
        "locked even with the right password"
    );

    let mut un = user();
    un.status = UserStatusType::Unconfirmed;
    let e = refused(password::answer(&turn(&p, &c, &un), "anything").await);
    assert!(matches!(e, DomainError::UserNotConfirmed(_)));

    let mut off = user();
    off.enabled = false;
    let e = refused(password::answer(&turn(&p, &c, &off), PASSWORD).await);
    assert!(is_not_authorized(&e, crate::messages::USER_DISABLED));
}

#[tokio::test]
async fn a_temporary_password_asks_for_a_new_one_until_it_expires() {
    let (p, c) = (pool(UserPoolMfaType::Off), client());
    let mut u = user();
    u.status = UserStatusType::ForceChangePassword;
    let pr = prompt(password::answer(&turn(&p, &c, &u), PASSWORD).await.unwrap());
    assert!(matches!(pr.challenge, Challenge::NewPasswordRequired));
    assert_eq!(pr.parameters["USER_ID_FOR_SRP"], "alice");
    assert_eq!(pr.parameters["requiredAttributes"], "[]");
    assert!(pr.parameters["userAttributes"].contains("alice@example.com"));
    assert!(pr.session_in_reply);

    u.password.as_mut().unwrap().set_at = NOW - 8.0 * 86400.0;
    let e = refused(password::answer(&turn(&p, &c, &u), PASSWORD).await);
    assert!(is_not_authorized(
        &e,
        "Temporary password has expired and must be reset by an administrator."
    ));
}

#[tokio::test]
async fn a_password_in_an_on_pool_opens_the_users_mfa_challenge() {
    let (p, c) = (pool(UserPoolMfaType::On), client());
    let secret = totp::new_secret();
    // No phone or email: the authenticator is the only factor, so no choice is offered.
    let mut u = with_totp(user(), &secret);
    u.attributes.retain(|a| a.name == "sub");
    let pr = prompt(password::answer(&turn(&p, &c, &u), PASSWORD).await.unwrap());
    assert!(matches!(pr.challenge, Challenge::SoftwareTokenMfa));
    assert_eq!(pr.parameters["FRIENDLY_DEVICE_NAME"], "phone");
    assert!(pr.message.is_none() && pr.user.is_none());
}

// --- first factor: SRP, then PASSWORD_VERIFIER ------------------------------------------------

#[tokio::test]
async fn srp_start_opens_password_verifier_without_a_session_and_a_right_proof_passes() {
    let (p, c, u) = (pool(UserPoolMfaType::Off), client(), user());
    let (user_id, verifier) = srp::verifier_of(&u, NOW).unwrap();
    // The client's A is needed before the server's B; run the client first for A.
    use aws_cognito_srp::{SrpClient, User as SrpUser};
    let srp_client = SrpClient::<SrpUser>::new(SrpUser::new(POOL_ID, "alice", PASSWORD), "client1", None);
    let a = srp_client.get_auth_parameters().a;
    let pr = prompt(srp::start(cpu(), &user_id, verifier, &a).await.unwrap());
    assert!(!pr.session_in_reply, "as AWS: the SECRET_BLOCK names the session");
    assert_eq!(pr.parameters["SECRET_BLOCK"], secret_block_for(&pr.session_id));
    for k in ["SALT", "SRP_B", "USER_ID_FOR_SRP", "USERNAME"] {
        assert!(pr.parameters.contains_key(k), "{k}");
    }
    let answer = srp_client
        .verify(
            &pr.parameters["SECRET_BLOCK"],
            &pr.parameters["USER_ID_FOR_SRP"],
            &pr.parameters["SALT"],
            &pr.parameters["SRP_B"],
        )
        .unwrap();
    let Challenge::PasswordVerifier {
        ephemeral,
        srp_a,
        secret_block,
    } = &pr.challenge
    else {
        panic!("PASSWORD_VERIFIER")
    };
    let t = turn(&p, &c, &u);
    let state = || State {
        ephemeral,
        srp_a,
        secret_block,
    };
    // Right proof (the client stamps the real time; the turn's clock must agree within the
    // allowed skew, so use the wall clock here).
    let live = Turn {
        now: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64(),
        ..turn(&p, &c, &u)
    };
    let ok = password_verifier::answer(
        &live,
        state(),
        Proof {
            secret_block,
            signature: &answer.password_claim_signature,
            timestamp: &answer.timestamp,
        },
    )
    .await
    .unwrap();
    assert!(matches!(ok, Outcome::Tokens(Change::None)), "{ok:?}");

    // A wrong signature counts; another session's block counts; a stale timestamp does not.
    let e = failed(
        password_verifier::answer(
            &live,
            state(),
            Proof {
                secret_block,
                signature: "AAAA",
                timestamp: &answer.timestamp,
            },
        )
        .await,
    );
    assert!(is_not_authorized(&e, crate::messages::BAD_CREDENTIALS));
    let other = secret_block_for("another-session");
    let e = failed(
        password_verifier::answer(
            &live,
            state(),
            Proof {
                secret_block: &other,
                signature: &answer.password_claim_signature,
                timestamp: &answer.timestamp,
            },
        )
        .await,
    );
    assert!(is_not_authorized(&e, crate::messages::BAD_CREDENTIALS));
    let e = refused(
        password_verifier::answer(
            &t,
            state(),
            Proof {
                secret_block,
                signature: &answer.password_claim_signature,
                timestamp: &answer.timestamp,
            },
        )
        .await,
    );
    assert!(is_not_authorized(&e, "Invalid timestamp."), "{e:?}");
}

#[tokio::test]
async fn srp_refuses_unconfirmed_locked_and_passwordless_users_before_any_challenge() {
    let mut un = user();
    un.status = UserStatusType::Unconfirmed;
    assert!(matches!(
        srp::verifier_of(&un, NOW),
        Err(DomainError::UserNotConfirmed(_))
    ));
    let e = srp::verifier_of(&locked(user()), NOW).unwrap_err();
    assert!(is_not_authorized(&e, crate::messages::LOCKED));
    let mut none = user();
    none.password = None;
    let e = srp::verifier_of(&none, NOW).unwrap_err();
    assert!(is_not_authorized(&e, crate::messages::BAD_CREDENTIALS));
}

// --- NEW_PASSWORD_REQUIRED --------------------------------------------------------------------

#[tokio::test]
async fn a_new_password_confirms_the_user_and_must_meet_the_policy() {
    let (p, c) = (pool(UserPoolMfaType::Off), client());
    let mut u = user();
    u.status = UserStatusType::ForceChangePassword;
    let t = turn(&p, &c, &u);
    let changed = new_password::answer(&t, "N3w-Passw0rd!", &[attr("name", "Alice")])
        .await
        .unwrap();
    assert_eq!(changed.status, UserStatusType::Confirmed);
    assert_eq!(changed.attr("name"), Some("Alice"));
    assert!(changed.password.as_ref().unwrap().matches("N3w-Passw0rd!"));
    assert!(!changed.password.as_ref().unwrap().temporary);

    let weak = new_password::answer(&t, "short", &[]).await.unwrap_err();
    assert!(matches!(weak, DomainError::InvalidPassword(_)), "{weak:?}");
    let immutable = new_password::answer(&t, "N3w-Passw0rd!", &[attr("sub", "x")])
        .await
        .unwrap_err();
    assert!(matches!(immutable, DomainError::InvalidParameter(_)), "{immutable:?}");
}

// --- SMS_MFA / EMAIL_OTP ----------------------------------------------------------------------

#[test]
fn a_code_challenge_sends_a_code_only_its_hash_is_kept_and_the_right_code_proves_the_channel() {
    let (p, c, u) = (pool(UserPoolMfaType::On), client(), user());
    for (factor, medium, digits, field) in [
        (Factor::Sms, Medium::Sms, 6, "phone_number"),
        (Factor::Email, Medium::Email, 8, "email"),
    ] {
        let pr = next::factor_prompt(&p, &u, factor);
        let message = pr.message.as_ref().expect("a code to deliver");
        let code: String = message.body.chars().filter(char::is_ascii_digit).collect();
        assert_eq!(code.len(), digits, "{}", message.body);
        assert_eq!(message.destination, u.attr(field).unwrap());
        let (want, destination) = match &pr.challenge {
            Challenge::SmsMfa { code_hash, destination }
            | Challenge::EmailOtp {
                code_hash, destination, ..
            } => (code_hash.clone(), destination.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(want, code_hash(&pr.session_id, &code));
        assert!(
            !format!("{:?}", pr.challenge).contains(&code),
            "the code itself is not kept"
        );
        assert!(pr.parameters["CODE_DELIVERY_DESTINATION"].contains('*'), "masked");

        let t = turn(&p, &c, &u);
        let ok = otp::answer(&t, medium, &pr.session_id, &want, &destination, &code).unwrap();
        let Outcome::Tokens(change) = ok else { panic!("{ok:?}") };
        let mut after = u.clone();
        change.apply(&mut after).unwrap();
        assert!(after.flag(&format!("{field}_verified")), "{field}");

        let e = failed(otp::answer(&t, medium, &pr.session_id, &want, &destination, "00000000"));
        assert!(matches!(e, DomainError::CodeMismatch(_)));
        // The hash is bound to its session: the right code in another session is wrong.
        let e = failed(otp::answer(&t, medium, "other-session", &want, &destination, &code));
        assert!(matches!(e, DomainError::CodeMismatch(_)));
    }
}

#[test]
fn a_code_proves_nothing_once_the_attribute_moved_on() {
    let change = Change::ProveContact {
        attribute: "email",
        verified: "email_verified",
        destination: "old@example.com".into(),
    };
    let mut u = user();
    change.apply(&mut u).unwrap();
    assert_eq!(u.attr("email_verified"), None);
}

#[test]
fn locked_and_disabled_users_cannot_answer_any_mfa_challenge() {
    let (p, c) = (pool(UserPoolMfaType::On), client());
    let l = locked(user());
    let mut d = user();
    d.enabled = false;
    for (u, text) in [(&l, crate::messages::LOCKED), (&d, crate::messages::USER_DISABLED)] {
        let t = turn(&p, &c, u);
        let h = code_hash("s", "123456");
        for r in [
            otp::answer(&t, Medium::Sms, "s", &h, "+15550100", "123456"),
            software_token::answer(&t, "123456"),
            select_mfa::answer(&t, &[Factor::Sms], "SMS_MFA"),
            mfa_setup::answer(&t, &[Factor::SoftwareToken], true, None),
        ] {
            assert!(is_not_authorized(&refused(r), text));
        }
    }
}

// --- SOFTWARE_TOKEN_MFA -----------------------------------------------------------------------

#[test]
fn a_totp_code_signs_in_once_per_time_step() {
    let (p, c) = (pool(UserPoolMfaType::On), client());
    let secret = totp::new_secret();
    let u = with_totp(user(), &secret);
    let step = NOW as u64 / totp::STEP_SECS;
    let code = totp::code_at(&secret, step);
    let t = turn(&p, &c, &u);
    let o = software_token::answer(&t, &code).unwrap();
    assert!(
        matches!(o, Outcome::Tokens(Change::UseTotpStep(s)) if s == step),
        "{o:?}"
    );

    // Once that step is used, the same code is refused without counting toward the lockout.
    let mut used = u.clone();
    Change::UseTotpStep(step).apply(&mut used).unwrap();
    let e = refused(software_token::answer(&turn(&p, &c, &used), &code));
    assert!(matches!(e, DomainError::ExpiredCode(m) if m == crate::messages::TOTP_REUSED));
    // A racing sign-in that used the step first makes re-applying the change fail.
    assert!(matches!(
        Change::UseTotpStep(step).apply(&mut used),
        Err(DomainError::ExpiredCode(_))
    ));

    let e = failed(software_token::answer(&t, "000000"));
    assert!(matches!(e, DomainError::CodeMismatch(_)));
    let e = refused(software_token::answer(&turn(&p, &c, &user()), &code));
    assert!(matches!(e, DomainError::SoftwareTokenMfaNotFound(_)));
}

// --- SELECT_MFA_TYPE --------------------------------------------------------------------------

#[test]
fn select_mfa_type_opens_the_chosen_factor_and_refuses_others() {
    let (p, c) = (pool(UserPoolMfaType::On), client());
    let secret = totp::new_secret();
    let mut u = with_totp(user(), &secret);
    u.mfa.sms_enabled = true;
    let chooser = prompt(next::mfa(&p, &u).unwrap());
    let Challenge::SelectMfaType { options } = &chooser.challenge else {
        panic!("{:?}", chooser.challenge)
    };
    // ON: the authenticator first, then each channel the user can receive.
    assert_eq!(
        chooser.parameters["MFAS_CAN_CHOOSE"],
        "[\"SOFTWARE_TOKEN_MFA\",\"SMS_MFA\",\"EMAIL_OTP\"]"
    );

    let t = turn(&p, &c, &u);
    let sms = prompt(select_mfa::answer(&t, options, "SMS_MFA").unwrap());
    assert!(matches!(sms.challenge, Challenge::SmsMfa { .. }) && sms.message.is_some());
    let app = prompt(select_mfa::answer(&t, options, "SOFTWARE_TOKEN_MFA").unwrap());
    assert!(matches!(app.challenge, Challenge::SoftwareTokenMfa));
    let e = refused(select_mfa::answer(&t, &options[..2], "EMAIL_OTP"));
    assert!(
        matches!(e, DomainError::InvalidParameter(m) if m.contains("EMAIL_OTP")),
        "not among the options"
    );
}

// --- MFA_SETUP --------------------------------------------------------------------------------

#[test]
fn mfa_setup_registers_an_authenticator_through_associate_and_verify() {
    let (p, c) = (pool(UserPoolMfaType::On), client());
    let mut u = user();
    u.attributes.retain(|a| a.name == "sub");
    let setup = prompt(next::mfa(&p, &u).unwrap());
    let Challenge::MfaSetup { options, totp_verified } = setup.challenge.clone() else {
        panic!("{:?}", setup.challenge)
    };
    assert!(!totp_verified);
    assert_eq!(
        setup.parameters["MFAS_CAN_SETUP"],
        "[\"SMS_MFA\",\"SOFTWARE_TOKEN_MFA\",\"EMAIL_OTP\"]"
    );

    // Answering before anything is set up is refused.
    let t = turn(&p, &c, &u);
    assert!(matches!(
        refused(mfa_setup::answer(&t, &options, false, None)),
        DomainError::InvalidParameter(_)
    ));

    let assoc = mfa_setup::setup_step(&u, options.clone(), mfa_setup::SetupStep::Associate, NOW).unwrap();
    let secret = assoc.secret.expect("a secret to show");
    assert!(assoc.user.mfa.pending_totp_hex.is_some());
    let wrong = mfa_setup::setup_step(
        &assoc.user,
        options.clone(),
        mfa_setup::SetupStep::Verify {
            code: "000000",
            friendly_name: None,
        },
        NOW,
    );
    assert!(matches!(wrong, Err(DomainError::EnableSoftwareTokenMfa(_))));
    let code = totp::code_at(&secret, NOW as u64 / totp::STEP_SECS);
    let verified = mfa_setup::setup_step(
        &assoc.user,
        options.clone(),
        mfa_setup::SetupStep::Verify {
            code: &code,
            friendly_name: Some("app".into()),
        },
        NOW,
    )
    .unwrap();
    assert!(verified.user.mfa.totp.is_some() && verified.user.mfa.totp_enabled);
    assert!(matches!(
        verified.prompt.challenge,
        Challenge::MfaSetup {
            totp_verified: true,
            ..
        }
    ));
    let t = turn(&p, &c, &verified.user);
    let done = mfa_setup::answer(&t, &options, true, None).unwrap();
    assert!(matches!(done, Outcome::Tokens(Change::EnableTotp)));
}

#[test]
fn mfa_setup_with_an_email_opens_an_email_code_to_it() {
    let (p, c) = (pool(UserPoolMfaType::On), client());
    let mut u = user();
    u.attributes.retain(|a| a.name == "sub");
    let t = turn(&p, &c, &u);
    let pr = prompt(mfa_setup::answer(&t, &[Factor::Email], false, Some("new@example.com")).unwrap());
    assert!(matches!(&pr.challenge, Challenge::EmailOtp { destination, .. } if destination == "new@example.com"));
    let changed = pr.user.expect("the address is saved with the step");
    assert_eq!(changed.attr("email"), Some("new@example.com"));
    assert_eq!(changed.attr("email_verified"), Some("false"));
    assert!(changed.mfa.email_enabled);
    assert_eq!(pr.message.unwrap().destination, "new@example.com");

    let e = refused(mfa_setup::answer(&t, &[Factor::Email], false, Some("not an email")));
    assert!(matches!(e, DomainError::InvalidParameter(_)), "{e:?}");
    let e = refused(mfa_setup::answer(
        &t,
        &[Factor::SoftwareToken],
        false,
        Some("a@example.com"),
    ));
    assert!(matches!(e, DomainError::InvalidParameter(_)), "email is not on offer");
    let e = mfa_setup::setup_step(&u, vec![Factor::Email], mfa_setup::SetupStep::Associate, NOW).err();
    assert!(matches!(e, Some(DomainError::SoftwareTokenMfaNotFound(_))));
}

// --- the MFA decision after the first factor ---------------------------------------------------

#[test]
fn the_step_after_the_first_factor_follows_pool_and_user() {
    let c = client();
    let off = pool(UserPoolMfaType::Off);
    let optional = pool(UserPoolMfaType::Optional);
    let on = pool(UserPoolMfaType::On);
    let plain = user();
    assert!(matches!(
        next::after_first_factor(&turn(&off, &c, &plain)),
        Ok(Outcome::Tokens(_))
    ));
    assert!(matches!(
        next::after_first_factor(&turn(&optional, &c, &plain)),
        Ok(Outcome::Tokens(_))
    ));
    let mut sms = user();
    sms.mfa.sms_enabled = true;
    let pr = prompt(next::after_first_factor(&turn(&optional, &c, &sms)).unwrap());
    assert!(matches!(pr.challenge, Challenge::SmsMfa { .. }));
    assert_eq!(pr.message.as_ref().unwrap().purpose, "SMS_MFA");

    let mut reset = user();
    reset.status = UserStatusType::ResetRequired;
    assert!(matches!(
        next::after_first_factor(&turn(&on, &c, &reset)),
        Err(DomainError::PasswordResetRequired(_))
    ));

    // ON with no factor on offer and nothing to set up.
    let mut bare = pool(UserPoolMfaType::On);
    bare.mfa.sms_enabled = false;
    bare.mfa.software_token = None;
    bare.mfa.email = None;
    assert!(matches!(
        next::after_first_factor(&turn(&bare, &c, &plain)),
        Err(DomainError::MfaMethodNotFound(_))
    ));
}

// --- rendering ---------------------------------------------------------------------------------

#[test]
fn a_reply_renders_into_each_response_shape() {
    let reply = || Reply {
        challenge: Some(cmfa_wire::shapes::ChallengeNameType::SmsMfa),
        session: Some("s".into()),
        parameters: base_parameters(&user()),
        result: None,
        available: Some(vec![cmfa_wire::shapes::ChallengeNameType::Password]),
    };
    let a: cmfa_wire::shapes::InitiateAuthResponse = reply().into();
    let b: cmfa_wire::shapes::AdminRespondToAuthChallengeResponse = reply().into();
    assert_eq!(a.session.as_deref(), Some("s"));
    assert_eq!(b.challenge_name, Some(cmfa_wire::shapes::ChallengeNameType::SmsMfa));
    assert_eq!(a.challenge_parameters.unwrap()["USER_ID_FOR_SRP"], "alice");
    assert!(b.authentication_result.is_none());
    assert_eq!(
        b.available_challenges,
        Some(vec![cmfa_wire::shapes::ChallengeNameType::Password])
    );
}

// --- USER_AUTH (choice-based sign-in) ----------------------------------------------------------

fn verified(mut u: User, email: bool, phone: bool) -> User {
    if email {
        u.set_attr("email_verified", Some("true".into()));
    }
    if phone {
        u.set_attr("phone_number_verified", Some("true".into()));
    }
    u
}

fn passwordless_pool(mfa: UserPoolMfaType) -> UserPool {
    use cmfa_wire::shapes::AuthFactorType as F;
    let mut p = pool(mfa);
    let policies = p.config.policies.get_or_insert_with(Default::default);
    policies.sign_in_policy = Some(cmfa_wire::shapes::SignInPolicyType {
        allowed_first_auth_factors: Some(vec![F::Password, F::EmailOtp, F::SmsOtp]),
    });
    p
}

fn names(f: &[choice::FirstFactor]) -> Vec<&'static str> {
    f.iter().map(|f| f.challenge_name().as_str()).collect()
}

#[test]
fn available_first_factors_follow_the_pool_the_user_and_mfa() {
    use choice::available;
    let everything = verified(user(), true, true);
    // The pool allows only PASSWORD (AWS's default): the password factors.
    assert_eq!(
        names(&available(&pool(UserPoolMfaType::Off), &everything)),
        ["PASSWORD", "PASSWORD_SRP"]
    );
    let off = passwordless_pool(UserPoolMfaType::Off);
    assert_eq!(
        names(&available(&off, &everything)),
        ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP", "SMS_OTP"]
    );
    // Unverified contacts are not offered; no password, no password factors.
    assert_eq!(names(&available(&off, &user())), ["PASSWORD", "PASSWORD_SRP"]);
    let mut passwordless = verified(user(), true, false);
    passwordless.password = None;
    assert_eq!(names(&available(&off, &passwordless)), ["EMAIL_OTP"]);
    // OPTIONAL: passwordless only for users without MFA; ON: password factors only.
    let optional = passwordless_pool(UserPoolMfaType::Optional);
    assert_eq!(names(&available(&optional, &everything)).len(), 4);
    let with_mfa = with_totp(everything.clone(), &totp::new_secret());
    assert_eq!(names(&available(&optional, &with_mfa)), ["PASSWORD", "PASSWORD_SRP"]);
    let on = passwordless_pool(UserPoolMfaType::On);
    assert_eq!(names(&available(&on, &everything)), ["PASSWORD", "PASSWORD_SRP"]);
    assert!(available(&on, &passwordless).is_empty());
}

#[tokio::test]
async fn user_auth_without_a_preference_offers_select_challenge() {
    let (p, c) = (passwordless_pool(UserPoolMfaType::Off), client());
    let u = verified(user(), true, false);
    let pr = prompt(user_auth::start(&turn(&p, &c, &u), None).await.unwrap());
    let Challenge::SelectChallenge { options } = &pr.challenge else {
        panic!("{:?}", pr.challenge)
    };
    assert_eq!(names(options), ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]);
    assert_eq!(pr.available.as_deref().map(names), Some(names(options)));
    assert!(pr.parameters.is_empty() && pr.message.is_none());

    // A preference the user cannot use (no verified phone; no passkeys yet) falls back to it.
    for pref in [params::Choice::SmsOtp, params::Choice::WebAuthn] {
        let pr = prompt(user_auth::start(&turn(&p, &c, &u), Some(&pref)).await.unwrap());
        assert!(matches!(pr.challenge, Challenge::SelectChallenge { .. }), "{pref:?}");
    }
    // Nothing to offer: refused.
    let mut bare = user();
    bare.password = None;
    let e = refused(user_auth::start(&turn(&p, &c, &bare), None).await);
    assert!(is_not_authorized(&e, user_auth::NOTHING_AVAILABLE));
    let mut un = verified(user(), true, false);
    un.status = UserStatusType::Unconfirmed;
    assert!(matches!(
        refused(user_auth::start(&turn(&p, &c, &un), None).await),
        DomainError::UserNotConfirmed(_)
    ));
}

#[tokio::test]
async fn a_preferred_email_or_sms_code_is_sent_at_once_and_ends_the_sign_in() {
    // ON would not offer it; OFF does, and no MFA follows the code even with MFA configured.
    let (p, c) = (passwordless_pool(UserPoolMfaType::Off), client());
    let u = verified(user(), true, true);
    for (pref, medium, name, field) in [
        (params::Choice::EmailOtp, Medium::Email, "EMAIL_OTP", "email"),
        (params::Choice::SmsOtp, Medium::Sms, "SMS_OTP", "phone_number"),
    ] {
        let pr = prompt(user_auth::start(&turn(&p, &c, &u), Some(&pref)).await.unwrap());
        assert_eq!(pr.challenge.name(), name);
        assert!(pr.available.is_some(), "AvailableChallenges rides along");
        let message = pr.message.as_ref().unwrap();
        assert_eq!(message.purpose, name);
        let code: String = message.body.chars().filter(char::is_ascii_digit).collect();
        assert_eq!(code.len(), 8, "passwordless codes have 8 digits: {}", message.body);
        let (want, destination) = match &pr.challenge {
            Challenge::EmailOtp {
                code_hash,
                destination,
                first_factor,
            } => {
                assert!(first_factor);
                (code_hash.clone(), destination.clone())
            }
            Challenge::SmsOtp { code_hash, destination } => (code_hash.clone(), destination.clone()),
            other => panic!("{other:?}"),
        };
        assert_eq!(destination, u.attr(field).unwrap());
        let t = turn(&p, &c, &u);
        let ok = otp::answer(&t, medium, &pr.session_id, &want, &destination, &code).unwrap();
        assert!(matches!(ok, Outcome::Tokens(Change::ProveContact { .. })), "{ok:?}");
        assert!(matches!(
            failed(otp::answer(&t, medium, &pr.session_id, &want, &destination, "12345678")),
            DomainError::CodeMismatch(_)
        ));
    }
    // A locked user gets no code sent.
    let l = locked(verified(user(), true, false));
    let e = refused(user_auth::start(&turn(&p, &c, &l), Some(&params::Choice::EmailOtp)).await);
    assert!(is_not_authorized(&e, crate::messages::LOCKED));
}

#[tokio::test]
async fn a_preferred_password_is_a_first_factor_and_mfa_follows_it() {
    let (p, c) = (passwordless_pool(UserPoolMfaType::On), client());
    let secret = totp::new_secret();
    let mut u = with_totp(user(), &secret);
    u.attributes.retain(|a| a.name == "sub");
    let pref = params::Choice::Password(PASSWORD.into());
    let pr = prompt(user_auth::start(&turn(&p, &c, &u), Some(&pref)).await.unwrap());
    assert!(matches!(pr.challenge, Challenge::SoftwareTokenMfa));
    assert_eq!(
        pr.available.as_deref().map(names),
        Some(vec!["PASSWORD", "PASSWORD_SRP"])
    );
    let wrong = params::Choice::Password("nope".into());
    let e = failed(user_auth::start(&turn(&p, &c, &u), Some(&wrong)).await);
    assert!(is_not_authorized(&e, crate::messages::BAD_CREDENTIALS));
    let srp_pref = params::Choice::PasswordSrp {
        srp_a: "0a".repeat(192),
    };
    let pr = prompt(user_auth::start(&turn(&p, &c, &u), Some(&srp_pref)).await.unwrap());
    assert!(matches!(pr.challenge, Challenge::PasswordVerifier { .. }) && !pr.session_in_reply);
}

#[tokio::test]
async fn select_challenge_answers_run_the_chosen_factor_and_only_offered_ones() {
    let (p, c) = (passwordless_pool(UserPoolMfaType::Off), client());
    let u = verified(user(), true, false);
    let offered = choice::available(&p, &u);
    let t = turn(&p, &c, &u);
    let o = user_auth::answer(&t, &offered, &params::Choice::Password(PASSWORD.into()))
        .await
        .unwrap();
    assert!(matches!(o, Outcome::Tokens(Change::None)));
    let pr = prompt(
        user_auth::answer(&t, &offered, &params::Choice::EmailOtp)
            .await
            .unwrap(),
    );
    assert!(matches!(pr.challenge, Challenge::EmailOtp { first_factor: true, .. }));
    assert!(pr.available.is_none(), "only InitiateAuth lists AvailableChallenges");
    let e = refused(user_auth::answer(&t, &offered, &params::Choice::SmsOtp).await);
    assert!(matches!(e, DomainError::InvalidParameter(m) if m.contains("PASSWORD, PASSWORD_SRP, EMAIL_OTP")));
}

#[test]
fn configured_auth_factors_list_what_user_auth_could_use() {
    use cmfa_wire::shapes::AuthFactorType as F;
    let p = passwordless_pool(UserPoolMfaType::On);
    assert_eq!(
        choice::configured(&p, &verified(user(), true, true)),
        [F::Password, F::EmailOtp, F::SmsOtp]
    );
    assert_eq!(
        choice::configured(&pool(UserPoolMfaType::Off), &verified(user(), true, true)),
        [F::Password]
    );
    assert!(choice::passwordless_pool(&p) && !choice::passwordless_pool(&pool(UserPoolMfaType::Off)));
}
