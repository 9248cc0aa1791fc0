//! The rules as pure functions: order of checks, full-replace semantics and the Get view.

use super::*;
use crate::pool::rules;
use cmfa_wire::shapes::{
    AccountRecoverySettingType, CreateUserPoolRequest, EmailConfigurationType, EmailMfaConfigType, RecoveryOptionType,
    SmsConfigurationType, SoftwareTokenMfaConfigType,
};

fn pool(req: CreateUserPoolRequest) -> UserPool {
    rules::create("us-east-1_abc".into(), "arn".into(), 1.0, req).unwrap()
}

fn named() -> CreateUserPoolRequest {
    CreateUserPoolRequest {
        pool_name: "p".into(),
        ..Default::default()
    }
}

fn set(mfa: Option<UserPoolMfaType>) -> SetUserPoolMfaConfigRequest {
    SetUserPoolMfaConfigRequest {
        user_pool_id: "us-east-1_abc".into(),
        mfa_configuration: mfa,
        ..Default::default()
    }
}

fn totp(enabled: bool) -> Option<SoftwareTokenMfaConfigType> {
    Some(SoftwareTokenMfaConfigType { enabled: Some(enabled) })
}

fn err(r: Result<UserPool>) -> DomainError {
    r.expect_err("should be refused")
}

#[test]
fn off_with_any_block_is_refused_even_disabled() {
    let p = pool(named());
    let mut r = set(None);
    r.software_token_mfa_configuration = totp(false);
    assert_eq!(
        err(apply(&p, &r)),
        DomainError::InvalidParameter(OFF_WITH_FACTOR.into())
    );
    let mut r = set(Some(UserPoolMfaType::Off));
    r.email_mfa_configuration = Some(EmailMfaConfigType::default());
    assert_eq!(
        err(apply(&p, &r)),
        DomainError::InvalidParameter(OFF_WITH_FACTOR.into())
    );
}

#[test]
fn on_needs_an_enabled_factor() {
    let p = pool(named());
    let mut r = set(Some(UserPoolMfaType::On));
    r.software_token_mfa_configuration = totp(false);
    assert_eq!(err(apply(&p, &r)), DomainError::InvalidParameter(NO_FACTOR.into()));
}

#[test]
fn off_exclusion_is_checked_before_email_rules() {
    // COGNITO_DEFAULT email would fail rule 5, but rule 3 answers first.
    let p = pool(named());
    let mut r = set(Some(UserPoolMfaType::Off));
    r.email_mfa_configuration = Some(EmailMfaConfigType::default());
    assert_eq!(
        err(apply(&p, &r)),
        DomainError::InvalidParameter(OFF_WITH_FACTOR.into())
    );
}

#[test]
fn email_needs_developer_sending_and_non_email_recovery() {
    let mut r = set(Some(UserPoolMfaType::Optional));
    r.email_mfa_configuration = Some(EmailMfaConfigType {
        message: Some("code {####}".into()),
        subject: None,
    });
    assert_eq!(
        err(apply(&pool(named()), &r)),
        DomainError::InvalidParameter(EMAIL_COGNITO_DEFAULT.into())
    );

    let mut req = named();
    req.email_configuration = Some(EmailConfigurationType {
        email_sending_account: Some(EmailSendingAccountType::Developer),
        source_arn: Some("arn:aws:ses:us-east-1:123456789012:identity/a@example.com".into()),
        ..Default::default()
    });
    assert_eq!(
        err(apply(&pool(req.clone()), &r)),
        DomainError::InvalidParameter(EMAIL_RECOVERY_ONLY.into())
    );

    req.account_recovery_setting = Some(AccountRecoverySettingType {
        recovery_mechanisms: Some(vec![RecoveryOptionType {
            priority: 1,
            name: RecoveryOptionNameType::VerifiedEmail,
        }]),
    });
    assert_eq!(
        err(apply(&pool(req.clone()), &r)),
        DomainError::InvalidParameter(EMAIL_RECOVERY_ONLY.into())
    );

    req.account_recovery_setting = Some(AccountRecoverySettingType {
        recovery_mechanisms: Some(vec![RecoveryOptionType {
            priority: 1,
            name: RecoveryOptionNameType::AdminOnly,
        }]),
    });
    let ok = apply(&pool(req.clone()), &r).unwrap();
    assert_eq!(view(&ok).email_mfa_configuration, r.email_mfa_configuration);

    req.user_pool_tier = Some(UserPoolTierType::Lite);
    assert!(matches!(
        err(apply(&pool(req), &r)),
        DomainError::FeatureUnavailableInTier(_)
    ));
}

#[test]
fn sms_uses_the_pool_configuration_and_cannot_be_dropped() {
    let sms = SmsConfigurationType {
        sns_caller_arn: Some("arn:aws:iam::123456789012:role/sms".into()),
        external_id: Some("x".into()),
        sns_region: Some("us-east-1".into()),
        eums_sms: None,
    };
    let mut req = named();
    req.sms_configuration = Some(sms.clone());
    req.mfa_configuration = Some(UserPoolMfaType::Optional);
    let p = pool(req);
    // CreateUserPool with OPTIONAL turned SMS MFA on.
    assert!(view(&p).sms_mfa_configuration.is_some());

    // Already OPTIONAL: TOTP only with the same mode (or ON) drops SMS, as on AWS.
    for mode in [UserPoolMfaType::Optional, UserPoolMfaType::On] {
        let mut r = set(Some(mode));
        r.software_token_mfa_configuration = totp(true);
        let next = apply(&p, &r).unwrap();
        assert!(view(&next).sms_mfa_configuration.is_none(), "{mode:?}");
    }
    // MFA OFF with an SmsConfiguration (phone verification), then turned on without SMS: refused.
    let mut off = named();
    off.sms_configuration = Some(sms.clone());
    let off = pool(off);
    let mut r = set(Some(UserPoolMfaType::Optional));
    r.software_token_mfa_configuration = totp(true);
    assert_eq!(
        err(apply(&off, &r)),
        DomainError::InvalidParameter(SMS_CONFIG_SET.into())
    );
    let mut r = set(Some(UserPoolMfaType::On));
    r.software_token_mfa_configuration = totp(true);

    r.sms_mfa_configuration = Some(SmsMfaConfigType {
        sms_authentication_message: Some("Your code {####}".into()),
        sms_configuration: None,
    });
    let next = apply(&off, &r).unwrap();
    let v = view(&next);
    let block = v.sms_mfa_configuration.unwrap();
    assert_eq!(block.sms_configuration, Some(sms));
    assert_eq!(
        next.config.sms_authentication_message.as_deref(),
        Some("Your code {####}")
    );
}

#[test]
fn sms_block_without_any_configuration_is_refused() {
    let mut r = set(Some(UserPoolMfaType::Optional));
    r.sms_mfa_configuration = Some(SmsMfaConfigType::default());
    assert_eq!(
        err(apply(&pool(named()), &r)),
        DomainError::InvalidParameter(SMS_CONFIG_MISSING.into())
    );
}

#[test]
fn full_replace_and_view() {
    let p = pool(named());
    assert_eq!(
        serde_json::to_string(&view(&p)).unwrap(),
        r#"{"MfaConfiguration":"OFF"}"#,
        "a fresh pool shows only the MFA setting"
    );
    let mut r = set(Some(UserPoolMfaType::On));
    r.software_token_mfa_configuration = totp(true);
    let on = apply(&p, &r).unwrap();
    assert_eq!(
        serde_json::to_string(&view(&on)).unwrap(),
        r#"{"SoftwareTokenMfaConfiguration":{"Enabled":true},"MfaConfiguration":"ON","WebAuthnConfiguration":{"FactorConfiguration":"SINGLE_FACTOR"}}"#
    );
    let off = apply(&on, &set(None)).unwrap();
    let v = view(&off);
    assert_eq!(v.mfa_configuration, Some(UserPoolMfaType::Off));
    assert!(v.software_token_mfa_configuration.is_none());
}
