//! Passkeys: StartWebAuthnRegistration, CompleteWebAuthnRegistration, ListWebAuthnCredentials
//! and DeleteWebAuthnCredential. The checks themselves are [`crate::webauthn`]'s; sign-in with a
//! passkey is the engine's (`signin::passkey`).
//!
//! The registration challenge is a stored session's id (its bytes are the WebAuthn challenge), so
//! any process can complete a registration another started, once.

use super::Service;
use crate::auth::session::{AuthSession, Challenge, new_session_id};
use crate::error::{DomainError, Result};
use crate::pool::passkeys;
use crate::store::{AliasKey, StepWrite};
use crate::user::passkey::{MAX_PER_USER, Passkey, friendly_name};
use crate::webauthn::{self, ExpectRegistration, Fail, cose};
use cmfa_wire::shapes::{
    CompleteWebAuthnRegistrationRequest, CompleteWebAuthnRegistrationResponse, DeleteWebAuthnCredentialRequest,
    DeleteWebAuthnCredentialResponse, ListWebAuthnCredentialsRequest, ListWebAuthnCredentialsResponse,
    StartWebAuthnRegistrationRequest, StartWebAuthnRegistrationResponse,
};
use serde_json::{Value, json};

/// Ours: AWS's texts for these are not on record ("Credential data is not valid" is).
const INVALID_CREDENTIAL: &str = "Credential data is not valid";
const NO_CHALLENGE: &str =
    "The registration challenge was not found or has expired; call StartWebAuthnRegistration again.";
const TOO_MANY: &str = "The user has the most passkeys allowed (20).";
const TAKEN: &str = "The credential is already registered.";
const NOT_FOUND: &str = "The credential was not found.";

/// The registration's WebAuthn failures as Cognito's exceptions.
pub(crate) fn registration_error(f: Fail) -> DomainError {
    match f {
        Fail::ChallengeNotFound => DomainError::WebAuthnChallengeNotFound(NO_CHALLENGE.into()),
        Fail::RelyingPartyMismatch => {
            DomainError::WebAuthnRelyingPartyMismatch("The credential was created for another relying party.".into())
        }
        Fail::OriginNotAllowed(o) => {
            DomainError::WebAuthnOriginNotAllowed(format!("The origin {o} is not allowed for this relying party."))
        }
        Fail::NotSupported(why) => {
            DomainError::WebAuthnCredentialNotSupported(format!("The credential is not supported: {why}."))
        }
        Fail::Invalid(_) | Fail::CounterNotIncreased { .. } => DomainError::InvalidParameter(INVALID_CREDENTIAL.into()),
    }
}

/// The session id a response's `clientDataJSON.challenge` names (unverified: only to find it).
fn challenge_session(credential: &Value) -> Option<String> {
    let cdj = credential.pointer("/response/clientDataJSON")?.as_str()?;
    let raw = webauthn::data::from_b64url(cdj, "clientDataJSON").ok()?;
    let cd = webauthn::data::ClientData::parse(&raw).ok()?;
    String::from_utf8(cd.challenge_bytes().ok()?).ok()
}

fn client_of(claims: &crate::auth::tokens::Claims) -> String {
    claims
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

impl Service {
    pub async fn start_web_authn_registration(
        &self,
        req: StartWebAuthnRegistrationRequest,
    ) -> Result<StartWebAuthnRegistrationResponse> {
        let (pool, _, user, claims) = self.authenticate(&req.access_token).await?;
        let rp_id = passkeys::relying_party(&pool)?;
        if user.passkeys.len() >= MAX_PER_USER {
            return Err(DomainError::LimitExceeded(TOO_MANY.into()));
        }
        let client_id = client_of(&claims);
        let client = self
            .store
            .get_client(&client_id)
            .await?
            .ok_or_else(|| DomainError::NotAuthorized("Invalid Access Token".into()))?;
        let id = new_session_id();
        let uv_required = passkeys::user_verification_required(&pool);
        let session = self.session_for(
            &pool,
            &client,
            &user.username,
            id.clone(),
            Challenge::WebAuthnRegistration {
                rp_id: rp_id.clone(),
                user_verification_required: uv_required,
            },
        );
        self.store.put_session(&session).await?;
        let exclude: Vec<Value> = user
            .passkeys
            .iter()
            .map(|p| json!({ "id": p.id, "type": "public-key" }))
            .collect();
        Ok(StartWebAuthnRegistrationResponse {
            credential_creation_options: json!({
                "authenticatorSelection": {
                    "requireResidentKey": true,
                    "residentKey": "required",
                    "userVerification": passkeys::user_verification(&pool),
                },
                "challenge": webauthn::data::b64url(id.as_bytes()),
                "excludeCredentials": exclude,
                "pubKeyCredParams": [
                    { "alg": cose::ES256, "type": "public-key" },
                    { "alg": cose::RS256, "type": "public-key" },
                ],
                "rp": { "id": rp_id, "name": rp_id },
                "timeout": 60000,
                "user": {
                    "displayName": user.username,
                    "id": webauthn::data::b64url(user.sub.as_bytes()),
                    "name": user.username,
                },
            }),
        })
    }

    pub async fn complete_web_authn_registration(
        &self,
        req: CompleteWebAuthnRegistrationRequest,
    ) -> Result<CompleteWebAuthnRegistrationResponse> {
        let (pool, key, user, claims) = self.authenticate(&req.access_token).await?;
        passkeys::relying_party(&pool)?;
        let no_challenge = || DomainError::WebAuthnChallengeNotFound(NO_CHALLENGE.into());
        let Some(session_id) = challenge_session(&req.credential) else {
            return Err(DomainError::InvalidParameter(INVALID_CREDENTIAL.into()));
        };
        let (s, used): (AuthSession, bool) = self.store.get_session(&session_id).await?.ok_or_else(no_challenge)?;
        let Challenge::WebAuthnRegistration {
            rp_id,
            user_verification_required,
        } = &s.challenge
        else {
            return Err(no_challenge());
        };
        if used || s.expires_at <= self.clock.now() || s.pool_id != pool.id || s.username != user.username {
            return Err(no_challenge());
        }
        if s.client_id != client_of(&claims) {
            return Err(DomainError::WebAuthnClientMismatch(
                "The access token is from another app client than the registration's.".into(),
            ));
        }
        let expect = ExpectRegistration {
            challenge: session_id.as_bytes(),
            rp_id,
            extra_origins: &self.settings.webauthn_origins,
            user_verification_required: *user_verification_required,
            algorithms: &[cose::ES256, cose::RS256],
        };
        let cred = webauthn::verify_registration(&req.credential, &expect).map_err(registration_error)?;
        let id = webauthn::data::b64url(&cred.id);
        let alias = AliasKey {
            kind: "passkey",
            value: id.clone(),
        };
        if self.store.find_alias(&pool.id, &alias).await?.is_some() {
            return Err(DomainError::InvalidParameter(TAKEN.into()));
        }
        // The challenge is spent first: a second completion with it fails even if this one does.
        let spend = StepWrite {
            used: Some(&s.id),
            now: self.clock.now(),
            ..StepWrite::default()
        };
        if self.store.write_step(spend).await.is_err() {
            return Err(no_challenge());
        }
        let mut user = user;
        if user.passkeys.len() >= MAX_PER_USER {
            return Err(DomainError::LimitExceeded(TOO_MANY.into()));
        }
        user.passkeys.push(Passkey {
            id,
            public_key: webauthn::data::b64url(&cred.public_key),
            algorithm: cred.algorithm,
            sign_count: cred.sign_count,
            relying_party_id: rp_id.clone(),
            friendly_name: friendly_name(cred.attachment.as_deref()),
            attachment: cred.attachment,
            transports: cred.transports,
            created: self.clock.now().floor(),
            backup_eligible: cred.backup_eligible,
            backed_up: cred.backed_up,
        });
        match self.save_user(&pool, &key, user, None).await {
            // The alias table refuses a credential id another user registered meanwhile.
            Err(DomainError::AliasExists(_)) => Err(DomainError::InvalidParameter(TAKEN.into())),
            other => other.map(|_| CompleteWebAuthnRegistrationResponse {}),
        }
    }

    pub async fn list_web_authn_credentials(
        &self,
        req: ListWebAuthnCredentialsRequest,
    ) -> Result<ListWebAuthnCredentialsResponse> {
        let (_, _, user, _) = self.authenticate(&req.access_token).await?;
        let limit = match req.max_results {
            Some(n) if n > 0 => n as usize,
            _ => MAX_PER_USER,
        };
        let start = match req.next_token.as_deref() {
            Some(t) => match user.passkeys.iter().position(|p| p.id == t) {
                Some(i) => i + 1,
                None => return Err(DomainError::InvalidParameter("The NextToken is not valid.".into())),
            },
            None => 0,
        };
        let page: Vec<&Passkey> = user.passkeys.iter().skip(start).take(limit).collect();
        let next_token = (start + page.len() < user.passkeys.len())
            .then(|| page.last().map(|p| p.id.clone()))
            .flatten();
        Ok(ListWebAuthnCredentialsResponse {
            credentials: page.iter().map(|p| p.describe()).collect(),
            next_token,
        })
    }

    pub async fn delete_web_authn_credential(
        &self,
        req: DeleteWebAuthnCredentialRequest,
    ) -> Result<DeleteWebAuthnCredentialResponse> {
        let (pool, key, mut user, _) = self.authenticate(&req.access_token).await?;
        let before = user.passkeys.len();
        user.passkeys.retain(|p| p.id != req.credential_id);
        if user.passkeys.len() == before {
            return Err(DomainError::ResourceNotFound(NOT_FOUND.into()));
        }
        self.save_user(&pool, &key, user, None).await?;
        Ok(DeleteWebAuthnCredentialResponse {})
    }
}
