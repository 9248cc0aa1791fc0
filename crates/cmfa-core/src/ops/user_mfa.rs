//! Per-user MFA: authenticator apps (Associate/VerifySoftwareToken), MFA preferences, the legacy
//! MFAOptions, and the auth-factor views.

use super::{Caller, Service};
use crate::error::{DomainError, Result};
use crate::mfa::totp;
use crate::pool::UserPool;
use crate::signin::mfa_setup::SetupStep;
use crate::user::User;
use crate::user::mfa::Factor;
use cmfa_wire::shapes::{
    AdminDeleteSoftwareTokenRequest, AdminDeleteSoftwareTokenResponse, AdminGetUserAuthFactorsRequest,
    AdminGetUserAuthFactorsResponse, AdminSetUserMFAPreferenceRequest, AdminSetUserMFAPreferenceResponse,
    AdminSetUserSettingsRequest, AdminSetUserSettingsResponse, AssociateSoftwareTokenRequest,
    AssociateSoftwareTokenResponse, AuthFactorType, DeliveryMediumType, EmailMfaSettingsType,
    GetUserAuthFactorsRequest, GetUserAuthFactorsResponse, MFAOptionType, SMSMfaSettingsType,
    SetUserMFAPreferenceRequest, SetUserMFAPreferenceResponse, SetUserSettingsRequest, SetUserSettingsResponse,
    SoftwareTokenMfaSettingsType, UserPoolMfaType, VerifySoftwareTokenRequest, VerifySoftwareTokenResponse,
    VerifySoftwareTokenResponseType,
};

use crate::messages::TOTP_NOT_IN_POOL;
// Ours: AWS's text for switching a factor off in an ON pool is not on record.
const CANNOT_DISABLE: &str = "Cannot disable MFA while MFA is required (ON) for the user pool.";
const ONE_PREFERRED: &str = "Only one MFA method can be set as preferred.";

fn pool_has_totp(pool: &UserPool) -> bool {
    pool.mfa
        .software_token
        .as_ref()
        .and_then(|t| t.enabled)
        .unwrap_or(false)
}

struct Prefs<'a> {
    sms: Option<&'a SMSMfaSettingsType>,
    totp: Option<&'a SoftwareTokenMfaSettingsType>,
    email: Option<&'a EmailMfaSettingsType>,
    web_authn: Option<&'a cmfa_wire::shapes::WebAuthnMfaSettingsType>,
}

/// Ours: AWS's text is not on record.
const PASSKEY_MFA_ALONE: &str = "Passkey MFA needs another MFA method activated for the user (SMS, TOTP or email), so the user cannot be locked out.";

/// Applies SetUserMFAPreference's three blocks to a user, with AWS's delivery-config rules.
fn apply_preferences(pool: &UserPool, user: &mut User, p: Prefs<'_>) -> Result<()> {
    let blocks = [
        (Factor::Sms, p.sms.map(|s| (s.enabled, s.preferred_mfa))),
        (Factor::SoftwareToken, p.totp.map(|s| (s.enabled, s.preferred_mfa))),
        (Factor::Email, p.email.map(|s| (s.enabled, s.preferred_mfa))),
    ];
    if blocks
        .iter()
        .filter(|(_, b)| matches!(b, Some((_, Some(true)))))
        .count()
        > 1
    {
        return Err(DomainError::InvalidParameter(ONE_PREFERRED.into()));
    }
    for (factor, block) in blocks {
        let Some((enabled, preferred)) = block else { continue };
        let enabled = enabled.unwrap_or(false) || preferred == Some(true);
        if enabled {
            let has_config = match factor {
                Factor::Sms => user.attr("phone_number").is_some(),
                Factor::SoftwareToken => user.mfa.totp.is_some(),
                Factor::Email => user.attr("email").is_some(),
            };
            if !has_config {
                return Err(DomainError::InvalidParameter(format!(
                    "User does not have delivery config set to turn on {}",
                    factor.as_str()
                )));
            }
            if factor == Factor::Email && pool.mfa.email.is_none() {
                return Err(DomainError::InvalidParameter(
                    "Email MFA is not enabled for the user pool (SetUserPoolMfaConfig EmailMfaConfiguration).".into(),
                ));
            }
        } else if pool.mfa_configuration() == UserPoolMfaType::On && block.is_some_and(|(e, _)| e == Some(false)) {
            return Err(DomainError::InvalidParameter(CANNOT_DISABLE.into()));
        }
        match factor {
            Factor::Sms => user.mfa.sms_enabled = enabled,
            Factor::SoftwareToken => user.mfa.totp_enabled = enabled,
            Factor::Email => user.mfa.email_enabled = enabled,
        }
        if preferred == Some(true) {
            user.mfa.preferred = Some(factor);
        } else if user.mfa.preferred == Some(factor) && (preferred == Some(false) || !enabled) {
            user.mfa.preferred = None;
        }
    }
    if let Some(w) = p.web_authn {
        let on = w.enabled == Some(true);
        if on && user.mfa.enabled().is_empty() {
            return Err(DomainError::InvalidParameter(PASSKEY_MFA_ALONE.into()));
        }
        user.mfa.webauthn_mfa = on;
    }
    Ok(())
}

fn apply_settings(user: &mut User, options: &[MFAOptionType]) -> Result<()> {
    for o in options {
        if o.attribute_name.as_deref() != Some("phone_number") || o.delivery_medium != Some(DeliveryMediumType::Sms) {
            return Err(DomainError::InvalidParameter(
                "Only phone_number attribute is currently supported as a MFA option.".into(),
            ));
        }
    }
    let on = !options.is_empty();
    if on && user.attr("phone_number").is_none() {
        return Err(DomainError::InvalidParameter(
            "User does not have delivery config set to turn on SMS_MFA".into(),
        ));
    }
    user.mfa.sms_enabled = on;
    if !on && user.mfa.preferred == Some(Factor::Sms) {
        user.mfa.preferred = None;
    }
    Ok(())
}

/// `ConfiguredUserAuthFactors`: the USER_AUTH first factors the user has set up (see
/// [`crate::signin::choice::configured`]), and SOFTWARE_TOKEN for a registered authenticator.
fn configured_factors(pool: &UserPool, u: &User) -> Option<Vec<AuthFactorType>> {
    let mut v = crate::signin::choice::configured(pool, u);
    if u.mfa.totp.is_some() {
        v.push(AuthFactorType::SoftwareToken);
    }
    (!v.is_empty()).then_some(v)
}

impl Service {
    pub async fn associate_software_token(
        &self,
        req: AssociateSoftwareTokenRequest,
    ) -> Result<AssociateSoftwareTokenResponse> {
        let Some(token) = req.access_token.as_deref() else {
            return self.associate_in_setup(req.session.as_deref()).await;
        };
        let (pool, key, mut user, _) = self.authenticate(token).await?;
        if !pool_has_totp(&pool) {
            return Err(DomainError::SoftwareTokenMfaNotFound(TOTP_NOT_IN_POOL.into()));
        }
        let secret = totp::new_secret();
        user.mfa.pending_totp_hex = Some(hex::encode(secret));
        self.save_user(&pool, &key, user, None).await?;
        Ok(AssociateSoftwareTokenResponse {
            secret_code: Some(totp::base32(&secret)),
            session: None,
        })
    }

    pub async fn verify_software_token(&self, req: VerifySoftwareTokenRequest) -> Result<VerifySoftwareTokenResponse> {
        let Some(token) = req.access_token.as_deref() else {
            return self.verify_in_setup(&req).await;
        };
        let (pool, key, mut user, _) = self.authenticate(token).await?;
        crate::user::mfa::register_totp(
            &mut user,
            &req.user_code,
            req.friendly_device_name.clone(),
            self.clock.now(),
        )?;
        self.save_user(&pool, &key, user, None).await?;
        Ok(VerifySoftwareTokenResponse {
            status: Some(VerifySoftwareTokenResponseType::Success),
            session: None,
        })
    }

    pub async fn set_user_mfa_preference(
        &self,
        req: SetUserMFAPreferenceRequest,
    ) -> Result<SetUserMFAPreferenceResponse> {
        let (pool, key, mut user, _) = self.authenticate(&req.access_token).await?;
        let prefs = Prefs {
            sms: req.sms_mfa_settings.as_ref(),
            totp: req.software_token_mfa_settings.as_ref(),
            email: req.email_mfa_settings.as_ref(),
            web_authn: req.web_authn_mfa_settings.as_ref(),
        };
        apply_preferences(&pool, &mut user, prefs)?;
        self.save_user(&pool, &key, user, None).await?;
        Ok(SetUserMFAPreferenceResponse {})
    }

    pub async fn admin_set_user_mfa_preference(
        &self,
        caller: &Caller,
        req: AdminSetUserMFAPreferenceRequest,
    ) -> Result<AdminSetUserMFAPreferenceResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, mut user) = self.require_user(&pool, &req.username).await?;
        let prefs = Prefs {
            sms: req.sms_mfa_settings.as_ref(),
            totp: req.software_token_mfa_settings.as_ref(),
            email: req.email_mfa_settings.as_ref(),
            web_authn: req.web_authn_mfa_settings.as_ref(),
        };
        apply_preferences(&pool, &mut user, prefs)?;
        self.save_user(&pool, &key, user, None).await?;
        Ok(AdminSetUserMFAPreferenceResponse {})
    }

    pub async fn set_user_settings(&self, req: SetUserSettingsRequest) -> Result<SetUserSettingsResponse> {
        let (pool, key, mut user, _) = self.authenticate(&req.access_token).await?;
        apply_settings(&mut user, &req.mfa_options)?;
        self.save_user(&pool, &key, user, None).await?;
        Ok(SetUserSettingsResponse {})
    }

    pub async fn admin_set_user_settings(
        &self,
        caller: &Caller,
        req: AdminSetUserSettingsRequest,
    ) -> Result<AdminSetUserSettingsResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, mut user) = self.require_user(&pool, &req.username).await?;
        apply_settings(&mut user, &req.mfa_options)?;
        self.save_user(&pool, &key, user, None).await?;
        Ok(AdminSetUserSettingsResponse {})
    }

    pub async fn admin_delete_software_token(
        &self,
        caller: &Caller,
        req: AdminDeleteSoftwareTokenRequest,
    ) -> Result<AdminDeleteSoftwareTokenResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (key, mut user) = self.require_user(&pool, &req.username).await?;
        if user.mfa.totp.is_none() {
            return Err(DomainError::SoftwareTokenMfaNotFound(
                crate::messages::NO_SOFTWARE_TOKEN.into(),
            ));
        }
        user.mfa.totp = None;
        user.mfa.totp_enabled = false;
        if user.mfa.preferred == Some(Factor::SoftwareToken) {
            user.mfa.preferred = None;
        }
        self.save_user(&pool, &key, user, None).await?;
        Ok(AdminDeleteSoftwareTokenResponse {})
    }

    pub async fn get_user_auth_factors(&self, req: GetUserAuthFactorsRequest) -> Result<GetUserAuthFactorsResponse> {
        let (pool, _, u, _) = self.authenticate(&req.access_token).await?;
        Ok(GetUserAuthFactorsResponse {
            preferred_mfa_setting: u.mfa.preferred.map(|f| f.as_str().to_owned()),
            user_mfa_setting_list: u.mfa.setting_list(),
            configured_user_auth_factors: configured_factors(&pool, &u),
            username: u.username,
        })
    }

    pub async fn admin_get_user_auth_factors(
        &self,
        caller: &Caller,
        req: AdminGetUserAuthFactorsRequest,
    ) -> Result<AdminGetUserAuthFactorsResponse> {
        let pool = self.load_pool(caller, &req.user_pool_id).await?;
        let (_, u) = self.require_user(&pool, &req.username).await?;
        Ok(AdminGetUserAuthFactorsResponse {
            preferred_mfa_setting: u.mfa.preferred.map(|f| f.as_str().to_owned()),
            user_mfa_setting_list: u.mfa.setting_list(),
            configured_user_auth_factors: configured_factors(&pool, &u),
            username: u.username,
        })
    }

    /// AssociateSoftwareToken with a Session: only from an MFA_SETUP challenge.
    async fn associate_in_setup(&self, session: Option<&str>) -> Result<AssociateSoftwareTokenResponse> {
        let session = session
            .ok_or_else(|| DomainError::InvalidParameter("Either AccessToken or Session must be provided.".into()))?;
        let (next, secret) = self.mfa_setup_step(session, SetupStep::Associate).await?;
        Ok(AssociateSoftwareTokenResponse {
            secret_code: secret.map(|s| totp::base32(&s)),
            session: Some(next),
        })
    }

    /// VerifySoftwareToken with a Session: only from an MFA_SETUP challenge; registers the
    /// device and returns the Session to answer MFA_SETUP with.
    async fn verify_in_setup(&self, req: &VerifySoftwareTokenRequest) -> Result<VerifySoftwareTokenResponse> {
        let session = req
            .session
            .as_deref()
            .ok_or_else(|| DomainError::InvalidParameter("Either AccessToken or Session must be provided.".into()))?;
        let step = SetupStep::Verify {
            code: &req.user_code,
            friendly_name: req.friendly_device_name.clone(),
        };
        let (next, _) = self.mfa_setup_step(session, step).await?;
        Ok(VerifySoftwareTokenResponse {
            status: Some(VerifySoftwareTokenResponseType::Success),
            session: Some(next),
        })
    }

    /// A user's MFA fields for GetUser / AdminGetUser.
    pub(crate) fn user_mfa_fields(u: &User) -> (Option<Vec<MFAOptionType>>, Option<String>, Option<Vec<String>>) {
        (
            crate::user::mfa::mfa_options(u),
            u.mfa.preferred.map(|f| f.as_str().to_owned()),
            u.mfa.setting_list(),
        )
    }
}
