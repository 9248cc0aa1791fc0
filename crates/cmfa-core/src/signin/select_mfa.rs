//! Answers SELECT_MFA_TYPE: the user picked one of the offered factors; its challenge opens.

use super::{Outcome, Turn, may_answer, next};
use crate::error::{DomainError, Result};
use crate::user::mfa::Factor;

pub(crate) fn answer(t: &Turn<'_>, options: &[Factor], answer: &str) -> Result<Outcome> {
    may_answer(t)?;
    let chosen = options.iter().copied().find(|f| f.as_str() == answer).ok_or_else(|| {
        DomainError::InvalidParameter(format!(
            "Invalid ANSWER {answer}: choose one of {}",
            next::factors_json(options)
        ))
    })?;
    Ok(next::factor_prompt(t.pool, t.user, chosen).into_outcome())
}
