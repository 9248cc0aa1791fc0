//! The claims of ID and access tokens, as AWS writes them (reference §6).

use crate::auth::tokens::Claims;
use crate::group::{self, Group};
use crate::user::User;
use serde_json::{Value, json};

/// Everything a token needs besides the user.
pub struct TokenContext<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub origin_jti: &'a str,
    pub event_id: &'a str,
    pub auth_time: i64,
    pub now: i64,
}

const BOOLEAN_ATTRS: &[&str] = &["email_verified", "phone_number_verified"];

/// `cognito:groups`, on both tokens, only when the user is in a group. `groups` are the user's
/// groups as they stand now (the minting code reads them on every sign-in and refresh).
fn group_names(groups: &[Group]) -> Option<Value> {
    (!groups.is_empty()).then(|| json!(groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>()))
}

/// The access token: no `aud`, `client_id` instead; `username` is the internal username.
pub fn access_claims(ctx: &TokenContext<'_>, user: &User, groups: &[Group], lifetime: i64) -> Claims {
    let v = json!({
        "sub": user.sub,
        "iss": ctx.issuer,
        "client_id": ctx.client_id,
        "origin_jti": ctx.origin_jti,
        "event_id": ctx.event_id,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": ctx.auth_time,
        "exp": ctx.now + lifetime,
        "iat": ctx.now,
        "jti": uuid::Uuid::new_v4().to_string(),
        "username": user.username,
    });
    let mut m = match v {
        Value::Object(m) => m,
        _ => Claims::new(),
    };
    if let Some(names) = group_names(groups) {
        m.insert("cognito:groups".into(), names);
    }
    m
}

/// The ID token: the user's attributes, `aud` = client, `cognito:username`, and for a member of
/// groups `cognito:groups`, `cognito:roles` (when a group has a role) and
/// `cognito:preferred_role` (see [`group::preferred_role`]).
pub fn id_claims(ctx: &TokenContext<'_>, user: &User, groups: &[Group], lifetime: i64) -> Claims {
    let mut m = Claims::new();
    m.insert("sub".into(), json!(user.sub));
    if let Some(names) = group_names(groups) {
        m.insert("cognito:groups".into(), names);
        let roles = group::roles(groups);
        if !roles.is_empty() {
            m.insert("cognito:roles".into(), json!(roles));
        }
        if let Some(r) = group::preferred_role(groups) {
            m.insert("cognito:preferred_role".into(), json!(r));
        }
    }
    for a in &user.attributes {
        if a.name == "sub" {
            continue;
        }
        let Some(v) = &a.value else { continue };
        let value = if BOOLEAN_ATTRS.contains(&a.name.as_str()) {
            json!(v == "true")
        } else {
            json!(v)
        };
        m.insert(a.name.clone(), value);
    }
    m.insert("iss".into(), json!(ctx.issuer));
    m.insert("cognito:username".into(), json!(user.username));
    m.insert("origin_jti".into(), json!(ctx.origin_jti));
    m.insert("aud".into(), json!(ctx.client_id));
    m.insert("event_id".into(), json!(ctx.event_id));
    m.insert("token_use".into(), json!("id"));
    m.insert("auth_time".into(), json!(ctx.auth_time));
    m.insert("exp".into(), json!(ctx.now + lifetime));
    m.insert("iat".into(), json!(ctx.now));
    m.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
    m
}
