//! First factor USER_SRP_AUTH: the server's SRP ephemeral, and the PASSWORD_VERIFIER challenge
//! that asks for the client's proof (answered in [`super::password_verifier`]).
//!
//! AWS sends that challenge without a `Session`: the sign-in's state travels in SECRET_BLOCK
//! (see [`crate::auth::session::secret_block_for`]).

use super::{Outcome, Prompt};
use crate::auth::session::{Challenge, new_session_id, secret_block_for};
use crate::auth::srp::{self, PasswordVerifier};
use crate::compute::Compute;
use crate::error::{DomainError, Result};
use crate::messages::{BAD_CREDENTIALS, LOCKED, NOT_CONFIRMED};
use crate::user::User;
use cmfa_wire::shapes::UserStatusType;
use std::collections::BTreeMap;

/// The SRP user id and verifier of a user who may start SRP now.
pub(crate) fn verifier_of(user: &User, now: f64) -> Result<(String, PasswordVerifier)> {
    if user.status == UserStatusType::Unconfirmed {
        return Err(DomainError::UserNotConfirmed(NOT_CONFIRMED.into()));
    }
    if user.lockout.is_locked(now) {
        return Err(DomainError::NotAuthorized(LOCKED.into()));
    }
    match &user.password {
        Some(p) => Ok((user.username.clone(), p.srp.clone())),
        None => Err(DomainError::NotAuthorized(BAD_CREDENTIALS.into())),
    }
}

/// PASSWORD_VERIFIER for `user_id` with `verifier` (a user's, or a decoy's for an unknown user
/// when existence errors are hidden: the two look alike until the proof fails).
pub(crate) async fn start(cpu: &Compute, user_id: &str, verifier: PasswordVerifier, srp_a: &str) -> Result<Outcome> {
    let ephemeral = {
        let verifier = verifier.clone();
        cpu.run(move || srp::start(&verifier)).await?
    };
    let id = new_session_id();
    let secret_block = secret_block_for(&id);
    let parameters = BTreeMap::from([
        ("SALT".to_owned(), verifier.salt_hex.clone()),
        ("SRP_B".to_owned(), ephemeral.big_b_hex.clone()),
        ("SECRET_BLOCK".to_owned(), secret_block.clone()),
        ("USER_ID_FOR_SRP".to_owned(), user_id.to_owned()),
        ("USERNAME".to_owned(), user_id.to_owned()),
    ]);
    let challenge = Challenge::PasswordVerifier {
        ephemeral,
        srp_a: srp_a.to_owned(),
        secret_block,
    };
    let mut prompt = Prompt::with_id(id, challenge, parameters);
    prompt.session_in_reply = false;
    Ok(prompt.into_outcome())
}
