//! `POST /`: from `X-Amz-Target` to a domain operation and back.
//!
//! The order of checks follows AWS's front end: the operation must be known, IAM operations
//! must be signed (when signing is on), then the body must be JSON of the right structure and
//! satisfy the model's constraints, and only then does the domain see it.

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

pub(crate) const AMZ_JSON: &str = "application/x-amz-json-1.1";

/// The one handler behind `POST /`.
pub(crate) async fn handle(State(state): State<AppState>, req: Request<Body>) -> Response {
    let (parts, body) = req.into_parts();
    let result = run(&state, &parts, body).await;
    let mut res = match result {
        Ok(bytes) => {
            let mut res = (StatusCode::OK, bytes).into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(AMZ_JSON));
            res
        }
        Err(e) => {
            tracing::debug!(error_type = e.code.name(), "request refused");
            e.into_response()
        }
    };
    add_request_id(&mut res);
    cors::allow_origin(&parts.headers, res.headers_mut());
    res
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

async fn run(state: &AppState, parts: &http::request::Parts, body: Body) -> Result<Bytes, ApiError> {
    let op = operation(&parts.headers)?;
    check_content_type(&parts.headers)?;
    let content_length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let bytes = crate::body::read(body, state.max_body_bytes, content_length).await?;

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
    constraints::validate(op, &value)?;
    let caller = Caller { region };
    call(state, op, &caller, value).await
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

async fn call(state: &AppState, op: Operation, caller: &Caller, v: Value) -> Result<Bytes, ApiError> {
    let s = &state.service;
    match op {
        Operation::CreateUserPool => json(&s.create_user_pool(caller, typed(v)?).await?),
        Operation::DescribeUserPool => json(&s.describe_user_pool(caller, typed(v)?).await?),
        Operation::UpdateUserPool => json(&s.update_user_pool(caller, typed(v)?).await?),
        Operation::DeleteUserPool => {
            s.delete_user_pool(caller, typed(v)?).await?;
            Ok(Bytes::from_static(EMPTY))
        }
        Operation::ListUserPools => json(&s.list_user_pools(caller, typed(v)?).await?),
        Operation::SetUserPoolMfaConfig => json(&s.set_user_pool_mfa_config(caller, typed(v)?).await?),
        Operation::GetUserPoolMfaConfig => json(&s.get_user_pool_mfa_config(caller, typed(v)?).await?),
        Operation::CreateUserPoolClient => json(&s.create_user_pool_client(caller, typed(v)?).await?),
        Operation::DescribeUserPoolClient => json(&s.describe_user_pool_client(caller, typed(v)?).await?),
        Operation::UpdateUserPoolClient => json(&s.update_user_pool_client(caller, typed(v)?).await?),
        Operation::DeleteUserPoolClient => {
            s.delete_user_pool_client(caller, typed(v)?).await?;
            Ok(Bytes::from_static(EMPTY))
        }
        Operation::ListUserPoolClients => json(&s.list_user_pool_clients(caller, typed(v)?).await?),
        Operation::SignUp => json(&s.sign_up(typed(v)?).await?),
        Operation::ConfirmSignUp => json(&s.confirm_sign_up(typed(v)?).await?),
        Operation::ResendConfirmationCode => json(&s.resend_confirmation_code(typed(v)?).await?),
        Operation::AdminCreateUser => json(&s.admin_create_user(caller, typed(v)?).await?),
        Operation::AdminConfirmSignUp => json(&s.admin_confirm_sign_up(caller, typed(v)?).await?),
        Operation::AdminGetUser => json(&s.admin_get_user(caller, typed(v)?).await?),
        Operation::AdminDeleteUser => {
            s.admin_delete_user(caller, typed(v)?).await?;
            Ok(Bytes::from_static(EMPTY))
        }
        Operation::AdminSetUserPassword => json(&s.admin_set_user_password(caller, typed(v)?).await?),
        Operation::AdminDisableUser => json(&s.admin_disable_user(caller, typed(v)?).await?),
        Operation::AdminEnableUser => json(&s.admin_enable_user(caller, typed(v)?).await?),
        Operation::ListUsers => json(&s.list_users(caller, typed(v)?).await?),
        Operation::InitiateAuth => json(&s.initiate_auth(typed(v)?).await?),
        Operation::AdminInitiateAuth => json(&s.admin_initiate_auth(caller, typed(v)?).await?),
        Operation::RespondToAuthChallenge => json(&s.respond_to_auth_challenge(typed(v)?).await?),
        Operation::AdminRespondToAuthChallenge => json(&s.admin_respond_to_auth_challenge(caller, typed(v)?).await?),
        Operation::GetUser => json(&s.get_user(typed(v)?).await?),
        Operation::GlobalSignOut => json(&s.global_sign_out(typed(v)?).await?),
        Operation::AdminUserGlobalSignOut => json(&s.admin_user_global_sign_out(caller, typed(v)?).await?),
        Operation::RevokeToken => json(&s.revoke_token(typed(v)?).await?),
        Operation::AssociateSoftwareToken => json(&s.associate_software_token(typed(v)?).await?),
        Operation::VerifySoftwareToken => json(&s.verify_software_token(typed(v)?).await?),
        Operation::SetUserMFAPreference => json(&s.set_user_mfa_preference(typed(v)?).await?),
        Operation::AdminSetUserMFAPreference => json(&s.admin_set_user_mfa_preference(caller, typed(v)?).await?),
        Operation::SetUserSettings => json(&s.set_user_settings(typed(v)?).await?),
        Operation::AdminSetUserSettings => json(&s.admin_set_user_settings(caller, typed(v)?).await?),
        Operation::AdminDeleteSoftwareToken => json(&s.admin_delete_software_token(caller, typed(v)?).await?),
        Operation::GetUserAuthFactors => json(&s.get_user_auth_factors(typed(v)?).await?),
        Operation::AdminGetUserAuthFactors => json(&s.admin_get_user_auth_factors(caller, typed(v)?).await?),
        Operation::AdminUpdateUserAttributes => json(&s.admin_update_user_attributes(caller, typed(v)?).await?),
        Operation::UpdateUserAttributes => json(&s.update_user_attributes(typed(v)?).await?),
        Operation::AdminDeleteUserAttributes => json(&s.admin_delete_user_attributes(caller, typed(v)?).await?),
        Operation::DeleteUserAttributes => json(&s.delete_user_attributes(typed(v)?).await?),
        Operation::GetUserAttributeVerificationCode => json(&s.get_user_attribute_verification_code(typed(v)?).await?),
        Operation::VerifyUserAttribute => json(&s.verify_user_attribute(typed(v)?).await?),
        Operation::ChangePassword => json(&s.change_password(typed(v)?).await?),
        Operation::ForgotPassword => json(&s.forgot_password(typed(v)?).await?),
        Operation::ConfirmForgotPassword => json(&s.confirm_forgot_password(typed(v)?).await?),
        Operation::AdminResetUserPassword => json(&s.admin_reset_user_password(caller, typed(v)?).await?),
        Operation::DeleteUser => {
            s.delete_user(typed(v)?).await?;
            Ok(Bytes::from_static(EMPTY))
        }
        Operation::CreateGroup => json(&s.create_group(caller, typed(v)?).await?),
        Operation::GetGroup => json(&s.get_group(caller, typed(v)?).await?),
        Operation::UpdateGroup => json(&s.update_group(caller, typed(v)?).await?),
        Operation::DeleteGroup => {
            s.delete_group(caller, typed(v)?).await?;
            Ok(Bytes::from_static(EMPTY))
        }
        Operation::ListGroups => json(&s.list_groups(caller, typed(v)?).await?),
        Operation::AdminAddUserToGroup => {
            s.admin_add_user_to_group(caller, typed(v)?).await?;
            Ok(Bytes::from_static(EMPTY))
        }
        Operation::AdminRemoveUserFromGroup => {
            s.admin_remove_user_from_group(caller, typed(v)?).await?;
            Ok(Bytes::from_static(EMPTY))
        }
        Operation::AdminListGroupsForUser => json(&s.admin_list_groups_for_user(caller, typed(v)?).await?),
        Operation::ListUsersInGroup => json(&s.list_users_in_group(caller, typed(v)?).await?),
        Operation::AddCustomAttributes => json(&s.add_custom_attributes(caller, typed(v)?).await?),
        other => Err(ApiError::new(
            ErrorCode::UnsupportedOperationException,
            format!(
                "cognito-mfa does not implement {} yet; docs/compatibility.md lists what it supports.",
                other.name()
            ),
        )),
    }
}

/// The operations `call` implements; the compatibility document is checked against this list.
pub const IMPLEMENTED: &[Operation] = &[
    Operation::CreateUserPool,
    Operation::DescribeUserPool,
    Operation::UpdateUserPool,
    Operation::DeleteUserPool,
    Operation::ListUserPools,
    Operation::SetUserPoolMfaConfig,
    Operation::GetUserPoolMfaConfig,
    Operation::CreateUserPoolClient,
    Operation::DescribeUserPoolClient,
    Operation::UpdateUserPoolClient,
    Operation::DeleteUserPoolClient,
    Operation::ListUserPoolClients,
    Operation::SignUp,
    Operation::ConfirmSignUp,
    Operation::ResendConfirmationCode,
    Operation::AdminCreateUser,
    Operation::AdminConfirmSignUp,
    Operation::AdminGetUser,
    Operation::AdminDeleteUser,
    Operation::AdminSetUserPassword,
    Operation::AdminDisableUser,
    Operation::AdminEnableUser,
    Operation::ListUsers,
    Operation::InitiateAuth,
    Operation::AdminInitiateAuth,
    Operation::RespondToAuthChallenge,
    Operation::AdminRespondToAuthChallenge,
    Operation::GetUser,
    Operation::GlobalSignOut,
    Operation::AdminUserGlobalSignOut,
    Operation::RevokeToken,
    Operation::AssociateSoftwareToken,
    Operation::VerifySoftwareToken,
    Operation::SetUserMFAPreference,
    Operation::AdminSetUserMFAPreference,
    Operation::SetUserSettings,
    Operation::AdminSetUserSettings,
    Operation::AdminDeleteSoftwareToken,
    Operation::GetUserAuthFactors,
    Operation::AdminGetUserAuthFactors,
    Operation::AdminUpdateUserAttributes,
    Operation::UpdateUserAttributes,
    Operation::AdminDeleteUserAttributes,
    Operation::DeleteUserAttributes,
    Operation::GetUserAttributeVerificationCode,
    Operation::VerifyUserAttribute,
    Operation::ChangePassword,
    Operation::ForgotPassword,
    Operation::ConfirmForgotPassword,
    Operation::AdminResetUserPassword,
    Operation::DeleteUser,
    Operation::CreateGroup,
    Operation::GetGroup,
    Operation::UpdateGroup,
    Operation::DeleteGroup,
    Operation::ListGroups,
    Operation::AdminAddUserToGroup,
    Operation::AdminRemoveUserFromGroup,
    Operation::AdminListGroupsForUser,
    Operation::ListUsersInGroup,
    Operation::AddCustomAttributes,
];
