//! The routes beside the API: JWKS and OpenID discovery under each pool's issuer path, and the
//! project's own routes under `/_cognito-mfa/` (health, metrics, the outbox, fault rules,
//! reset), plus moto server's `/moto-api/reset`. Bad input to any of them is answered with an
//! AWS-shaped `{"__type","message"}` and HTTP 400.

use crate::faults::{RuleSpec, RuleView};
use crate::{ApiError, AppState};
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
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
/// matters: `--test-routes false`.
pub(crate) async fn outbox(State(state): State<AppState>, Query(p): Query<OutboxParams>) -> Response {
    if !state.test_routes {
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
/// fixture). Off with the other test routes (`--test-routes false`): it reads codes from the outbox.
pub(crate) async fn passkey_demo(State(state): State<AppState>) -> Response {
    if !state.test_routes {
        return not_found().await;
    }
    axum::response::Html(include_str!("passkey_demo.html")).into_response()
}

/// A known route asked with a method it does not take (or, for a test route that is turned
/// off, any method: it does not exist then).
pub(crate) async fn wrong_method(State(state): State<AppState>, uri: Uri) -> Response {
    let path = uri.path();
    let methods = match path {
        "/_cognito-mfa/metrics" => "GET",
        "/_cognito-mfa/faults" => "GET, POST or DELETE",
        "/_cognito-mfa/reset" | "/moto-api/reset" => "POST",
        _ => "DELETE",
    };
    if !state.test_routes && path != "/_cognito-mfa/metrics" {
        return not_found().await;
    }
    ApiError::new(
        ErrorCode::UnknownOperationException,
        format!("{path} takes {methods} only."),
    )
    .into_response()
}

/// `GET /_cognito-mfa/metrics`: Prometheus text format.
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let mut res = state.metrics.render().into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    res
}

fn rules_json(state: &AppState) -> serde_json::Value {
    let rules = state.faults.list();
    json!({ "rules": rules.iter().map(RuleView::from).collect::<Vec<_>>() })
}

/// `GET /_cognito-mfa/faults`: the rules in force, oldest first.
pub(crate) async fn faults_list(State(state): State<AppState>) -> Response {
    if !state.test_routes {
        return not_found().await;
    }
    Json(rules_json(&state)).into_response()
}

/// `POST /_cognito-mfa/faults` with a rule (see [`RuleSpec`]): adds it, answers it with its id.
pub(crate) async fn faults_add(State(state): State<AppState>, body: Bytes) -> Response {
    if !state.test_routes {
        return not_found().await;
    }
    let spec: RuleSpec = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(e) => {
            return ApiError::new(
                ErrorCode::SerializationException,
                format!(
                    "A fault rule is a JSON object with operation, poolId, error, message, latencyMs, drop, count, probability: {e}."
                ),
            )
            .into_response();
        }
    };
    match state.faults.add(spec) {
        Ok(rule) => Json(RuleView::from(&rule)).into_response(),
        Err(bad) => ApiError::new(ErrorCode::InvalidParameterException, bad.0).into_response(),
    }
}

/// `DELETE /_cognito-mfa/faults`: removes every rule.
pub(crate) async fn faults_clear(State(state): State<AppState>) -> Response {
    if !state.test_routes {
        return not_found().await;
    }
    Json(json!({ "cleared": state.faults.clear() })).into_response()
}

/// `DELETE /_cognito-mfa/faults/{id}`: removes one rule.
pub(crate) async fn faults_remove(State(state): State<AppState>, id: Result<Path<String>, PathRejection>) -> Response {
    if !state.test_routes {
        return not_found().await;
    }
    let id = id.ok().and_then(|Path(id)| id.parse::<u64>().ok());
    let Some(id) = id else {
        return ApiError::new(
            ErrorCode::InvalidParameterException,
            "A fault rule id is a number, as GET /_cognito-mfa/faults lists them.",
        )
        .into_response();
    };
    if state.faults.remove(id) {
        Json(json!({ "cleared": 1 })).into_response()
    } else {
        ApiError::new(
            ErrorCode::ResourceNotFoundException,
            format!("No fault rule has id {id}."),
        )
        .into_response()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetParams {
    pool_id: Option<String>,
}

/// `POST /_cognito-mfa/reset[?pool_id=]`: wipes everything (fault rules too), or one pool and
/// all it holds (its clients, users, groups, sessions, tokens and outbox messages). Unknown
/// parameters are refused, so a misspelt `pool_id` never wipes everything.
pub(crate) async fn reset(
    State(state): State<AppState>,
    params: Result<Query<ResetParams>, QueryRejection>,
) -> Response {
    if !state.test_routes {
        return not_found().await;
    }
    let pool = match params {
        Ok(Query(p)) => p.pool_id,
        Err(e) => {
            return ApiError::new(
                ErrorCode::InvalidParameterException,
                format!("/_cognito-mfa/reset takes one optional parameter, pool_id: {e}."),
            )
            .into_response();
        }
    };
    match wipe(&state, pool.as_deref()).await {
        Ok(()) => match pool {
            None => Json(json!({ "status": "ok", "reset": "all" })).into_response(),
            Some(id) => Json(json!({ "status": "ok", "reset": "pool", "poolId": id })).into_response(),
        },
        Err(e) => e.into_response(),
    }
}

/// `POST /moto-api/reset`: the full wipe, answered as moto server answers it, so a suite
/// moving from moto keeps its fixtures.
pub(crate) async fn moto_reset(State(state): State<AppState>) -> Response {
    if !state.test_routes {
        return not_found().await;
    }
    match wipe(&state, None).await {
        Ok(()) => Json(json!({ "status": "ok" })).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn wipe(state: &AppState, pool: Option<&str>) -> Result<(), ApiError> {
    state.service.reset(pool).await?;
    if pool.is_none() {
        state.faults.clear();
    }
    tracing::info!(pool = pool.unwrap_or("*"), "reset");
    Ok(())
}
