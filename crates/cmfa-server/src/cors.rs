//! CORS for browser clients (amazon-cognito-identity-js and Amplify call the API with `fetch`).

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

pub(crate) const ALLOW_HEADERS: &str = "content-type, x-amz-target, x-amz-user-agent, cache-control, authorization, x-amz-date, x-amz-security-token, x-amz-content-sha256, amz-sdk-invocation-id, amz-sdk-request, x-amz-api-version";
pub(crate) const EXPOSE_HEADERS: &str = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date";

/// Answers an `OPTIONS /` preflight.
pub(crate) async fn preflight(headers: HeaderMap) -> Response {
    let mut res = StatusCode::OK.into_response();
    let h = res.headers_mut();
    allow_origin(&headers, h);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    res
}

/// Adds the CORS response headers when the request came from a browser (has an `Origin`).
pub(crate) fn allow_origin(req: &HeaderMap, res: &mut HeaderMap) {
    if let Some(origin) = req.get(header::ORIGIN) {
        res.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        res.insert(header::VARY, HeaderValue::from_static("Origin"));
        res.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSE_HEADERS),
        );
    }
}
