//! A user's own MFA settings: which factors are enabled, which is preferred, the TOTP device.

use serde::{Deserialize, Serialize};

/// One MFA factor, by its wire name in `UserMFASettingList`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Factor {
    #[serde(rename = "SMS_MFA")]
    Sms,
    #[serde(rename = "SOFTWARE_TOKEN_MFA")]
    SoftwareToken,
    #[serde(rename = "EMAIL_OTP")]
    Email,
}

impl Factor {
    /// The name used in `UserMFASettingList`, `PreferredMfaSetting` and challenge names.
    pub fn as_str(self) -> &'static str {
        match self {
            Factor::Sms => "SMS_MFA",
            Factor::SoftwareToken => "SOFTWARE_TOKEN_MFA",
            Factor::Email => "EMAIL_OTP",
        }
    }
}

/// A verified authenticator app.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TotpDevice {
    /// The shared secret (hex). Never logged.
    pub secret_hex: String,
    pub friendly_name: Option<String>,
    /// The last time step accepted: no code at or before it is accepted again.
    pub last_step: Option<u64>,
}

impl std::fmt::Debug for TotpDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpDevice")
            .field("friendly_name", &self.friendly_name)
            .finish_non_exhaustive()
    }
}

/// Everything per-user about MFA.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserMfa {
    pub sms_enabled: bool,
    pub totp_enabled: bool,
    pub email_enabled: bool,
    pub preferred: Option<Factor>,
    /// The registered (verified) authenticator.
    pub totp: Option<TotpDevice>,
    /// A secret handed out by AssociateSoftwareToken and not verified yet (hex).
    #[serde(default)]
    pub pending_totp_hex: Option<String>,
    /// Passkey MFA (`WebAuthnMfaSettings`): a passkey sign-in with user verification also
    /// satisfies MFA, so passkeys stay available when MFA is required.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub webauthn_mfa: bool,
}

impl UserMfa {
    /// The enabled factors, in AWS's order, as `UserMFASettingList` shows them.
    pub fn enabled(&self) -> Vec<Factor> {
        let mut v = Vec::new();
        if self.sms_enabled {
            v.push(Factor::Sms);
        }
        if self.totp_enabled {
            v.push(Factor::SoftwareToken);
        }
        if self.email_enabled {
            v.push(Factor::Email);
        }
        v
    }

    /// `UserMFASettingList`, absent when empty (as AWS leaves it out).
    pub fn setting_list(&self) -> Option<Vec<String>> {
        let v: Vec<String> = self.enabled().iter().map(|f| f.as_str().to_owned()).collect();
        (!v.is_empty()).then_some(v)
    }
}

/// Verifies the pending secret with `code` and makes it the user's authenticator.
pub fn register_totp(user: &mut super::User, code: &str, friendly_name: Option<String>, now: f64) -> crate::Result<()> {
    let mismatch = || crate::DomainError::EnableSoftwareTokenMfa(crate::messages::TOTP_MISMATCH.into());
    let secret_hex = user.mfa.pending_totp_hex.clone().ok_or_else(mismatch)?;
    let secret = hex::decode(&secret_hex).map_err(|_| mismatch())?;
    let step = crate::mfa::totp::check(&secret, code, now, None).map_err(|_| mismatch())?;
    user.mfa.totp = Some(TotpDevice {
        secret_hex,
        friendly_name,
        last_step: Some(step),
    });
    user.mfa.pending_totp_hex = None;
    Ok(())
}

/// The legacy `MFAOptions` (SMS only).
pub fn mfa_options(u: &super::User) -> Option<Vec<cmfa_wire::shapes::MFAOptionType>> {
    u.mfa.sms_enabled.then(|| {
        vec![cmfa_wire::shapes::MFAOptionType {
            delivery_medium: Some(cmfa_wire::shapes::DeliveryMediumType::Sms),
            attribute_name: Some("phone_number".into()),
        }]
    })
}
