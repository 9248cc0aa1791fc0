#![forbid(unsafe_code)]
//! The Cognito wire contract, exactly as AWS's service model defines it.
//!
//! - [`Operation`]: every operation of the `cognito-idp` model, parsed from `X-Amz-Target`.
//! - [`ErrorCode`]: every error `__type` a client can receive, with its HTTP status.
//! - [`shapes`]: typed request/response structs for the operations the server implements.
//! - [`constraints`]: the model's constraints (required, length, pattern, enum, range), checked
//!   against a request body with AWS's `N validation errors detected: ...` message.
//!
//! Everything here is derived from botocore's `service-2.json` by `tools/gen_wire.py`, so it
//! cannot drift from AWS by a typo. This crate does no I/O.

pub mod constraints;
mod generated;

pub use generated::errors::ErrorCode;
pub use generated::operations::Operation;
pub use generated::shapes;

/// The `X-Amz-Target` prefix of every Cognito user pools operation.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService";

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn every_error_code_parses_back_from_its_name() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_name(code.name()), Some(code));
        }
        assert_eq!(ErrorCode::from_name("NoSuchException"), None);
        assert_eq!(ErrorCode::from_name("toomanyrequestsexception"), None);
    }
}
