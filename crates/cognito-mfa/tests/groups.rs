//! User pool groups and custom attributes, end to end with the official Rust SDK: the group
//! operations and their errors, pagination, memberships ending with their group, their user or
//! their pool, the group claims of real tokens (after a password sign-in and after a refresh),
//! and AddCustomAttributes.

use aws_sdk_cognitoidentityprovider as cip;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use cip::types::{
    AttributeDataType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType, NumberAttributeConstraintsType,
    SchemaAttributeType,
};
use cmfa_core::clock::FixedClock;
use cmfa_testkit::cognito::{attr, describe_pool, service_err};
use cmfa_testkit::{Options, TestServer, sdk_client};
use serde_json::{Value, json};
use std::sync::Arc;

const PASSWORD: &str = "Passw0rd!";
const GROUP_NOT_FOUND: &str = "Group not found.";
const USER_NOT_FOUND: &str = "User does not exist.";
const T0: f64 = 1_800_000_000.0;
const ROLE_A: &str = "arn:aws:iam::123456789012:role/admins";
const ROLE_B: &str = "arn:aws:iam::123456789012:role/staff";

struct Fixture {
    _server: TestServer,
    clock: Arc<FixedClock>,
    c: cip::Client,
    pool: String,
    client: String,
}

async fn fixture() -> Fixture {
    let clock = Arc::new(FixedClock::at(T0));
    let server = TestServer::start_with(Options {
        clock: Some(clock.clone()),
        ..Default::default()
    })
    .await;
    let c = sdk_client(&server.url);
    let pool = c
        .create_user_pool()
        .pool_name("groups")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    Fixture {
        _server: server,
        clock,
        c,
        pool,
        client,
    }
}

/// The claims of a JWT (its signature is checked elsewhere: security.rs).
fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&B64URL.decode(payload).expect("base64url")).expect("JSON claims")
}

/// Tokens of one sign-in.
struct Tokens {
    access: Value,
    id: Value,
    refresh: String,
}

impl Fixture {
    /// A confirmed user with a permanent password.
    async fn user(&self, name: &str) {
        self.c
            .admin_create_user()
            .user_pool_id(&self.pool)
            .username(name)
            .user_attributes(attr("email", &format!("{name}@example.com")))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .unwrap();
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

    async fn group(&self, name: &str, role: Option<&str>, precedence: Option<i32>) -> cip::types::GroupType {
        self.c
            .create_group()
            .user_pool_id(&self.pool)
            .group_name(name)
            .description(format!("the {name}"))
            .set_role_arn(role.map(str::to_owned))
            .set_precedence(precedence)
            .send()
            .await
            .unwrap()
            .group
            .unwrap()
    }

    async fn add(&self, user: &str, group: &str) {
        self.c
            .admin_add_user_to_group()
            .user_pool_id(&self.pool)
            .username(user)
            .group_name(group)
            .send()
            .await
            .unwrap();
    }

    async fn remove(&self, user: &str, group: &str) {
        self.c
            .admin_remove_user_from_group()
            .user_pool_id(&self.pool)
            .username(user)
            .group_name(group)
            .send()
            .await
            .unwrap();
    }

    /// Every group of a user, following the pages `limit` at a time.
    async fn groups_of(&self, user: &str, limit: i32) -> Vec<String> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .c
                .admin_list_groups_for_user()
                .user_pool_id(&self.pool)
                .username(user)
                .limit(limit)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            let groups = page.groups.unwrap_or_default();
            assert!(groups.len() <= limit as usize);
            out.extend(groups.into_iter().map(|g| g.group_name.unwrap()));
            token = page.next_token;
            if token.is_none() {
                return out;
            }
        }
    }

    /// Every member of a group, following the pages `limit` at a time.
    async fn members(&self, group: &str, limit: i32) -> Vec<String> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .c
                .list_users_in_group()
                .user_pool_id(&self.pool)
                .group_name(group)
                .limit(limit)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
            let users = page.users.unwrap_or_default();
            assert!(users.len() <= limit as usize);
            out.extend(users.into_iter().map(|u| u.username.unwrap()));
            token = page.next_token;
            if token.is_none() {
                return out;
            }
        }
    }

    async fn sign_in(&self, user: &str) -> Tokens {
        let r = self
            .c
            .initiate_auth()
            .client_id(&self.client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", user)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .unwrap()
            .authentication_result
            .unwrap();
        Tokens {
            access: claims(r.access_token.as_deref().unwrap()),
            id: claims(r.id_token.as_deref().unwrap()),
            refresh: r.refresh_token.unwrap(),
        }
    }

    /// Access and ID token claims from a REFRESH_TOKEN_AUTH.
    async fn refresh(&self, token: &str) -> (Value, Value) {
        let r = self
            .c
            .initiate_auth()
            .client_id(&self.client)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", token)
            .send()
            .await
            .unwrap()
            .authentication_result
            .unwrap();
        (
            claims(r.access_token.as_deref().unwrap()),
            claims(r.id_token.as_deref().unwrap()),
        )
    }
}

#[tokio::test]
async fn groups_are_created_read_updated_and_deleted_with_aws_errors() {
    let f = fixture().await;
    let g = f.group("admins", Some(ROLE_A), Some(3)).await;
    assert_eq!(g.group_name.as_deref(), Some("admins"));
    assert_eq!(g.user_pool_id.as_deref(), Some(f.pool.as_str()));
    assert_eq!(g.description.as_deref(), Some("the admins"));
    assert_eq!(g.role_arn.as_deref(), Some(ROLE_A));
    assert_eq!(g.precedence, Some(3));
    assert_eq!(g.creation_date.map(|d| d.secs()), Some(T0 as i64));
    assert_eq!(g.last_modified_date.map(|d| d.secs()), Some(T0 as i64));

    let again =
        f.c.create_group()
            .user_pool_id(&f.pool)
            .group_name("admins")
            .send()
            .await;
    let (status, code, message) = service_err(again);
    assert_eq!((status, code.as_str()), (400, "GroupExistsException"));
    assert!(message.contains("admins"), "{message}");

    let got =
        f.c.get_group()
            .user_pool_id(&f.pool)
            .group_name("admins")
            .send()
            .await
            .unwrap()
            .group
            .unwrap();
    assert_eq!(got, g);
    // Names compare exactly.
    let (_, code, message) = service_err(f.c.get_group().user_pool_id(&f.pool).group_name("Admins").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ResourceNotFoundException", GROUP_NOT_FOUND)
    );

    // UpdateGroup changes what it names and keeps the rest.
    f.clock.advance(60.0);
    let updated =
        f.c.update_group()
            .user_pool_id(&f.pool)
            .group_name("admins")
            .precedence(0)
            .send()
            .await
            .unwrap()
            .group
            .unwrap();
    assert_eq!(updated.precedence, Some(0));
    assert_eq!(updated.role_arn.as_deref(), Some(ROLE_A));
    assert_eq!(updated.description.as_deref(), Some("the admins"));
    assert_eq!(updated.creation_date.map(|d| d.secs()), Some(T0 as i64));
    assert_eq!(updated.last_modified_date.map(|d| d.secs()), Some(T0 as i64 + 60));
    let got =
        f.c.get_group()
            .user_pool_id(&f.pool)
            .group_name("admins")
            .send()
            .await
            .unwrap();
    assert_eq!(got.group.unwrap(), updated);
    let missing =
        f.c.update_group()
            .user_pool_id(&f.pool)
            .group_name("nobody")
            .description("x")
            .send()
            .await;
    assert_eq!(service_err(missing).2, GROUP_NOT_FOUND);

    f.c.delete_group()
        .user_pool_id(&f.pool)
        .group_name("admins")
        .send()
        .await
        .unwrap();
    let (_, code, message) = service_err(f.c.get_group().user_pool_id(&f.pool).group_name("admins").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ResourceNotFoundException", GROUP_NOT_FOUND)
    );
    let (_, code, message) = service_err(
        f.c.delete_group()
            .user_pool_id(&f.pool)
            .group_name("admins")
            .send()
            .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ResourceNotFoundException", GROUP_NOT_FOUND)
    );

    // An unknown pool is the pool's error, not the group's.
    let other = "us-east-1_NoSuchPool";
    let (_, code, message) = service_err(f.c.create_group().user_pool_id(other).group_name("g").send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(message, format!("User pool {other} does not exist."));
    let (_, code, _) = service_err(f.c.list_groups().user_pool_id(other).send().await);
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn bad_input_is_an_aws_shaped_400() {
    let f = fixture().await;
    let negative =
        f.c.create_group()
            .user_pool_id(&f.pool)
            .group_name("g")
            .precedence(-1)
            .send()
            .await;
    let (status, code, message) = service_err(negative);
    assert_eq!((status, code.as_str()), (400, "InvalidParameterException"));
    assert!(message.contains("precedence"), "{message}");
    let spaced =
        f.c.create_group()
            .user_pool_id(&f.pool)
            .group_name("two words")
            .send()
            .await;
    let (status, code, message) = service_err(spaced);
    assert_eq!((status, code.as_str()), (400, "InvalidParameterException"));
    assert!(message.contains("groupName"), "{message}");
    let bad_role =
        f.c.create_group()
            .user_pool_id(&f.pool)
            .group_name("g")
            .role_arn("not-an-arn-at-all-x")
            .send()
            .await;
    assert_eq!(service_err(bad_role).1, "InvalidParameterException");
    let big_limit = f.c.list_groups().user_pool_id(&f.pool).limit(61).send().await;
    assert_eq!(service_err(big_limit).1, "InvalidParameterException");
    // Nothing was created by the refused calls.
    let listed = f.c.list_groups().user_pool_id(&f.pool).send().await.unwrap();
    assert!(listed.groups.unwrap_or_default().is_empty());
}

#[tokio::test]
async fn list_groups_pages_in_name_order() {
    let f = fixture().await;
    for name in ["delta", "alpha", "echo", "charlie", "bravo"] {
        f.group(name, None, None).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page =
            f.c.list_groups()
                .user_pool_id(&f.pool)
                .limit(2)
                .set_next_token(token)
                .send()
                .await
                .unwrap();
        let groups = page.groups.unwrap();
        assert!(groups.len() <= 2);
        seen.extend(groups.into_iter().map(|g| g.group_name.unwrap()));
        pages += 1;
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["alpha", "bravo", "charlie", "delta", "echo"]);
    assert_eq!(pages, 3);
    // Without a limit, one page of up to 60 and no token.
    let all = f.c.list_groups().user_pool_id(&f.pool).send().await.unwrap();
    assert_eq!(all.groups.unwrap().len(), 5);
    assert_eq!(all.next_token, None);
}

#[tokio::test]
async fn memberships_are_listed_both_ways_and_end_with_their_group_user_or_pool() {
    let f = fixture().await;
    for u in ["ann", "bob", "cat", "dan"] {
        f.user(u).await;
    }
    for g in ["admins", "staff", "readers"] {
        f.group(g, None, None).await;
    }
    for u in ["ann", "bob", "cat", "dan"] {
        f.add(u, "staff").await;
    }
    f.add("ann", "admins").await;
    f.add("ann", "readers").await;
    f.add("ann", "admins").await; // a member already: nothing changes

    assert_eq!(f.groups_of("ann", 1).await, ["admins", "readers", "staff"]);
    assert_eq!(f.groups_of("ann", 60).await, ["admins", "readers", "staff"]);
    assert_eq!(f.members("staff", 3).await, ["ann", "bob", "cat", "dan"]);
    let full =
        f.c.list_users_in_group()
            .user_pool_id(&f.pool)
            .group_name("admins")
            .send()
            .await
            .unwrap();
    let users = full.users.unwrap();
    assert_eq!(users.len(), 1);
    let ann = &users[0];
    assert_eq!(ann.username.as_deref(), Some("ann"));
    assert!(
        ann.attributes()
            .iter()
            .any(|a| a.name == "email" && a.value.as_deref() == Some("ann@example.com"))
    );
    assert_eq!(full.next_token, None);

    // Errors: an unknown user or group.
    let r =
        f.c.admin_add_user_to_group()
            .user_pool_id(&f.pool)
            .username("nobody")
            .group_name("staff")
            .send()
            .await;
    let (_, code, message) = service_err(r);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("UserNotFoundException", USER_NOT_FOUND)
    );
    let r =
        f.c.admin_add_user_to_group()
            .user_pool_id(&f.pool)
            .username("ann")
            .group_name("nobody")
            .send()
            .await;
    let (_, code, message) = service_err(r);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("ResourceNotFoundException", GROUP_NOT_FOUND)
    );
    let r =
        f.c.admin_remove_user_from_group()
            .user_pool_id(&f.pool)
            .username("ann")
            .group_name("nobody")
            .send()
            .await;
    assert_eq!(service_err(r).2, GROUP_NOT_FOUND);
    let r =
        f.c.admin_list_groups_for_user()
            .user_pool_id(&f.pool)
            .username("nobody")
            .send()
            .await;
    assert_eq!(service_err(r).1, "UserNotFoundException");
    let r =
        f.c.list_users_in_group()
            .user_pool_id(&f.pool)
            .group_name("nobody")
            .send()
            .await;
    assert_eq!(service_err(r).2, GROUP_NOT_FOUND);

    // Removing.
    f.remove("bob", "staff").await;
    f.remove("bob", "staff").await; // not a member: nothing changes
    assert_eq!(f.members("staff", 60).await, ["ann", "cat", "dan"]);
    assert!(f.groups_of("bob", 10).await.is_empty());

    // Deleting a group ends its memberships.
    f.c.delete_group()
        .user_pool_id(&f.pool)
        .group_name("readers")
        .send()
        .await
        .unwrap();
    assert_eq!(f.groups_of("ann", 60).await, ["admins", "staff"]);
    // ... and a group made again under that name starts empty.
    f.group("readers", None, None).await;
    assert!(f.members("readers", 60).await.is_empty());

    // Deleting a user ends its memberships, and a new user of that name starts in no group.
    f.c.admin_delete_user()
        .user_pool_id(&f.pool)
        .username("cat")
        .send()
        .await
        .unwrap();
    assert_eq!(f.members("staff", 60).await, ["ann", "dan"]);
    f.user("cat").await;
    assert!(f.groups_of("cat", 60).await.is_empty());
    assert_eq!(f.members("staff", 60).await, ["ann", "dan"]);

    // DeleteUser (the user's own token) does too.
    let dan =
        f.c.initiate_auth()
            .client_id(&f.client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "dan")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .unwrap()
            .authentication_result
            .unwrap()
            .access_token
            .unwrap();
    f.c.delete_user().access_token(dan).send().await.unwrap();
    assert_eq!(f.members("staff", 60).await, ["ann"]);

    // Deleting the pool takes its groups with it.
    f.c.delete_user_pool().user_pool_id(&f.pool).send().await.unwrap();
    let r = f.c.get_group().user_pool_id(&f.pool).group_name("staff").send().await;
    assert_eq!(service_err(r).1, "ResourceNotFoundException");
}

#[tokio::test]
async fn tokens_carry_the_groups_and_roles_and_a_refresh_sees_current_memberships() {
    let f = fixture().await;
    f.user("ann").await;
    f.user("zed").await;
    f.group("admins", Some(ROLE_A), Some(1)).await;
    f.group("staff", Some(ROLE_B), Some(5)).await;
    f.group("readers", None, Some(0)).await;
    f.add("ann", "staff").await;
    f.add("ann", "admins").await;
    f.add("ann", "readers").await;

    // A user in no group has no group claims at all.
    let zed = f.sign_in("zed").await;
    for key in ["cognito:groups", "cognito:roles", "cognito:preferred_role"] {
        assert!(zed.id.get(key).is_none(), "{key} in {}", zed.id);
        assert!(zed.access.get(key).is_none(), "{key} in {}", zed.access);
    }

    let ann = f.sign_in("ann").await;
    assert_eq!(ann.access["cognito:groups"], json!(["admins", "readers", "staff"]));
    assert_eq!(ann.id["cognito:groups"], json!(["admins", "readers", "staff"]));
    assert_eq!(ann.id["cognito:roles"], json!([ROLE_A, ROLE_B]));
    // "readers" ranks first but has no role: the best group with one wins.
    assert_eq!(ann.id["cognito:preferred_role"], json!(ROLE_A));
    assert!(ann.access.get("cognito:roles").is_none(), "roles are an ID-token claim");
    assert!(ann.access.get("cognito:preferred_role").is_none());

    // A refresh reflects the memberships as they are now.
    f.remove("ann", "admins").await;
    let (access, id) = f.refresh(&ann.refresh).await;
    assert_eq!(access["cognito:groups"], json!(["readers", "staff"]));
    assert_eq!(id["cognito:roles"], json!([ROLE_B]));
    assert_eq!(id["cognito:preferred_role"], json!(ROLE_B));

    // A group with the same precedence and another role: neither is preferred.
    f.group("ops", Some("arn:aws:iam::123456789012:role/ops"), Some(5))
        .await;
    f.add("ann", "ops").await;
    let (_, id) = f.refresh(&ann.refresh).await;
    assert_eq!(id["cognito:groups"], json!(["ops", "readers", "staff"]));
    assert!(id.get("cognito:preferred_role").is_none(), "{id}");
    assert_eq!(id["cognito:roles"].as_array().map(Vec::len), Some(2));

    // An UpdateGroup is seen at the next refresh too.
    f.c.update_group()
        .user_pool_id(&f.pool)
        .group_name("ops")
        .precedence(2)
        .send()
        .await
        .unwrap();
    let (_, id) = f.refresh(&ann.refresh).await;
    assert_eq!(
        id["cognito:preferred_role"],
        json!("arn:aws:iam::123456789012:role/ops")
    );

    // Deleted groups drop out; no group left means no claim left.
    for g in ["ops", "readers", "staff"] {
        f.c.delete_group()
            .user_pool_id(&f.pool)
            .group_name(g)
            .send()
            .await
            .unwrap();
    }
    let (access, id) = f.refresh(&ann.refresh).await;
    assert!(access.get("cognito:groups").is_none(), "{access}");
    assert!(id.get("cognito:groups").is_none(), "{id}");
    assert!(id.get("cognito:roles").is_none(), "{id}");
    let fresh = f.sign_in("ann").await;
    assert!(fresh.id.get("cognito:groups").is_none(), "{}", fresh.id);
}

#[tokio::test]
async fn developer_only_attributes_are_written_with_iam_credentials_only() {
    let f = fixture().await;
    f.c.add_custom_attributes()
        .user_pool_id(&f.pool)
        .custom_attributes(
            SchemaAttributeType::builder()
                .name("secret")
                .attribute_data_type(AttributeDataType::String)
                .developer_only_attribute(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let schema = describe_pool(&f.c, &f.pool).await.schema_attributes.unwrap();
    let dev = schema
        .iter()
        .find(|a| a.name.as_deref() == Some("dev:custom:secret"))
        .expect("dev:custom:secret");
    assert_eq!(dev.developer_only_attribute, Some(true));
    assert!(!schema.iter().any(|a| a.name.as_deref() == Some("custom:secret")));

    f.user("ann").await;
    f.c.admin_update_user_attributes()
        .user_pool_id(&f.pool)
        .username("ann")
        .user_attributes(attr("dev:custom:secret", "s1"))
        .send()
        .await
        .unwrap();
    let access =
        f.c.initiate_auth()
            .client_id(&f.client)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "ann")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .unwrap()
            .authentication_result
            .unwrap()
            .access_token
            .unwrap();
    let own =
        f.c.update_user_attributes()
            .access_token(access)
            .user_attributes(attr("dev:custom:secret", "s2"))
            .send()
            .await;
    let (status, code, message) = service_err(own);
    assert_eq!((status, code.as_str()), (400, "NotAuthorizedException"));
    assert_eq!(message, "A client attempted to write unauthorized attribute");
    let signup =
        f.c.sign_up()
            .client_id(&f.client)
            .username("bob")
            .password(PASSWORD)
            .user_attributes(attr("dev:custom:secret", "s3"))
            .send()
            .await;
    assert_eq!(service_err(signup).1, "NotAuthorizedException");
    let got =
        f.c.admin_get_user()
            .user_pool_id(&f.pool)
            .username("ann")
            .send()
            .await
            .unwrap();
    let value = got
        .user_attributes()
        .iter()
        .find(|a| a.name == "dev:custom:secret")
        .and_then(|a| a.value.clone());
    assert_eq!(value.as_deref(), Some("s1"));
}

#[tokio::test]
async fn custom_attributes_are_added_to_the_schema_and_can_be_set_on_users() {
    let f = fixture().await;
    f.c.add_custom_attributes()
        .user_pool_id(&f.pool)
        .custom_attributes(
            SchemaAttributeType::builder()
                .attribute_data_type(AttributeDataType::String)
                .name("tier")
                .build(),
        )
        .custom_attributes(
            SchemaAttributeType::builder()
                .name("level")
                .attribute_data_type(AttributeDataType::Number)
                .mutable(false)
                .number_attribute_constraints(
                    NumberAttributeConstraintsType::builder()
                        .min_value("1")
                        .max_value("10")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let schema = describe_pool(&f.c, &f.pool).await.schema_attributes.unwrap();
    let tier = schema
        .iter()
        .find(|a| a.name.as_deref() == Some("custom:tier"))
        .expect("custom:tier");
    assert_eq!(tier.attribute_data_type, Some(AttributeDataType::String));
    assert_eq!(
        (tier.mutable, tier.required, tier.developer_only_attribute),
        (Some(true), Some(false), Some(false))
    );
    let level = schema
        .iter()
        .find(|a| a.name.as_deref() == Some("custom:level"))
        .expect("custom:level");
    assert_eq!(level.attribute_data_type, Some(AttributeDataType::Number));
    assert_eq!(level.mutable, Some(false));
    let c = level.number_attribute_constraints.as_ref().unwrap();
    assert_eq!(
        (c.min_value.as_deref(), c.max_value.as_deref()),
        (Some("1"), Some("10"))
    );

    // The attributes can now be set, with their type checked, and reach the ID token.
    f.user("ann").await;
    f.c.admin_update_user_attributes()
        .user_pool_id(&f.pool)
        .username("ann")
        .user_attributes(attr("custom:tier", "gold"))
        .send()
        .await
        .unwrap();
    let bad =
        f.c.admin_update_user_attributes()
            .user_pool_id(&f.pool)
            .username("ann")
            .user_attributes(attr("custom:unknown", "x"))
            .send()
            .await;
    assert_eq!(service_err(bad).1, "InvalidParameterException");
    let id = f.sign_in("ann").await.id;
    assert_eq!(id["custom:tier"], json!("gold"));

    // A name in use is refused, and nothing of that request is added.
    let again =
        f.c.add_custom_attributes()
            .user_pool_id(&f.pool)
            .custom_attributes(
                SchemaAttributeType::builder()
                    .attribute_data_type(AttributeDataType::String)
                    .name("fresh")
                    .build(),
            )
            .custom_attributes(
                SchemaAttributeType::builder()
                    .attribute_data_type(AttributeDataType::String)
                    .name("tier")
                    .build(),
            )
            .send()
            .await;
    let (status, code, message) = service_err(again);
    assert_eq!((status, code.as_str()), (400, "InvalidParameterException"));
    assert_eq!(message, "Existing attribute already has name custom:tier.");
    let schema = describe_pool(&f.c, &f.pool).await.schema_attributes.unwrap();
    assert!(!schema.iter().any(|a| a.name.as_deref() == Some("custom:fresh")));

    // The pool's limit of 50 counts the custom attributes it already has.
    let mut req = f.c.add_custom_attributes().user_pool_id(&f.pool);
    for i in 0..25 {
        req = req.custom_attributes(
            SchemaAttributeType::builder()
                .name(format!("a{i}"))
                .attribute_data_type(AttributeDataType::String)
                .build(),
        );
    }
    req.send().await.unwrap();
    let mut req = f.c.add_custom_attributes().user_pool_id(&f.pool);
    for i in 25..49 {
        req = req.custom_attributes(
            SchemaAttributeType::builder()
                .name(format!("a{i}"))
                .attribute_data_type(AttributeDataType::String)
                .build(),
        );
    }
    let (_, code, message) = service_err(req.send().await);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("50"), "{message}");
    let mut req = f.c.add_custom_attributes().user_pool_id(&f.pool);
    for i in 25..48 {
        req = req.custom_attributes(
            SchemaAttributeType::builder()
                .name(format!("a{i}"))
                .attribute_data_type(AttributeDataType::String)
                .build(),
        );
    }
    req.send().await.unwrap();
    let schema = describe_pool(&f.c, &f.pool).await.schema_attributes.unwrap();
    let custom = schema
        .iter()
        .filter(|a| a.name.as_deref().is_some_and(|n| n.starts_with("custom:")))
        .count();
    assert_eq!(custom, 50);

    // Model constraints first: more than 25 at once, or an empty list.
    let mut req = f.c.add_custom_attributes().user_pool_id(&f.pool);
    for i in 0..26 {
        req = req.custom_attributes(
            SchemaAttributeType::builder()
                .name(format!("b{i}"))
                .attribute_data_type(AttributeDataType::String)
                .build(),
        );
    }
    assert_eq!(service_err(req.send().await).1, "InvalidParameterException");
    let r =
        f.c.add_custom_attributes()
            .user_pool_id("us-east-1_NoSuchPool")
            .custom_attributes(
                SchemaAttributeType::builder()
                    .attribute_data_type(AttributeDataType::String)
                    .name("x")
                    .build(),
            );
    assert_eq!(service_err(r.send().await).1, "ResourceNotFoundException");
}
