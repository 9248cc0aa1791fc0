//! The sign-in engine: a state machine whose states are the [`Challenge`]s a stored
//! [`AuthSession`](crate::auth::session::AuthSession) waits on.
//!
//! A request goes through three stages:
//!
//! 1. **Parse** ([`params`]): `AuthParameters` become a [`Start`](params::Start) (one variant per
//!    first factor) and `ChallengeResponses` an [`Answer`](params::Answer) (one variant per
//!    challenge), with AWS's errors for missing members. Nothing past `params` reads a map.
//! 2. **Decide**: one module per step computes an [`Outcome`] from the session's state, the typed
//!    answer and a [`Turn`] (pool, client, the user loaded once, the time). Transitions write
//!    nothing, so they are tested in-process without a store (`tests`).
//!    - first factors: [`password`] (USER_PASSWORD_AUTH and the admin flows), [`srp`]
//!      (USER_SRP_AUTH), [`refresh`] (REFRESH_TOKEN_AUTH), [`user_auth`] (USER_AUTH: a
//!      preferred factor or SELECT_CHALLENGE over what [`choice`] finds available);
//!    - answers: [`password_verifier`], [`new_password`], [`otp`] (SMS_MFA, EMAIL_OTP, SMS_OTP),
//!      [`software_token`], [`select_mfa`], [`mfa_setup`], SELECT_CHALLENGE in [`user_auth`];
//!    - [`next`]: what follows a first factor (account checks, NEW_PASSWORD_REQUIRED, the MFA
//!      decision of [`crate::mfa::policy`]) and the code challenges it opens.
//! 3. **Persist** ([`engine`]): the outcome is written in one unit of work (the answered
//!    session used, the user if the step changed it, the next session, the code's message) and
//!    rendered into a [`Reply`]; tokens are minted by the one function in [`mint`].
//!
//! A new flow (WEB_AUTHN, DEVICE_SRP_AUTH, step-up) is one more `Start` or `Answer` variant, one
//! more [`Challenge`] state and one more module returning an [`Outcome`]; a passkey is one more
//! [`choice::FirstFactor`].

pub mod choice;
pub(crate) mod decoy;
pub(crate) mod engine;
pub(crate) mod mfa_setup;
pub(crate) mod mint;
pub(crate) mod new_password;
pub(crate) mod next;
pub(crate) mod otp;
pub(crate) mod params;
pub(crate) mod passkey;
pub(crate) mod password;
pub(crate) mod password_verifier;
pub(crate) mod refresh;
pub(crate) mod select_mfa;
pub(crate) mod software_token;
pub(crate) mod srp;
#[cfg(test)]
mod tests;
pub(crate) mod user_auth;

use crate::auth::session::{Challenge, new_session_id};
use crate::client::AppClient;
use crate::compute::Compute;
use crate::error::{DomainError, Result};
use crate::messages::{LOCKED, USER_DISABLED};
use crate::outbound::OutboundMessage;
use crate::pool::UserPool;
use crate::user::User;
use crate::user::password::HashCost;
use cmfa_wire::shapes::{AuthenticationResultType, ChallengeNameType};
use std::collections::BTreeMap;

/// What a step sees: the pool, the client, the user (loaded once for the request) and the time.
pub(crate) struct Turn<'a> {
    pub pool: &'a UserPool,
    pub client: &'a AppClient,
    /// The user's store key.
    pub key: &'a str,
    pub user: &'a User,
    pub now: f64,
    /// Where password hashing and SRP run.
    pub cpu: &'a Compute,
    pub hash_cost: HashCost,
    /// Passkey page origins allowed besides the relying party's (`--webauthn-origin`).
    pub webauthn_origins: &'a [String],
}

/// What a step decided.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Ask the client something: a new session waiting on [`Prompt::challenge`].
    Challenge(Box<Prompt>),
    /// The sign-in is complete: tokens, after `Change` is applied to the stored user.
    Tokens(Change),
    /// A wrong answer: counted toward the user's lockout, then answered with `error`.
    /// (Refusals that do not count are plain `Err`s.)
    Fail(DomainError),
}

/// A challenge to open.
#[derive(Debug)]
pub(crate) struct Prompt {
    /// The new session's id, drawn first because code hashes are salted with it.
    pub session_id: String,
    /// What the session waits on.
    pub challenge: Challenge,
    /// `ChallengeParameters` of the reply.
    pub parameters: BTreeMap<String, String>,
    /// The user as this step leaves it, when the step changed it (saved with the session).
    pub user: Option<User>,
    /// A code to deliver, recorded with the session that holds its hash.
    pub message: Option<OutboundMessage>,
    /// Whether the reply carries the `Session` (PASSWORD_VERIFIER's does not: its SECRET_BLOCK
    /// names the session).
    pub session_in_reply: bool,
    /// USER_AUTH: the first factors the user could choose (`AvailableChallenges`).
    pub available: Option<Vec<choice::FirstFactor>>,
}

impl Prompt {
    /// A prompt with a fresh session id, no user change and no message.
    pub(crate) fn new(challenge: Challenge, parameters: BTreeMap<String, String>) -> Prompt {
        Prompt::with_id(new_session_id(), challenge, parameters)
    }

    pub(crate) fn with_id(session_id: String, challenge: Challenge, parameters: BTreeMap<String, String>) -> Prompt {
        Prompt {
            session_id,
            challenge,
            parameters,
            user: None,
            message: None,
            session_in_reply: true,
            available: None,
        }
    }

    pub(crate) fn into_outcome(self) -> Outcome {
        Outcome::Challenge(Box::new(self))
    }
}

/// A change a completed sign-in makes to the user, applied to the stored user when the tokens
/// are recorded. Kept as data, not done at once, so that if another request wrote the user
/// meanwhile it is applied again to the fresh copy (and a TOTP step a racing sign-in used is
/// refused).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Change {
    None,
    /// A code reached `attribute` at `destination`: that proves the attribute, if it still
    /// holds the address the code went to (reference §4.4).
    ProveContact {
        attribute: &'static str,
        verified: &'static str,
        destination: String,
    },
    /// A TOTP code of this time step signed in; no code of it or an earlier step may again.
    UseTotpStep(u64),
    /// MFA_SETUP completed with a verified authenticator.
    EnableTotp,
    /// A passkey signed in; its counter moves to `sign_count` (unless it keeps none).
    PasskeyUsed {
        id: String,
        sign_count: u32,
    },
}

impl Change {
    pub(crate) fn apply(&self, u: &mut User) -> Result<()> {
        match self {
            Change::None => Ok(()),
            Change::ProveContact {
                attribute,
                verified,
                destination,
            } => {
                if u.attr(attribute) == Some(destination.as_str()) {
                    u.set_attr(verified, Some("true".into()));
                }
                Ok(())
            }
            Change::UseTotpStep(step) => match u.mfa.totp.as_mut() {
                Some(d) if d.last_step.is_none_or(|l| *step > l) => {
                    d.last_step = Some(*step);
                    Ok(())
                }
                _ => Err(DomainError::ExpiredCode(crate::messages::TOTP_REUSED.into())),
            },
            Change::EnableTotp => {
                u.mfa.totp_enabled = true;
                Ok(())
            }
            Change::PasskeyUsed { id, sign_count } => {
                let Some(p) = u.passkeys.iter_mut().find(|p| p.id == *id) else {
                    return Err(DomainError::NotAuthorized(passkey::NOT_VERIFIED.into()));
                };
                // A racing sign-in moved the counter past this one: a cloned authenticator.
                if *sign_count != 0 && *sign_count <= p.sign_count {
                    return Err(DomainError::NotAuthorized(passkey::NOT_VERIFIED.into()));
                }
                p.sign_count = *sign_count;
                Ok(())
            }
        }
    }
}

/// What a sign-in request answers, before it becomes one of the four response shapes.
#[derive(Debug, Default)]
pub struct Reply {
    pub challenge: Option<ChallengeNameType>,
    pub session: Option<String>,
    pub parameters: BTreeMap<String, String>,
    pub result: Option<AuthenticationResultType>,
    /// USER_AUTH's `AvailableChallenges`.
    pub available: Option<Vec<ChallengeNameType>>,
}

/// Renders a [`Reply`] into each of the four response shapes (the same five members each).
macro_rules! render_reply {
    ($($shape:ty),*) => {$(
        impl From<Reply> for $shape {
            fn from(r: Reply) -> Self {
                Self {
                    challenge_name: r.challenge,
                    session: r.session,
                    challenge_parameters: Some(r.parameters),
                    authentication_result: r.result,
                    available_challenges: r.available,
                }
            }
        }
    )*};
}

render_reply!(
    cmfa_wire::shapes::InitiateAuthResponse,
    cmfa_wire::shapes::AdminInitiateAuthResponse,
    cmfa_wire::shapes::RespondToAuthChallengeResponse,
    cmfa_wire::shapes::AdminRespondToAuthChallengeResponse
);

/// Before any MFA answer is checked: a locked or disabled user gets no further.
pub(crate) fn may_answer(t: &Turn<'_>) -> Result<()> {
    if t.user.lockout.is_locked(t.now) {
        return Err(DomainError::NotAuthorized(LOCKED.into()));
    }
    if !t.user.enabled {
        return Err(DomainError::NotAuthorized(USER_DISABLED.into()));
    }
    Ok(())
}

/// `ChallengeParameters` every challenge after the first factor carries.
pub(crate) fn base_parameters(user: &User) -> BTreeMap<String, String> {
    BTreeMap::from([("USER_ID_FOR_SRP".to_owned(), user.username.clone())])
}
