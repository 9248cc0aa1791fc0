//! User attribute and password operations, end to end with the official Rust SDK: updating,
//! deleting and verifying attributes, ChangePassword, the forgot-password flow,
//! AdminResetUserPassword and DeleteUser. Codes are read back from the server's outbox.

use aws_sdk_cognitoidentityprovider as cip;
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use cip::types::{
    AccountRecoverySettingType, AuthFlowType, DeliveryMediumType, ExplicitAuthFlowsType, MessageActionType,
    PreventUserExistenceErrorTypes, RecoveryOptionNameType, RecoveryOptionType, SchemaAttributeType, UserStatusType,
    VerifiedAttributeType,
};
use cmfa_core::clock::FixedClock;
use cmfa_testkit::cognito::attr;
use cmfa_testkit::{Options, TestServer, outbox, sdk_client};
use std::sync::Arc;

const PASSWORD: &str = "Passw0rd!";
const MISMATCH: &str = "Invalid verification code provided, please try again.";
const EXPIRED: &str = "Invalid code provided, please request a code again.";
const NO_RECOVERY: &str = "Cannot reset password for the user as there is no registered/verified email or phone_number";

/// The `__type` and message of a failed call.
fn failure<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(r: Result<T, E>) -> (String, String) {
    let e = r.expect_err("the call should fail");
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

/// The code in the newest message for a user, checking its purpose and destination.
async fn latest_code(url: &str, pool: &str, username: &str, purpose: &str, destination: &str) -> String {
    let m = outbox::latest_message(url, pool, username).await;
    assert_eq!(m["purpose"], purpose, "{m}");
    assert_eq!(m["destination"], destination, "{m}");
    let body = m["body"].as_str().unwrap();
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {body:?}"))
        .to_owned()
}

struct Fixture {
    server: TestServer,
    c: cip::Client,
    pool: String,
    client: String,
}

/// A pool that auto-verifies email (plus `extra` changes to the request), and an app client
/// with password sign-in.
async fn fixture_with(
    opts: Options,
    pool_setup: impl FnOnce(
        cip::operation::create_user_pool::builders::CreateUserPoolFluentBuilder,
    ) -> cip::operation::create_user_pool::builders::CreateUserPoolFluentBuilder,
    hide_existence: bool,
) -> Fixture {
    let server = TestServer::start_with(opts).await;
    let c = sdk_client(&server.url);
    let req = c
        .create_user_pool()
        .pool_name("users")
        .auto_verified_attributes(VerifiedAttributeType::Email);
    let pool = pool_setup(req).send().await.unwrap().user_pool.unwrap().id.unwrap();
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .prevent_user_existence_errors(if hide_existence {
            PreventUserExistenceErrorTypes::Enabled
        } else {
            PreventUserExistenceErrorTypes::Legacy
        })
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    Fixture {
        server,
        c,
        pool,
        client,
    }
}

async fn fixture() -> Fixture {
    fixture_with(Options::default(), |r| r, false).await
}

impl Fixture {
    /// A confirmed user with a permanent password and these attributes.
    async fn user(&self, name: &str, attrs: &[(&str, &str)]) {
        let mut req = self
            .c
            .admin_create_user()
            .user_pool_id(&self.pool)
            .username(name)
            .message_action(MessageActionType::Suppress);
        for (n, v) in attrs {
            req = req.user_attributes(attr(n, v));
        }
        req.send().await.unwrap();
        self.c
            .admin_set_user_password()
            .user_pool_id(&self.pool)
            .username(name)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .unwrap();
    }

    async fn sign_in(&self, name: &str, password: &str) -> Result<String, (String, String)> {
        let r = self
            .c
            .initiate_auth()
            .client_id(&self.client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", name)
            .auth_parameters("PASSWORD", password)
            .send()
            .await;
        match r {
            Ok(out) => Ok(out.authentication_result.unwrap().access_token.unwrap()),
            Err(e) => Err((
                e.code().unwrap_or_default().to_owned(),
                e.message().unwrap_or_default().to_owned(),
            )),
        }
    }

    async fn attrs(&self, name: &str) -> Vec<(String, String)> {
        self.c
            .admin_get_user()
            .user_pool_id(&self.pool)
            .username(name)
            .send()
            .await
            .unwrap()
            .user_attributes
            .unwrap_or_default()
            .into_iter()
            .map(|a| (a.name, a.value.unwrap_or_default()))
            .collect()
    }

    async fn attr(&self, user: &str, name: &str) -> Option<String> {
        self.attrs(user)
            .await
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    async fn status(&self, name: &str) -> UserStatusType {
        self.c
            .admin_get_user()
            .user_pool_id(&self.pool)
            .username(name)
            .send()
            .await
            .unwrap()
            .user_status
            .unwrap()
    }
}

#[tokio::test]
async fn update_user_attributes_sends_a_code_and_verify_user_attribute_redeems_it() {
    let f = fixture().await;
    f.user("alice", &[("email", "alice@example.com"), ("email_verified", "true")])
        .await;
    let token = f.sign_in("alice", PASSWORD).await.unwrap();

    let out =
        f.c.update_user_attributes()
            .access_token(&token)
            .user_attributes(attr("email", "new@example.org"))
            .user_attributes(attr("name", "Alice"))
            .send()
            .await
            .unwrap();
    let list = out.code_delivery_details_list.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].destination(), Some("n***@e***"));
    assert_eq!(list[0].delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(list[0].attribute_name(), Some("email"));
    assert_eq!(f.attr("alice", "email").await.as_deref(), Some("new@example.org"));
    assert_eq!(f.attr("alice", "email_verified").await.as_deref(), Some("false"));
    assert_eq!(f.attr("alice", "name").await.as_deref(), Some("Alice"));
    let code = latest_code(
        &f.server.url,
        &f.pool,
        "alice",
        "UPDATE_USER_ATTRIBUTE",
        "new@example.org",
    )
    .await;
    let msgs = outbox::messages(&f.server.url, &f.pool, "alice").await;
    assert_eq!(msgs[0]["channel"], "EMAIL");
    assert_eq!(msgs[0]["subject"], "Your verification code");

    // A change that needs no verification answers without a delivery list.
    let out =
        f.c.update_user_attributes()
            .access_token(&token)
            .user_attributes(attr("family_name", "Liddell"))
            .send()
            .await
            .unwrap();
    assert!(out.code_delivery_details_list.is_none());

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let r =
        f.c.verify_user_attribute()
            .access_token(&token)
            .attribute_name("email")
            .code(wrong)
            .send()
            .await;
    assert_eq!(failure(r), ("CodeMismatchException".into(), MISMATCH.into()));
    f.c.verify_user_attribute()
        .access_token(&token)
        .attribute_name("email")
        .code(&code)
        .send()
        .await
        .unwrap();
    assert_eq!(f.attr("alice", "email_verified").await.as_deref(), Some("true"));
    // A code works once.
    let r =
        f.c.verify_user_attribute()
            .access_token(&token)
            .attribute_name("email")
            .code(&code)
            .send()
            .await;
    assert_eq!(failure(r), ("ExpiredCodeException".into(), EXPIRED.into()));

    // Refusals: the verified flags are the server's to set, the schema still applies.
    let r =
        f.c.update_user_attributes()
            .access_token(&token)
            .user_attributes(attr("email_verified", "true"))
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "NotAuthorizedException".into(),
            "A client attempted to write unauthorized attribute".into()
        )
    );
    let r =
        f.c.update_user_attributes()
            .access_token(&token)
            .user_attributes(attr("custom:nope", "1"))
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "InvalidParameterException".into(),
            "Attributes did not conform to the schema: Type for attribute {custom:nope} could not be determined".into()
        )
    );
    let r =
        f.c.update_user_attributes()
            .access_token(&token)
            .user_attributes(attr("email", "not-an-email"))
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "InvalidParameterException".into(),
            "Invalid email address format.".into()
        )
    );
    let r =
        f.c.update_user_attributes()
            .access_token("not-a-token")
            .user_attributes(attr("name", "x"))
            .send()
            .await;
    assert_eq!(
        failure(r),
        ("NotAuthorizedException".into(), "Invalid Access Token".into())
    );
    f.server.stop().await;
}

#[tokio::test]
async fn admin_update_user_attributes_may_set_the_verified_flags() {
    let f = fixture().await;
    f.user("bob", &[("email", "bob@example.com")]).await;
    let before = outbox::messages(&f.server.url, &f.pool, "bob").await.len();

    // Marked verified in the same call: nothing is sent.
    f.c.admin_update_user_attributes()
        .user_pool_id(&f.pool)
        .username("bob")
        .user_attributes(attr("email", "bob2@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .unwrap();
    assert_eq!(f.attr("bob", "email_verified").await.as_deref(), Some("true"));
    assert_eq!(outbox::messages(&f.server.url, &f.pool, "bob").await.len(), before);

    // A changed, auto-verified email gets a code and loses its verified flag.
    f.c.admin_update_user_attributes()
        .user_pool_id(&f.pool)
        .username("bob")
        .user_attributes(attr("email", "bob3@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(f.attr("bob", "email_verified").await.as_deref(), Some("false"));
    latest_code(
        &f.server.url,
        &f.pool,
        "bob",
        "UPDATE_USER_ATTRIBUTE",
        "bob3@example.com",
    )
    .await;

    // A phone number is not auto-verified in this pool: unverified, and no message.
    let n = outbox::messages(&f.server.url, &f.pool, "bob").await.len();
    f.c.admin_update_user_attributes()
        .user_pool_id(&f.pool)
        .username("bob")
        .user_attributes(attr("phone_number", "+15555550100"))
        .send()
        .await
        .unwrap();
    assert_eq!(f.attr("bob", "phone_number_verified").await.as_deref(), Some("false"));
    assert_eq!(outbox::messages(&f.server.url, &f.pool, "bob").await.len(), n);

    let r =
        f.c.admin_update_user_attributes()
            .user_pool_id(&f.pool)
            .username("nobody")
            .user_attributes(attr("name", "x"))
            .send()
            .await;
    assert_eq!(
        failure(r),
        ("UserNotFoundException".into(), "User does not exist.".into())
    );
    let r =
        f.c.admin_update_user_attributes()
            .user_pool_id(&f.pool)
            .username("bob")
            .user_attributes(attr("sub", "x"))
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "InvalidParameterException".into(),
            "Attributes did not conform to the schema: sub: Attribute cannot be updated. (changing an immutable attribute)"
                .into()
        )
    );
    f.server.stop().await;
}

#[tokio::test]
async fn deleting_attributes_refuses_required_ones_and_sub() {
    let required_email = |r: cip::operation::create_user_pool::builders::CreateUserPoolFluentBuilder| {
        r.schema(
            SchemaAttributeType::builder()
                .name("email")
                .attribute_data_type(cip::types::AttributeDataType::String)
                .required(true)
                .mutable(true)
                .build(),
        )
    };
    let f = fixture_with(Options::default(), required_email, false).await;
    f.user(
        "carol",
        &[
            ("email", "carol@example.com"),
            ("phone_number", "+15555550101"),
            ("phone_number_verified", "true"),
            ("name", "Carol"),
        ],
    )
    .await;

    let r =
        f.c.admin_delete_user_attributes()
            .user_pool_id(&f.pool)
            .username("carol")
            .user_attribute_names("email")
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "InvalidParameterException".into(),
            "Attributes did not conform to the schema: email: The attribute is required".into()
        )
    );
    let r =
        f.c.admin_delete_user_attributes()
            .user_pool_id(&f.pool)
            .username("carol")
            .user_attribute_names("sub")
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "InvalidParameterException".into(),
            "Attributes did not conform to the schema: sub: Attribute cannot be updated. (changing an immutable attribute)"
                .into()
        )
    );
    f.c.admin_delete_user_attributes()
        .user_pool_id(&f.pool)
        .username("carol")
        .user_attribute_names("name")
        .send()
        .await
        .unwrap();
    assert_eq!(f.attr("carol", "name").await, None);

    let token = f.sign_in("carol", PASSWORD).await.unwrap();
    f.c.delete_user_attributes()
        .access_token(&token)
        .user_attribute_names("phone_number")
        .send()
        .await
        .unwrap();
    assert_eq!(f.attr("carol", "phone_number").await, None);
    assert_eq!(f.attr("carol", "phone_number_verified").await, None);
    let r =
        f.c.delete_user_attributes()
            .access_token(&token)
            .user_attribute_names("email")
            .send()
            .await;
    assert_eq!(failure(r).0, "InvalidParameterException");
    let r =
        f.c.delete_user_attributes()
            .access_token(&token)
            .user_attribute_names("sub")
            .send()
            .await;
    assert_eq!(failure(r).0, "InvalidParameterException");
    assert!(f.attr("carol", "sub").await.is_some());
    f.server.stop().await;
}

#[tokio::test]
async fn attribute_verification_codes_go_to_the_attribute_and_expire() {
    let clock = Arc::new(FixedClock::at(1_800_000_000.0));
    let opts = Options {
        clock: Some(clock.clone()),
        ..Options::default()
    };
    let f = fixture_with(opts, |r| r, false).await;
    f.user(
        "dave",
        &[("email", "dave@example.com"), ("phone_number", "+15555550102")],
    )
    .await;
    let token = f.sign_in("dave", PASSWORD).await.unwrap();

    let out =
        f.c.get_user_attribute_verification_code()
            .access_token(&token)
            .attribute_name("phone_number")
            .send()
            .await
            .unwrap();
    let d = out.code_delivery_details.unwrap();
    assert_eq!(d.destination(), Some("+*******0102"));
    assert_eq!(d.delivery_medium(), Some(&DeliveryMediumType::Sms));
    assert_eq!(d.attribute_name(), Some("phone_number"));
    let code = latest_code(&f.server.url, &f.pool, "dave", "VERIFY_USER_ATTRIBUTE", "+15555550102").await;
    f.c.verify_user_attribute()
        .access_token(&token)
        .attribute_name("phone_number")
        .code(&code)
        .send()
        .await
        .unwrap();
    assert_eq!(f.attr("dave", "phone_number_verified").await.as_deref(), Some("true"));

    // An email code, left for more than a day.
    let out =
        f.c.get_user_attribute_verification_code()
            .access_token(&token)
            .attribute_name("email")
            .send()
            .await
            .unwrap();
    assert_eq!(out.code_delivery_details.unwrap().destination(), Some("d***@e***"));
    let code = latest_code(
        &f.server.url,
        &f.pool,
        "dave",
        "VERIFY_USER_ATTRIBUTE",
        "dave@example.com",
    )
    .await;
    clock.advance(600.0);
    let token = f.sign_in("dave", PASSWORD).await.unwrap();
    clock.advance(86_400.0);
    // The access token has expired by now too: sign in again.
    let token2 = f.sign_in("dave", PASSWORD).await.unwrap();
    let r =
        f.c.verify_user_attribute()
            .access_token(&token2)
            .attribute_name("email")
            .code(&code)
            .send()
            .await;
    assert_eq!(failure(r), ("ExpiredCodeException".into(), EXPIRED.into()));
    let r =
        f.c.verify_user_attribute()
            .access_token(&token)
            .attribute_name("email")
            .code(&code)
            .send()
            .await;
    assert_eq!(
        failure(r),
        ("NotAuthorizedException".into(), "Access Token has expired".into())
    );

    let r =
        f.c.get_user_attribute_verification_code()
            .access_token(&token2)
            .attribute_name("name")
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "InvalidParameterException".into(),
            "Invalid attribute name. Only phone_number and email can be verified.".into()
        )
    );
    f.c.admin_delete_user_attributes()
        .user_pool_id(&f.pool)
        .username("dave")
        .user_attribute_names("phone_number")
        .send()
        .await
        .unwrap();
    let r =
        f.c.get_user_attribute_verification_code()
            .access_token(&token2)
            .attribute_name("phone_number")
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "InvalidParameterException".into(),
            "User does not have a valid registered phone number".into()
        )
    );
    f.server.stop().await;
}

#[tokio::test]
async fn change_password_checks_the_previous_one_the_policy_and_the_lockout() {
    // A stopped clock, so the one-second lockout cannot run out under a slow machine.
    let opts = Options {
        clock: Some(Arc::new(FixedClock::at(1_800_000_000.0))),
        ..Options::default()
    };
    let f = fixture_with(opts, |r| r, false).await;
    f.user("erin", &[("email", "erin@example.com")]).await;
    let token = f.sign_in("erin", PASSWORD).await.unwrap();

    let r =
        f.c.change_password()
            .access_token(&token)
            .previous_password("Wrong-pass1")
            .proposed_password("N3w-passw0rd")
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "NotAuthorizedException".into(),
            "Incorrect username or password.".into()
        )
    );
    let r =
        f.c.change_password()
            .access_token(&token)
            .previous_password(PASSWORD)
            .proposed_password("short")
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "InvalidPasswordException".into(),
            "Password did not conform with policy: Password not long enough".into()
        )
    );
    f.c.change_password()
        .access_token(&token)
        .previous_password(PASSWORD)
        .proposed_password("N3w-passw0rd")
        .send()
        .await
        .unwrap();
    assert_eq!(
        f.sign_in("erin", PASSWORD).await.unwrap_err(),
        (
            "NotAuthorizedException".into(),
            "Incorrect username or password.".into()
        )
    );
    let token = f.sign_in("erin", "N3w-passw0rd").await.unwrap();

    // Five wrong previous passwords start the lockout; the next attempt is refused outright.
    for _ in 0..5 {
        let r =
            f.c.change_password()
                .access_token(&token)
                .previous_password("Wrong-pass1")
                .proposed_password("An0ther-pass")
                .send()
                .await;
        assert_eq!(failure(r).0, "NotAuthorizedException");
    }
    let r =
        f.c.change_password()
            .access_token(&token)
            .previous_password("N3w-passw0rd")
            .proposed_password("An0ther-pass")
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "LimitExceededException".into(),
            "Attempt limit exceeded, please try after some time.".into()
        )
    );
    f.server.stop().await;
}

#[tokio::test]
async fn forgot_password_sends_a_code_and_confirm_forgot_password_sets_the_password() {
    let clock = Arc::new(FixedClock::at(1_800_000_000.0));
    let opts = Options {
        clock: Some(clock.clone()),
        ..Options::default()
    };
    let f = fixture_with(opts, |r| r, false).await;
    f.user("frank", &[("email", "frank@example.com"), ("email_verified", "true")])
        .await;

    let out =
        f.c.forgot_password()
            .client_id(&f.client)
            .username("frank")
            .send()
            .await
            .unwrap();
    let d = out.code_delivery_details.unwrap();
    assert_eq!(d.destination(), Some("f***@e***"));
    assert_eq!(d.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(d.attribute_name(), Some("email"));
    let code = latest_code(&f.server.url, &f.pool, "frank", "FORGOT_PASSWORD", "frank@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let confirm = |code: &str, password: &str| {
        f.c.confirm_forgot_password()
            .client_id(&f.client)
            .username("frank")
            .confirmation_code(code)
            .password(password)
            .send()
    };
    assert_eq!(
        failure(confirm(wrong, "N3w-passw0rd").await),
        ("CodeMismatchException".into(), MISMATCH.into())
    );
    assert_eq!(
        failure(confirm(&code, "short").await),
        (
            "InvalidPasswordException".into(),
            "Password did not conform with policy: Password not long enough".into()
        )
    );
    confirm(&code, "N3w-passw0rd").await.unwrap();
    assert_eq!(f.status("frank").await, UserStatusType::Confirmed);
    f.sign_in("frank", "N3w-passw0rd").await.unwrap();
    assert_eq!(
        failure(confirm(&code, "An0ther-pass").await),
        ("ExpiredCodeException".into(), EXPIRED.into())
    );

    // A code older than a day has expired.
    f.c.forgot_password()
        .client_id(&f.client)
        .username("frank")
        .send()
        .await
        .unwrap();
    let code = latest_code(&f.server.url, &f.pool, "frank", "FORGOT_PASSWORD", "frank@example.com").await;
    clock.advance(25.0 * 3600.0);
    assert_eq!(
        failure(confirm(&code, "An0ther-pass").await),
        ("ExpiredCodeException".into(), EXPIRED.into())
    );

    // Refusals.
    f.user("gina", &[("email", "gina@example.com")]).await;
    let r = f.c.forgot_password().client_id(&f.client).username("gina").send().await;
    assert_eq!(failure(r), ("InvalidParameterException".into(), NO_RECOVERY.into()));
    let r =
        f.c.forgot_password()
            .client_id(&f.client)
            .username("nobody")
            .send()
            .await;
    assert_eq!(
        failure(r),
        (
            "UserNotFoundException".into(),
            "Username/client id combination not found.".into()
        )
    );
    let r =
        f.c.confirm_forgot_password()
            .client_id(&f.client)
            .username("nobody")
            .confirmation_code("123456")
            .password("N3w-passw0rd")
            .send()
            .await;
    assert_eq!(failure(r).0, "UserNotFoundException");
    f.c.admin_create_user()
        .user_pool_id(&f.pool)
        .username("hank")
        .user_attributes(attr("email", "hank@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    let r = f.c.forgot_password().client_id(&f.client).username("hank").send().await;
    assert_eq!(
        failure(r),
        (
            "NotAuthorizedException".into(),
            "User password cannot be reset in the current state.".into()
        )
    );
    f.server.stop().await;
}

#[tokio::test]
async fn forgot_password_follows_the_recovery_order() {
    // No AccountRecoverySetting: AWS's legacy order puts a verified phone first.
    let f = fixture().await;
    let both = [
        ("email", "ivy@example.com"),
        ("email_verified", "true"),
        ("phone_number", "+15555550103"),
        ("phone_number_verified", "true"),
    ];
    f.user("ivy", &both).await;
    let out =
        f.c.forgot_password()
            .client_id(&f.client)
            .username("ivy")
            .send()
            .await
            .unwrap();
    let d = out.code_delivery_details.unwrap();
    assert_eq!(d.delivery_medium(), Some(&DeliveryMediumType::Sms));
    assert_eq!(d.destination(), Some("+*******0103"));
    latest_code(&f.server.url, &f.pool, "ivy", "FORGOT_PASSWORD", "+15555550103").await;
    f.server.stop().await;

    let email_first = |r: cip::operation::create_user_pool::builders::CreateUserPoolFluentBuilder| {
        r.account_recovery_setting(
            AccountRecoverySettingType::builder()
                .recovery_mechanisms(
                    RecoveryOptionType::builder()
                        .name(RecoveryOptionNameType::VerifiedPhoneNumber)
                        .priority(2)
                        .build()
                        .unwrap(),
                )
                .recovery_mechanisms(
                    RecoveryOptionType::builder()
                        .name(RecoveryOptionNameType::VerifiedEmail)
                        .priority(1)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
    };
    let f = fixture_with(Options::default(), email_first, false).await;
    f.user("ivy", &both).await;
    let out =
        f.c.forgot_password()
            .client_id(&f.client)
            .username("ivy")
            .send()
            .await
            .unwrap();
    let d = out.code_delivery_details.unwrap();
    assert_eq!(d.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(d.destination(), Some("i***@e***"));
    f.server.stop().await;
}

#[tokio::test]
async fn hidden_existence_gives_unknown_users_a_simulated_delivery() {
    let f = fixture_with(Options::default(), |r| r, true).await;
    let out =
        f.c.forgot_password()
            .client_id(&f.client)
            .username("ghost")
            .send()
            .await
            .unwrap();
    let d = out.code_delivery_details.unwrap();
    assert_eq!(d.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(d.attribute_name(), Some("email"));
    let dest = d.destination().unwrap().to_owned();
    assert!(
        dest.len() == 9 && dest.contains("***@") && dest.ends_with("***"),
        "{dest}"
    );
    // The same answer every time, and nothing is sent.
    let again =
        f.c.forgot_password()
            .client_id(&f.client)
            .username("ghost")
            .send()
            .await
            .unwrap();
    assert_eq!(again.code_delivery_details.unwrap().destination(), Some(dest.as_str()));
    assert!(outbox::messages(&f.server.url, &f.pool, "ghost").await.is_empty());

    let r =
        f.c.confirm_forgot_password()
            .client_id(&f.client)
            .username("ghost")
            .confirmation_code("123456")
            .password("N3w-passw0rd")
            .send()
            .await;
    assert_eq!(failure(r), ("CodeMismatchException".into(), MISMATCH.into()));
    f.server.stop().await;
}

#[tokio::test]
async fn admin_reset_user_password_requires_a_reset_before_sign_in() {
    let f = fixture().await;
    f.user("jack", &[("email", "jack@example.com"), ("email_verified", "true")])
        .await;
    f.c.admin_reset_user_password()
        .user_pool_id(&f.pool)
        .username("jack")
        .send()
        .await
        .unwrap();
    assert_eq!(f.status("jack").await, UserStatusType::ResetRequired);
    assert_eq!(
        f.sign_in("jack", PASSWORD).await.unwrap_err(),
        (
            "PasswordResetRequiredException".into(),
            "Password reset required for the user".into()
        )
    );
    let code = latest_code(&f.server.url, &f.pool, "jack", "FORGOT_PASSWORD", "jack@example.com").await;
    f.c.confirm_forgot_password()
        .client_id(&f.client)
        .username("jack")
        .confirmation_code(&code)
        .password("N3w-passw0rd")
        .send()
        .await
        .unwrap();
    assert_eq!(f.status("jack").await, UserStatusType::Confirmed);
    f.sign_in("jack", "N3w-passw0rd").await.unwrap();

    f.user("kate", &[("email", "kate@example.com")]).await;
    let r =
        f.c.admin_reset_user_password()
            .user_pool_id(&f.pool)
            .username("kate")
            .send()
            .await;
    assert_eq!(failure(r), ("InvalidParameterException".into(), NO_RECOVERY.into()));
    let r =
        f.c.admin_reset_user_password()
            .user_pool_id(&f.pool)
            .username("nobody")
            .send()
            .await;
    assert_eq!(
        failure(r),
        ("UserNotFoundException".into(), "User does not exist.".into())
    );
    f.server.stop().await;
}

#[tokio::test]
async fn delete_user_removes_the_caller() {
    let f = fixture().await;
    f.user("liam", &[("email", "liam@example.com")]).await;
    let token = f.sign_in("liam", PASSWORD).await.unwrap();
    f.c.delete_user().access_token(&token).send().await.unwrap();
    let r = f.c.admin_get_user().user_pool_id(&f.pool).username("liam").send().await;
    assert_eq!(
        failure(r),
        ("UserNotFoundException".into(), "User does not exist.".into())
    );
    // The token outlives its user only as a refusal.
    let r = f.c.delete_user().access_token(&token).send().await;
    assert!(r.is_err());
    f.server.stop().await;
}
