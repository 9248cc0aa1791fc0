//! USER_AUTH, choice-based sign-in: the first factor named by `PREFERRED_CHALLENGE`, or
//! SELECT_CHALLENGE over the factors [`choice::available`] finds for the user, then answered
//! with `ANSWER`.
//!
//! - `PASSWORD` and `PASSWORD_SRP` are the password first factors of [`password`] and
//!   [`srp`]; MFA follows as after any password (reference §4.4).
//! - `EMAIL_OTP` and `SMS_OTP` send an 8-digit code now ([`otp::code_prompt`]); the right code
//!   ends the sign-in, with no MFA after it.
//! - A preference the user cannot use now falls back to SELECT_CHALLENGE (reference §4.3,
//!   UNVERIFIED); an `ANSWER` that was not offered is refused.

use super::choice::{self, FirstFactor};
use super::otp::{self, CodeUse, Medium};
use super::params::Choice;
use super::{Outcome, Prompt, Turn, may_answer, passkey, password, srp};
use crate::auth::session::Challenge;
use crate::error::{DomainError, Result};
use crate::messages::NOT_CONFIRMED;
use cmfa_wire::shapes::UserStatusType;
use std::collections::BTreeMap;

/// Ours: AWS's text for a user with no usable first factor is not on record.
pub(crate) const NOTHING_AVAILABLE: &str = "The user has no sign-in method available.";

/// InitiateAuth USER_AUTH for a known user.
pub(crate) async fn start(t: &Turn<'_>, preferred: Option<&Choice>) -> Result<Outcome> {
    if t.user.status == UserStatusType::Unconfirmed {
        return Err(DomainError::UserNotConfirmed(NOT_CONFIRMED.into()));
    }
    let available = choice::available(t.pool, t.user);
    let usable = preferred.filter(|c| available.contains(&c.factor()));
    let outcome = match usable {
        Some(c) => run(t, c, None).await?,
        None => select_challenge(Some(t), &available)?,
    };
    Ok(offering(outcome, available))
}

/// SELECT_CHALLENGE, offering `options`. When a passkey is among them, the parameters carry
/// `CREDENTIAL_REQUEST_OPTIONS` for this session too, so the client may answer `WEB_AUTHN` with
/// its `CREDENTIAL` at once, as the model's ChallengeResponses docs show. (`t` is None for the
/// decoy of an unknown user, who is offered no passkey.)
pub(crate) fn select_challenge(t: Option<&Turn<'_>>, options: &[FirstFactor]) -> Result<Outcome> {
    if options.is_empty() {
        return Err(DomainError::NotAuthorized(NOTHING_AVAILABLE.into()));
    }
    let id = crate::auth::session::new_session_id();
    let mut parameters = BTreeMap::new();
    if let Some(t) = t
        && options.contains(&FirstFactor::WebAuthn)
    {
        let (rp_id, _) = passkey::expectations(t)?;
        parameters.insert(
            "CREDENTIAL_REQUEST_OPTIONS".into(),
            passkey::request_options(t, &rp_id, &id),
        );
    }
    let challenge = Challenge::SelectChallenge {
        options: options.to_vec(),
    };
    Ok(Prompt::with_id(id, challenge, parameters).into_outcome())
}

/// Adds `AvailableChallenges` to a challenge InitiateAuth USER_AUTH answers with.
pub(crate) fn offering(outcome: Outcome, available: Vec<FirstFactor>) -> Outcome {
    match outcome {
        Outcome::Challenge(mut p) => {
            p.available = Some(available);
            Outcome::Challenge(p)
        }
        other => other,
    }
}

/// Answers SELECT_CHALLENGE in session `session_id`, which offered `options`.
pub(crate) async fn answer(t: &Turn<'_>, session_id: &str, options: &[FirstFactor], c: &Choice) -> Result<Outcome> {
    if !options.contains(&c.factor()) {
        let offered: Vec<&str> = options.iter().map(|f| f.challenge_name().as_str()).collect();
        return Err(DomainError::InvalidParameter(format!(
            "The ANSWER must be one of the available challenges: {}",
            offered.join(", ")
        )));
    }
    run(t, c, Some(session_id)).await
}

/// The chosen factor's first step (`select`: the SELECT_CHALLENGE session answered, if any).
async fn run(t: &Turn<'_>, c: &Choice, select: Option<&str>) -> Result<Outcome> {
    match c {
        Choice::Password(pw) => password::answer(t, pw).await,
        Choice::PasswordSrp { srp_a } => {
            let (user_id, verifier) = srp::verifier_of(t.user, t.now)?;
            srp::start(t.cpu, &user_id, verifier, srp_a).await
        }
        Choice::EmailOtp | Choice::SmsOtp => {
            may_answer(t)?;
            let medium = if *c == Choice::EmailOtp {
                Medium::Email
            } else {
                Medium::Sms
            };
            Ok(otp::code_prompt(t.pool, t.user, medium, CodeUse::FirstFactor).into_outcome())
        }
        Choice::WebAuthn { credential } => {
            may_answer(t)?;
            match (credential, select) {
                // Signed over the SELECT_CHALLENGE's own request options.
                (Some(credential), Some(session_id)) => {
                    let (rp_id, uv) = passkey::expectations(t)?;
                    passkey::answer(t, session_id, &rp_id, uv, credential)
                }
                _ => passkey::prompt(t),
            }
        }
    }
}
