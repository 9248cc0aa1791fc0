//! The MFA step of a sign-in: choosing the challenge (see `mfa::policy`), sending SMS and email
//! codes, checking answers, SELECT_MFA_TYPE and MFA_SETUP.
//!
//! Codes live only as hashes inside the session; a wrong answer may be retried on the same
//! session until it expires, and every failure counts toward the user's lockout.

use super::Service;
use super::auth::Step;
use crate::auth::session::{AuthSession, Challenge, code_hash, same_hash};
use crate::client::AppClient;
use crate::error::{DomainError, Result};
use crate::mfa::policy::{Next, next_step};
use crate::mfa::totp;
use crate::outbound::{Channel, OutboundMessage};
use crate::pool::UserPool;
use crate::store::{StepWrite, StoreError};
use crate::user::User;
use crate::user::codes::new_code;
use crate::user::delivery::{mask_email, mask_phone};
use crate::user::mfa::Factor;
use cmfa_wire::shapes::{
    AssociateSoftwareTokenResponse, ChallengeNameType, VerifySoftwareTokenRequest, VerifySoftwareTokenResponse,
    VerifySoftwareTokenResponseType,
};
use std::collections::BTreeMap;

pub(crate) use crate::messages::{CODE_MISMATCH, TOTP_REUSED};
/// AWS's default SMS MFA text.
const DEFAULT_SMS_TEXT: &str = "Your authentication code is {####}.";
/// Ours: AWS's default email MFA texts are not on record.
const DEFAULT_EMAIL_SUBJECT: &str = "Your verification code";
const DEFAULT_EMAIL_TEXT: &str = "Your verification code is {####}.";
use crate::messages::LOCKED;

fn factors_json(f: &[Factor]) -> String {
    serde_json::to_string(&f.iter().map(|f| f.as_str()).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into())
}

fn challenge_name(f: Factor) -> ChallengeNameType {
    match f {
        Factor::Sms => ChallengeNameType::SmsMfa,
        Factor::SoftwareToken => ChallengeNameType::SoftwareTokenMfa,
        Factor::Email => ChallengeNameType::EmailOtp,
    }
}

fn base_params(user: &User) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    p.insert("USER_ID_FOR_SRP".into(), user.username.clone());
    p
}

impl Service {
    /// After the first factor (and any new password): tokens, or the MFA challenge.
    pub(crate) async fn mfa_step(
        &self,
        pool: &UserPool,
        client: &AppClient,
        key: &str,
        user: User,
        session_id: Option<&str>,
    ) -> Result<Step> {
        match next_step(pool, &user) {
            Next::Tokens => Ok(Step::tokens(
                self.issue_tokens(pool, client, key, user, session_id).await?,
            )),
            Next::Challenge(f) => self.challenge(pool, client, key, user, false, session_id, f).await,
            Next::Select(options) => {
                let mut parameters = base_params(&user);
                parameters.insert("MFAS_CAN_CHOOSE".into(), factors_json(&options));
                let session = self
                    .chain(
                        pool,
                        client,
                        key,
                        &user,
                        false,
                        session_id,
                        Challenge::SelectMfaType { options },
                    )
                    .await?;
                Ok(Step {
                    challenge: Some(ChallengeNameType::SelectMfaType),
                    session: Some(session),
                    parameters,
                    result: None,
                })
            }
            Next::Setup(options) => {
                let mut parameters = base_params(&user);
                parameters.insert("MFAS_CAN_SETUP".into(), factors_json(&options));
                let challenge = Challenge::MfaSetup {
                    options,
                    totp_verified: false,
                };
                let session = self
                    .chain(pool, client, key, &user, false, session_id, challenge)
                    .await?;
                Ok(Step {
                    challenge: Some(ChallengeNameType::MfaSetup),
                    session: Some(session),
                    parameters,
                    result: None,
                })
            }
            Next::NoMethod => Err(DomainError::MfaMethodNotFound(
                "No MFA method is available to the user and none can be set up.".into(),
            )),
        }
    }

    /// Consumes the previous session (if any) and opens the next one, saving `user` too when
    /// this step `changed` it.
    #[allow(clippy::too_many_arguments)]
    async fn chain(
        &self,
        pool: &UserPool,
        client: &AppClient,
        key: &str,
        user: &User,
        changed: bool,
        previous: Option<&str>,
        challenge: Challenge,
    ) -> Result<String> {
        let next = self.session_for(
            pool,
            client,
            &user.username,
            crate::auth::session::new_session_id(),
            challenge,
        );
        self.open_step(previous, key, changed.then_some(user), &next, None)
            .await?;
        Ok(next.id)
    }

    /// Writes one step in one unit: the answered session used, the user if the step changed it,
    /// the next session and the code's message. A step that changes no user cannot conflict with
    /// another sign-in of the same user.
    pub(crate) async fn open_step(
        &self,
        previous: Option<&str>,
        key: &str,
        changed: Option<&User>,
        next: &AuthSession,
        message: Option<&OutboundMessage>,
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
                None => Err(DomainError::ConcurrentModification(
                    "The user changed during this step; try again.".into(),
                )),
            },
            Err(e) => Err(e.into()),
        }
    }

    /// Opens a challenge for factor `f`, sending the code for SMS and email; saves `user` too
    /// when the step `changed` it.
    #[allow(clippy::too_many_arguments)]
    async fn challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        key: &str,
        user: User,
        changed: bool,
        previous: Option<&str>,
        f: Factor,
    ) -> Result<Step> {
        let mut parameters = base_params(&user);
        // The code hash is salted with the session id, so the id is drawn first.
        let session = crate::auth::session::new_session_id();
        let (challenge, message) = match f {
            Factor::SoftwareToken => {
                let name = user
                    .mfa
                    .totp
                    .as_ref()
                    .and_then(|t| t.friendly_name.clone())
                    .unwrap_or_else(|| "Unknown".into());
                parameters.insert("FRIENDLY_DEVICE_NAME".into(), name);
                (Challenge::SoftwareTokenMfa, None)
            }
            Factor::Sms | Factor::Email => {
                let sms = f == Factor::Sms;
                let destination = user
                    .attr(if sms { "phone_number" } else { "email" })
                    .unwrap_or_default()
                    .to_owned();
                // SMS MFA codes have 6 digits, email codes 8 (reference §5).
                let code = new_code(if sms { 6 } else { 8 });
                parameters.insert(
                    "CODE_DELIVERY_DELIVERY_MEDIUM".into(),
                    if sms { "SMS" } else { "EMAIL" }.into(),
                );
                parameters.insert(
                    "CODE_DELIVERY_DESTINATION".into(),
                    if sms {
                        mask_phone(&destination)
                    } else {
                        mask_email(&destination)
                    },
                );
                let (subject, body) = if sms {
                    let t = pool
                        .config
                        .sms_authentication_message
                        .as_deref()
                        .unwrap_or(DEFAULT_SMS_TEXT);
                    (None, t.replace("{####}", &code))
                } else {
                    let e = pool.mfa.email.as_ref();
                    let subject = e
                        .and_then(|e| e.subject.clone())
                        .unwrap_or_else(|| DEFAULT_EMAIL_SUBJECT.into());
                    let t = e
                        .and_then(|e| e.message.clone())
                        .unwrap_or_else(|| DEFAULT_EMAIL_TEXT.into());
                    (Some(subject), t.replace("{####}", &code))
                };
                let message = OutboundMessage {
                    pool_id: pool.id.clone(),
                    username: user.username.clone(),
                    channel: if sms { Channel::Sms } else { Channel::Email },
                    destination,
                    subject,
                    body,
                    purpose: if sms { "SMS_MFA" } else { "EMAIL_OTP" }.into(),
                };
                let hash = code_hash(&session, &code);
                let to = message.destination.clone();
                let c = if sms {
                    Challenge::SmsMfa {
                        code_hash: hash,
                        destination: to,
                    }
                } else {
                    Challenge::EmailOtp {
                        code_hash: hash,
                        destination: to,
                    }
                };
                (c, Some(message))
            }
        };
        let s = self.session_for(pool, client, &user.username, session.clone(), challenge);
        self.open_step(previous, key, changed.then_some(&user), &s, message.as_ref())
            .await?;
        Ok(Step {
            challenge: Some(challenge_name(f)),
            session: Some(session),
            parameters,
            result: None,
        })
    }

    /// Why consuming a session failed: it was used already, or the user changed meanwhile.
    async fn step_conflict(&self, session_id: &str) -> DomainError {
        match self.store.get_session(session_id).await {
            Ok(Some((_, true))) => DomainError::NotAuthorized(crate::auth::session::USED_SESSION.into()),
            Ok(_) => DomainError::ConcurrentModification("The user changed during this step; try again.".into()),
            Err(e) => e.into(),
        }
    }

    async fn mfa_failed(&self, pool: &UserPool, key: &str, user: User) -> DomainError {
        self.record_failure(pool, key, user).await;
        DomainError::CodeMismatch(CODE_MISMATCH.into())
    }

    /// Answers to the MFA challenges.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn respond_mfa(
        &self,
        pool: &UserPool,
        client: &AppClient,
        session_id: &str,
        challenge: Challenge,
        key: String,
        mut user: User,
        r: &BTreeMap<String, String>,
    ) -> Result<Step> {
        let now = self.clock.now();
        if user.lockout.is_locked(now) {
            return Err(DomainError::NotAuthorized(LOCKED.into()));
        }
        if !user.enabled {
            return Err(DomainError::NotAuthorized(crate::messages::USER_DISABLED.into()));
        }
        let need = |name: &str| {
            r.get(name)
                .map(String::as_str)
                .ok_or_else(|| DomainError::InvalidParameter(format!("Missing required parameter {name}")))
        };
        match challenge.clone() {
            Challenge::SmsMfa {
                code_hash: want,
                destination,
            }
            | Challenge::EmailOtp {
                code_hash: want,
                destination,
            } => {
                let sms = matches!(challenge, Challenge::SmsMfa { .. });
                let (field, attribute, verified) = if sms {
                    ("SMS_MFA_CODE", "phone_number", "phone_number_verified")
                } else {
                    ("EMAIL_OTP_CODE", "email", "email_verified")
                };
                let code = need(field)?;
                if !same_hash(&code_hash(session_id, code), &want) {
                    return Err(self.mfa_failed(pool, &key, user).await);
                }
                // A code that reached the attribute proves the attribute (reference §4.4), if the
                // attribute still holds the address the code went to.
                let prove = |u: &mut User| {
                    if u.attr(attribute) == Some(destination.as_str()) {
                        u.set_attr(verified, Some("true".into()));
                    }
                    Ok(())
                };
                Ok(Step::tokens(
                    self.issue_tokens_with(pool, client, &key, user, Some(session_id), prove)
                        .await?,
                ))
            }
            Challenge::SoftwareTokenMfa => {
                let code = need("SOFTWARE_TOKEN_MFA_CODE")?;
                let Some(device) = user.mfa.totp.clone() else {
                    return Err(DomainError::SoftwareTokenMfaNotFound(
                        crate::messages::NO_SOFTWARE_TOKEN.into(),
                    ));
                };
                let secret = hex::decode(&device.secret_hex).unwrap_or_default();
                match totp::check(&secret, code, now, device.last_step) {
                    Ok(step) => {
                        // Marks the step used; against a fresher user (after a racing write) it
                        // refuses a step that a concurrent sign-in has used meanwhile.
                        let use_step = |u: &mut User| match u.mfa.totp.as_mut() {
                            Some(d) if d.last_step.is_none_or(|l| step > l) => {
                                d.last_step = Some(step);
                                Ok(())
                            }
                            _ => Err(DomainError::ExpiredCode(TOTP_REUSED.into())),
                        };
                        Ok(Step::tokens(
                            self.issue_tokens_with(pool, client, &key, user, Some(session_id), use_step)
                                .await?,
                        ))
                    }
                    // The right code, once more: not a guess, so not counted toward the lockout.
                    Err(totp::TotpError::Replayed) => Err(DomainError::ExpiredCode(TOTP_REUSED.into())),
                    Err(totp::TotpError::Mismatch) => Err(self.mfa_failed(pool, &key, user).await),
                }
            }
            Challenge::SelectMfaType { options } => {
                let answer = need("ANSWER")?;
                let chosen = options.iter().copied().find(|f| f.as_str() == answer).ok_or_else(|| {
                    DomainError::InvalidParameter(format!(
                        "Invalid ANSWER {answer}: choose one of {}",
                        factors_json(&options)
                    ))
                })?;
                self.challenge(pool, client, &key, user, false, Some(session_id), chosen)
                    .await
            }
            Challenge::MfaSetup { options, totp_verified } => {
                if totp_verified {
                    let enable = |u: &mut User| {
                        u.mfa.totp_enabled = true;
                        Ok(())
                    };
                    return Ok(Step::tokens(
                        self.issue_tokens_with(pool, client, &key, user, Some(session_id), enable)
                            .await?,
                    ));
                }
                let email = r.get("EMAIL").or_else(|| r.get("email"));
                match email {
                    Some(address) if options.contains(&Factor::Email) => {
                        crate::user::attributes::check_attribute(
                            pool,
                            &cmfa_wire::shapes::AttributeType { name: "email".into(), value: Some(address.clone()) },
                        )?;
                        user.set_attr("email", Some(address.clone()));
                        user.set_attr("email_verified", Some("false".into()));
                        user.mfa.email_enabled = true;
                        self.challenge(pool, client, &key, user, true, Some(session_id), Factor::Email).await
                    }
                    _ => Err(DomainError::InvalidParameter(
                        "MFA_SETUP needs a verified software token (AssociateSoftwareToken and VerifySoftwareToken with this Session) or an EMAIL to set up.".into(),
                    )),
                }
            }
            Challenge::PasswordVerifier { .. } | Challenge::NewPasswordRequired => {
                Err(DomainError::NotAuthorized(crate::auth::session::INVALID_SESSION.into()))
            }
        }
    }

    /// The MFA_SETUP session behind a Session token, with its user.
    async fn setup_session(
        &self,
        session: &str,
    ) -> Result<(AuthSession, std::sync::Arc<UserPool>, AppClientRef, String, User)> {
        let invalid = || DomainError::NotAuthorized(crate::auth::session::INVALID_SESSION.into());
        let (s, used) = self.store.get_session(session).await?.ok_or_else(invalid)?;
        if used {
            return Err(DomainError::NotAuthorized(crate::auth::session::USED_SESSION.into()));
        }
        if s.expires_at <= self.clock.now() {
            return Err(DomainError::NotAuthorized(crate::auth::session::EXPIRED_SESSION.into()));
        }
        if !matches!(s.challenge, Challenge::MfaSetup { .. }) {
            return Err(invalid());
        }
        let pool = self.store.get_pool(&s.pool_id).await?.ok_or_else(invalid)?;
        let client = self.store.get_client(&s.client_id).await?.ok_or_else(invalid)?;
        let (key, user) = self.find_user(&pool, &s.username).await?.ok_or_else(invalid)?;
        Ok((s, pool, client, key, user))
    }

    /// AssociateSoftwareToken inside MFA_SETUP: a new secret and a new Session.
    pub(crate) async fn associate_with_session(&self, session: &str) -> Result<AssociateSoftwareTokenResponse> {
        let (s, pool, client, key, mut user) = self.setup_session(session).await?;
        let Challenge::MfaSetup { options, .. } = s.challenge.clone() else {
            unreachable!("checked above")
        };
        if !options.contains(&Factor::SoftwareToken) {
            return Err(DomainError::SoftwareTokenMfaNotFound(
                super::mfa_user::TOTP_NOT_IN_POOL.into(),
            ));
        }
        let secret = totp::new_secret();
        user.mfa.pending_totp_hex = Some(hex::encode(secret));
        let next = self
            .chain(
                &pool,
                &client,
                &key,
                &user,
                true,
                Some(&s.id),
                Challenge::MfaSetup {
                    options,
                    totp_verified: false,
                },
            )
            .await?;
        Ok(AssociateSoftwareTokenResponse {
            secret_code: Some(totp::base32(&secret)),
            session: Some(next),
        })
    }

    /// VerifySoftwareToken inside MFA_SETUP: registers the device and returns the Session to
    /// answer MFA_SETUP with.
    pub(crate) async fn verify_with_session(
        &self,
        req: &VerifySoftwareTokenRequest,
        session: &str,
    ) -> Result<VerifySoftwareTokenResponse> {
        let (s, pool, client, key, mut user) = self.setup_session(session).await?;
        let Challenge::MfaSetup { options, .. } = s.challenge.clone() else {
            unreachable!("checked above")
        };
        // A wrong code leaves the Session usable for another try.
        super::mfa_user::register_totp(
            &mut user,
            &req.user_code,
            req.friendly_device_name.clone(),
            self.clock.now(),
        )?;
        user.mfa.totp_enabled = true;
        let next = self
            .chain(
                &pool,
                &client,
                &key,
                &user,
                true,
                Some(&s.id),
                Challenge::MfaSetup {
                    options,
                    totp_verified: true,
                },
            )
            .await?;
        Ok(VerifySoftwareTokenResponse {
            status: Some(VerifySoftwareTokenResponseType::Success),
            session: Some(next),
        })
    }
}

type AppClientRef = std::sync::Arc<AppClient>;
