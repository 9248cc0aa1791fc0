//! MFA_SETUP: the user must set up a factor before signing in. Inside the challenge the client
//! calls AssociateSoftwareToken and VerifySoftwareToken with the Session (each step opens the
//! next session, see [`setup_step`]) and then answers MFA_SETUP; or answers with an `EMAIL`
//! to set up email MFA, which opens an EMAIL_OTP challenge to that address.

use super::{Change, Outcome, Prompt, Turn, base_parameters, may_answer, next};
use crate::auth::session::Challenge;
use crate::error::{DomainError, Result};
use crate::messages::TOTP_NOT_IN_POOL;
use crate::mfa::totp;
use crate::user::User;
use crate::user::mfa::Factor;
use cmfa_wire::shapes::AttributeType;

/// Answers MFA_SETUP in a session that waits on `options` (`totp_verified` once
/// VerifySoftwareToken succeeded in it).
pub(crate) fn answer(t: &Turn<'_>, options: &[Factor], totp_verified: bool, email: Option<&str>) -> Result<Outcome> {
    may_answer(t)?;
    if totp_verified {
        return Ok(Outcome::Tokens(Change::EnableTotp));
    }
    match email {
        Some(address) if options.contains(&Factor::Email) => {
            crate::user::attributes::check_attribute(
                t.pool,
                &AttributeType {
                    name: "email".into(),
                    value: Some(address.to_owned()),
                },
            )?;
            let mut user = t.user.clone();
            user.set_attr("email", Some(address.to_owned()));
            user.set_attr("email_verified", Some("false".into()));
            user.mfa.email_enabled = true;
            let mut prompt = next::factor_prompt(t.pool, &user, Factor::Email);
            prompt.user = Some(user);
            Ok(prompt.into_outcome())
        }
        _ => Err(DomainError::InvalidParameter(
            "MFA_SETUP needs a verified software token (AssociateSoftwareToken and VerifySoftwareToken with this Session) or an EMAIL to set up.".into(),
        )),
    }
}

/// One step inside MFA_SETUP (AssociateSoftwareToken or VerifySoftwareToken with a Session).
pub(crate) enum SetupStep<'a> {
    /// A new secret for the user's authenticator.
    Associate,
    /// The authenticator's first code, registering it.
    Verify {
        code: &'a str,
        friendly_name: Option<String>,
    },
}

/// What a set-up step leaves: the changed user, the next MFA_SETUP session, and for Associate
/// the secret to show the user.
pub(crate) struct SetupOutcome {
    pub user: User,
    pub prompt: Prompt,
    pub secret: Option<[u8; totp::SECRET_BYTES]>,
}

/// Applies a set-up step to the user of an MFA_SETUP session waiting on `options`.
pub(crate) fn setup_step(user: &User, options: Vec<Factor>, step: SetupStep<'_>, now: f64) -> Result<SetupOutcome> {
    let mut user = user.clone();
    let (secret, totp_verified) = match step {
        SetupStep::Associate => {
            if !options.contains(&Factor::SoftwareToken) {
                return Err(DomainError::SoftwareTokenMfaNotFound(TOTP_NOT_IN_POOL.into()));
            }
            let secret = totp::new_secret();
            user.mfa.pending_totp_hex = Some(hex::encode(secret));
            (Some(secret), false)
        }
        SetupStep::Verify { code, friendly_name } => {
            // A wrong code leaves the Session usable for another try.
            crate::user::mfa::register_totp(&mut user, code, friendly_name, now)?;
            user.mfa.totp_enabled = true;
            (None, true)
        }
    };
    let prompt = Prompt::new(Challenge::MfaSetup { options, totp_verified }, base_parameters(&user));
    Ok(SetupOutcome { user, prompt, secret })
}
