//! What the stores keep on disk must not change by accident: pools, app clients, users and
//! sign-in sessions are stored as JSON of the domain types (which embed wire shapes generated
//! from botocore), so regenerating those shapes from a newer botocore, or renaming a field, could
//! silently change the format and strand existing data.
//!
//! The fixtures are rows written by a real server (pool with every MFA block, a client, a user
//! with TOTP, SMS and a password, and one session per challenge kind), extended by hand with the
//! shapes USER_AUTH and passkeys added (domains, a user's passkeys, their sessions). Each must decode into its
//! domain type and encode back to exactly the same JSON. A deliberate format change updates the
//! fixtures in the same commit, with a migration or a `serde(default)` for the old rows.

use cmfa_core::auth::session::AuthSession;
use cmfa_core::client::AppClient;
use cmfa_core::pool::UserPool;
use cmfa_core::user::User;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn round_trips<T: DeserializeOwned + Serialize>(name: &str, text: &str) {
    let stored: Value = serde_json::from_str(text).expect("fixture is JSON");
    let decoded: T = serde_json::from_value(stored.clone()).unwrap_or_else(|e| panic!("{name} no longer decodes: {e}"));
    let again = serde_json::to_value(&decoded).expect("encodes");
    assert_eq!(again, stored, "{name} no longer encodes to what is stored");
}

#[test]
fn a_stored_pool_round_trips() {
    round_trips::<UserPool>("pool.json", include_str!("fixtures/pool.json"));
}

#[test]
fn a_stored_app_client_round_trips() {
    round_trips::<AppClient>("client.json", include_str!("fixtures/client.json"));
}

#[test]
fn stored_users_round_trip() {
    round_trips::<Vec<User>>("users.json", include_str!("fixtures/users.json"));
}

#[test]
fn stored_sessions_of_every_challenge_round_trip() {
    let text = include_str!("fixtures/sessions.json");
    round_trips::<Vec<AuthSession>>("sessions.json", text);
    let kinds: Vec<String> = serde_json::from_str::<Vec<AuthSession>>(text)
        .unwrap()
        .iter()
        .map(|s| s.challenge.name().to_owned())
        .collect();
    for kind in [
        "PASSWORD_VERIFIER",
        "NEW_PASSWORD_REQUIRED",
        "SMS_MFA",
        "SOFTWARE_TOKEN_MFA",
        "SELECT_MFA_TYPE",
        "EMAIL_OTP",
        "SMS_OTP",
        "SELECT_CHALLENGE",
        "WEB_AUTHN",
        "WEB_AUTHN_REGISTRATION",
        "SIGN_UP_CONFIRMED",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "a {kind} session in the fixtures: {kinds:?}"
        );
    }
}
