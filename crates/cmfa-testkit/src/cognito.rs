//! Small building blocks for Cognito calls made through the SDK: values, pools and errors.

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::error::{ProvideErrorMetadata, SdkError};
use cip::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use cip::operation::create_user_pool_client::builders::CreateUserPoolClientFluentBuilder;
use cip::types::{
    AccountRecoverySettingType, AttributeType, EmailConfigurationType, EmailSendingAccountType, ExplicitAuthFlowsType,
    RecoveryOptionNameType, RecoveryOptionType, SmsConfigurationType, SoftwareTokenMfaConfigType, UserPoolType,
};
use std::fmt::Debug;

/// Every auth flow the server has.
pub const ALL_FLOWS: [ExplicitAuthFlowsType; 4] = [
    ExplicitAuthFlowsType::AllowUserPasswordAuth,
    ExplicitAuthFlowsType::AllowAdminUserPasswordAuth,
    ExplicitAuthFlowsType::AllowUserSrpAuth,
    ExplicitAuthFlowsType::AllowRefreshTokenAuth,
];

/// The SNS role of [`sns_config`].
pub const SNS_ROLE: &str = "arn:aws:iam::123456789012:role/service-role/cognito-sms";
/// The SES identity of [`developer_email`].
pub const SES_ARN: &str = "arn:aws:ses:us-east-1:123456789012:identity/a@example.com";

/// A user attribute.
pub fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .expect("attribute")
}

/// An SNS SMS configuration: [`SNS_ROLE`], external id `external-1`, us-east-1.
pub fn sns_config() -> SmsConfigurationType {
    SmsConfigurationType::builder()
        .sns_caller_arn(SNS_ROLE)
        .external_id("external-1")
        .sns_region("us-east-1")
        .build()
}

/// DEVELOPER email sending from [`SES_ARN`].
pub fn developer_email() -> EmailConfigurationType {
    EmailConfigurationType::builder()
        .email_sending_account(EmailSendingAccountType::Developer)
        .source_arn(SES_ARN)
        .build()
}

/// Account recovery through `names`, in this order of priority.
pub fn recovery(names: &[RecoveryOptionNameType]) -> AccountRecoverySettingType {
    let mut b = AccountRecoverySettingType::builder();
    for (i, n) in names.iter().enumerate() {
        b = b.recovery_mechanisms(
            RecoveryOptionType::builder()
                .name(n.clone())
                .priority(i as i32 + 1)
                .build()
                .expect("name and priority are set"),
        );
    }
    b.build()
}

/// A software-token MFA block.
pub fn totp(enabled: bool) -> SoftwareTokenMfaConfigType {
    SoftwareTokenMfaConfigType::builder().enabled(enabled).build()
}

/// Sends a CreateUserPool that must succeed; the new pool's id.
pub async fn create_pool_id(b: CreateUserPoolFluentBuilder) -> String {
    b.send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .and_then(|p| p.id)
        .expect("pool id")
}

/// Sends a CreateUserPoolClient that must succeed; the new client's id.
pub async fn create_client_id(b: CreateUserPoolClientFluentBuilder) -> String {
    b.send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client
        .and_then(|c| c.client_id)
        .expect("client id")
}

/// DescribeUserPool, which must succeed.
pub async fn describe_pool(c: &Client, id: &str) -> UserPoolType {
    c.describe_user_pool()
        .user_pool_id(id)
        .send()
        .await
        .expect("DescribeUserPool")
        .user_pool
        .expect("UserPool")
}

/// The HTTP status, `__type` and message of a failed call (a service error, never a dispatch failure).
pub fn service_err<O: Debug, E: ProvideErrorMetadata + Debug>(r: Result<O, SdkError<E>>) -> (u16, String, String) {
    service_fail(r.expect_err("the call should fail"))
}

/// The HTTP status, `__type` and message of a service error (never a dispatch failure).
pub fn service_fail<E: ProvideErrorMetadata + Debug>(e: SdkError<E>) -> (u16, String, String) {
    let status = e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
    let code = e
        .code()
        .unwrap_or_else(|| panic!("not a service error: {e:?}"))
        .to_owned();
    (status, code, e.message().unwrap_or("").to_owned())
}

/// The TOTP code for `secret` (Base32, as AssociateSoftwareToken returns it) at Unix time `t`,
/// computed by totp-rs (an implementation independent of the server's).
pub fn totp_at(secret: &str, t: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .expect("SecretCode is Base32");
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .expect("a valid TOTP")
        .generate(t)
}

/// AdminCreateUser (no message) with `attrs`, then AdminSetUserPassword `password` (permanent):
/// a CONFIRMED user who can sign in.
pub async fn confirmed_user(c: &Client, pool: &str, name: &str, password: &str, attrs: &[(&str, &str)]) {
    let mut req = c
        .admin_create_user()
        .user_pool_id(pool)
        .username(name)
        .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress);
    for (n, v) in attrs {
        req = req.user_attributes(attr(n, v));
    }
    req.send().await.expect("AdminCreateUser");
    c.admin_set_user_password()
        .user_pool_id(pool)
        .username(name)
        .password(password)
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword");
}
