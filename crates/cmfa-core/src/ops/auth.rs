//! Sign-in: InitiateAuth / AdminInitiateAuth, RespondToAuthChallenge / its admin twin, token
//! issuing and refresh, sign-out and revocation, and access-token authentication.
//!
//! Each step that waits for the client is an [`AuthSession`] in the store, so any server process
//! can answer the next step. A session is consumed in the same transaction that issues tokens.

use super::users::{USER_NOT_FOUND, check_secret_hash, user_type};
use super::{Caller, Service};
use crate::auth::issue::{TokenContext, access_claims, id_claims};
use crate::auth::refresh::{self, RefreshClaims, signed_in_before_sign_out};
use crate::auth::session::{
    AuthSession, Challenge, EXPIRED_SESSION, INVALID_SESSION, USED_SESSION, new_session_id, secret_block_for,
    session_in_secret_block,
};
use crate::auth::srp;
use crate::auth::tokens::{self, Claims, SigningKey, TokenError};
use crate::client::{self, AppClient};
use crate::error::{DomainError, Result};
use crate::pool::UserPool;
use crate::store::{PoolKeys, RefreshRecord, StepWrite, StoreError};
use crate::user::password::check_policy;
use crate::user::{User, attributes, username_key};
use cmfa_wire::shapes::{
    AdminInitiateAuthRequest, AdminInitiateAuthResponse, AdminRespondToAuthChallengeRequest,
    AdminRespondToAuthChallengeResponse, AdminUserGlobalSignOutRequest, AdminUserGlobalSignOutResponse, AttributeType,
    AuthFlowType, AuthenticationResultType, ChallengeNameType, ExplicitAuthFlowsType, GetUserRequest, GetUserResponse,
    GlobalSignOutRequest, GlobalSignOutResponse, InitiateAuthRequest, InitiateAuthResponse,
    RespondToAuthChallengeRequest, RespondToAuthChallengeResponse, RevokeTokenRequest, RevokeTokenResponse,
    UserStatusType,
};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) use crate::messages::BAD_CREDENTIALS;
use crate::messages::{LOCKED, NOT_CONFIRMED, USER_DISABLED as DISABLED};
const BAD_REFRESH: &str = "Invalid Refresh Token";
const REVOKED_REFRESH: &str = "Refresh Token has been revoked";
const BAD_ACCESS: &str = "Invalid Access Token";
const EXPIRED_ACCESS: &str = "Access Token has expired";
const REVOKED_ACCESS: &str = "Access Token has been revoked";

/// What a sign-in step produced: a challenge, or tokens.
pub(crate) struct Step {
    pub(crate) challenge: Option<ChallengeNameType>,
    pub(crate) session: Option<String>,
    pub(crate) parameters: BTreeMap<String, String>,
    pub(crate) result: Option<AuthenticationResultType>,
}

impl Step {
    pub(crate) fn tokens(result: AuthenticationResultType) -> Step {
        Step {
            challenge: None,
            session: None,
            parameters: BTreeMap::new(),
            result: Some(result),
        }
    }
}

fn param<'a>(p: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str> {
    p.get(name)
        .map(String::as_str)
        .ok_or_else(|| DomainError::InvalidParameter(format!("Missing required parameter {name}")))
}

fn flow_not_enabled(flow: AuthFlowType) -> DomainError {
    DomainError::InvalidParameter(format!("{} flow not enabled for this client", flow.as_str()))
}

fn hides_existence(client: &AppClient) -> bool {
    client.config.prevent_user_existence_errors == Some(cmfa_wire::shapes::PreventUserExistenceErrorTypes::Enabled)
}

fn unknown_user(client: &AppClient) -> DomainError {
    if hides_existence(client) {
        DomainError::NotAuthorized(BAD_CREDENTIALS.into())
    } else {
        DomainError::UserNotFound(USER_NOT_FOUND.into())
    }
}

/// The claims of a token, read without checking anything (only to find the pool whose keys
/// will then check it).
fn peek_claims(token: &str) -> Option<Claims> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).ok()?;
    serde_json::from_slice(&bytes).ok()
}

impl Service {
    /// The pool's signing keys, made on first use.
    pub(crate) async fn pool_keys(&self, pool_id: &str) -> Result<Arc<PoolKeys>> {
        if let Some(k) = self.store.get_signing_keys(pool_id).await? {
            return Ok(k);
        }
        let fresh = PoolKeys {
            access: SigningKey::generate(),
            id: SigningKey::generate(),
        };
        Ok(self.store.put_signing_keys(pool_id, fresh).await?)
    }

    /// `{public_url}/{pool_id}`: the `iss` of the pool's tokens.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{}", self.settings.public_url.trim_end_matches('/'), pool_id)
    }

    /// The JWKS document of a pool (both keys).
    pub async fn jwks(&self, pool_id: &str) -> Result<serde_json::Value> {
        if self.store.get_pool(pool_id).await?.is_none() {
            return Err(DomainError::ResourceNotFound(crate::pool::not_found_message(pool_id)));
        }
        let k = self.pool_keys(pool_id).await?;
        Ok(tokens::jwks(&[k.access.clone(), k.id.clone()]))
    }

    /// Issues tokens for a completed sign-in and records it (consuming `session_id`).
    pub(crate) async fn issue_tokens(
        &self,
        pool: &UserPool,
        client: &AppClient,
        key: &str,
        user: User,
        session_id: Option<&str>,
    ) -> Result<AuthenticationResultType> {
        self.issue_tokens_with(pool, client, key, user, session_id, |_| Ok(()))
            .await
    }

    /// Issues tokens, first applying `prepare` to the user (a TOTP step used, an attribute
    /// verified). `user` is the user as stored. Only a change is written, version-checked: if
    /// another request changed the user meanwhile, the user is read again and `prepare`
    /// re-applied to the new state (so, say, a TOTP step used by a racing sign-in is refused),
    /// instead of failing a correct answer. A sign-in that changes nothing writes no user, so
    /// parallel sign-ins of one user never conflict.
    pub(crate) async fn issue_tokens_with<F>(
        &self,
        pool: &UserPool,
        client: &AppClient,
        key: &str,
        user: User,
        session_id: Option<&str>,
        prepare: F,
    ) -> Result<AuthenticationResultType>
    where
        F: Fn(&mut User) -> Result<()>,
    {
        // The tokens describe the user as this sign-in leaves it; `user` stays the stored state.
        let mut signed = user.clone();
        prepare(&mut signed)?;
        let keys = self.pool_keys(&pool.id).await?;
        let life = client::lifetimes(&client.config);
        let now = self.clock.now() as i64;
        let origin_jti = refresh::new_origin_jti(self.clock.now(), user.signed_out_at_ms);
        let event_id = uuid::Uuid::new_v4().to_string();
        let issuer = self.issuer(&pool.id);
        let ctx = TokenContext {
            issuer: &issuer,
            client_id: &client.client_id,
            origin_jti: &origin_jti,
            event_id: &event_id,
            auth_time: now,
            now,
        };
        let groups = self.token_groups(&signed).await?;
        let access_claims = access_claims(&ctx, &signed, &groups, life.access);
        let id_claims = id_claims(&ctx, &signed, &groups, life.id);
        // Sealed: issuing a refresh token writes nothing (see `auth::refresh`).
        let refresh_claims = RefreshClaims {
            pool_id: pool.id.clone(),
            client_id: client.client_id.clone(),
            username_key: key.to_owned(),
            origin_jti,
            auth_time: now,
            expires_at: now as f64 + life.refresh as f64,
        };
        let (access, id, refresh) = self
            .cpu(move || {
                (
                    keys.access.sign(&access_claims),
                    keys.id.sign(&id_claims),
                    refresh::seal(&keys.access, &refresh_claims),
                )
            })
            .await?;
        self.save_record(&pool.id, key, user, session_id, |u| {
            prepare(u)?;
            u.lockout.succeed();
            u.fresh_from_sign_up = false;
            Ok(())
        })
        .await?;
        Ok(AuthenticationResultType {
            access_token: Some(access),
            expires_in: Some(life.access as i32),
            token_type: Some("Bearer".into()),
            refresh_token: Some(refresh),
            id_token: Some(id),
            new_device_metadata: None,
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

    /// After the password (or SRP proof): a new password if the user must choose one, else the
    /// sign-in completes. (MFA challenges are decided here too once they exist.)
    async fn after_first_factor(
        &self,
        pool: &UserPool,
        client: &AppClient,
        key: &str,
        user: User,
        session_id: Option<&str>,
    ) -> Result<Step> {
        if !user.enabled {
            return Err(DomainError::NotAuthorized(DISABLED.into()));
        }
        match user.status {
            UserStatusType::Unconfirmed => {
                return Err(DomainError::UserNotConfirmed(NOT_CONFIRMED.into()));
            }
            UserStatusType::ResetRequired => {
                return Err(DomainError::PasswordResetRequired(
                    "Password reset required for the user".into(),
                ));
            }
            UserStatusType::ForceChangePassword => {
                let days = pool
                    .config
                    .policies
                    .as_ref()
                    .and_then(|p| p.password_policy.as_ref())
                    .and_then(|p| p.temporary_password_validity_days)
                    .filter(|d| *d > 0)
                    .unwrap_or(7) as f64;
                let set_at = user.password.as_ref().map(|p| p.set_at).unwrap_or(0.0);
                if self.clock.now() > set_at + days * 86400.0 {
                    return Err(DomainError::NotAuthorized(
                        "Temporary password has expired and must be reset by an administrator.".into(),
                    ));
                }
                let next = self.session_for(
                    pool,
                    client,
                    &user.username,
                    new_session_id(),
                    Challenge::NewPasswordRequired,
                );
                self.open_step(session_id, key, None, &next, None).await?;
                let session = next.id;
                let visible: Vec<&AttributeType> = user.attributes.iter().filter(|a| a.name != "sub").collect();
                let required: Vec<String> = pool
                    .config
                    .schema_attributes
                    .as_deref()
                    .unwrap_or(&[])
                    .iter()
                    .filter(|s| s.required == Some(true) && s.name.as_deref() != Some("sub"))
                    .filter_map(|s| s.name.as_deref())
                    .filter(|n| user.attr(n).is_none())
                    .map(|n| format!("userAttributes.{n}"))
                    .collect();
                let attrs: serde_json::Map<String, serde_json::Value> = visible
                    .iter()
                    .filter_map(|a| {
                        a.value
                            .as_ref()
                            .map(|v| (a.name.clone(), serde_json::Value::String(v.clone())))
                    })
                    .collect();
                let mut parameters = BTreeMap::new();
                parameters.insert("USER_ID_FOR_SRP".into(), user.username.clone());
                parameters.insert(
                    "requiredAttributes".into(),
                    serde_json::to_string(&required).unwrap_or_default(),
                );
                parameters.insert("userAttributes".into(), serde_json::Value::Object(attrs).to_string());
                return Ok(Step {
                    challenge: Some(ChallengeNameType::NewPasswordRequired),
                    session: Some(session),
                    parameters,
                    result: None,
                });
            }
            _ => {}
        }
        self.mfa_step(pool, client, key, user, session_id).await
    }

    /// Checks a password with the lockout, saving the failure count on a miss.
    async fn check_password(
        &self,
        pool: &UserPool,
        client: &AppClient,
        username: &str,
        password: &str,
    ) -> Result<(String, User)> {
        let Some((key, user)) = self.find_user(pool, username).await? else {
            if hides_existence(client) {
                self.spend_password_check(password).await?;
            }
            return Err(unknown_user(client));
        };
        // As AWS: before the password, so an app can send the user to "enter your code"
        // whatever was typed.
        if user.status == UserStatusType::Unconfirmed {
            return Err(DomainError::UserNotConfirmed(NOT_CONFIRMED.into()));
        }
        let now = self.clock.now();
        if user.lockout.is_locked(now) {
            return Err(DomainError::NotAuthorized(LOCKED.into()));
        }
        let ok = match &user.password {
            Some(p) => self.password_matches(p, password).await?,
            None => false,
        };
        if !ok {
            self.record_failure(pool, &key, user).await;
            return Err(DomainError::NotAuthorized(BAD_CREDENTIALS.into()));
        }
        Ok((key, user))
    }

    /// For an unknown user when existence errors are hidden: a SALT and USER_ID_FOR_SRP that
    /// look like a real user's and stay the same on every attempt (a random salt per attempt, or
    /// the typed email echoed back as the id, would give the game away). Derived with a key only
    /// the server holds (a hash of the pool's private signing key).
    async fn decoy_srp_user(&self, pool: &UserPool, username: &str) -> Result<(String, srp::PasswordVerifier)> {
        use hmac::{Mac, digest::KeyInit};
        use sha2::{Digest, Sha256};
        let keys = self.pool_keys(&pool.id).await?;
        let secret = Sha256::digest(serde_json::to_vec(&keys.access).unwrap_or_default());
        let derive = |label: &str| -> [u8; 32] {
            let mut mac = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(&secret).expect("HMAC takes any key length");
            mac.update(label.as_bytes());
            mac.update(username.as_bytes());
            mac.finalize().into_bytes().into()
        };
        let salt = &derive("salt")[..16];
        let salt_hex = if salt[0] >= 0x80 {
            format!("00{}", hex::encode(salt))
        } else {
            hex::encode(salt)
        };
        let verifier = srp::PasswordVerifier {
            salt_hex,
            verifier_hex: hex::encode(derive("verifier")),
        };
        let user_id = if pool.config.username_attributes.as_ref().is_some_and(|a| !a.is_empty()) {
            let mut b: [u8; 16] = derive("uuid")[..16].try_into().expect("16 bytes");
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            uuid::Uuid::from_bytes(b).to_string()
        } else {
            username.to_owned()
        };
        Ok((user_id, verifier))
    }

    async fn start_srp(&self, pool: &UserPool, client: &AppClient, username: &str, srp_a: &str) -> Result<Step> {
        let found = self.find_user(pool, username).await?;
        let (user_id, verifier) = match &found {
            Some((_, u)) if u.status == UserStatusType::Unconfirmed => {
                return Err(DomainError::UserNotConfirmed(NOT_CONFIRMED.into()));
            }
            Some((_, u)) if u.lockout.is_locked(self.clock.now()) => {
                return Err(DomainError::NotAuthorized(LOCKED.into()));
            }
            Some((_, u)) => match &u.password {
                Some(p) => (u.username.clone(), p.srp.clone()),
                None => return Err(DomainError::NotAuthorized(BAD_CREDENTIALS.into())),
            },
            // With existence errors hidden, an unknown user gets a challenge that no answer
            // can satisfy, so the two cases look alike until the proof fails.
            None if hides_existence(client) => self.decoy_srp_user(pool, username).await?,
            None => return Err(unknown_user(client)),
        };
        let ephemeral = {
            let verifier = verifier.clone();
            self.cpu(move || srp::start(&verifier)).await?
        };
        let id = new_session_id();
        let secret_block = secret_block_for(&id);
        let mut parameters = BTreeMap::new();
        parameters.insert("SALT".into(), verifier.salt_hex.clone());
        parameters.insert("SRP_B".into(), ephemeral.big_b_hex.clone());
        parameters.insert("SECRET_BLOCK".into(), secret_block.clone());
        parameters.insert("USER_ID_FOR_SRP".into(), user_id.clone());
        parameters.insert("USERNAME".into(), user_id.clone());
        let challenge = Challenge::PasswordVerifier {
            ephemeral,
            srp_a: srp_a.to_owned(),
            secret_block,
        };
        self.store
            .put_session(&self.session_for(pool, client, &user_id, id, challenge))
            .await?;
        // As AWS: no Session; the state travels in SECRET_BLOCK (see `secret_block_for`).
        Ok(Step {
            challenge: Some(ChallengeNameType::PasswordVerifier),
            session: None,
            parameters,
            result: None,
        })
    }

    async fn refresh(&self, pool: &UserPool, client: &AppClient, p: &BTreeMap<String, String>) -> Result<Step> {
        let token = param(p, "REFRESH_TOKEN")?;
        let bad = || DomainError::NotAuthorized(BAD_REFRESH.into());
        let rec = self.find_refresh(pool, token).await?.ok_or_else(bad)?;
        if rec.client_id != client.client_id || rec.pool_id != pool.id {
            return Err(bad());
        }
        if rec.revoked {
            return Err(DomainError::NotAuthorized(REVOKED_REFRESH.into()));
        }
        if rec.expires_at <= self.clock.now() {
            return Err(DomainError::NotAuthorized("Refresh Token has expired".into()));
        }
        let user = self
            .store
            .get_user(&pool.id, &rec.username_key)
            .await?
            .ok_or_else(bad)?;
        check_secret_hash(client, &user.username, p.get("SECRET_HASH").map(String::as_str))?;
        if !user.enabled {
            return Err(DomainError::NotAuthorized(DISABLED.into()));
        }
        if signed_in_before_sign_out(&rec.origin_jti, rec.auth_time, user.signed_out_at_ms) {
            return Err(DomainError::NotAuthorized(REVOKED_REFRESH.into()));
        }
        let keys = self.pool_keys(&pool.id).await?;
        let life = client::lifetimes(&client.config);
        let now = self.clock.now() as i64;
        let issuer = self.issuer(&pool.id);
        let event_id = uuid::Uuid::new_v4().to_string();
        let ctx = TokenContext {
            issuer: &issuer,
            client_id: &client.client_id,
            origin_jti: &rec.origin_jti,
            event_id: &event_id,
            auth_time: rec.auth_time,
            now,
        };
        let groups = self.token_groups(&user).await?;
        let (access_claims, id_claims) = (
            access_claims(&ctx, &user, &groups, life.access),
            id_claims(&ctx, &user, &groups, life.id),
        );
        let (access, id) = self
            .cpu(move || (keys.access.sign(&access_claims), keys.id.sign(&id_claims)))
            .await?;
        Ok(Step::tokens(AuthenticationResultType {
            access_token: Some(access),
            expires_in: Some(life.access as i32),
            token_type: Some("Bearer".into()),
            refresh_token: None,
            id_token: Some(id),
            new_device_metadata: None,
        }))
    }

    async fn initiate(
        &self,
        pool: &UserPool,
        client: &AppClient,
        flow: AuthFlowType,
        p: &BTreeMap<String, String>,
        admin: bool,
    ) -> Result<Step> {
        let allow = |f| client::allows(&client.config, f);
        match flow {
            AuthFlowType::UserPasswordAuth | AuthFlowType::AdminUserPasswordAuth | AuthFlowType::AdminNoSrpAuth => {
                let admin_flow = flow != AuthFlowType::UserPasswordAuth;
                if admin_flow != admin {
                    return Err(DomainError::InvalidParameter(
                        "Initiate Auth method not supported.".into(),
                    ));
                }
                let needed = if admin_flow {
                    ExplicitAuthFlowsType::AllowAdminUserPasswordAuth
                } else {
                    ExplicitAuthFlowsType::AllowUserPasswordAuth
                };
                if !allow(needed) {
                    return Err(flow_not_enabled(flow));
                }
                let username = param(p, "USERNAME")?;
                let password = param(p, "PASSWORD")?;
                check_secret_hash(client, username, p.get("SECRET_HASH").map(String::as_str))?;
                let (key, user) = self.check_password(pool, client, username, password).await?;
                self.after_first_factor(pool, client, &key, user, None).await
            }
            AuthFlowType::UserSrpAuth => {
                if !allow(ExplicitAuthFlowsType::AllowUserSrpAuth) {
                    return Err(flow_not_enabled(flow));
                }
                let username = param(p, "USERNAME")?;
                let srp_a = param(p, "SRP_A")?;
                check_secret_hash(client, username, p.get("SECRET_HASH").map(String::as_str))?;
                self.start_srp(pool, client, username, srp_a).await
            }
            AuthFlowType::RefreshTokenAuth | AuthFlowType::RefreshToken => {
                if !allow(ExplicitAuthFlowsType::AllowRefreshTokenAuth) {
                    return Err(flow_not_enabled(flow));
                }
                self.refresh(pool, client, p).await
            }
            AuthFlowType::CustomAuth | AuthFlowType::UserAuth => Err(DomainError::InvalidParameter(format!(
                "{} is not supported by this server yet (docs/compatibility.md).",
                flow.as_str()
            ))),
        }
    }

    pub async fn initiate_auth(&self, req: InitiateAuthRequest) -> Result<InitiateAuthResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        let p = req.auth_parameters.unwrap_or_default();
        let s = self.initiate(&pool, &client, req.auth_flow, &p, false).await?;
        Ok(InitiateAuthResponse {
            challenge_name: s.challenge,
            session: s.session,
            challenge_parameters: Some(s.parameters),
            authentication_result: s.result,
            available_challenges: None,
        })
    }

    pub async fn admin_initiate_auth(
        &self,
        caller: &Caller,
        req: AdminInitiateAuthRequest,
    ) -> Result<AdminInitiateAuthResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let client = self.load_client(&pool.id, &req.client_id).await?;
        let p = req.auth_parameters.unwrap_or_default();
        let s = self.initiate(&pool, &client, req.auth_flow, &p, true).await?;
        Ok(AdminInitiateAuthResponse {
            challenge_name: s.challenge,
            session: s.session,
            challenge_parameters: Some(s.parameters),
            authentication_result: s.result,
            available_challenges: None,
        })
    }

    /// Loads and checks a session: it must exist, be unused, unexpired, and belong to this
    /// client and challenge.
    pub(crate) async fn open_session(
        &self,
        client: &AppClient,
        session: Option<&str>,
        challenge: ChallengeNameType,
    ) -> Result<AuthSession> {
        let id = session.ok_or_else(|| DomainError::InvalidParameter("Missing required parameter Session".into()))?;
        let invalid = || DomainError::NotAuthorized(INVALID_SESSION.into());
        let (s, used) = self.store.get_session(id).await?.ok_or_else(invalid)?;
        if used {
            return Err(DomainError::NotAuthorized(USED_SESSION.into()));
        }
        if s.expires_at <= self.clock.now() {
            return Err(DomainError::NotAuthorized(EXPIRED_SESSION.into()));
        }
        if s.client_id != client.client_id || s.challenge.name() != challenge.as_str() {
            return Err(invalid());
        }
        Ok(s)
    }

    async fn respond(
        &self,
        pool: &UserPool,
        client: &AppClient,
        challenge: ChallengeNameType,
        session: Option<&str>,
        r: &BTreeMap<String, String>,
    ) -> Result<Step> {
        if !matches!(
            challenge,
            ChallengeNameType::PasswordVerifier
                | ChallengeNameType::NewPasswordRequired
                | ChallengeNameType::SmsMfa
                | ChallengeNameType::EmailOtp
                | ChallengeNameType::SoftwareTokenMfa
                | ChallengeNameType::SelectMfaType
                | ChallengeNameType::MfaSetup
        ) {
            return Err(DomainError::InvalidParameter(format!(
                "The challenge {} is not supported by this server yet (docs/compatibility.md).",
                challenge.as_str()
            )));
        }
        let session = session.or_else(|| r.get("SESSION").map(String::as_str));
        let from_block = match (session, challenge) {
            (None, ChallengeNameType::PasswordVerifier) => {
                let block = param(r, "PASSWORD_CLAIM_SECRET_BLOCK")?;
                Some(session_in_secret_block(block).ok_or_else(|| DomainError::NotAuthorized(BAD_CREDENTIALS.into()))?)
            }
            _ => None,
        };
        let s = self
            .open_session(client, session.or(from_block.as_deref()), challenge)
            .await?;
        let username = param(r, "USERNAME")?;
        check_secret_hash(client, username, r.get("SECRET_HASH").map(String::as_str))?;
        let found = self.find_user(pool, &s.username).await?;
        // The answer must name the session's user (by username or alias).
        if found.is_some() {
            let named = self.find_user(pool, username).await?;
            if named.map(|(k, _)| k) != found.as_ref().map(|(k, _)| k.clone()) {
                return Err(DomainError::NotAuthorized(INVALID_SESSION.into()));
            }
        }
        match s.challenge {
            Challenge::PasswordVerifier {
                ephemeral,
                srp_a,
                secret_block,
            } => {
                let signature = param(r, "PASSWORD_CLAIM_SIGNATURE")?;
                let block = param(r, "PASSWORD_CLAIM_SECRET_BLOCK")?;
                let timestamp = param(r, "TIMESTAMP")?;
                let Some((key, user)) = found else {
                    return Err(DomainError::NotAuthorized(BAD_CREDENTIALS.into()));
                };
                let Some(record) = user.password.clone() else {
                    return Err(DomainError::NotAuthorized(BAD_CREDENTIALS.into()));
                };
                let now = self.clock.now();
                if user.lockout.is_locked(now) {
                    return Err(DomainError::NotAuthorized(LOCKED.into()));
                }
                let proof = if block == secret_block {
                    let (pool_id, user_id, srp_record) = (pool.id.clone(), user.username.clone(), record.srp.clone());
                    let (block, timestamp, signature) = (block.to_owned(), timestamp.to_owned(), signature.to_owned());
                    self.cpu(move || {
                        srp::verify(
                            &pool_id,
                            &user_id,
                            &srp_record,
                            &ephemeral,
                            &srp_a,
                            &block,
                            &timestamp,
                            &signature,
                            now as i64,
                        )
                    })
                    .await?
                } else {
                    Err(srp::SrpError::BadSignature)
                };
                match proof {
                    Ok(()) => {}
                    Err(srp::SrpError::BadTimestamp) => {
                        return Err(DomainError::NotAuthorized("Invalid timestamp.".into()));
                    }
                    Err(_) => {
                        self.record_failure(pool, &key, user).await;
                        return Err(DomainError::NotAuthorized(BAD_CREDENTIALS.into()));
                    }
                }
                self.after_first_factor(pool, client, &key, user, Some(&s.id)).await
            }
            Challenge::NewPasswordRequired => {
                let new_password = param(r, "NEW_PASSWORD")?;
                let (key, mut user) = found.ok_or_else(|| DomainError::NotAuthorized(INVALID_SESSION.into()))?;
                let policy = pool
                    .config
                    .policies
                    .as_ref()
                    .and_then(|p| p.password_policy.clone())
                    .unwrap_or_default();
                check_policy(&policy, new_password)?;
                let updates: Vec<AttributeType> = r
                    .iter()
                    .filter_map(|(k, v)| {
                        k.strip_prefix("userAttributes.").map(|n| AttributeType {
                            name: n.to_owned(),
                            value: Some(v.clone()),
                        })
                    })
                    .collect();
                attributes::check_writable(pool, &updates, false)?;
                for a in updates {
                    user.set_attr(&a.name, a.value);
                }
                attributes::check_required(pool, &user.attributes)?;
                user.password = Some(
                    self.new_password(&pool.id, &user.username, new_password, false, self.clock.now())
                        .await?,
                );
                user.status = UserStatusType::Confirmed;
                // Aliases may have changed with the attributes: save them before the tokens.
                let user = self.save_user(pool, &key, user, None).await?;
                self.after_first_factor(pool, client, &key, user, Some(&s.id)).await
            }
            other => {
                let (key, user) = found.ok_or_else(|| DomainError::NotAuthorized(INVALID_SESSION.into()))?;
                self.respond_mfa(pool, client, &s.id, other, key, user, r).await
            }
        }
    }

    pub async fn respond_to_auth_challenge(
        &self,
        req: RespondToAuthChallengeRequest,
    ) -> Result<RespondToAuthChallengeResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        let r = req.challenge_responses.unwrap_or_default();
        let s = self
            .respond(&pool, &client, req.challenge_name, req.session.as_deref(), &r)
            .await?;
        Ok(RespondToAuthChallengeResponse {
            challenge_name: s.challenge,
            session: s.session,
            challenge_parameters: Some(s.parameters),
            authentication_result: s.result,
            available_challenges: None,
        })
    }

    pub async fn admin_respond_to_auth_challenge(
        &self,
        caller: &Caller,
        req: AdminRespondToAuthChallengeRequest,
    ) -> Result<AdminRespondToAuthChallengeResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let client = self.load_client(&pool.id, &req.client_id).await?;
        let r = req.challenge_responses.unwrap_or_default();
        let s = self
            .respond(&pool, &client, req.challenge_name, req.session.as_deref(), &r)
            .await?;
        Ok(AdminRespondToAuthChallengeResponse {
            challenge_name: s.challenge,
            session: s.session,
            challenge_parameters: Some(s.parameters),
            authentication_result: s.result,
            available_challenges: None,
        })
    }

    /// Checks an access token and returns its pool, user key, user and claims.
    pub(crate) async fn authenticate(&self, token: &str) -> Result<(Arc<UserPool>, String, User, Arc<Claims>)> {
        let bad = || DomainError::NotAuthorized(BAD_ACCESS.into());
        let peek = peek_claims(token).ok_or_else(bad)?;
        let iss = peek.get("iss").and_then(|v| v.as_str()).ok_or_else(bad)?;
        let pool_id = iss.rsplit('/').next().ok_or_else(bad)?;
        let pool = self.store.get_pool(pool_id).await?.ok_or_else(bad)?;
        if iss != self.issuer(&pool.id) {
            return Err(bad());
        }
        let claims = self.verified_claims(&pool.id, token).await?;
        if claims.get("token_use").and_then(|v| v.as_str()) != Some("access") {
            return Err(bad());
        }
        let scope = claims.get("scope").and_then(|v| v.as_str()).unwrap_or("");
        if !scope.split(' ').any(|s| s == "aws.cognito.signin.user.admin") {
            return Err(DomainError::NotAuthorized(
                "Access Token does not have required scopes".into(),
            ));
        }
        let origin = claims.get("origin_jti").and_then(|v| v.as_str()).unwrap_or("");
        if self.store.is_origin_revoked(origin).await? {
            return Err(DomainError::NotAuthorized(REVOKED_ACCESS.into()));
        }
        let username = claims.get("username").and_then(|v| v.as_str()).ok_or_else(bad)?;
        let key = username_key(&pool, username);
        let user = self
            .store
            .get_user(&pool.id, &key)
            .await?
            .ok_or_else(|| DomainError::UserNotFound(USER_NOT_FOUND.into()))?;
        if !user.enabled {
            return Err(DomainError::NotAuthorized(DISABLED.into()));
        }
        let auth_time = claims.get("auth_time").and_then(|v| v.as_i64()).unwrap_or(0);
        if signed_in_before_sign_out(origin, auth_time, user.signed_out_at_ms) {
            return Err(DomainError::NotAuthorized(REVOKED_ACCESS.into()));
        }
        Ok((pool, key, user, claims))
    }

    /// The claims of a validly signed, unexpired access token of `pool_id`, from the cache of
    /// verified tokens when possible.
    async fn verified_claims(&self, pool_id: &str, token: &str) -> Result<Arc<Claims>> {
        use sha2::{Digest, Sha256};
        const MAX_CACHED: usize = 50_000;
        let bad = || DomainError::NotAuthorized(BAD_ACCESS.into());
        let now = self.clock.now() as i64;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cached = self
            .verified
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&digest)
            .cloned();
        let claims = match cached {
            Some(c) => c,
            None => {
                let keys = self.store.get_signing_keys(pool_id).await?.ok_or_else(bad)?;
                let c = match tokens::verify(std::slice::from_ref(&keys.access), token, now) {
                    Ok(c) => Arc::new(c),
                    Err(TokenError::Expired) => return Err(DomainError::NotAuthorized(EXPIRED_ACCESS.into())),
                    Err(_) => return Err(bad()),
                };
                let mut cache = self.verified.write().unwrap_or_else(|e| e.into_inner());
                if cache.len() >= MAX_CACHED {
                    // Crude but bounded: start over rather than track recency on every hit.
                    cache.clear();
                }
                cache.insert(digest, c.clone());
                c
            }
        };
        match claims.get("exp").and_then(|v| v.as_f64()) {
            Some(exp) if exp > now as f64 => Ok(claims),
            _ => Err(DomainError::NotAuthorized(EXPIRED_ACCESS.into())),
        }
    }

    pub async fn get_user(&self, req: GetUserRequest) -> Result<GetUserResponse> {
        let (_, _, u, _) = self.authenticate(&req.access_token).await?;
        let (mfa_options, preferred_mfa_setting, user_mfa_setting_list) = Self::user_mfa_fields(&u);
        let t = user_type(&u);
        Ok(GetUserResponse {
            username: u.username,
            user_attributes: t.attributes.unwrap_or_default(),
            mfa_options,
            preferred_mfa_setting,
            user_mfa_setting_list,
        })
    }

    pub async fn global_sign_out(&self, req: GlobalSignOutRequest) -> Result<GlobalSignOutResponse> {
        let (pool, key, _, _) = self.authenticate(&req.access_token).await?;
        self.sign_out_everywhere(&pool, &key).await?;
        Ok(GlobalSignOutResponse {})
    }

    pub async fn admin_user_global_sign_out(
        &self,
        caller: &Caller,
        req: AdminUserGlobalSignOutRequest,
    ) -> Result<AdminUserGlobalSignOutResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, _) = self.require_user(&pool, &req.username).await?;
        self.sign_out_everywhere(&pool, &key).await?;
        Ok(AdminUserGlobalSignOutResponse {})
    }

    /// Revokes every token of every earlier sign-in of the user: stamps the user with the time
    /// (see `auth::refresh::signed_in_before_sign_out`), past every sign-in id issued so far.
    async fn sign_out_everywhere(&self, pool: &UserPool, key: &str) -> Result<()> {
        // Refresh tokens from before sealed tokens are revoked through their stored records.
        self.store.revoke_user_tokens(&pool.id, key).await?;
        let stamp = |u: &mut User| {
            // Sign-in ids issued after the previous sign-out start at most one millisecond past
            // it, even when the clock lags; two past it covers them too.
            let now_ms = (self.clock.now() * 1000.0).max(0.0) as u64;
            u.signed_out_at_ms = now_ms.max(u.signed_out_at_ms + 2);
            Ok(())
        };
        let user = self
            .store
            .get_user(&pool.id, key)
            .await?
            .ok_or_else(|| DomainError::UserNotFound(USER_NOT_FOUND.into()))?;
        self.save_record(&pool.id, key, user, None, stamp).await
    }

    /// Applies `change` to the stored `user` and saves the result (no alias or searchable
    /// attribute changes), consuming `session_id` if given, in one write. Nothing about the user
    /// is written when `change` leaves it as it was. If another request changed the user
    /// meanwhile, reads it again and applies `change` to the new state (so, say, a TOTP step used
    /// by a racing sign-in is refused) instead of failing.
    async fn save_record<F>(
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

    /// The sign-in a refresh token belongs to: opened from a sealed token, or looked up for a
    /// token from before sealed tokens. `None` for anything else.
    async fn find_refresh(&self, pool: &UserPool, token: &str) -> Result<Option<RefreshRecord>> {
        let keys = self.pool_keys(&pool.id).await?;
        if let Some(c) = refresh::open(&keys.access, token) {
            let revoked = self.store.is_origin_revoked(&c.origin_jti).await?;
            return Ok(Some(RefreshRecord {
                hash: String::new(),
                pool_id: c.pool_id,
                client_id: c.client_id,
                username_key: c.username_key,
                origin_jti: c.origin_jti,
                auth_time: c.auth_time,
                expires_at: c.expires_at,
                revoked,
            }));
        }
        Ok(self.store.get_refresh(&tokens::refresh_token_hash(token)).await?)
    }

    pub async fn revoke_token(&self, req: RevokeTokenRequest) -> Result<RevokeTokenResponse> {
        let (client, pool) = self.load_client_any(&req.client_id).await?;
        if let Some(secret) = client.config.client_secret.as_deref()
            && !crate::ct::eq(req.client_secret.as_deref().unwrap_or("").as_bytes(), secret.as_bytes())
        {
            return Err(DomainError::NotAuthorized(format!(
                "Unable to verify secret hash for client {}",
                client.client_id
            )));
        }
        if client.config.enable_token_revocation == Some(false) {
            return Err(DomainError::UnsupportedOperation(
                "Token revocation is not enabled for this client.".into(),
            ));
        }
        let Some(rec) = self.find_refresh(&pool, &req.token).await? else {
            // AWS answers success for tokens it cannot find, so revocation cannot probe tokens.
            return Ok(RevokeTokenResponse {});
        };
        if rec.client_id != client.client_id || rec.pool_id != pool.id {
            return Err(DomainError::UnauthorizedClient("Invalid token for this client.".into()));
        }
        self.store.revoke_origin(&pool.id, &rec.origin_jti).await?;
        Ok(RevokeTokenResponse {})
    }
}
