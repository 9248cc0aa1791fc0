//! The domain's error: one variant per Cognito error the operations raise.
//!
//! Messages are what the client sees, so they never contain secrets. `Internal` carries the cause
//! for the log only; the server answers it with a generic message.

/// Result alias for domain operations.
pub type Result<T, E = DomainError> = std::result::Result<T, E>;

/// What went wrong, in Cognito's terms. The server maps each variant to exactly one `__type`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("InvalidParameterException: {0}")]
    InvalidParameter(String),
    #[error("ResourceNotFoundException: {0}")]
    ResourceNotFound(String),
    #[error("ConcurrentModificationException: {0}")]
    ConcurrentModification(String),
    #[error("FeatureUnavailableInTierException: {0}")]
    FeatureUnavailableInTier(String),
    #[error("NotAuthorizedException: {0}")]
    NotAuthorized(String),
    #[error("LimitExceededException: {0}")]
    LimitExceeded(String),
    #[error("InvalidPasswordException: {0}")]
    InvalidPassword(String),
    #[error("GroupExistsException: {0}")]
    GroupExists(String),
    #[error("UsernameExistsException: {0}")]
    UsernameExists(String),
    #[error("UserNotFoundException: {0}")]
    UserNotFound(String),
    #[error("UserNotConfirmedException: {0}")]
    UserNotConfirmed(String),
    #[error("CodeMismatchException: {0}")]
    CodeMismatch(String),
    #[error("ExpiredCodeException: {0}")]
    ExpiredCode(String),
    #[error("AliasExistsException: {0}")]
    AliasExists(String),
    #[error("SoftwareTokenMFANotFoundException: {0}")]
    SoftwareTokenMfaNotFound(String),
    #[error("EnableSoftwareTokenMFAException: {0}")]
    EnableSoftwareTokenMfa(String),
    #[error("MFAMethodNotFoundException: {0}")]
    MfaMethodNotFound(String),
    #[error("UnauthorizedException: {0}")]
    UnauthorizedClient(String),
    #[error("UnsupportedUserStateException: {0}")]
    UnsupportedUserState(String),
    #[error("WebAuthnChallengeNotFoundException: {0}")]
    WebAuthnChallengeNotFound(String),
    #[error("WebAuthnClientMismatchException: {0}")]
    WebAuthnClientMismatch(String),
    #[error("WebAuthnConfigurationMissingException: {0}")]
    WebAuthnConfigurationMissing(String),
    #[error("WebAuthnCredentialNotSupportedException: {0}")]
    WebAuthnCredentialNotSupported(String),
    #[error("WebAuthnNotEnabledException: {0}")]
    WebAuthnNotEnabled(String),
    #[error("WebAuthnOriginNotAllowedException: {0}")]
    WebAuthnOriginNotAllowed(String),
    #[error("WebAuthnRelyingPartyMismatchException: {0}")]
    WebAuthnRelyingPartyMismatch(String),
    #[error("PasswordResetRequiredException: {0}")]
    PasswordResetRequired(String),
    #[error("UnsupportedOperationException: {0}")]
    UnsupportedOperation(String),
    #[error("TooManyRequestsException: {0}")]
    TooManyRequests(String),
    /// A fault on our side (storage unavailable, corrupt row). The text is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<crate::store::StoreError> for DomainError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::NotFound => DomainError::ResourceNotFound("Resource not found.".into()),
            crate::store::StoreError::Conflict => {
                DomainError::ConcurrentModification(crate::pool::CONCURRENT_UPDATE_MESSAGE.into())
            }
            crate::store::StoreError::Unavailable(cause) => DomainError::Internal(cause),
        }
    }
}
