//! The MFA decision after a first factor, every MFA challenge, and the rendering of replies.

use super::*;

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
