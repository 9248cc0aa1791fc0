//! Answers PASSWORD_VERIFIER: the client's SRP proof over the SECRET_BLOCK and a timestamp.
//! A right proof is a first factor passed; what follows is [`super::next`]'s.

use super::{Outcome, Turn, next};
use crate::auth::srp::{self, ServerEphemeral};
use crate::error::{DomainError, Result};
use crate::messages::{BAD_CREDENTIALS, LOCKED};

/// What the PASSWORD_VERIFIER session remembers.
pub(crate) struct State<'a> {
    pub ephemeral: &'a ServerEphemeral,
    pub srp_a: &'a str,
    pub secret_block: &'a str,
}

/// What the client sent.
pub(crate) struct Proof<'a> {
    pub secret_block: &'a str,
    pub signature: &'a str,
    pub timestamp: &'a str,
}

pub(crate) async fn answer(t: &Turn<'_>, state: State<'_>, proof: Proof<'_>) -> Result<Outcome> {
    let Some(record) = &t.user.password else {
        return Err(DomainError::NotAuthorized(BAD_CREDENTIALS.into()));
    };
    if t.user.lockout.is_locked(t.now) {
        return Err(DomainError::NotAuthorized(LOCKED.into()));
    }
    let checked = if proof.secret_block == state.secret_block {
        let (pool_id, user_id, verifier) = (t.pool.id.clone(), t.user.username.clone(), record.srp.clone());
        let (ephemeral, srp_a) = (state.ephemeral.clone(), state.srp_a.to_owned());
        let (block, timestamp, signature) = (
            proof.secret_block.to_owned(),
            proof.timestamp.to_owned(),
            proof.signature.to_owned(),
        );
        let now = t.now as i64;
        t.cpu
            .run(move || {
                srp::verify(
                    &pool_id, &user_id, &verifier, &ephemeral, &srp_a, &block, &timestamp, &signature, now,
                )
            })
            .await?
    } else {
        Err(srp::SrpError::BadSignature)
    };
    match checked {
        Ok(()) => next::after_first_factor(t),
        Err(srp::SrpError::BadTimestamp) => Err(DomainError::NotAuthorized("Invalid timestamp.".into())),
        Err(_) => Ok(Outcome::Fail(DomainError::NotAuthorized(BAD_CREDENTIALS.into()))),
    }
}
