//! First factor USER_PASSWORD_AUTH (and ADMIN_USER_PASSWORD_AUTH / ADMIN_NO_SRP_AUTH): the
//! password, checked against the Argon2id hash on the compute pool.

use super::{Outcome, Turn, next};
use crate::error::{DomainError, Result};
use crate::messages::{BAD_CREDENTIALS, LOCKED, NOT_CONFIRMED};
use cmfa_wire::shapes::UserStatusType;

/// Checks `password`; a wrong one counts toward the lockout.
pub(crate) async fn answer(t: &Turn<'_>, password: &str) -> Result<Outcome> {
    // As AWS: before the password, so an app can send the user to "enter your code" whatever
    // was typed.
    if t.user.status == UserStatusType::Unconfirmed {
        return Err(DomainError::UserNotConfirmed(NOT_CONFIRMED.into()));
    }
    if t.user.lockout.is_locked(t.now) {
        return Err(DomainError::NotAuthorized(LOCKED.into()));
    }
    let ok = match &t.user.password {
        Some(p) => {
            let (hash, password) = (p.hash.clone(), password.to_owned());
            t.cpu
                .run(move || crate::user::password::hash_matches(&hash, &password))
                .await?
        }
        None => false,
    };
    if !ok {
        return Ok(Outcome::Fail(DomainError::NotAuthorized(BAD_CREDENTIALS.into())));
    }
    next::after_first_factor(t)
}
