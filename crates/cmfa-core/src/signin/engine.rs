//! Runs a sign-in request: parse ([`super::params`]), load the session and the user once, let
//! the step's module decide, then persist its [`Outcome`] in one unit of work and render it.
//!
//! Each step that waits for the client is an [`AuthSession`] in the store, so any server process
//! can answer the next step. A session is consumed in the same write that opens the next one or
//! records the sign-in.

use super::choice::FirstFactor;
use super::decoy::{hides_existence, unknown_user};
use super::mfa_setup::{self, SetupStep};
use super::mint::Grant;
use super::otp::Medium;
use super::params::{self, Answer, Choice, Start};
use super::password_verifier::{Proof, State};
use super::{
    Change, Outcome, Prompt, Reply, Turn, new_password, next, otp, passkey, password, password_verifier, select_mfa,
    software_token, srp, user_auth,
};
use crate::auth::refresh;
use crate::auth::session::{AuthSession, Challenge, EXPIRED_SESSION, INVALID_SESSION, USED_SESSION, new_session_id};
use crate::client::{self, AppClient, check_secret_hash};
use crate::error::{DomainError, Result};
use crate::messages::{BAD_CREDENTIALS, USER_NOT_FOUND};
use crate::ops::Service;
use crate::pool::UserPool;
use crate::store::{StepWrite, StoreError};
use crate::user::{User, username_key};
use cmfa_wire::shapes::{AuthFlowType, UserPoolTierType};
use std::collections::BTreeMap;

type Map = BTreeMap<String, String>;

/// USER_AUTH in a LITE pool (ours: AWS's text is not on record).
const USER_AUTH_LITE: &str = "Choice-based sign-in (USER_AUTH) is not available in the LITE feature plan. Change UserPoolTier to ESSENTIALS or PLUS.";

/// The user changed under a step; the client may simply retry.
const USER_CHANGED: &str = "The user changed during this step; try again.";

impl Service {
    fn turn<'a>(&'a self, pool: &'a UserPool, client: &'a AppClient, key: &'a str, user: &'a User) -> Turn<'a> {
        Turn {
            pool,
            client,
            key,
            user,
            now: self.clock.now(),
            cpu: &self.compute,
            hash_cost: self.settings.password_hash,
            webauthn_origins: &self.settings.webauthn_origins,
        }
    }

    /// InitiateAuth / AdminInitiateAuth (`admin`).
    pub(crate) async fn start_sign_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        flow: AuthFlowType,
        parameters: &Map,
        admin: bool,
        session: Option<&str>,
    ) -> Result<Reply> {
        let req = params::parse_start(flow, parameters, admin, client)?;
        let secret_hash = req.secret_hash.as_deref();
        match req.start {
            Start::Password { username, password } => {
                check_secret_hash(client, &username, secret_hash)?;
                let Some((key, user)) = self.find_user(pool, &username).await? else {
                    if hides_existence(client) {
                        self.spend_password_check(&password).await?;
                    }
                    return Err(unknown_user(client));
                };
                let t = self.turn(pool, client, &key, &user);
                let outcome = password::answer(&t, &password).await?;
                self.settle(&t, None, outcome).await
            }
            Start::Srp { username, srp_a } => {
                check_secret_hash(client, &username, secret_hash)?;
                let (user_id, verifier) = match self.find_user(pool, &username).await? {
                    Some((_, user)) => srp::verifier_of(&user, self.clock.now())?,
                    None if hides_existence(client) => self.decoy_srp_user(pool, &username).await?,
                    None => return Err(unknown_user(client)),
                };
                match srp::start(&self.compute, &user_id, verifier, &srp_a).await? {
                    Outcome::Challenge(p) => self.open_prompt(pool, client, "", &user_id, None, *p).await,
                    _ => Err(DomainError::Internal("SRP start opens a challenge".into())),
                }
            }
            Start::Refresh { token } => self.refresh_sign_in(pool, client, &token, secret_hash).await,
            Start::UserAuth { username, preferred } => {
                if pool.tier() == UserPoolTierType::Lite {
                    return Err(DomainError::FeatureUnavailableInTier(USER_AUTH_LITE.into()));
                }
                check_secret_hash(client, &username, secret_hash)?;
                if let Some(id) = session {
                    return self.sign_in_confirmed(pool, client, &username, id).await;
                }
                let Some((key, user)) = self.find_user(pool, &username).await? else {
                    return self.unknown_user_auth(pool, client, &username, preferred).await;
                };
                let t = self.turn(pool, client, &key, &user);
                let outcome = user_auth::start(&t, preferred.as_ref()).await?;
                self.settle(&t, None, outcome).await
            }
        }
    }

    /// USER_AUTH naming no user. With existence errors hidden, what a user with a password
    /// would get (SELECT_CHALLENGE over the password factors, a PASSWORD_VERIFIER no proof can
    /// satisfy, or the cost of a password check), so the cases look alike until an answer fails.
    async fn unknown_user_auth(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        preferred: Option<Choice>,
    ) -> Result<Reply> {
        if !hides_existence(client) {
            return Err(unknown_user(client));
        }
        let offered = vec![FirstFactor::Password, FirstFactor::PasswordSrp];
        let (user_id, outcome) = match preferred {
            Some(Choice::Password(pw)) => {
                self.spend_password_check(&pw).await?;
                return Err(unknown_user(client));
            }
            Some(Choice::PasswordSrp { srp_a }) => {
                let (user_id, verifier) = self.decoy_srp_user(pool, username).await?;
                let outcome = srp::start(&self.compute, &user_id, verifier, &srp_a).await?;
                (user_id, outcome)
            }
            _ => (username.to_owned(), user_auth::select_challenge(None, &offered)?),
        };
        match user_auth::offering(outcome, offered) {
            Outcome::Challenge(p) => self.open_prompt(pool, client, "", &user_id, None, *p).await,
            _ => Err(DomainError::Internal("a decoy opens a challenge".into())),
        }
    }

    /// InitiateAuth USER_AUTH with ConfirmSignUp's Session: the confirmation code was the first
    /// factor, so the user signs in without being asked again (once, straight after sign-up).
    async fn sign_in_confirmed(&self, pool: &UserPool, client: &AppClient, username: &str, id: &str) -> Result<Reply> {
        let invalid = || DomainError::NotAuthorized(INVALID_SESSION.into());
        let s = self.open_session(client, id).await?;
        if !matches!(s.challenge, Challenge::SignUpConfirmed) {
            return Err(invalid());
        }
        let (key, user) = self.find_user(pool, &s.username).await?.ok_or_else(invalid)?;
        if !self.names(pool, &key, username).await? || !user.fresh_from_sign_up {
            return Err(invalid());
        }
        super::may_answer(&self.turn(pool, client, &key, &user))?;
        self.finish(pool, client, &key, &user, Some(&s.id), Change::None).await
    }

    /// Whether `typed` (a username or an alias) names the user stored under `key`; loads a user
    /// only when `typed` is not that user's own name.
    async fn names(&self, pool: &UserPool, key: &str, typed: &str) -> Result<bool> {
        Ok(username_key(pool, typed) == key || self.find_user(pool, typed).await?.is_some_and(|(k, _)| k == key))
    }

    /// The session ConfirmSignUp hands out (see [`Self::sign_in_confirmed`]).
    pub(crate) async fn open_sign_up_session(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
    ) -> Result<String> {
        let s = self.session_for(pool, client, username, new_session_id(), Challenge::SignUpConfirmed);
        self.store.put_session(&s).await?;
        Ok(s.id)
    }

    /// RespondToAuthChallenge / AdminRespondToAuthChallenge.
    pub(crate) async fn answer_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        challenge: cmfa_wire::shapes::ChallengeNameType,
        session: Option<&str>,
        responses: &Map,
    ) -> Result<Reply> {
        params::check_supported(challenge)?;
        let (params::SessionRef::Given(id) | params::SessionRef::InSecretBlock(id)) =
            params::session_ref(challenge, session, responses)?;
        let s = self.open_session(client, &id).await?;
        // The one check of which challenge the session waits on, against its typed state.
        if s.challenge.kind() != Some(challenge) {
            return Err(DomainError::NotAuthorized(INVALID_SESSION.into()));
        }
        let who = params::identity(responses)?;
        check_secret_hash(client, &who.username, who.secret_hash.as_deref())?;
        let found = self.find_user(pool, &s.username).await?;
        // The answer must name the session's user (by username or alias).
        if let Some((key, _)) = &found
            && !self.names(pool, key, &who.username).await?
        {
            return Err(DomainError::NotAuthorized(INVALID_SESSION.into()));
        }
        // As AWS: a locked or disabled user learns so before the code is even read.
        if let Some((key, user)) = &found
            && !matches!(
                s.challenge,
                Challenge::PasswordVerifier { .. } | Challenge::NewPasswordRequired
            )
        {
            super::may_answer(&self.turn(pool, client, key, user))?;
        }
        let answer = params::parse_answer(challenge, responses)?;
        let Some((key, user)) = found else {
            let e = match &answer {
                Answer::PasswordVerifier { .. } => BAD_CREDENTIALS,
                // A decoy SELECT_CHALLENGE (see `unknown_user_auth`).
                Answer::SelectChallenge { choice } => {
                    if let Choice::Password(pw) = choice {
                        self.spend_password_check(pw).await?;
                    }
                    BAD_CREDENTIALS
                }
                _ => INVALID_SESSION,
            };
            return Err(DomainError::NotAuthorized(e.into()));
        };
        let t = self.turn(pool, client, &key, &user);
        let outcome = match (&s.challenge, &answer) {
            (
                Challenge::PasswordVerifier {
                    ephemeral,
                    srp_a,
                    secret_block,
                },
                Answer::PasswordVerifier {
                    secret_block: block,
                    signature,
                    timestamp,
                },
            ) => {
                let state = State {
                    ephemeral,
                    srp_a,
                    secret_block,
                };
                let proof = Proof {
                    secret_block: block,
                    signature,
                    timestamp,
                };
                password_verifier::answer(&t, state, proof).await?
            }
            (Challenge::NewPasswordRequired, Answer::NewPassword { password, attributes }) => {
                let changed = new_password::answer(&t, password, attributes).await?;
                // A profile change (aliases may move with the attributes), saved before the
                // next step is decided on the saved user.
                let user = self.save_user(pool, &key, changed, None).await?;
                let t = self.turn(pool, client, &key, &user);
                let outcome = next::after_first_factor(&t)?;
                return self.settle(&t, Some(&s.id), outcome).await;
            }
            (Challenge::SmsMfa { code_hash, destination }, Answer::SmsMfa { code }) => {
                otp::answer(&t, Medium::Sms, &s.id, code_hash, destination, code)?
            }
            (
                Challenge::EmailOtp {
                    code_hash, destination, ..
                },
                Answer::EmailOtp { code },
            ) => otp::answer(&t, Medium::Email, &s.id, code_hash, destination, code)?,
            (Challenge::SmsOtp { code_hash, destination }, Answer::SmsOtp { code }) => {
                otp::answer(&t, Medium::Sms, &s.id, code_hash, destination, code)?
            }
            (Challenge::SelectChallenge { options }, Answer::SelectChallenge { choice }) => {
                user_auth::answer(&t, &s.id, options, choice).await?
            }
            (
                Challenge::WebAuthn {
                    rp_id,
                    user_verification_required,
                },
                Answer::WebAuthn { credential },
            ) => passkey::answer(&t, &s.id, rp_id, *user_verification_required, credential)?,
            (Challenge::SoftwareTokenMfa, Answer::SoftwareTokenMfa { code }) => software_token::answer(&t, code)?,
            (Challenge::SelectMfaType { options }, Answer::SelectMfaType { answer }) => {
                select_mfa::answer(&t, options, answer)?
            }
            (Challenge::MfaSetup { options, totp_verified }, Answer::MfaSetup { email }) => {
                mfa_setup::answer(&t, options, *totp_verified, email.as_deref())?
            }
            // Unreachable: the session's kind was checked against `challenge` above.
            _ => return Err(DomainError::NotAuthorized(INVALID_SESSION.into())),
        };
        self.settle(&t, Some(&s.id), outcome).await
    }

    /// AssociateSoftwareToken / VerifySoftwareToken with the Session of an MFA_SETUP challenge:
    /// the step applied to the session's user, the next MFA_SETUP session opened. Returns the
    /// next session's id and, for Associate, the new secret.
    pub(crate) async fn mfa_setup_step(
        &self,
        session: &str,
        step: SetupStep<'_>,
    ) -> Result<(String, Option<[u8; crate::mfa::totp::SECRET_BYTES]>)> {
        let invalid = || DomainError::NotAuthorized(INVALID_SESSION.into());
        let s = self.live_session(session).await?;
        let Challenge::MfaSetup { options, .. } = s.challenge.clone() else {
            return Err(invalid());
        };
        let pool = self.store.get_pool(&s.pool_id).await?.ok_or_else(invalid)?;
        let client = self.store.get_client(&s.client_id).await?.ok_or_else(invalid)?;
        let (key, user) = self.find_user(&pool, &s.username).await?.ok_or_else(invalid)?;
        let out = mfa_setup::setup_step(&user, options, step, self.clock.now())?;
        let next = out.prompt.session_id.clone();
        let mut prompt = out.prompt;
        prompt.user = Some(out.user);
        self.open_prompt(&pool, &client, &key, &user.username, Some(&s.id), prompt)
            .await?;
        Ok((next, out.secret))
    }

    /// Persists what a step decided and renders the reply.
    async fn settle(&self, t: &Turn<'_>, previous: Option<&str>, outcome: Outcome) -> Result<Reply> {
        match outcome {
            Outcome::Challenge(p) => {
                self.open_prompt(t.pool, t.client, t.key, &t.user.username, previous, *p)
                    .await
            }
            Outcome::Tokens(change) => self.finish(t.pool, t.client, t.key, t.user, previous, change).await,
            Outcome::Fail(error) => {
                self.record_failure(t.pool, t.key, t.user.clone()).await;
                Err(error)
            }
        }
    }

    /// Opens the prompt's session for `username`, in one write with the answered session used,
    /// the user if the step changed it, and the code's message.
    async fn open_prompt(
        &self,
        pool: &UserPool,
        client: &AppClient,
        key: &str,
        username: &str,
        previous: Option<&str>,
        p: Prompt,
    ) -> Result<Reply> {
        let session = self.session_for(pool, client, username, p.session_id, p.challenge);
        if previous.is_none() && p.user.is_none() && p.message.is_none() {
            self.store.put_session(&session).await?;
        } else {
            self.open_step(previous, key, p.user.as_ref(), &session, p.message.as_ref())
                .await?;
        }
        Ok(Reply {
            challenge: session.challenge.kind(),
            session: p.session_in_reply.then_some(session.id),
            parameters: p.parameters,
            result: None,
            available: p
                .available
                .map(|a| a.into_iter().map(FirstFactor::challenge_name).collect()),
        })
    }

    /// A completed sign-in: tokens for the user as `change` leaves it, and the sign-in recorded
    /// (the session used, the change applied, the lockout reset).
    async fn finish(
        &self,
        pool: &UserPool,
        client: &AppClient,
        key: &str,
        user: &User,
        previous: Option<&str>,
        change: Change,
    ) -> Result<Reply> {
        // The tokens describe the user as this sign-in leaves it; `user` stays the stored state.
        let mut signed = user.clone();
        change.apply(&mut signed)?;
        let now = self.clock.now();
        let grant = Grant {
            key,
            origin_jti: refresh::new_origin_jti(now, user.signed_out_at_ms),
            auth_time: now as i64,
            with_refresh: true,
        };
        let result = self.mint(pool, client, &signed, grant).await?;
        self.save_record(&pool.id, key, user.clone(), previous, |u| {
            change.apply(u)?;
            u.lockout.succeed();
            u.fresh_from_sign_up = false;
            Ok(())
        })
        .await?;
        Ok(Reply {
            result: Some(result),
            ..Reply::default()
        })
    }

    /// A new sign-in session for `username`, expiring after the client's session lifetime.
    pub(crate) fn session_for(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        id: String,
        challenge: Challenge,
    ) -> AuthSession {
        AuthSession {
            id,
            pool_id: pool.id.clone(),
            client_id: client.client_id.clone(),
            username: username.to_owned(),
            challenge,
            expires_at: self.clock.now() + client::lifetimes(&client.config).session as f64,
        }
    }

    /// A stored session that is neither used nor expired.
    async fn live_session(&self, id: &str) -> Result<AuthSession> {
        let (s, used) = self
            .store
            .get_session(id)
            .await?
            .ok_or_else(|| DomainError::NotAuthorized(INVALID_SESSION.into()))?;
        if used {
            return Err(DomainError::NotAuthorized(USED_SESSION.into()));
        }
        if s.expires_at <= self.clock.now() {
            return Err(DomainError::NotAuthorized(EXPIRED_SESSION.into()));
        }
        Ok(s)
    }

    /// A live session of this client. (Which challenge it waits on is checked by the caller,
    /// against the typed answer.)
    async fn open_session(&self, client: &AppClient, id: &str) -> Result<AuthSession> {
        let s = self.live_session(id).await?;
        if s.client_id != client.client_id {
            return Err(DomainError::NotAuthorized(INVALID_SESSION.into()));
        }
        Ok(s)
    }

    /// Writes one step in one unit: the answered session used, the user if the step changed it,
    /// the next session and the code's message. A step that changes no user cannot conflict with
    /// another sign-in of the same user.
    async fn open_step(
        &self,
        previous: Option<&str>,
        key: &str,
        changed: Option<&User>,
        next: &AuthSession,
        message: Option<&crate::outbound::OutboundMessage>,
    ) -> Result<()> {
        let user = changed.map(|u| {
            let mut u = u.clone();
            u.version += 1;
            u.modified = self.clock.now_millis();
            u
        });
        let step = StepWrite {
            used: previous,
            user: user.as_ref().map(|u| (u, key)),
            next: Some(next),
            message,
            now: self.clock.now(),
            ..StepWrite::default()
        };
        match self.store.write_step(step).await {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict) => match previous {
                Some(p) => Err(self.step_conflict(p).await),
                None => Err(DomainError::ConcurrentModification(USER_CHANGED.into())),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Why consuming a session failed: it was used already, or the user changed meanwhile.
    async fn step_conflict(&self, session_id: &str) -> DomainError {
        match self.store.get_session(session_id).await {
            Ok(Some((_, true))) => DomainError::NotAuthorized(USED_SESSION.into()),
            Ok(_) => DomainError::ConcurrentModification(USER_CHANGED.into()),
            Err(e) => e.into(),
        }
    }

    /// Applies `change` to the stored `user` and saves the result (no alias or searchable
    /// attribute changes), consuming `session_id` if given, in one write. Nothing about the user
    /// is written when `change` leaves it as it was. If another request changed the user
    /// meanwhile, reads it again and applies `change` to the new state (so, say, a TOTP step used
    /// by a racing sign-in is refused) instead of failing.
    pub(crate) async fn save_record<F>(
        &self,
        pool_id: &str,
        key: &str,
        mut user: User,
        session_id: Option<&str>,
        change: F,
    ) -> Result<()>
    where
        F: Fn(&mut User) -> Result<()>,
    {
        // Every lost race means another write to this user landed; that cannot go on for long.
        for _ in 0..64 {
            let mut next = user.clone();
            change(&mut next)?;
            let changed = next != user;
            next.version += 1;
            let step = StepWrite {
                used: session_id,
                user: changed.then_some((&next, key)),
                ..StepWrite::default()
            };
            if step.used.is_none() && step.user.is_none() {
                return Ok(());
            }
            match self.store.write_step(step).await {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) => {
                    if let Some(sid) = session_id
                        && matches!(self.store.get_session(sid).await?, Some((_, true)))
                    {
                        return Err(DomainError::NotAuthorized(USED_SESSION.into()));
                    }
                    user = self
                        .store
                        .get_user(pool_id, key)
                        .await?
                        .ok_or_else(|| DomainError::UserNotFound(USER_NOT_FOUND.into()))?;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(DomainError::ConcurrentModification(
            "Too many concurrent changes to the user; try again.".into(),
        ))
    }
}
