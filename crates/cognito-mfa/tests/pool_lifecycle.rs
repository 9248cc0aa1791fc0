//! User pool lifecycle over HTTP with the official Rust SDK: CreateUserPool defaults,
//! DescribeUserPool, UpdateUserPool's reset-what-is-omitted semantics, DeleteUserPool,
//! ListUserPools paging and the region pools are created in (reference §2.5; rules in cmfa-core
//! `pool/rules.rs`).

use aws_sdk_cognitoidentityprovider as cip;
use cip::operation::create_user_pool::CreateUserPoolError;
use cip::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use cip::operation::delete_user_pool::DeleteUserPoolError;
use cip::operation::describe_user_pool::DescribeUserPoolError;
use cip::operation::update_user_pool::UpdateUserPoolError;
use cip::operation::update_user_pool::builders::UpdateUserPoolFluentBuilder;
use cip::types::{
    AliasAttributeType, AttributeDataType, AuthFactorType, DeletionProtectionType, EmailSendingAccountType,
    PasswordPolicyType, SchemaAttributeType, SignInPolicyType, SoftwareTokenMfaConfigType, UserPoolMfaType,
    UserPoolPolicyType, UserPoolTierType, UserPoolType, UsernameAttributeType, VerifiedAttributeType,
};
use cmfa_testkit::cognito::{describe_pool, sns_config};
use cmfa_testkit::{TestServer, sdk_client, sdk_client_in};
use std::collections::BTreeSet;

const MFA_NEEDS_SMS_ON_CREATE: &str =
    "SMS configuration and Auto verification for phone_number are required when MFA is required/optional";
const MFA_ON_AFTER_CREATE: &str = "Cannot turn MFA functionality ON, once the user pool has been created.";
const ALIAS_AND_USERNAME: &str = "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.";
const DELETION_PROTECTED: &str = "The user pool cannot be deleted because deletion protection is activated.";
const MISSING: &str = "us-east-1_doesNotExist";
const MISSING_MESSAGE: &str = "User pool us-east-1_doesNotExist does not exist.";

const STANDARD_ATTRIBUTES: [&str; 20] = [
    "sub",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
];

/// `<region>_` followed by nine letters or digits, like AWS's ids.
fn looks_like_pool_id(id: &str, region: &str) -> bool {
    id.strip_prefix(region)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|suffix| suffix.len() == 9 && suffix.bytes().all(|b| b.is_ascii_alphanumeric()))
}

async fn create(b: CreateUserPoolFluentBuilder) -> UserPoolType {
    b.send().await.expect("CreateUserPool").user_pool.expect("UserPool")
}

async fn create_id(b: CreateUserPoolFluentBuilder) -> String {
    create(b).await.id.expect("pool id")
}

async fn create_err(b: CreateUserPoolFluentBuilder) -> CreateUserPoolError {
    b.send()
        .await
        .expect_err("CreateUserPool must fail")
        .into_service_error()
}

async fn update_err(b: UpdateUserPoolFluentBuilder) -> UpdateUserPoolError {
    b.send()
        .await
        .expect_err("UpdateUserPool must fail")
        .into_service_error()
}

fn sign_in(factors: &[AuthFactorType]) -> SignInPolicyType {
    SignInPolicyType::builder()
        .set_allowed_first_auth_factors(Some(factors.to_vec()))
        .build()
}

#[tokio::test]
async fn create_fills_in_aws_defaults_and_describe_agrees() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let created = create(c.create_user_pool().pool_name("defaults")).await;
    let id = created.id.clone().expect("id");
    assert!(looks_like_pool_id(&id, "us-east-1"), "{id}");
    assert_eq!(created.name.as_deref(), Some("defaults"));
    assert_eq!(
        created.arn.as_deref(),
        Some(format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{id}").as_str())
    );
    assert_eq!(created.user_pool_tier, Some(UserPoolTierType::Essentials));
    assert_eq!(created.mfa_configuration, Some(UserPoolMfaType::Off));
    assert_eq!(created.deletion_protection, Some(DeletionProtectionType::Inactive));
    assert!(created.creation_date.is_some() && created.last_modified_date.is_some());

    let policies = created.policies.clone().expect("Policies");
    let pw = policies.password_policy.expect("PasswordPolicy");
    assert_eq!(pw.minimum_length, Some(8));
    assert!(pw.require_uppercase && pw.require_lowercase && pw.require_numbers && pw.require_symbols);
    assert_eq!(pw.temporary_password_validity_days, 7);
    assert_eq!(
        policies.sign_in_policy.and_then(|s| s.allowed_first_auth_factors),
        Some(vec![AuthFactorType::Password])
    );
    assert_eq!(
        created
            .email_configuration
            .as_ref()
            .and_then(|e| e.email_sending_account.clone()),
        Some(EmailSendingAccountType::CognitoDefault)
    );

    let names: Vec<&str> = created
        .schema_attributes
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter_map(|a| a.name.as_deref())
        .collect();
    assert_eq!(names, STANDARD_ATTRIBUTES);

    assert_eq!(
        describe_pool(&c, &id).await,
        created,
        "DescribeUserPool differs from CreateUserPool's answer"
    );
}

#[tokio::test]
async fn custom_schema_attributes_get_the_custom_prefix() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = create(
        c.create_user_pool()
            .pool_name("custom")
            .schema(
                SchemaAttributeType::builder()
                    .name("tenant")
                    .attribute_data_type(AttributeDataType::String)
                    .mutable(true)
                    .build(),
            )
            .schema(
                SchemaAttributeType::builder()
                    .name("custom:level")
                    .attribute_data_type(AttributeDataType::Number)
                    .build(),
            ),
    )
    .await;
    let schema = describe_pool(&c, pool.id.as_deref().expect("id"))
        .await
        .schema_attributes
        .expect("SchemaAttributes");
    assert_eq!(schema.len(), STANDARD_ATTRIBUTES.len() + 2);
    let names: BTreeSet<&str> = schema.iter().filter_map(|a| a.name.as_deref()).collect();
    for n in STANDARD_ATTRIBUTES {
        assert!(names.contains(n), "{n} missing");
    }
    let tenant = schema
        .iter()
        .find(|a| a.name.as_deref() == Some("custom:tenant"))
        .expect("custom:tenant");
    assert_eq!(tenant.attribute_data_type, Some(AttributeDataType::String));
    assert_eq!(tenant.mutable, Some(true));
    let level = schema
        .iter()
        .find(|a| a.name.as_deref() == Some("custom:level"))
        .expect("custom:level");
    assert_eq!(level.attribute_data_type, Some(AttributeDataType::Number));
    assert!(!names.contains("tenant") && !names.contains("custom:custom:level"));
}

#[tokio::test]
async fn create_with_mfa_on_or_optional_needs_sms_configuration() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    for mfa in [UserPoolMfaType::On, UserPoolMfaType::Optional] {
        let e = create_err(c.create_user_pool().pool_name("mfa").mfa_configuration(mfa.clone())).await;
        assert!(matches!(e, CreateUserPoolError::InvalidParameterException(_)), "{e:?}");
        assert_eq!(e.meta().message(), Some(MFA_NEEDS_SMS_ON_CREATE));

        // With an SMS configuration the same request is accepted and SMS MFA is on.
        let id = create_id(
            c.create_user_pool()
                .pool_name("mfa-sms")
                .mfa_configuration(mfa.clone())
                .sms_configuration(sns_config()),
        )
        .await;
        assert_eq!(describe_pool(&c, &id).await.mfa_configuration, Some(mfa.clone()));
        let got = c
            .get_user_pool_mfa_config()
            .user_pool_id(&id)
            .send()
            .await
            .expect("Get");
        assert_eq!(got.mfa_configuration, Some(mfa));
        assert_eq!(
            got.sms_mfa_configuration.and_then(|s| s.sms_configuration),
            Some(sns_config())
        );
    }
    let pools = c.list_user_pools().max_results(60).send().await.expect("List");
    assert_eq!(pools.user_pools().len(), 2, "a refused create left a pool behind");
}

#[tokio::test]
async fn alias_and_username_attributes_together_are_refused() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let e = create_err(
        c.create_user_pool()
            .pool_name("both")
            .alias_attributes(AliasAttributeType::PreferredUsername)
            .username_attributes(UsernameAttributeType::Email),
    )
    .await;
    assert!(matches!(e, CreateUserPoolError::InvalidParameterException(_)), "{e:?}");
    assert_eq!(e.meta().message(), Some(ALIAS_AND_USERNAME));
}

#[tokio::test]
async fn update_without_mfa_configuration_keeps_it() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = create_id(c.create_user_pool().pool_name("keep-mfa")).await;
    c.set_user_pool_mfa_config()
        .user_pool_id(&id)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .send()
        .await
        .expect("SetUserPoolMfaConfig");
    let before = c
        .get_user_pool_mfa_config()
        .user_pool_id(&id)
        .send()
        .await
        .expect("Get");

    c.update_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("UpdateUserPool");
    assert_eq!(
        describe_pool(&c, &id).await.mfa_configuration,
        Some(UserPoolMfaType::On)
    );
    let after = c
        .get_user_pool_mfa_config()
        .user_pool_id(&id)
        .send()
        .await
        .expect("Get");
    assert_eq!(after.mfa_configuration, before.mfa_configuration);
    assert_eq!(
        after.software_token_mfa_configuration,
        before.software_token_mfa_configuration
    );
    assert_eq!(after.web_authn_configuration, before.web_authn_configuration);
}

#[tokio::test]
async fn update_from_off_to_on_is_refused() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    // Even with an SMS configuration in place: the rule is about ON itself.
    let id = create_id(
        c.create_user_pool()
            .pool_name("off-to-on")
            .sms_configuration(sns_config()),
    )
    .await;
    let e = update_err(
        c.update_user_pool()
            .user_pool_id(&id)
            .mfa_configuration(UserPoolMfaType::On),
    )
    .await;
    assert!(matches!(e, UpdateUserPoolError::InvalidParameterException(_)), "{e:?}");
    assert_eq!(e.meta().message(), Some(MFA_ON_AFTER_CREATE));
    assert_eq!(
        describe_pool(&c, &id).await.mfa_configuration,
        Some(UserPoolMfaType::Off)
    );
}

#[tokio::test]
async fn update_from_off_to_optional_works_with_sms_configuration() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = create_id(
        c.create_user_pool()
            .pool_name("off-to-optional")
            .sms_configuration(sns_config()),
    )
    .await;
    c.update_user_pool()
        .user_pool_id(&id)
        .mfa_configuration(UserPoolMfaType::Optional)
        .send()
        .await
        .expect("UpdateUserPool");
    let pool = describe_pool(&c, &id).await;
    assert_eq!(pool.mfa_configuration, Some(UserPoolMfaType::Optional));
    assert_eq!(
        pool.sms_configuration,
        Some(sns_config()),
        "omitted SmsConfiguration was dropped"
    );
    let got = c
        .get_user_pool_mfa_config()
        .user_pool_id(&id)
        .send()
        .await
        .expect("Get");
    assert_eq!(got.mfa_configuration, Some(UserPoolMfaType::Optional));
    assert_eq!(
        got.sms_mfa_configuration.and_then(|s| s.sms_configuration),
        Some(sns_config())
    );

    // Without any SMS configuration or factor, OPTIONAL cannot be reached by UpdateUserPool.
    let bare = create_id(c.create_user_pool().pool_name("bare")).await;
    let e = update_err(
        c.update_user_pool()
            .user_pool_id(&bare)
            .mfa_configuration(UserPoolMfaType::Optional),
    )
    .await;
    assert!(matches!(e, UpdateUserPoolError::InvalidParameterException(_)), "{e:?}");
    assert_eq!(e.meta().message(), Some(MFA_NEEDS_SMS_ON_CREATE));
    assert_eq!(
        describe_pool(&c, &bare).await.mfa_configuration,
        Some(UserPoolMfaType::Off)
    );
}

#[tokio::test]
async fn update_resets_omitted_members_but_keeps_omitted_policy_members() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let strict = PasswordPolicyType::builder()
        .minimum_length(12)
        .require_uppercase(true)
        .require_lowercase(true)
        .require_numbers(true)
        .require_symbols(false)
        .temporary_password_validity_days(3)
        .build();
    let factors = [AuthFactorType::Password, AuthFactorType::EmailOtp];
    let id = create_id(
        c.create_user_pool()
            .pool_name("update")
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .deletion_protection(DeletionProtectionType::Active)
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(strict.clone())
                    .sign_in_policy(sign_in(&factors))
                    .build(),
            ),
    )
    .await;
    let pool = describe_pool(&c, &id).await;
    assert_eq!(pool.auto_verified_attributes, Some(vec![VerifiedAttributeType::Email]));
    assert_eq!(
        pool.policies.as_ref().and_then(|p| p.password_policy.clone()),
        Some(strict.clone())
    );

    // Nothing but the id: top-level members reset, Policies untouched.
    c.update_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("UpdateUserPool");
    let pool = describe_pool(&c, &id).await;
    assert_eq!(
        pool.auto_verified_attributes, None,
        "omitted AutoVerifiedAttributes kept"
    );
    assert_eq!(pool.deletion_protection, Some(DeletionProtectionType::Inactive));
    assert_eq!(pool.name.as_deref(), Some("update"), "the pool name is not reset");
    let policies = pool.policies.expect("Policies");
    assert_eq!(policies.password_policy, Some(strict));
    assert_eq!(
        policies.sign_in_policy.and_then(|s| s.allowed_first_auth_factors),
        Some(factors.to_vec())
    );

    // Only a password policy: the sign-in policy stays.
    let relaxed = PasswordPolicyType::builder()
        .minimum_length(10)
        .temporary_password_validity_days(5)
        .build();
    c.update_user_pool()
        .user_pool_id(&id)
        .policies(UserPoolPolicyType::builder().password_policy(relaxed).build())
        .send()
        .await
        .expect("UpdateUserPool");
    let policies = describe_pool(&c, &id).await.policies.expect("Policies");
    let pw = policies.password_policy.expect("PasswordPolicy");
    assert_eq!(pw.minimum_length, Some(10));
    assert!(!pw.require_uppercase && !pw.require_lowercase && !pw.require_numbers && !pw.require_symbols);
    assert_eq!(pw.temporary_password_validity_days, 5);
    assert_eq!(
        policies.sign_in_policy.and_then(|s| s.allowed_first_auth_factors),
        Some(factors.to_vec())
    );

    // Only a sign-in policy: the password policy stays.
    c.update_user_pool()
        .user_pool_id(&id)
        .policies(
            UserPoolPolicyType::builder()
                .sign_in_policy(sign_in(&[AuthFactorType::Password]))
                .build(),
        )
        .send()
        .await
        .expect("UpdateUserPool");
    let policies = describe_pool(&c, &id).await.policies.expect("Policies");
    assert_eq!(policies.password_policy.and_then(|p| p.minimum_length), Some(10));
    assert_eq!(
        policies.sign_in_policy.and_then(|s| s.allowed_first_auth_factors),
        Some(vec![AuthFactorType::Password])
    );
}

#[tokio::test]
async fn delete_removes_the_pool_unless_protected() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let id = create_id(c.create_user_pool().pool_name("doomed")).await;
    let keep = create_id(c.create_user_pool().pool_name("kept")).await;
    c.delete_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("DeleteUserPool");
    let e = c
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect_err("deleted")
        .into_service_error();
    assert!(
        matches!(e, DescribeUserPoolError::ResourceNotFoundException(_)),
        "{e:?}"
    );
    assert_eq!(
        e.meta().message(),
        Some(format!("User pool {id} does not exist.").as_str())
    );
    let e = c
        .delete_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect_err("deleted twice")
        .into_service_error();
    assert!(matches!(e, DeleteUserPoolError::ResourceNotFoundException(_)), "{e:?}");
    let listed: Vec<String> = c
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("List")
        .user_pools()
        .iter()
        .filter_map(|p| p.id.clone())
        .collect();
    assert_eq!(listed, vec![keep]);

    let protected = create_id(
        c.create_user_pool()
            .pool_name("protected")
            .deletion_protection(DeletionProtectionType::Active),
    )
    .await;
    let e = c
        .delete_user_pool()
        .user_pool_id(&protected)
        .send()
        .await
        .expect_err("protected")
        .into_service_error();
    assert!(matches!(e, DeleteUserPoolError::InvalidParameterException(_)), "{e:?}");
    assert_eq!(e.meta().message(), Some(DELETION_PROTECTED));
    assert_eq!(
        describe_pool(&c, &protected).await.deletion_protection,
        Some(DeletionProtectionType::Active)
    );
    c.update_user_pool()
        .user_pool_id(&protected)
        .deletion_protection(DeletionProtectionType::Inactive)
        .send()
        .await
        .expect("UpdateUserPool");
    c.delete_user_pool()
        .user_pool_id(&protected)
        .send()
        .await
        .expect("DeleteUserPool after lifting protection");
}

#[tokio::test]
async fn list_pages_through_every_pool_exactly_once() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let mut created = BTreeSet::new();
    for i in 0..5 {
        created.insert(create_id(c.create_user_pool().pool_name(format!("pool-{i}"))).await);
    }
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = c
            .list_user_pools()
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("ListUserPools");
        sizes.push(page.user_pools().len());
        for p in page.user_pools() {
            let id = p.id.clone().expect("id");
            let name = p.name.as_deref().expect("name");
            assert!(name.starts_with("pool-"), "{name}");
            assert!(p.creation_date.is_some() && p.last_modified_date.is_some());
            seen.push(id);
        }
        token = page.next_token.clone();
        if token.is_none() {
            break;
        }
        assert!(sizes.len() < 10, "pagination does not terminate");
    }
    assert_eq!(sizes, vec![2, 2, 1]);
    assert_eq!(seen.len(), 5, "a pool was returned twice: {seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), created);
}

#[tokio::test]
async fn pools_are_created_in_the_client_region() {
    let server = TestServer::start().await;
    let c = sdk_client_in(&server.url, "eu-west-1");
    let pool = create(c.create_user_pool().pool_name("ireland")).await;
    let id = pool.id.clone().expect("id");
    assert!(looks_like_pool_id(&id, "eu-west-1"), "{id}");
    assert_eq!(
        pool.arn.as_deref(),
        Some(format!("arn:aws:cognito-idp:eu-west-1:000000000000:userpool/{id}").as_str())
    );
    assert_eq!(describe_pool(&c, &id).await.id.as_deref(), Some(id.as_str()));
}

#[tokio::test]
async fn unknown_pool_is_resource_not_found_everywhere() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let e = c
        .describe_user_pool()
        .user_pool_id(MISSING)
        .send()
        .await
        .expect_err("describe")
        .into_service_error();
    assert!(
        matches!(e, DescribeUserPoolError::ResourceNotFoundException(_)),
        "{e:?}"
    );
    assert_eq!(e.meta().message(), Some(MISSING_MESSAGE));

    let e = update_err(c.update_user_pool().user_pool_id(MISSING)).await;
    assert!(matches!(e, UpdateUserPoolError::ResourceNotFoundException(_)), "{e:?}");
    assert_eq!(e.meta().message(), Some(MISSING_MESSAGE));

    let e = c
        .delete_user_pool()
        .user_pool_id(MISSING)
        .send()
        .await
        .expect_err("delete")
        .into_service_error();
    assert!(matches!(e, DeleteUserPoolError::ResourceNotFoundException(_)), "{e:?}");
    assert_eq!(e.meta().message(), Some(MISSING_MESSAGE));
}

#[tokio::test]
async fn pools_are_regional() {
    let server = TestServer::start().await;
    let eu = sdk_client_in(&server.url, "eu-west-1");
    let us = sdk_client(&server.url);
    let eu_id = eu
        .create_user_pool()
        .pool_name("eu")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let us_id = us
        .create_user_pool()
        .pool_name("us")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();

    // Another region's pool is unknown, as on AWS.
    let err = us
        .describe_user_pool()
        .user_pool_id(&eu_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert_eq!(
        err.meta().message(),
        Some(format!("User pool {eu_id} does not exist.").as_str())
    );
    let err = us
        .get_user_pool_mfa_config()
        .user_pool_id(&eu_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    let ids = |out: aws_sdk_cognitoidentityprovider::operation::list_user_pools::ListUserPoolsOutput| {
        out.user_pools().iter().filter_map(|p| p.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(us.list_user_pools().max_results(60).send().await.unwrap()), [us_id]);
    assert_eq!(ids(eu.list_user_pools().max_results(60).send().await.unwrap()), [eu_id]);
}
