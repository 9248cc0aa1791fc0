//! The project's own routes, under a prefix AWS does not use.

use crate::ApiError;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use cmfa_wire::ErrorCode;

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
