//! `POST /`: from `X-Amz-Target` to a domain operation and back.
//!
//! The order of checks follows AWS's front end: the operation must be known, IAM operations
//! must be signed (when signing is on), then the body must be JSON of the right structure and
//! satisfy the model's constraints, and only then does the domain see it.

use crate::faults::Injected;
use crate::{ApiError, AppState, AuthMode, cors, sigv4};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use cmfa_core::Caller;
use cmfa_wire::{ErrorCode, Operation, TARGET_PREFIX, constraints};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Instant;

pub(crate) const AMZ_JSON: &str = "application/x-amz-json-1.1";

/// How a call ends without the domain's answer.
pub(crate) enum Stop {
    /// An AWS-shaped error.
    Error(ApiError),
    /// A fault rule said to close the connection without answering.
    Drop,
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Self {
        Stop::Error(e)
    }
}

/// The one handler behind `POST /`.
pub(crate) async fn handle(State(state): State<AppState>, req: Request<Body>) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let (op, result) = match operation(&parts.headers) {
        Ok(op) => (Some(op), run(&state, op, &parts, body).await),
        Err(e) => (None, Err(Stop::Error(e))),
    };
    state.metrics.observe(op, &result, started.elapsed());
    let mut res = match result {
        Ok(bytes) => {
            let mut res = (StatusCode::OK, bytes).into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON));
            res
        }
        Err(Stop::Error(e)) => {
            tracing::debug!(error_type = e.code.name(), "request refused");
            e.into_response()
        }
        Err(Stop::Drop) => {
            tracing::debug!("fault rule: dropping the connection");
            return dropped_connection();
        }
    };
    add_request_id(&mut res);
    cors::allow_origin(&parts.headers, res.headers_mut());
    res
}

/// A response whose body fails before its first byte. hyper then closes the connection
/// without writing anything, not even the status line it had queued (HTTP/1.1), or resets the
/// stream (HTTP/2), so the client sees a connection error, as when a load balancer drops it.
fn dropped_connection() -> Response {
    let (tx, body) = http_body_util::channel::Channel::<Bytes, std::io::Error>::new(1);
    tx.abort(std::io::Error::new(
        std::io::ErrorKind::ConnectionAborted,
        "connection dropped by a fault rule",
    ));
    Response::new(Body::new(body))
}

/// Every response carries a fresh `x-amzn-RequestId`, as AWS's do.
pub(crate) fn add_request_id(res: &mut Response) {
    let id = uuid::Uuid::new_v4();
    let mut buf = [0u8; uuid::fmt::Hyphenated::LENGTH];
    if let Ok(v) = HeaderValue::from_str(id.hyphenated().encode_lower(&mut buf)) {
        res.headers_mut().insert("x-amzn-requestid", v);
    }
}

fn operation(headers: &HeaderMap) -> Result<Operation, ApiError> {
    let unknown = |m: String| ApiError::new(ErrorCode::UnknownOperationException, m);
    let target = headers
        .get("x-amz-target")
        .ok_or_else(|| unknown("Missing X-Amz-Target header.".into()))?
        .to_str()
        .map_err(|_| unknown("The X-Amz-Target header is not valid text.".into()))?;
    let name = target
        .strip_prefix(TARGET_PREFIX)
        .and_then(|rest| rest.strip_prefix('.'))
        .ok_or_else(|| {
            unknown(format!(
                "Unknown service in X-Amz-Target; this server speaks {TARGET_PREFIX}."
            ))
        })?;
    Operation::from_name(name).ok_or_else(|| unknown(format!("Unknown operation {name}.")))
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(ct) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let ct = ct.to_str().unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case(AMZ_JSON) || mime.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::SerializationException,
            format!("Unsupported Content-Type '{ct}'. Send {AMZ_JSON}."),
        ))
    }
}

async fn run(state: &AppState, op: Operation, parts: &http::request::Parts, body: Body) -> Result<Bytes, Stop> {
    check_content_type(&parts.headers)?;
    let content_length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let bytes = crate::body::read(body, &state.edge, content_length).await?;

    let region = match &state.auth {
        AuthMode::SigV4(creds) if !op.is_public() => {
            let now = state.clock.now() as i64;
            let path = parts.uri.path();
            let query = parts.uri.query().unwrap_or("");
            sigv4::verify(parts.method.as_str(), path, query, &parts.headers, &bytes, creds, now)
                .map_err(|e| ApiError {
                    code: sigv4_code(&e),
                    message: e.message(),
                })?
                .region
        }
        _ => sigv4::scope_region(&parts.headers)
            .unwrap_or(&state.default_region)
            .to_owned(),
    };

    let value: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Default::default())
    } else {
        serde_json::from_slice(&bytes).map_err(|e| {
            ApiError::new(
                ErrorCode::SerializationException,
                format!("The request body is not valid JSON: {e}."),
            )
        })?
    };
    let pool_id = value.get("UserPoolId").and_then(Value::as_str);
    state.throttle.check(
        op,
        &region,
        pool_id,
        value.get("Username").and_then(Value::as_str),
        state.clock.now(),
    )?;
    let fault = state.faults.decide(op, pool_id);
    if !fault.delay.is_zero() {
        tokio::time::sleep(fault.delay).await;
    }
    match fault.outcome {
        Some(Injected::Error(e)) => return Err(Stop::Error(e)),
        Some(Injected::Drop) => return Err(Stop::Drop),
        None => {}
    }
    constraints::validate(op, &value).map_err(ApiError::from)?;
    let caller = Caller { region };
    Ok(call(state, op, &caller, value).await?)
}

fn sigv4_code(e: &sigv4::SigV4Error) -> ErrorCode {
    match e {
        sigv4::SigV4Error::Missing => ErrorCode::MissingAuthenticationTokenException,
        sigv4::SigV4Error::Incomplete(_) => ErrorCode::IncompleteSignatureException,
        sigv4::SigV4Error::UnknownKey => ErrorCode::UnrecognizedClientException,
        sigv4::SigV4Error::BadSignature | sigv4::SigV4Error::Expired(_) => ErrorCode::InvalidSignatureException,
    }
}

fn typed<T: DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v)
        .map_err(|e| ApiError::new(ErrorCode::SerializationException, format!("Malformed request: {e}.")))
}

fn json<T: Serialize>(v: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(v)
        .map(Bytes::from)
        .map_err(|e| ApiError::from(cmfa_core::DomainError::Internal(format!("cannot encode response: {e}"))))
}

const EMPTY: &[u8] = b"{}";

/// The dispatch table: each implemented operation, how it is called (with the [`Caller`] or
/// not; answering a body or `{}`), and its [`cmfa_core::Service`] method. The `match` in
/// `call` and [`IMPLEMENTED`] are both generated from it, so they cannot disagree.
macro_rules! operations {
    ($($op:ident => $kind:ident $method:ident,)*) => {
        /// The operations `call` implements; the compatibility document is checked against
        /// this list.
        pub const IMPLEMENTED: &[Operation] = &[$(Operation::$op),*];

        async fn call(state: &AppState, op: Operation, caller: &Caller, v: Value) -> Result<Bytes, ApiError> {
            let s = &state.service;
            match op {
                $(Operation::$op => operations!(@call $kind, s, $method, caller, v),)*
                other => Err(ApiError::new(
                    ErrorCode::UnsupportedOperationException,
                    format!(
                        "cognito-mfa does not implement {} yet; docs/compatibility.md lists what it supports.",
                        other.name()
                    ),
                )),
            }
        }
    };
    (@call admin, $s:ident, $m:ident, $c:ident, $v:ident) => { json(&$s.$m($c, typed($v)?).await?) };
    (@call public, $s:ident, $m:ident, $c:ident, $v:ident) => { json(&$s.$m(typed($v)?).await?) };
    (@call admin_empty, $s:ident, $m:ident, $c:ident, $v:ident) => {{
        $s.$m($c, typed($v)?).await?;
        Ok(Bytes::from_static(EMPTY))
    }};
    (@call public_empty, $s:ident, $m:ident, $c:ident, $v:ident) => {{
        $s.$m(typed($v)?).await?;
        Ok(Bytes::from_static(EMPTY))
    }};
}

operations! {
    CreateUserPool => admin create_user_pool,
    DescribeUserPool => admin describe_user_pool,
    UpdateUserPool => admin update_user_pool,
    DeleteUserPool => admin_empty delete_user_pool,
    ListUserPools => admin list_user_pools,
    SetUserPoolMfaConfig => admin set_user_pool_mfa_config,
    GetUserPoolMfaConfig => admin get_user_pool_mfa_config,
    CreateUserPoolClient => admin create_user_pool_client,
    DescribeUserPoolClient => admin describe_user_pool_client,
    UpdateUserPoolClient => admin update_user_pool_client,
    DeleteUserPoolClient => admin_empty delete_user_pool_client,
    ListUserPoolClients => admin list_user_pool_clients,
    SignUp => public sign_up,
    ConfirmSignUp => public confirm_sign_up,
    ResendConfirmationCode => public resend_confirmation_code,
    AdminCreateUser => admin admin_create_user,
    AdminConfirmSignUp => admin admin_confirm_sign_up,
    AdminGetUser => admin admin_get_user,
    AdminDeleteUser => admin_empty admin_delete_user,
    AdminSetUserPassword => admin admin_set_user_password,
    AdminDisableUser => admin admin_disable_user,
    AdminEnableUser => admin admin_enable_user,
    ListUsers => admin list_users,
    InitiateAuth => public initiate_auth,
    AdminInitiateAuth => admin admin_initiate_auth,
    RespondToAuthChallenge => public respond_to_auth_challenge,
    AdminRespondToAuthChallenge => admin admin_respond_to_auth_challenge,
    GetUser => public get_user,
    GlobalSignOut => public global_sign_out,
    AdminUserGlobalSignOut => admin admin_user_global_sign_out,
    RevokeToken => public revoke_token,
    AssociateSoftwareToken => public associate_software_token,
    VerifySoftwareToken => public verify_software_token,
    SetUserMFAPreference => public set_user_mfa_preference,
    AdminSetUserMFAPreference => admin admin_set_user_mfa_preference,
    SetUserSettings => public set_user_settings,
    AdminSetUserSettings => admin admin_set_user_settings,
    AdminDeleteSoftwareToken => admin admin_delete_software_token,
    GetUserAuthFactors => public get_user_auth_factors,
    AdminGetUserAuthFactors => admin admin_get_user_auth_factors,
    AdminUpdateUserAttributes => admin admin_update_user_attributes,
    UpdateUserAttributes => public update_user_attributes,
    AdminDeleteUserAttributes => admin admin_delete_user_attributes,
    DeleteUserAttributes => public delete_user_attributes,
    GetUserAttributeVerificationCode => public get_user_attribute_verification_code,
    VerifyUserAttribute => public verify_user_attribute,
    ChangePassword => public change_password,
    ForgotPassword => public forgot_password,
    ConfirmForgotPassword => public confirm_forgot_password,
    AdminResetUserPassword => admin admin_reset_user_password,
    DeleteUser => public_empty delete_user,
    CreateGroup => admin create_group,
    GetGroup => admin get_group,
    UpdateGroup => admin update_group,
    DeleteGroup => admin_empty delete_group,
    ListGroups => admin list_groups,
    AdminAddUserToGroup => admin_empty admin_add_user_to_group,
    AdminRemoveUserFromGroup => admin_empty admin_remove_user_from_group,
    AdminListGroupsForUser => admin admin_list_groups_for_user,
    ListUsersInGroup => admin list_users_in_group,
    AddCustomAttributes => admin add_custom_attributes,
    StartWebAuthnRegistration => public start_web_authn_registration,
    CompleteWebAuthnRegistration => public complete_web_authn_registration,
    ListWebAuthnCredentials => public list_web_authn_credentials,
    DeleteWebAuthnCredential => public delete_web_authn_credential,
    CreateUserPoolDomain => admin create_user_pool_domain,
    DescribeUserPoolDomain => public describe_user_pool_domain,
    UpdateUserPoolDomain => admin update_user_pool_domain,
    DeleteUserPoolDomain => admin delete_user_pool_domain,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> AppState {
        let store = std::sync::Arc::new(cmfa_store::SqliteStore::open_in_memory().expect("in-memory store"));
        let clock: std::sync::Arc<dyn cmfa_core::Clock> = std::sync::Arc::new(cmfa_core::SystemClock);
        AppState {
            service: cmfa_core::Service::new(store, clock.clone(), cmfa_core::CoreSettings::default()),
            auth: crate::AuthMode::None,
            clock,
            default_region: "us-east-1".into(),
            edge: Default::default(),
            test_routes: false,
            faults: Default::default(),
            metrics: Default::default(),
            throttle: Default::default(),
        }
    }

    /// Every operation of the model reaches its `Service` method exactly when `IMPLEMENTED`
    /// lists it: an empty body then fails on its members (or succeeds), never as unsupported.
    #[tokio::test]
    async fn implemented_is_what_call_dispatches() {
        let state = state();
        let caller = Caller {
            region: "us-east-1".into(),
        };
        for op in Operation::ALL.iter().copied() {
            let unsupported = match call(&state, op, &caller, Value::Object(Default::default())).await {
                Ok(_) => false,
                Err(e) => e.code == ErrorCode::UnsupportedOperationException,
            };
            assert_eq!(
                unsupported,
                !IMPLEMENTED.contains(&op),
                "{} is {} IMPLEMENTED but call() {} it",
                op.name(),
                if IMPLEMENTED.contains(&op) { "in" } else { "not in" },
                if unsupported { "refuses" } else { "dispatches" }
            );
        }
    }
}
