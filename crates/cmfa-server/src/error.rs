//! `ApiError`: every failure on the request path, rendered exactly as AWS renders errors.
//!
//! The body carries `__type` and `message`; the headers carry the same name (with AWS's trailing
//! colon) and message, because the Rust SDK reads the header first and the others read the body.
//! An internal cause is logged here and never sent.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cmfa_core::DomainError;
use cmfa_wire::ErrorCode;
use cmfa_wire::constraints::Invalid;

/// An error answer: a code and a client-safe message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        let (code, message) = match e {
            DomainError::InvalidParameter(m) => (ErrorCode::InvalidParameterException, m),
            DomainError::ResourceNotFound(m) => (ErrorCode::ResourceNotFoundException, m),
            DomainError::ConcurrentModification(m) => (ErrorCode::ConcurrentModificationException, m),
            DomainError::FeatureUnavailableInTier(m) => (ErrorCode::FeatureUnavailableInTierException, m),
            DomainError::NotAuthorized(m) => (ErrorCode::NotAuthorizedException, m),
            DomainError::LimitExceeded(m) => (ErrorCode::LimitExceededException, m),
            DomainError::UnsupportedOperation(m) => (ErrorCode::UnsupportedOperationException, m),
            DomainError::InvalidPassword(m) => (ErrorCode::InvalidPasswordException, m),
            DomainError::UsernameExists(m) => (ErrorCode::UsernameExistsException, m),
            DomainError::GroupExists(m) => (ErrorCode::GroupExistsException, m),
            DomainError::UserNotFound(m) => (ErrorCode::UserNotFoundException, m),
            DomainError::UserNotConfirmed(m) => (ErrorCode::UserNotConfirmedException, m),
            DomainError::CodeMismatch(m) => (ErrorCode::CodeMismatchException, m),
            DomainError::ExpiredCode(m) => (ErrorCode::ExpiredCodeException, m),
            DomainError::AliasExists(m) => (ErrorCode::AliasExistsException, m),
            DomainError::SoftwareTokenMfaNotFound(m) => (ErrorCode::SoftwareTokenMFANotFoundException, m),
            DomainError::EnableSoftwareTokenMfa(m) => (ErrorCode::EnableSoftwareTokenMFAException, m),
            DomainError::MfaMethodNotFound(m) => (ErrorCode::MFAMethodNotFoundException, m),
            DomainError::UnauthorizedClient(m) => (ErrorCode::UnauthorizedException, m),
            DomainError::UnsupportedUserState(m) => (ErrorCode::UnsupportedUserStateException, m),
            DomainError::PasswordResetRequired(m) => (ErrorCode::PasswordResetRequiredException, m),
            DomainError::WebAuthnChallengeNotFound(m) => (ErrorCode::WebAuthnChallengeNotFoundException, m),
            DomainError::WebAuthnClientMismatch(m) => (ErrorCode::WebAuthnClientMismatchException, m),
            DomainError::WebAuthnConfigurationMissing(m) => (ErrorCode::WebAuthnConfigurationMissingException, m),
            DomainError::WebAuthnCredentialNotSupported(m) => (ErrorCode::WebAuthnCredentialNotSupportedException, m),
            DomainError::WebAuthnNotEnabled(m) => (ErrorCode::WebAuthnNotEnabledException, m),
            DomainError::WebAuthnOriginNotAllowed(m) => (ErrorCode::WebAuthnOriginNotAllowedException, m),
            DomainError::WebAuthnRelyingPartyMismatch(m) => (ErrorCode::WebAuthnRelyingPartyMismatchException, m),
            DomainError::TooManyRequests(m) => (ErrorCode::TooManyRequestsException, m),
            DomainError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                (
                    ErrorCode::InternalErrorException,
                    "An internal error occurred.".to_owned(),
                )
            }
        };
        ApiError { code, message }
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        match e {
            Invalid::Serialization(m) => ApiError::new(ErrorCode::SerializationException, m),
            Invalid::Constraints(_) => ApiError::new(ErrorCode::InvalidParameterException, e.message()),
        }
    }
}

/// Longest `x-amzn-ErrorMessage` header sent; clients cap header lines (Python at 64 KiB).
const MAX_HEADER_MESSAGE: usize = 1024;

/// A header-safe copy of a message: visible ASCII and spaces only, bounded in length.
fn header_message(m: &str) -> HeaderValue {
    let cleaned: String = m
        .chars()
        .take(MAX_HEADER_MESSAGE)
        .map(|c| if c == ' ' || c.is_ascii_graphic() { c } else { '?' })
        .collect();
    HeaderValue::from_str(&cleaned).unwrap_or_else(|_| HeaderValue::from_static(""))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "__type": self.code.name(), "message": self.message });
        let status = StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut res = (status, body.to_string()).into_response();
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::dispatch::AMZ_JSON),
        );
        h.insert("x-amzn-errortype", HeaderValue::from_static(self.code.header_value()));
        h.insert("x-amzn-errormessage", header_message(&self.message));
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_message_is_always_a_valid_header() {
        let v = header_message("Value 'ü\r\n\u{0}' at 'x'");
        assert_eq!(v.to_str().unwrap(), "Value '????' at 'x'");
        assert_eq!(header_message(&"a".repeat(5000)).len(), MAX_HEADER_MESSAGE);
    }

    #[test]
    fn internal_causes_are_not_sent() {
        let e = ApiError::from(DomainError::Internal("disk /secret/path failed".into()));
        assert_eq!(e.code, ErrorCode::InternalErrorException);
        assert!(!e.message.contains("secret"));
    }
}
