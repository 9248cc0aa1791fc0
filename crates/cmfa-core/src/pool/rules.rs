//! CreateUserPool and UpdateUserPool: defaults, merge semantics and cross-member rules.

use super::mfa_config::{check_sms_configuration, first_factors};
use super::{MfaFactors, UserPool, standard_schema};
use crate::error::{DomainError, Result};
use cmfa_wire::shapes::{
    AdminCreateUserConfigType, AuthFactorType, CreateUserPoolRequest, DefaultEmailOptionType, DeletionProtectionType,
    EmailConfigurationType, EmailSendingAccountType, PasswordPolicyType, SchemaAttributeType, SignInPolicyType,
    UpdateUserPoolRequest, UserAttributeUpdateSettingsType, UserPoolMfaType, UserPoolPolicyType, UserPoolTierType,
    UserPoolType, VerificationMessageTemplateType, VerifiedAttributeType,
};

pub const MFA_NEEDS_SMS_ON_CREATE: &str =
    "SMS configuration and Auto verification for phone_number are required when MFA is required/optional";
pub const PHONE_AUTOVERIFY_NEEDS_SMS: &str =
    "SMS configuration is required when phone_number is selected for auto verification";
pub const SMS_OTP_NEEDS_SMS: &str =
    "SMS_OTP can not be configured as AuthFactor as user pool is missing valid SMS configuration";
pub const MFA_ON_AFTER_CREATE: &str = "Cannot turn MFA functionality ON, once the user pool has been created.";
pub const ALIAS_AND_USERNAME: &str = "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.";
pub const DELETION_PROTECTED: &str = "The user pool cannot be deleted because deletion protection is activated.";
pub const FIRST_FACTORS_LITE: &str = "Choice-based sign-in factors other than PASSWORD are not available in the LITE feature plan. Change UserPoolTier to ESSENTIALS or PLUS.";

/// AWS's password policy for a pool created without one.
fn default_password_policy() -> PasswordPolicyType {
    PasswordPolicyType {
        minimum_length: Some(8),
        require_uppercase: Some(true),
        require_lowercase: Some(true),
        require_numbers: Some(true),
        require_symbols: Some(true),
        password_history_size: None,
        temporary_password_validity_days: Some(7),
    }
}

/// A caller-supplied password policy with AWS's fill-ins: booleans left out are off, the
/// minimum length is 8 and temporary passwords last 7 days.
fn complete_password_policy(p: PasswordPolicyType) -> PasswordPolicyType {
    PasswordPolicyType {
        minimum_length: Some(p.minimum_length.unwrap_or(8)),
        require_uppercase: Some(p.require_uppercase.unwrap_or(false)),
        require_lowercase: Some(p.require_lowercase.unwrap_or(false)),
        require_numbers: Some(p.require_numbers.unwrap_or(false)),
        require_symbols: Some(p.require_symbols.unwrap_or(false)),
        password_history_size: p.password_history_size,
        // 0 is what SDKs with non-optional integers (the Rust SDK) send for "not set".
        temporary_password_validity_days: Some(p.temporary_password_validity_days.filter(|d| *d > 0).unwrap_or(7)),
    }
}

fn default_sign_in_policy() -> SignInPolicyType {
    SignInPolicyType {
        allowed_first_auth_factors: Some(vec![AuthFactorType::Password]),
    }
}

/// The standard schema with the caller's attributes merged in: standard names adjust the
/// standard entry, anything else becomes a `custom:` attribute.
fn merge_schema(extra: Option<Vec<SchemaAttributeType>>) -> Result<Vec<SchemaAttributeType>> {
    let mut schema = standard_schema();
    for attr in extra.unwrap_or_default() {
        let name = attr.name.clone().unwrap_or_default();
        if let Some(std) = schema.iter_mut().find(|a| a.name.as_deref() == Some(name.as_str())) {
            super::schema::refine_standard(std, attr)?;
            continue;
        }
        let custom = super::schema::custom_attribute(attr)?;
        let bare = |n: &str| n.trim_start_matches("dev:").to_owned();
        let new_name = custom.name.clone().unwrap_or_default();
        if schema
            .iter()
            .any(|a| a.name.as_deref().map(bare) == Some(bare(&new_name)))
        {
            return Err(DomainError::InvalidParameter(format!(
                "Duplicate attribute name: {new_name}"
            )));
        }
        schema.push(custom);
    }
    Ok(schema)
}

/// Rules shared by create and update: the SMS configuration, passwordless factors and the tier.
fn check_cross_member(cfg: &UserPoolType, region: &str) -> Result<()> {
    if let Some(sms) = &cfg.sms_configuration {
        check_sms_configuration(sms, region)?;
    }
    let auto = cfg.auto_verified_attributes.as_deref().unwrap_or(&[]);
    if auto.contains(&VerifiedAttributeType::PhoneNumber) && cfg.sms_configuration.is_none() {
        return Err(DomainError::InvalidParameter(PHONE_AUTOVERIFY_NEEDS_SMS.into()));
    }
    let probe = UserPool {
        id: String::new(),
        version: 0,
        config: cfg.clone(),
        mfa: MfaFactors::default(),
        domains: Vec::new(),
    };
    let first = first_factors(&probe);
    if first.contains(&AuthFactorType::SmsOtp) && cfg.sms_configuration.is_none() {
        return Err(DomainError::InvalidParameter(SMS_OTP_NEEDS_SMS.into()));
    }
    if cfg.user_pool_tier == Some(UserPoolTierType::Lite) && first.iter().any(|f| *f != AuthFactorType::Password) {
        return Err(DomainError::FeatureUnavailableInTier(FIRST_FACTORS_LITE.into()));
    }
    Ok(())
}

/// Builds a new pool from a CreateUserPool request, with AWS's defaults filled in.
pub fn create(id: String, arn: String, now: f64, req: CreateUserPoolRequest) -> Result<UserPool> {
    if req.alias_attributes.as_ref().is_some_and(|a| !a.is_empty())
        && req.username_attributes.as_ref().is_some_and(|a| !a.is_empty())
    {
        return Err(DomainError::InvalidParameter(ALIAS_AND_USERNAME.into()));
    }
    let mfa = req.mfa_configuration.unwrap_or(UserPoolMfaType::Off);
    if mfa != UserPoolMfaType::Off && req.sms_configuration.is_none() {
        return Err(DomainError::InvalidParameter(MFA_NEEDS_SMS_ON_CREATE.into()));
    }
    let policies = req.policies.unwrap_or_default();
    let config = UserPoolType {
        id: Some(id.clone()),
        name: Some(req.pool_name),
        policies: Some(UserPoolPolicyType {
            password_policy: Some(
                policies
                    .password_policy
                    .map(complete_password_policy)
                    .unwrap_or_else(default_password_policy),
            ),
            sign_in_policy: Some(policies.sign_in_policy.unwrap_or_else(default_sign_in_policy)),
        }),
        deletion_protection: Some(req.deletion_protection.unwrap_or(DeletionProtectionType::Inactive)),
        lambda_config: Some(req.lambda_config.unwrap_or_default()),
        status: None,
        last_modified_date: Some(now),
        creation_date: Some(now),
        schema_attributes: Some(merge_schema(req.schema)?),
        auto_verified_attributes: req.auto_verified_attributes,
        alias_attributes: req.alias_attributes,
        username_attributes: req.username_attributes,
        sms_verification_message: req.sms_verification_message,
        email_verification_message: req.email_verification_message,
        email_verification_subject: req.email_verification_subject,
        verification_message_template: req.verification_message_template,
        sms_authentication_message: req.sms_authentication_message,
        user_attribute_update_settings: Some(req.user_attribute_update_settings.unwrap_or(
            UserAttributeUpdateSettingsType {
                attributes_require_verification_before_update: Some(vec![]),
            },
        )),
        mfa_configuration: Some(mfa),
        device_configuration: req.device_configuration,
        estimated_number_of_users: None,
        email_configuration: Some(req.email_configuration.unwrap_or(EmailConfigurationType {
            email_sending_account: Some(EmailSendingAccountType::CognitoDefault),
            ..Default::default()
        })),
        sms_configuration: req.sms_configuration,
        user_pool_tags: req.user_pool_tags,
        sms_configuration_failure: None,
        email_configuration_failure: None,
        domain: None,
        custom_domain: None,
        admin_create_user_config: Some(complete_admin_create_user_config(req.admin_create_user_config)),
        user_pool_add_ons: req.user_pool_add_ons,
        dcr_configuration: req.dcr_configuration,
        username_configuration: req.username_configuration,
        arn: Some(arn),
        account_recovery_setting: req.account_recovery_setting,
        user_pool_tier: Some(req.user_pool_tier.unwrap_or(UserPoolTierType::Essentials)),
        key_configuration: req.key_configuration,
        issuer_configuration: req.issuer_configuration,
        acr_configuration: req.acr_configuration,
    };
    let mut config = config;
    sync_verification_messages(&mut config);
    check_cross_member(&config, crate::ids::region_of_pool_id(&id))?;
    Ok(UserPool {
        id,
        version: 1,
        config,
        // CreateUserPool can only turn on SMS MFA: it has no TOTP or email members.
        mfa: MfaFactors {
            sms_enabled: mfa != UserPoolMfaType::Off,
            ..Default::default()
        },
        domains: Vec::new(),
    })
}

/// AWS keeps the legacy verification members (`SmsVerificationMessage`, `EmailVerificationMessage`,
/// `EmailVerificationSubject`) and `VerificationMessageTemplate` in step: whichever the request
/// set shows in both. When a request sets both forms of one text, the template's wins (ours).
fn sync_verification_messages(cfg: &mut cmfa_wire::shapes::UserPoolType) {
    let t = cfg
        .verification_message_template
        .get_or_insert_with(VerificationMessageTemplateType::default);
    t.default_email_option
        .get_or_insert(DefaultEmailOptionType::ConfirmWithCode);
    for (template, legacy) in [
        (&mut t.sms_message, &mut cfg.sms_verification_message),
        (&mut t.email_message, &mut cfg.email_verification_message),
        (&mut t.email_subject, &mut cfg.email_verification_subject),
    ] {
        match (template.as_ref(), legacy.as_ref()) {
            (Some(v), _) => *legacy = Some(v.clone()),
            (None, Some(v)) => *template = Some(v.clone()),
            (None, None) => {}
        }
    }
}

fn complete_admin_create_user_config(c: Option<AdminCreateUserConfigType>) -> AdminCreateUserConfigType {
    let mut c = c.unwrap_or_default();
    c.allow_admin_create_user_only.get_or_insert(false);
    c.unused_account_validity_days.get_or_insert(7);
    c
}

/// Applies an UpdateUserPool request. Like AWS, members left out go back to their defaults,
/// except `MfaConfiguration`, the pool name, the tier, the SMS configuration and the nested
/// `Policies` sub-members, which keep their values.
pub fn update(pool: &UserPool, now: f64, req: UpdateUserPoolRequest) -> Result<UserPool> {
    let mut next = pool.clone();
    let cfg = &mut next.config;
    let old_mfa = pool.mfa_configuration();
    if let Some(p) = req.policies {
        let old = cfg.policies.clone().unwrap_or_default();
        cfg.policies = Some(UserPoolPolicyType {
            password_policy: p.password_policy.map(complete_password_policy).or(old.password_policy),
            sign_in_policy: p.sign_in_policy.or(old.sign_in_policy),
        });
    }
    cfg.deletion_protection = Some(req.deletion_protection.unwrap_or(DeletionProtectionType::Inactive));
    cfg.lambda_config = Some(req.lambda_config.unwrap_or_default());
    cfg.auto_verified_attributes = req.auto_verified_attributes;
    cfg.sms_verification_message = req.sms_verification_message;
    cfg.email_verification_message = req.email_verification_message;
    cfg.email_verification_subject = req.email_verification_subject;
    cfg.verification_message_template = req.verification_message_template;
    sync_verification_messages(cfg);
    if let Some(m) = req.sms_authentication_message {
        cfg.sms_authentication_message = Some(m);
    }
    cfg.user_attribute_update_settings = Some(req.user_attribute_update_settings.unwrap_or(
        UserAttributeUpdateSettingsType {
            attributes_require_verification_before_update: Some(vec![]),
        },
    ));
    cfg.device_configuration = req.device_configuration;
    cfg.email_configuration = Some(req.email_configuration.unwrap_or(EmailConfigurationType {
        email_sending_account: Some(EmailSendingAccountType::CognitoDefault),
        ..Default::default()
    }));
    if let Some(s) = req.sms_configuration {
        cfg.sms_configuration = Some(s);
    }
    cfg.user_pool_tags = req.user_pool_tags;
    cfg.admin_create_user_config = Some(complete_admin_create_user_config(req.admin_create_user_config));
    cfg.user_pool_add_ons = req.user_pool_add_ons;
    cfg.dcr_configuration = req.dcr_configuration;
    cfg.account_recovery_setting = req.account_recovery_setting;
    if let Some(n) = req.pool_name {
        cfg.name = Some(n);
    }
    if let Some(t) = req.user_pool_tier {
        cfg.user_pool_tier = Some(t);
    }
    cfg.key_configuration = req.key_configuration;
    cfg.issuer_configuration = req.issuer_configuration;
    cfg.acr_configuration = req.acr_configuration;
    cfg.last_modified_date = Some(now);

    if let Some(mfa) = req.mfa_configuration {
        if mfa == UserPoolMfaType::On && old_mfa == UserPoolMfaType::Off {
            return Err(DomainError::InvalidParameter(MFA_ON_AFTER_CREATE.into()));
        }
        match mfa {
            UserPoolMfaType::Off => {
                next.mfa = MfaFactors {
                    web_authn: next.mfa.web_authn.take(),
                    configured: next.mfa.configured,
                    ..Default::default()
                }
            }
            _ => {
                let totp = next
                    .mfa
                    .software_token
                    .as_ref()
                    .and_then(|t| t.enabled)
                    .unwrap_or(false);
                let any = next.mfa.sms_enabled || totp || next.mfa.email.is_some();
                if next.config.sms_configuration.is_some() {
                    next.mfa.sms_enabled = true;
                } else if !any {
                    return Err(DomainError::InvalidParameter(MFA_NEEDS_SMS_ON_CREATE.into()));
                }
            }
        }
        next.config.mfa_configuration = Some(mfa);
    }
    let email_mfa = next.mfa.email.is_some();
    check_cross_member(&next.config, pool.region())?;
    if email_mfa {
        // Keep the email-MFA preconditions true after the update, as SetUserPoolMfaConfig demands.
        let sending = next
            .config
            .email_configuration
            .as_ref()
            .and_then(|e| e.email_sending_account);
        if sending != Some(EmailSendingAccountType::Developer) {
            return Err(DomainError::InvalidParameter(
                super::mfa_config::EMAIL_COGNITO_DEFAULT.into(),
            ));
        }
    }
    if next.tier() == UserPoolTierType::Lite && email_mfa {
        return Err(DomainError::FeatureUnavailableInTier(
            super::mfa_config::EMAIL_MFA_LITE.into(),
        ));
    }
    Ok(next)
}
