//! First factors: the password, SRP and PASSWORD_VERIFIER, NEW_PASSWORD_REQUIRED.

use super::*;

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
