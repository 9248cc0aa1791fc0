//! Answers SMS_MFA and EMAIL_OTP: the code sent when the challenge opened, compared with the
//! hash the session keeps.

use super::{Change, Outcome, Turn, may_answer};
use crate::auth::session::{code_hash, same_hash};
use crate::error::{DomainError, Result};
use crate::messages::CODE_MISMATCH;

/// Which channel the code went through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Medium {
    Sms,
    Email,
}

/// Checks `code` against `want` (the hash of the code sent to `destination` in session
/// `session_id`). Right: tokens, and the code proves the attribute it reached.
pub(crate) fn answer(
    t: &Turn<'_>,
    medium: Medium,
    session_id: &str,
    want: &str,
    destination: &str,
    code: &str,
) -> Result<Outcome> {
    may_answer(t)?;
    if !same_hash(&code_hash(session_id, code), want) {
        return Ok(Outcome::Fail(DomainError::CodeMismatch(CODE_MISMATCH.into())));
    }
    let (attribute, verified) = match medium {
        Medium::Sms => ("phone_number", "phone_number_verified"),
        Medium::Email => ("email", "email_verified"),
    };
    Ok(Outcome::Tokens(Change::ProveContact {
        attribute,
        verified,
        destination: destination.to_owned(),
    }))
}
