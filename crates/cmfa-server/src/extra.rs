//! The routes beside the API: JWKS and OpenID discovery under each pool's issuer path, and the
//! project's own routes under `/_cognito-mfa/` (health, the outbox).

use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use cmfa_core::store::OutboxQuery;
use cmfa_wire::ErrorCode;
use serde::Deserialize;
use serde_json::json;

/// `GET /_cognito-mfa/health`: fixed JSON, no I/O (also the benchmark's baseline route).
pub(crate) async fn health() -> Response {
    let mut res = r#"{"status":"ok"}"#.into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// Anything else: an AWS-shaped error rather than an empty 404.
pub(crate) async fn not_found() -> Response {
    let mut res = ApiError::new(
        ErrorCode::UnknownOperationException,
        "The server did not understand the operation that was requested. Send POST / with an X-Amz-Target header.",
    )
    .into_response();
    crate::dispatch::add_request_id(&mut res);
    res
}

/// `GET /{userPoolId}/.well-known/jwks.json`: the keys that sign the pool's tokens.
pub(crate) async fn jwks(State(state): State<AppState>, Path(pool_id): Path<String>) -> Response {
    match state.service.jwks(&pool_id).await {
        Ok(doc) => Json(doc).into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `GET /{userPoolId}/.well-known/openid-configuration`: enough discovery for JWT verifiers.
pub(crate) async fn openid_configuration(State(state): State<AppState>, Path(pool_id): Path<String>) -> Response {
    if let Err(e) = state.service.jwks(&pool_id).await {
        return ApiError::from(e).into_response();
    }
    let issuer = state.service.issuer(&pool_id);
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "id_token_signing_alg_values_supported": ["RS256"],
        "subject_types_supported": ["public"],
        "response_types_supported": ["code", "token"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
    .into_response()
}

#[derive(Debug, Deserialize)]
pub(crate) struct OutboxParams {
    pool_id: Option<String>,
    username: Option<String>,
    destination: Option<String>,
    limit: Option<usize>,
}

/// `GET /_cognito-mfa/outbox?pool_id=&username=&destination=&limit=`: recorded messages, newest
/// first, bodies included (that is how a test reads a code). Turn the outbox off where that
/// matters: `--outbox-http false`.
pub(crate) async fn outbox(State(state): State<AppState>, Query(p): Query<OutboxParams>) -> Response {
    if !state.outbox_http {
        return not_found().await;
    }
    let q = OutboxQuery {
        pool_id: p.pool_id,
        username: p.username,
        destination: p.destination,
        limit: p.limit.unwrap_or(20).min(1000),
    };
    match state.service.outbox(q).await {
        Ok(entries) => Json(json!({
            "messages": entries.iter().map(|e| json!({
                "id": e.id,
                "createdAt": e.created_at,
                "deliveredAt": e.delivered_at,
                "attempts": e.attempts,
                "poolId": e.message.pool_id,
                "username": e.message.username,
                "channel": e.message.channel,
                "destination": e.message.destination,
                "subject": e.message.subject,
                "body": e.message.body,
                "purpose": e.message.purpose,
            })).collect::<Vec<_>>()
        }))
        .into_response(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// `GET /_cognito-mfa/passkeys`: a page that signs up, registers a passkey and signs in with it
/// against this server's own API, from the browser (documentation, and the browser test's
/// fixture). Off with the outbox (`--outbox-http false`), whose codes it reads.
pub(crate) async fn passkey_demo(State(state): State<AppState>) -> Response {
    if !state.outbox_http {
        return not_found().await;
    }
    axum::response::Html(include_str!("passkey_demo.html")).into_response()
}
