//! USER_AUTH: available first factors, SELECT_CHALLENGE, passwordless codes.

use super::*;

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
    for pref in [params::Choice::SmsOtp, params::Choice::WebAuthn { credential: None }] {
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
    let o = user_auth::answer(
        &t,
        "select-session",
        &offered,
        &params::Choice::Password(PASSWORD.into()),
    )
    .await
    .unwrap();
    assert!(matches!(o, Outcome::Tokens(Change::None)));
    let pr = prompt(
        user_auth::answer(&t, "select-session", &offered, &params::Choice::EmailOtp)
            .await
            .unwrap(),
    );
    assert!(matches!(pr.challenge, Challenge::EmailOtp { first_factor: true, .. }));
    assert!(pr.available.is_none(), "only InitiateAuth lists AvailableChallenges");
    let e = refused(user_auth::answer(&t, "select-session", &offered, &params::Choice::SmsOtp).await);
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
