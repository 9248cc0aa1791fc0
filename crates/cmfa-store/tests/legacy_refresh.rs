//! Refresh tokens issued before sealed refresh tokens (random strings whose hash the store
//! holds) keep working after an upgrade, until they expire or the user signs out everywhere;
//! sealed tokens never touch that table.

use cmfa_core::auth::tokens::refresh_token_hash;
use cmfa_core::clock::SystemClock;
use cmfa_core::error::DomainError;
use cmfa_core::ops::{Caller, Service};
use cmfa_core::settings::CoreSettings;
use cmfa_core::store::{RefreshRecord, Store};
use cmfa_core::user::password::HashCost;
use cmfa_store::SqliteStore;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::sync::Arc;

fn req<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("a valid request")
}

fn refresh_request(client_id: &str, token: &str) -> cmfa_wire::shapes::InitiateAuthRequest {
    req(json!({
        "ClientId": client_id,
        "AuthFlow": "REFRESH_TOKEN_AUTH",
        "AuthParameters": {"REFRESH_TOKEN": token},
    }))
}

#[tokio::test]
async fn a_stored_legacy_refresh_token_refreshes_until_a_global_sign_out() {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let settings = CoreSettings {
        password_hash: HashCost::Fast,
        ..CoreSettings::default()
    };
    let svc = Service::new(store.clone(), Arc::new(SystemClock), settings);
    let caller = Caller {
        region: "us-east-1".into(),
    };
    let pool = svc
        .create_user_pool(&caller, req(json!({"PoolName": "legacy"})))
        .await
        .unwrap()
        .user_pool
        .and_then(|p| p.id)
        .unwrap();
    let client = svc
        .create_user_pool_client(
            &caller,
            req(json!({"UserPoolId": pool, "ClientName": "app", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]})),
        )
        .await
        .unwrap()
        .user_pool_client
        .and_then(|c| c.client_id)
        .unwrap();
    svc.admin_create_user(
        &caller,
        req(json!({"UserPoolId": pool, "Username": "alice", "MessageAction": "SUPPRESS"})),
    )
    .await
    .unwrap();
    svc.admin_set_user_password(
        &caller,
        req(json!({"UserPoolId": pool, "Username": "alice", "Password": "Passw0rd!x", "Permanent": true})),
    )
    .await
    .unwrap();

    // What an older version stored for a sign-in: the hash of an opaque `cmfa_rt_` token.
    let legacy = format!(
        "cmfa_rt_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    store
        .finish_sign_in(
            None,
            &store
                .get_user(&pool, "alice")
                .await
                .unwrap()
                .map(|mut u| {
                    u.version += 1;
                    u
                })
                .unwrap(),
            "alice",
            Some(&RefreshRecord {
                hash: refresh_token_hash(&legacy),
                pool_id: pool.clone(),
                client_id: client.clone(),
                username_key: "alice".into(),
                origin_jti: uuid::Uuid::new_v4().to_string(),
                auth_time: now as i64 - 10,
                expires_at: now as f64 + 3600.0,
                revoked: false,
            }),
        )
        .await
        .unwrap();

    let out = svc.initiate_auth(refresh_request(&client, &legacy)).await.unwrap();
    let access = out.authentication_result.and_then(|r| r.access_token).expect("tokens");

    // A sealed token from a new sign-in is not in the table, and works too.
    let signed_in = svc
        .initiate_auth(req(json!({
            "ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "alice", "PASSWORD": "Passw0rd!x"},
        })))
        .await
        .unwrap()
        .authentication_result
        .unwrap();
    let sealed = signed_in.refresh_token.unwrap();
    assert_eq!(sealed.split('.').count(), 5);
    assert!(store.get_refresh(&refresh_token_hash(&sealed)).await.unwrap().is_none());
    svc.initiate_auth(refresh_request(&client, &sealed)).await.unwrap();

    // Signing out everywhere ends both, and the legacy token's access token.
    svc.global_sign_out(req(json!({"AccessToken": access}))).await.unwrap();
    for t in [&legacy, &sealed] {
        match svc.initiate_auth(refresh_request(&client, t)).await {
            Err(DomainError::NotAuthorized(m)) => assert_eq!(m, "Refresh Token has been revoked"),
            other => panic!("refresh after sign-out: {:?}", other.map(|_| ())),
        }
    }
}
