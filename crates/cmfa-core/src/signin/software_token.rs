//! Answers SOFTWARE_TOKEN_MFA: a code of the user's authenticator (RFC 6238, see
//! [`crate::mfa::totp`]), each time step good for one sign-in.

use super::{Change, Outcome, Turn, may_answer};
use crate::error::{DomainError, Result};
use crate::messages::{CODE_MISMATCH, NO_SOFTWARE_TOKEN, TOTP_REUSED};
use crate::mfa::totp;

pub(crate) fn answer(t: &Turn<'_>, code: &str) -> Result<Outcome> {
    may_answer(t)?;
    let Some(device) = &t.user.mfa.totp else {
        return Err(DomainError::SoftwareTokenMfaNotFound(NO_SOFTWARE_TOKEN.into()));
    };
    let secret = hex::decode(&device.secret_hex).unwrap_or_default();
    match totp::check(&secret, code, t.now, device.last_step) {
        Ok(step) => Ok(Outcome::Tokens(Change::UseTotpStep(step))),
        // The right code, once more: not a guess, so not counted toward the lockout.
        Err(totp::TotpError::Replayed) => Err(DomainError::ExpiredCode(TOTP_REUSED.into())),
        Err(totp::TotpError::Mismatch) => Ok(Outcome::Fail(DomainError::CodeMismatch(CODE_MISMATCH.into()))),
    }
}
