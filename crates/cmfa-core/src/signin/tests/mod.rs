//! In-process tests of the transitions: each step module called directly with a pool, a client
//! and a user, no store and no HTTP. The end-to-end suites (Rust SDK, boto3, Node) cover the
//! same paths over the wire. This file holds the fixtures; the tests are by step:
//! `first_factor` (password, SRP and PASSWORD_VERIFIER, NEW_PASSWORD_REQUIRED), `mfa` (the MFA
//! decision and every MFA challenge, rendering), `choice_based` (USER_AUTH).

mod choice_based;
mod first_factor;
mod mfa;

pub(super) use super::otp::Medium;
pub(super) use super::password_verifier::{Proof, State};
pub(super) use super::*;
pub(super) use crate::auth::session::{Challenge, code_hash, secret_block_for};
pub(super) use crate::client::{self, AppClient};
pub(super) use crate::compute::{Compute, ComputeSettings};
pub(super) use crate::mfa::totp;
pub(super) use crate::pool::{MfaFactors, rules};
pub(super) use crate::user::mfa::{Factor, TotpDevice};
pub(super) use crate::user::password::PasswordRecord;
pub(super) use crate::user::{Lockout, User};
pub(super) use cmfa_wire::shapes::{
    AttributeType, CreateUserPoolClientRequest, CreateUserPoolRequest, EmailMfaConfigType, SoftwareTokenMfaConfigType,
    UserPoolMfaType, UserStatusType,
};
pub(super) use std::sync::OnceLock;

pub(super) const NOW: f64 = 1_800_000_000.0;
pub(super) const POOL_ID: &str = "us-east-1_engine";
pub(super) const PASSWORD: &str = "Passw0rd!";

pub(super) fn cpu() -> &'static Compute {
    static CPU: OnceLock<Compute> = OnceLock::new();
    CPU.get_or_init(|| Compute::new(ComputeSettings { threads: 1, queue: 64 }))
}

pub(super) fn pool(mfa: UserPoolMfaType) -> UserPool {
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

pub(super) fn client() -> AppClient {
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

pub(super) fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType {
        name: name.into(),
        value: Some(value.into()),
    }
}

pub(super) fn user() -> User {
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
        passkeys: Vec::new(),
        version: 1,
    }
}

pub(super) fn with_totp(mut u: User, secret: &[u8]) -> User {
    u.mfa.totp = Some(TotpDevice {
        secret_hex: hex::encode(secret),
        friendly_name: Some("phone".into()),
        last_step: None,
    });
    u.mfa.totp_enabled = true;
    u
}

pub(super) fn locked(mut u: User) -> User {
    for _ in 0..6 {
        u.lockout.fail(NOW - 1.0);
    }
    assert!(u.lockout.is_locked(NOW));
    u
}

pub(super) fn turn<'a>(pool: &'a UserPool, client: &'a AppClient, user: &'a User) -> Turn<'a> {
    Turn {
        pool,
        client,
        key: "alice",
        user,
        now: NOW,
        cpu: cpu(),
        hash_cost: crate::user::password::HashCost::Fast,
        webauthn_origins: &[],
    }
}

pub(super) fn prompt(o: Outcome) -> Prompt {
    match o {
        Outcome::Challenge(p) => *p,
        other => panic!("expected a challenge, got {other:?}"),
    }
}

pub(super) fn refused(r: Result<Outcome>) -> DomainError {
    match r {
        Err(e) => e,
        Ok(o) => panic!("expected a refusal, got {o:?}"),
    }
}

pub(super) fn failed(r: Result<Outcome>) -> DomainError {
    match r {
        Ok(Outcome::Fail(e)) => e,
        other => panic!("expected a counted failure, got {other:?}"),
    }
}

pub(super) fn is_not_authorized(e: &DomainError, text: &str) -> bool {
    matches!(e, DomainError::NotAuthorized(m) if m == text)
}
