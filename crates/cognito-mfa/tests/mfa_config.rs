//! SetUserPoolMfaConfig / GetUserPoolMfaConfig over HTTP with the official Rust SDK: every valid
//! combination round-trips through Set, Get and DescribeUserPool; every refusal carries AWS's
//! exception type and exact message (reference §2, §7.2; rules in cmfa-core `pool/mfa_config.rs`).

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::operation::get_user_pool_mfa_config::{GetUserPoolMfaConfigError, GetUserPoolMfaConfigOutput};
use cip::operation::set_user_pool_mfa_config::builders::SetUserPoolMfaConfigFluentBuilder;
use cip::operation::set_user_pool_mfa_config::{SetUserPoolMfaConfigError, SetUserPoolMfaConfigOutput};
use cip::types::{
    AuthFactorType, EmailConfigurationType, EmailMfaConfigType, EmailSendingAccountType, EumsSmsConfigurationType,
    RecoveryOptionNameType, SignInPolicyType, SmsConfigurationType, SmsMfaConfigType, SoftwareTokenMfaConfigType,
    UserPoolMfaType, UserPoolPolicyType, UserPoolTierType, UserVerificationType, WebAuthnConfigurationType,
    WebAuthnFactorConfigurationType,
};
use cmfa_testkit::cognito::{create_pool_id, describe_pool, developer_email, recovery, sns_config, totp};
use cmfa_testkit::{TestServer, sdk_client};

// The contract: AWS's measured texts, and ours where AWS's are not on record.
const OFF_WITH_FACTOR: &str = "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.";
const NO_FACTOR: &str = "Invalid MFA Configuration given. SMS MFA, Email MFA, or Software Token MFA must be enabled.";
const EMAIL_COGNITO_DEFAULT: &str = "Cannot set EmailMfaConfiguration when user pool EmailConfiguration contains an EmailSendingAccount of COGNITO_DEFAULT.";
const EMAIL_RECOVERY_ONLY: &str = "Cannot set EmailMfaConfiguration when user pool AccountRecoverySetting is not set or contains only verified_email in RecoveryMechanisms.";
const PASSWORDLESS_WITH_MFA_ON: &str =
    "Only PASSWORD and WEB_AUTHN (if configured) can be enabled as an auth factor if MFA is enabled";
const WEBAUTHN_SINGLE_FACTOR_WITH_MFA_ON: &str = "Cannot set WebAuthn factor configuration to SINGLE_FACTOR if MFA is required and WebAuthn is an allowed first auth factor";
const SMS_CONFIG_SET: &str = "Can't turn off SMS_MFA when SMS configuration is set for the user pool";
const SMS_CONFIG_MISSING: &str =
    "SMS MFA requires an SmsConfiguration: set one in SmsMfaConfiguration or on the user pool.";
const SMS_CONFIG_EMPTY: &str = "SmsConfiguration must contain either SnsCallerArn or EumsSms.";
const SMS_CONFIG_BOTH: &str = "SmsConfiguration can contain either SnsCallerArn or EumsSms, not both.";
const EMAIL_MFA_LITE: &str =
    "Email MFA is not available in the LITE feature plan. Change UserPoolTier to ESSENTIALS or PLUS.";
const WEBAUTHN_MFA_LITE: &str = "WebAuthn factor configuration MULTI_FACTOR_WITH_USER_VERIFICATION is not available in the LITE feature plan. Change UserPoolTier to ESSENTIALS or PLUS.";
const CONCURRENT: &str = "Only one request to update this UserPool can be processed at a time";

const SNS_ROLE: &str = "arn:aws:iam::123456789012:role/service-role/cognito-sms";
const EUMS_ROLE: &str = "arn:aws:iam::123456789012:role/cognito-eums";
const SMS_MESSAGE: &str = "Your sign-in code is {####}.";
const EMAIL_MESSAGE: &str = "Your email sign-in code is {####}";

/// The five members Set returns and Get reads, as one comparable value.
#[derive(Debug, Clone, PartialEq)]
struct MfaView {
    sms: Option<SmsMfaConfigType>,
    totp: Option<SoftwareTokenMfaConfigType>,
    email: Option<EmailMfaConfigType>,
    mfa: Option<UserPoolMfaType>,
    web_authn: Option<WebAuthnConfigurationType>,
}

impl MfaView {
    fn off() -> Self {
        MfaView {
            sms: None,
            totp: None,
            email: None,
            mfa: Some(UserPoolMfaType::Off),
            web_authn: None,
        }
    }
}

impl From<SetUserPoolMfaConfigOutput> for MfaView {
    fn from(o: SetUserPoolMfaConfigOutput) -> Self {
        MfaView {
            sms: o.sms_mfa_configuration,
            totp: o.software_token_mfa_configuration,
            email: o.email_mfa_configuration,
            mfa: o.mfa_configuration,
            web_authn: o.web_authn_configuration,
        }
    }
}

impl From<GetUserPoolMfaConfigOutput> for MfaView {
    fn from(o: GetUserPoolMfaConfigOutput) -> Self {
        MfaView {
            sms: o.sms_mfa_configuration,
            totp: o.software_token_mfa_configuration,
            email: o.email_mfa_configuration,
            mfa: o.mfa_configuration,
            web_authn: o.web_authn_configuration,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------

fn eums(region: &str) -> EumsSmsConfigurationType {
    EumsSmsConfigurationType::builder()
        .caller_arn(EUMS_ROLE)
        .region(region)
        .build()
        .expect("caller_arn is set")
}

fn first_factors(factors: &[AuthFactorType]) -> UserPoolPolicyType {
    UserPoolPolicyType::builder()
        .sign_in_policy(
            SignInPolicyType::builder()
                .set_allowed_first_auth_factors(Some(factors.to_vec()))
                .build(),
        )
        .build()
}

fn sms_block(message: Option<&str>, config: Option<SmsConfigurationType>) -> SmsMfaConfigType {
    SmsMfaConfigType::builder()
        .set_sms_authentication_message(message.map(str::to_owned))
        .set_sms_configuration(config)
        .build()
}

fn email_block() -> EmailMfaConfigType {
    EmailMfaConfigType::builder()
        .message(EMAIL_MESSAGE)
        .subject("Your code")
        .build()
}

fn web_authn(
    rp: Option<&str>,
    uv: Option<UserVerificationType>,
    factor: Option<WebAuthnFactorConfigurationType>,
) -> WebAuthnConfigurationType {
    WebAuthnConfigurationType::builder()
        .set_relying_party_id(rp.map(str::to_owned))
        .set_user_verification(uv)
        .set_factor_configuration(factor)
        .build()
}

/// What Get shows once MFA has been on: only the FactorConfiguration default (reference §2.4).
fn default_web_authn() -> Option<WebAuthnConfigurationType> {
    Some(web_authn(
        None,
        None,
        Some(WebAuthnFactorConfigurationType::SingleFactor),
    ))
}

async fn plain_pool(c: &Client) -> String {
    create_pool_id(c.create_user_pool().pool_name("plain")).await
}

/// A pool that meets every email-MFA precondition (DEVELOPER sending, recovery not email-only).
async fn email_pool(c: &Client, recovery_names: &[RecoveryOptionNameType]) -> String {
    create_pool_id(
        c.create_user_pool()
            .pool_name("email")
            .email_configuration(developer_email())
            .account_recovery_setting(recovery(recovery_names)),
    )
    .await
}

async fn get(c: &Client, id: &str) -> MfaView {
    c.get_user_pool_mfa_config()
        .user_pool_id(id)
        .send()
        .await
        .expect("GetUserPoolMfaConfig")
        .into()
}

/// Sends a Set that must succeed and checks that Set's response, Get and DescribeUserPool agree.
async fn set_ok(c: &Client, id: &str, req: SetUserPoolMfaConfigFluentBuilder) -> MfaView {
    let set: MfaView = req.send().await.expect("SetUserPoolMfaConfig").into();
    assert_eq!(
        get(c, id).await,
        set,
        "GetUserPoolMfaConfig differs from the Set response"
    );
    let pool = describe_pool(c, id).await;
    assert_eq!(pool.mfa_configuration, set.mfa, "DescribeUserPool MfaConfiguration");
    if let Some(sms) = &set.sms {
        assert_eq!(
            pool.sms_configuration, sms.sms_configuration,
            "DescribeUserPool SmsConfiguration"
        );
        assert_eq!(
            pool.sms_authentication_message, sms.sms_authentication_message,
            "DescribeUserPool SmsAuthenticationMessage"
        );
    }
    set
}

/// Sends a Set that must fail, returning the modelled error.
async fn set_err(req: SetUserPoolMfaConfigFluentBuilder) -> SetUserPoolMfaConfigError {
    match req.send().await {
        Ok(out) => panic!("expected an error, got {out:?}"),
        Err(e) => e.into_service_error(),
    }
}

#[track_caller]
fn assert_invalid(e: &SetUserPoolMfaConfigError, message: &str) {
    assert!(
        matches!(e, SetUserPoolMfaConfigError::InvalidParameterException(_)),
        "expected InvalidParameterException, got {e:?}"
    );
    assert_eq!(e.meta().message(), Some(message));
}

/// A refused Set must leave the configuration as it was.
async fn set_invalid(c: &Client, id: &str, req: SetUserPoolMfaConfigFluentBuilder, message: &str) {
    let before = get(c, id).await;
    let e = set_err(req).await;
    assert_invalid(&e, message);
    assert_eq!(get(c, id).await, before, "a refused Set changed the configuration");
}

// ---------------------------------------------------------------------------------------------
// Valid combinations
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn fresh_pool_is_off_and_nothing_else() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = plain_pool(&c).await;
    assert_eq!(get(&c, &id).await, MfaView::off());
    assert_eq!(
        describe_pool(&c, &id).await.mfa_configuration,
        Some(UserPoolMfaType::Off)
    );
}

#[tokio::test]
async fn off_with_no_blocks_round_trips() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = plain_pool(&c).await;
    let v = set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::Off),
    )
    .await;
    assert_eq!(v.mfa, Some(UserPoolMfaType::Off));
    assert_eq!((v.sms, v.totp, v.email), (None, None, None));
}

#[tokio::test]
async fn totp_only_on_and_optional_round_trip() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    for mfa in [UserPoolMfaType::On, UserPoolMfaType::Optional] {
        let id = plain_pool(&c).await;
        let v = set_ok(
            &c,
            &id,
            c.set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(mfa.clone())
                .software_token_mfa_configuration(totp(true)),
        )
        .await;
        // The shape AWS returned for an ON+TOTP pool in 2026 (reference §2.4).
        assert_eq!(
            v,
            MfaView {
                sms: None,
                totp: Some(totp(true)),
                email: None,
                mfa: Some(mfa),
                web_authn: default_web_authn(),
            }
        );
    }
}

#[tokio::test]
async fn sms_only_with_configuration_in_the_block_round_trips() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = plain_pool(&c).await;
    let v = set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::On)
            .sms_mfa_configuration(sms_block(Some(SMS_MESSAGE), Some(sns_config()))),
    )
    .await;
    assert_eq!(
        v,
        MfaView {
            sms: Some(sms_block(Some(SMS_MESSAGE), Some(sns_config()))),
            totp: None,
            email: None,
            mfa: Some(UserPoolMfaType::On),
            web_authn: default_web_authn(),
        }
    );
    // The block's SmsConfiguration is the pool-level one (one store behind both, §2.5).
    let pool = describe_pool(&c, &id).await;
    assert_eq!(pool.sms_configuration, Some(sns_config()));
    assert_eq!(pool.sms_authentication_message.as_deref(), Some(SMS_MESSAGE));
}

#[tokio::test]
async fn sms_using_the_pool_level_configuration_round_trips() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = create_pool_id(c.create_user_pool().pool_name("sms").sms_configuration(sns_config())).await;
    let v = set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::Optional)
            .sms_mfa_configuration(sms_block(Some(SMS_MESSAGE), None)),
    )
    .await;
    assert_eq!(v.mfa, Some(UserPoolMfaType::Optional));
    assert_eq!(v.sms, Some(sms_block(Some(SMS_MESSAGE), Some(sns_config()))));
    assert_eq!((v.totp, v.email), (None, None));
}

#[tokio::test]
async fn sms_through_eums_in_the_pool_region_round_trips() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = plain_pool(&c).await;
    let eums_config = SmsConfigurationType::builder().eums_sms(eums("us-east-1")).build();
    let v = set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::On)
            .sms_mfa_configuration(sms_block(None, Some(eums_config.clone()))),
    )
    .await;
    assert_eq!(v.sms, Some(sms_block(None, Some(eums_config))));
}

#[tokio::test]
async fn email_with_developer_sending_round_trips_for_each_accepted_recovery() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let recoveries: [&[RecoveryOptionNameType]; 3] = [
        &[RecoveryOptionNameType::VerifiedPhoneNumber],
        &[RecoveryOptionNameType::AdminOnly],
        &[
            RecoveryOptionNameType::VerifiedEmail,
            RecoveryOptionNameType::VerifiedPhoneNumber,
        ],
    ];
    for r in recoveries {
        let id = email_pool(&c, r).await;
        let v = set_ok(
            &c,
            &id,
            c.set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(UserPoolMfaType::Optional)
                .email_mfa_configuration(email_block()),
        )
        .await;
        assert_eq!(
            v,
            MfaView {
                sms: None,
                totp: None,
                email: Some(email_block()),
                mfa: Some(UserPoolMfaType::Optional),
                web_authn: default_web_authn(),
            },
            "recovery {r:?}"
        );
    }
}

#[tokio::test]
async fn all_factors_with_full_web_authn_round_trip() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = create_pool_id(
        c.create_user_pool()
            .pool_name("all")
            .sms_configuration(sns_config())
            .email_configuration(developer_email())
            .account_recovery_setting(recovery(&[RecoveryOptionNameType::AdminOnly])),
    )
    .await;
    let wa = web_authn(
        Some("auth.example.com"),
        Some(UserVerificationType::Preferred),
        Some(WebAuthnFactorConfigurationType::MultiFactorWithUserVerification),
    );
    let v = set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::Optional)
            .sms_mfa_configuration(sms_block(Some(SMS_MESSAGE), None))
            .software_token_mfa_configuration(totp(true))
            .email_mfa_configuration(email_block())
            .web_authn_configuration(wa.clone()),
    )
    .await;
    assert_eq!(
        v,
        MfaView {
            sms: Some(sms_block(Some(SMS_MESSAGE), Some(sns_config()))),
            totp: Some(totp(true)),
            email: Some(email_block()),
            mfa: Some(UserPoolMfaType::Optional),
            web_authn: Some(wa),
        }
    );
}

#[tokio::test]
async fn web_authn_with_off_is_accepted() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = plain_pool(&c).await;
    let v = set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::Off)
            .web_authn_configuration(web_authn(
                Some("example.com"),
                Some(UserVerificationType::Required),
                None,
            )),
    )
    .await;
    assert_eq!(
        v,
        MfaView {
            web_authn: Some(web_authn(
                Some("example.com"),
                Some(UserVerificationType::Required),
                Some(WebAuthnFactorConfigurationType::SingleFactor),
            )),
            ..MfaView::off()
        }
    );
}

#[tokio::test]
async fn web_authn_members_round_trip_with_mfa_on() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    for (rp, uv, factor) in [
        (
            "login.example.com",
            UserVerificationType::Required,
            WebAuthnFactorConfigurationType::SingleFactor,
        ),
        (
            "example.org",
            UserVerificationType::Preferred,
            WebAuthnFactorConfigurationType::MultiFactorWithUserVerification,
        ),
    ] {
        let id = plain_pool(&c).await;
        let wa = web_authn(Some(rp), Some(uv), Some(factor));
        let v = set_ok(
            &c,
            &id,
            c.set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(UserPoolMfaType::On)
                .software_token_mfa_configuration(totp(true))
                .web_authn_configuration(wa.clone()),
        )
        .await;
        assert_eq!(v.web_authn, Some(wa));
    }
}

#[tokio::test]
async fn optional_is_accepted_with_passwordless_first_factors() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let email_otp = create_pool_id(
        c.create_user_pool()
            .pool_name("email-otp")
            .email_configuration(developer_email())
            .policies(first_factors(&[AuthFactorType::Password, AuthFactorType::EmailOtp])),
    )
    .await;
    let v = set_ok(
        &c,
        &email_otp,
        c.set_user_pool_mfa_config()
            .user_pool_id(&email_otp)
            .mfa_configuration(UserPoolMfaType::Optional)
            .software_token_mfa_configuration(totp(true)),
    )
    .await;
    assert_eq!(v.mfa, Some(UserPoolMfaType::Optional));

    let sms_otp = create_pool_id(
        c.create_user_pool()
            .pool_name("sms-otp")
            .sms_configuration(sns_config())
            .policies(first_factors(&[AuthFactorType::Password, AuthFactorType::SmsOtp])),
    )
    .await;
    let v = set_ok(
        &c,
        &sms_otp,
        c.set_user_pool_mfa_config()
            .user_pool_id(&sms_otp)
            .mfa_configuration(UserPoolMfaType::Optional)
            .sms_mfa_configuration(sms_block(None, None)),
    )
    .await;
    assert_eq!(v.mfa, Some(UserPoolMfaType::Optional));
    assert!(v.sms.is_some());
}

#[tokio::test]
async fn web_authn_first_factor_with_mfa_on_needs_multi_factor_with_uv() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = create_pool_id(
        c.create_user_pool()
            .pool_name("passkeys")
            .policies(first_factors(&[AuthFactorType::Password, AuthFactorType::WebAuthn])),
    )
    .await;
    let base = || {
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .software_token_mfa_configuration(totp(true))
    };
    // ON with the default factor configuration (SINGLE_FACTOR) and with it spelt out.
    set_invalid(
        &c,
        &id,
        base().mfa_configuration(UserPoolMfaType::On),
        WEBAUTHN_SINGLE_FACTOR_WITH_MFA_ON,
    )
    .await;
    set_invalid(
        &c,
        &id,
        base()
            .mfa_configuration(UserPoolMfaType::On)
            .web_authn_configuration(web_authn(
                Some("example.com"),
                None,
                Some(WebAuthnFactorConfigurationType::SingleFactor),
            )),
        WEBAUTHN_SINGLE_FACTOR_WITH_MFA_ON,
    )
    .await;
    // OPTIONAL with SINGLE_FACTOR is fine.
    let v = set_ok(&c, &id, base().mfa_configuration(UserPoolMfaType::Optional)).await;
    assert_eq!(v.mfa, Some(UserPoolMfaType::Optional));
    // ON with a UV passkey counting as MFA is fine.
    let wa = web_authn(
        Some("example.com"),
        Some(UserVerificationType::Required),
        Some(WebAuthnFactorConfigurationType::MultiFactorWithUserVerification),
    );
    let v = set_ok(
        &c,
        &id,
        base()
            .mfa_configuration(UserPoolMfaType::On)
            .web_authn_configuration(wa.clone()),
    )
    .await;
    assert_eq!(v.mfa, Some(UserPoolMfaType::On));
    assert_eq!(v.web_authn, Some(wa));
}

// ---------------------------------------------------------------------------------------------
// Full-replace semantics
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_later_set_without_a_block_turns_that_factor_off() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = email_pool(&c, &[RecoveryOptionNameType::AdminOnly]).await;
    let wa = web_authn(Some("example.com"), Some(UserVerificationType::Required), None);
    let v = set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::Optional)
            .software_token_mfa_configuration(totp(true))
            .email_mfa_configuration(email_block())
            .web_authn_configuration(wa),
    )
    .await;
    assert!(v.totp.is_some() && v.email.is_some());
    assert_eq!(
        v.web_authn.as_ref().and_then(|w| w.relying_party_id.as_deref()),
        Some("example.com")
    );

    // TOTP only: email and the WebAuthn members are gone.
    let v = set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::Optional)
            .software_token_mfa_configuration(totp(true)),
    )
    .await;
    assert_eq!(
        v,
        MfaView {
            sms: None,
            totp: Some(totp(true)),
            email: None,
            mfa: Some(UserPoolMfaType::Optional),
            web_authn: default_web_authn(),
        }
    );

    // Email only: TOTP is gone.
    let v = set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::On)
            .email_mfa_configuration(email_block()),
    )
    .await;
    assert_eq!(v.totp, None);
    assert_eq!(v.email, Some(email_block()));
    assert_eq!(v.mfa, Some(UserPoolMfaType::On));
}

#[tokio::test]
async fn a_set_with_nothing_resets_to_off() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = create_pool_id(c.create_user_pool().pool_name("reset").sms_configuration(sns_config())).await;
    set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::On)
            .sms_mfa_configuration(sms_block(Some(SMS_MESSAGE), None))
            .software_token_mfa_configuration(totp(true))
            .web_authn_configuration(web_authn(Some("example.com"), None, None)),
    )
    .await;

    let v = set_ok(&c, &id, c.set_user_pool_mfa_config().user_pool_id(&id)).await;
    assert_eq!(
        v,
        MfaView {
            web_authn: default_web_authn(),
            ..MfaView::off()
        }
    );
    let pool = describe_pool(&c, &id).await;
    assert_eq!(pool.mfa_configuration, Some(UserPoolMfaType::Off));
    // The pool-level SMS settings are pool settings, not MFA factors: they stay.
    assert_eq!(pool.sms_configuration, Some(sns_config()));
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn off_with_any_factor_block_is_refused() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = email_pool(&c, &[RecoveryOptionNameType::AdminOnly]).await;
    let off = || {
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::Off)
    };
    let omitted = || c.set_user_pool_mfa_config().user_pool_id(&id);
    for req in [
        off().software_token_mfa_configuration(totp(false)),
        off().software_token_mfa_configuration(totp(true)),
        off().sms_mfa_configuration(sms_block(Some(SMS_MESSAGE), Some(sns_config()))),
        off().sms_mfa_configuration(sms_block(None, None)),
        off().email_mfa_configuration(email_block()),
        off().email_mfa_configuration(EmailMfaConfigType::builder().build()),
        omitted().software_token_mfa_configuration(totp(false)),
        omitted().sms_mfa_configuration(sms_block(None, Some(sns_config()))),
        omitted().email_mfa_configuration(email_block()),
    ] {
        set_invalid(&c, &id, req, OFF_WITH_FACTOR).await;
    }
    assert_eq!(get(&c, &id).await, MfaView::off());
}

#[tokio::test]
async fn on_or_optional_without_a_factor_is_refused() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = plain_pool(&c).await;
    for mfa in [UserPoolMfaType::On, UserPoolMfaType::Optional] {
        let base = || {
            c.set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(mfa.clone())
        };
        for req in [
            base(),
            base().software_token_mfa_configuration(totp(false)),
            base().web_authn_configuration(web_authn(
                Some("example.com"),
                None,
                Some(WebAuthnFactorConfigurationType::MultiFactorWithUserVerification),
            )),
        ] {
            set_invalid(&c, &id, req, NO_FACTOR).await;
        }
    }
}

#[tokio::test]
async fn email_with_cognito_default_sending_is_refused() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    // Recovery is fine, so only the sending account is wrong.
    let id = create_pool_id(
        c.create_user_pool()
            .pool_name("cognito-default")
            .account_recovery_setting(recovery(&[RecoveryOptionNameType::AdminOnly])),
    )
    .await;
    let pool = describe_pool(&c, &id).await;
    assert_eq!(
        pool.email_configuration.and_then(|e| e.email_sending_account),
        Some(EmailSendingAccountType::CognitoDefault)
    );
    for mfa in [UserPoolMfaType::On, UserPoolMfaType::Optional] {
        set_invalid(
            &c,
            &id,
            c.set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(mfa)
                .email_mfa_configuration(email_block()),
            EMAIL_COGNITO_DEFAULT,
        )
        .await;
    }
    // An explicit COGNITO_DEFAULT is refused the same way.
    let explicit = create_pool_id(
        c.create_user_pool()
            .pool_name("cognito-default-explicit")
            .email_configuration(
                EmailConfigurationType::builder()
                    .email_sending_account(EmailSendingAccountType::CognitoDefault)
                    .build(),
            )
            .account_recovery_setting(recovery(&[RecoveryOptionNameType::VerifiedPhoneNumber])),
    )
    .await;
    set_invalid(
        &c,
        &explicit,
        c.set_user_pool_mfa_config()
            .user_pool_id(&explicit)
            .mfa_configuration(UserPoolMfaType::Optional)
            .software_token_mfa_configuration(totp(true))
            .email_mfa_configuration(email_block()),
        EMAIL_COGNITO_DEFAULT,
    )
    .await;
}

#[tokio::test]
async fn email_with_email_only_or_unset_recovery_is_refused() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let email_only = email_pool(&c, &[RecoveryOptionNameType::VerifiedEmail]).await;
    let unset = create_pool_id(
        c.create_user_pool()
            .pool_name("no-recovery")
            .email_configuration(developer_email()),
    )
    .await;
    for id in [&email_only, &unset] {
        set_invalid(
            &c,
            id,
            c.set_user_pool_mfa_config()
                .user_pool_id(id)
                .mfa_configuration(UserPoolMfaType::Optional)
                .email_mfa_configuration(email_block()),
            EMAIL_RECOVERY_ONLY,
        )
        .await;
    }
}

#[tokio::test]
async fn email_and_uv_passkey_mfa_on_a_lite_pool_are_unavailable_in_tier() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = create_pool_id(
        c.create_user_pool()
            .pool_name("lite")
            .user_pool_tier(UserPoolTierType::Lite)
            .email_configuration(developer_email())
            .account_recovery_setting(recovery(&[RecoveryOptionNameType::AdminOnly])),
    )
    .await;
    let cases = [
        (
            c.set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(UserPoolMfaType::Optional)
                .email_mfa_configuration(email_block()),
            EMAIL_MFA_LITE,
        ),
        (
            c.set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(UserPoolMfaType::On)
                .software_token_mfa_configuration(totp(true))
                .web_authn_configuration(web_authn(
                    None,
                    None,
                    Some(WebAuthnFactorConfigurationType::MultiFactorWithUserVerification),
                )),
            WEBAUTHN_MFA_LITE,
        ),
    ];
    for (req, message) in cases {
        let e = set_err(req).await;
        assert!(
            matches!(e, SetUserPoolMfaConfigError::FeatureUnavailableInTierException(_)),
            "expected FeatureUnavailableInTierException, got {e:?}"
        );
        assert_eq!(e.meta().message(), Some(message));
    }
    assert_eq!(get(&c, &id).await, MfaView::off());
    // TOTP is available on LITE.
    let v = set_ok(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::On)
            .software_token_mfa_configuration(totp(true)),
    )
    .await;
    assert_eq!(v.mfa, Some(UserPoolMfaType::On));
}

#[tokio::test]
async fn on_with_passwordless_first_factors_is_refused() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let email_otp = create_pool_id(
        c.create_user_pool()
            .pool_name("email-otp")
            .email_configuration(developer_email())
            .account_recovery_setting(recovery(&[RecoveryOptionNameType::AdminOnly]))
            .policies(first_factors(&[AuthFactorType::Password, AuthFactorType::EmailOtp])),
    )
    .await;
    for req in [
        c.set_user_pool_mfa_config()
            .user_pool_id(&email_otp)
            .mfa_configuration(UserPoolMfaType::On)
            .software_token_mfa_configuration(totp(true)),
        c.set_user_pool_mfa_config()
            .user_pool_id(&email_otp)
            .mfa_configuration(UserPoolMfaType::On)
            .email_mfa_configuration(email_block()),
    ] {
        set_invalid(&c, &email_otp, req, PASSWORDLESS_WITH_MFA_ON).await;
    }

    let sms_otp = create_pool_id(
        c.create_user_pool()
            .pool_name("sms-otp")
            .sms_configuration(sns_config())
            .policies(first_factors(&[AuthFactorType::Password, AuthFactorType::SmsOtp])),
    )
    .await;
    set_invalid(
        &c,
        &sms_otp,
        c.set_user_pool_mfa_config()
            .user_pool_id(&sms_otp)
            .mfa_configuration(UserPoolMfaType::On)
            .sms_mfa_configuration(sms_block(Some(SMS_MESSAGE), None)),
        PASSWORDLESS_WITH_MFA_ON,
    )
    .await;
}

#[tokio::test]
async fn pool_sms_configuration_cannot_be_dropped_while_mfa_is_on() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = create_pool_id(
        c.create_user_pool()
            .pool_name("sms-pool")
            .sms_configuration(sns_config()),
    )
    .await;
    for mfa in [UserPoolMfaType::On, UserPoolMfaType::Optional] {
        set_invalid(
            &c,
            &id,
            c.set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(mfa)
                .software_token_mfa_configuration(totp(true)),
            SMS_CONFIG_SET,
        )
        .await;
    }
}

#[tokio::test]
async fn sms_block_without_any_sms_configuration_is_refused() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = plain_pool(&c).await;
    for block in [sms_block(Some(SMS_MESSAGE), None), sms_block(None, None)] {
        set_invalid(
            &c,
            &id,
            c.set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(UserPoolMfaType::On)
                .software_token_mfa_configuration(totp(true))
                .sms_mfa_configuration(block),
            SMS_CONFIG_MISSING,
        )
        .await;
    }
}

#[tokio::test]
async fn sms_configuration_needs_exactly_one_sender() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = plain_pool(&c).await;
    let both = SmsConfigurationType::builder()
        .sns_caller_arn(SNS_ROLE)
        .eums_sms(eums("us-east-1"))
        .build();
    // The Rust SDK always sends SnsCallerArn; "neither" arrives as `"SnsCallerArn": ""`.
    let neither = SmsConfigurationType::builder()
        .external_id("external-1")
        .sns_region("us-east-1")
        .build();
    for (config, message) in [(both, SMS_CONFIG_BOTH), (neither, SMS_CONFIG_EMPTY)] {
        set_invalid(
            &c,
            &id,
            c.set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(UserPoolMfaType::Optional)
                .sms_mfa_configuration(sms_block(Some(SMS_MESSAGE), Some(config))),
            message,
        )
        .await;
    }
}

#[tokio::test]
async fn eums_region_must_be_the_pool_region() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = plain_pool(&c).await;
    let config = SmsConfigurationType::builder().eums_sms(eums("eu-west-1")).build();
    set_invalid(
        &c,
        &id,
        c.set_user_pool_mfa_config()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::On)
            .sms_mfa_configuration(sms_block(None, Some(config))),
        "EumsSms Region eu-west-1 must be the user pool's region (us-east-1).",
    )
    .await;
}

#[tokio::test]
async fn unknown_pool_is_resource_not_found() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let missing = "us-east-1_doesNotExist";
    let e = set_err(
        c.set_user_pool_mfa_config()
            .user_pool_id(missing)
            .mfa_configuration(UserPoolMfaType::On)
            .software_token_mfa_configuration(totp(true)),
    )
    .await;
    assert!(
        matches!(e, SetUserPoolMfaConfigError::ResourceNotFoundException(_)),
        "{e:?}"
    );
    assert_eq!(
        e.meta().message(),
        Some("User pool us-east-1_doesNotExist does not exist.")
    );

    let e = c
        .get_user_pool_mfa_config()
        .user_pool_id(missing)
        .send()
        .await
        .expect_err("unknown pool")
        .into_service_error();
    assert!(
        matches!(e, GetUserPoolMfaConfigError::ResourceNotFoundException(_)),
        "{e:?}"
    );
    assert_eq!(
        e.meta().message(),
        Some("User pool us-east-1_doesNotExist does not exist.")
    );
}

#[tokio::test]
async fn model_constraints_are_enforced_with_aws_messages() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    // Model constraints are checked before the pool is looked up (reference §2.3, rule 1).
    let missing = "us-east-1_doesNotExist";
    let long = format!("{{####}}{}", "x".repeat(135));
    assert_eq!(long.chars().count(), 141);
    let cases = [
        (
            c.set_user_pool_mfa_config()
                .user_pool_id(missing)
                .mfa_configuration(UserPoolMfaType::On)
                .sms_mfa_configuration(sms_block(Some("no code here"), Some(sns_config()))),
            "1 validation error detected: Value 'no code here' at 'smsMfaConfiguration.smsAuthenticationMessage' \
             failed to satisfy constraint: Member must satisfy regular expression pattern: .*\\{####\\}.*"
                .to_owned(),
        ),
        (
            c.set_user_pool_mfa_config()
                .user_pool_id(missing)
                .mfa_configuration(UserPoolMfaType::On)
                .sms_mfa_configuration(sms_block(Some(&long), Some(sns_config()))),
            format!(
                "1 validation error detected: Value '{long}' at 'smsMfaConfiguration.smsAuthenticationMessage' \
                 failed to satisfy constraint: Member must have length less than or equal to 140"
            ),
        ),
        (
            c.set_user_pool_mfa_config()
                .user_pool_id(missing)
                .mfa_configuration(UserPoolMfaType::On)
                .email_mfa_configuration(
                    EmailMfaConfigType::builder()
                        .message("Your code, no placeholder")
                        .build(),
                ),
            "1 validation error detected: Value 'Your code, no placeholder' at 'emailMfaConfiguration.message' \
             failed to satisfy constraint: Member must satisfy regular expression pattern: \
             [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\s*]*\\{####\\}[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\s*]*"
                .to_owned(),
        ),
        (
            c.set_user_pool_mfa_config()
                .user_pool_id("not-a-pool-id")
                .mfa_configuration(UserPoolMfaType::On)
                .software_token_mfa_configuration(totp(true)),
            "1 validation error detected: Value 'not-a-pool-id' at 'userPoolId' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+"
                .to_owned(),
        ),
    ];
    for (req, message) in cases {
        let e = set_err(req).await;
        assert_invalid(&e, &message);
    }

    let e = c
        .get_user_pool_mfa_config()
        .user_pool_id("not-a-pool-id")
        .send()
        .await
        .expect_err("bad pool id")
        .into_service_error();
    assert!(
        matches!(e, GetUserPoolMfaConfigError::InvalidParameterException(_)),
        "{e:?}"
    );
    assert_eq!(
        e.meta().message(),
        Some(
            "1 validation error detected: Value 'not-a-pool-id' at 'userPoolId' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+"
        )
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency (reference §7.2)
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_sets_either_win_whole_or_are_refused() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = plain_pool(&c).await;
    const N: usize = 20;
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = Vec::with_capacity(N);
    for i in 0..N {
        let (c, id, start) = (c.clone(), id.clone(), start.clone());
        tasks.push(tokio::spawn(async move {
            let mfa = if i % 2 == 0 {
                UserPoolMfaType::On
            } else {
                UserPoolMfaType::Optional
            };
            let uv = if i % 3 == 0 {
                UserVerificationType::Required
            } else {
                UserVerificationType::Preferred
            };
            let rp = format!("rp{i}.example.com");
            let wa = web_authn(Some(&rp), Some(uv.clone()), None);
            start.wait().await;
            let res = c
                .set_user_pool_mfa_config()
                .user_pool_id(&id)
                .mfa_configuration(mfa.clone())
                .software_token_mfa_configuration(totp(true))
                .web_authn_configuration(wa.clone())
                .send()
                .await;
            // What the response must show: the request, with the factor configuration default.
            let expected = web_authn(Some(&rp), Some(uv), Some(WebAuthnFactorConfigurationType::SingleFactor));
            (i, mfa, expected, res)
        }));
    }
    let mut won = Vec::new();
    let mut refused = 0;
    for t in tasks {
        let (i, mfa, expected_wa, res) = t.await.expect("task");
        match res {
            Ok(out) => {
                let v = MfaView::from(out);
                // Each winner's response is its own request, not a mix with another one.
                assert_eq!(
                    v,
                    MfaView {
                        sms: None,
                        totp: Some(totp(true)),
                        email: None,
                        mfa: Some(mfa),
                        web_authn: Some(expected_wa),
                    },
                    "call {i}"
                );
                won.push(v);
            }
            Err(e) => {
                let e = e.into_service_error();
                assert!(
                    matches!(e, SetUserPoolMfaConfigError::ConcurrentModificationException(_)),
                    "call {i}: expected success or ConcurrentModificationException, got {e:?}"
                );
                assert_eq!(e.meta().message(), Some(CONCURRENT), "call {i}");
                refused += 1;
            }
        }
    }
    eprintln!(
        "{} won, {refused} refused with ConcurrentModificationException",
        won.len()
    );
    assert_eq!(won.len() + refused, N);
    assert!(!won.is_empty(), "every concurrent call was refused");
    let last = get(&c, &id).await;
    assert!(
        won.contains(&last),
        "final configuration {last:?} is not what any successful call stored"
    );
    assert_eq!(describe_pool(&c, &id).await.mfa_configuration, last.mfa);
}
