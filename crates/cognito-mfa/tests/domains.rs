//! User pool domains through the Rust SDK: prefix and custom domains, their description, update
//! and deletion, DescribeUserPool's Domain / CustomDomain, and the passkeys' relying party falling
//! back to them.

use aws_sdk_cognitoidentityprovider as cip;
use cip::types::{
    AuthFactorType, AuthFlowType, CustomDomainConfigType, DomainStatusType, ExplicitAuthFlowsType, SignInPolicyType,
    UserPoolPolicyType,
};
use cmfa_testkit::cognito::service_fail;
use cmfa_testkit::document::to_json;
use cmfa_testkit::{TestServer, sdk_client};

const CERT: &str = "arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";

async fn pool(c: &cip::Client, passkeys: bool) -> String {
    let mut factors = vec![AuthFactorType::Password];
    if passkeys {
        factors.push(AuthFactorType::WebAuthn);
    }
    c.create_user_pool()
        .pool_name("domains")
        .policies(
            UserPoolPolicyType::builder()
                .sign_in_policy(
                    SignInPolicyType::builder()
                        .set_allowed_first_auth_factors(Some(factors))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool
        .and_then(|p| p.id)
        .unwrap()
}

#[tokio::test]
async fn prefix_and_custom_domains_are_created_described_updated_and_deleted() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let p = pool(&c, false).await;
    let made = c
        .create_user_pool_domain()
        .user_pool_id(&p)
        .domain("my-app")
        .send()
        .await
        .unwrap();
    assert_eq!(made.managed_login_version(), Some(1));
    assert_eq!(made.cloud_front_domain(), None, "prefix domains have none");
    let custom = CustomDomainConfigType::builder().certificate_arn(CERT).build().unwrap();
    let made = c
        .create_user_pool_domain()
        .user_pool_id(&p)
        .domain("auth.example.com")
        .custom_domain_config(custom.clone())
        .send()
        .await
        .unwrap();
    assert!(made.cloud_front_domain().unwrap().ends_with(".cloudfront.net"));

    let described = c
        .describe_user_pool()
        .user_pool_id(&p)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    assert_eq!(described.domain(), Some("my-app"));
    assert_eq!(described.custom_domain(), Some("auth.example.com"));
    let d = c
        .describe_user_pool_domain()
        .domain("auth.example.com")
        .send()
        .await
        .unwrap();
    let d = d.domain_description.unwrap();
    assert_eq!(d.user_pool_id(), Some(p.as_str()));
    assert_eq!(d.status(), Some(&DomainStatusType::Active));
    assert_eq!(d.custom_domain_config().map(|c| c.certificate_arn()), Some(CERT));
    // An unknown domain: an empty description, as AWS answers.
    let none = c
        .describe_user_pool_domain()
        .domain("nobody-here")
        .send()
        .await
        .unwrap();
    assert!(none.domain_description.unwrap().user_pool_id().is_none());

    // Taken by another pool; a second prefix domain; reserved words.
    let other = pool(&c, false).await;
    let f = c
        .create_user_pool_domain()
        .user_pool_id(&other)
        .domain("my-app")
        .send()
        .await
        .map_err(service_fail)
        .unwrap_err();
    assert_eq!(f.1, "InvalidParameterException", "{f:?}");
    let f = c
        .create_user_pool_domain()
        .user_pool_id(&p)
        .domain("second")
        .send()
        .await
        .map_err(service_fail)
        .unwrap_err();
    assert_eq!(f.1, "InvalidParameterException", "{f:?}");
    let f = c
        .create_user_pool_domain()
        .user_pool_id(&other)
        .domain("my-cognito")
        .send()
        .await
        .map_err(service_fail)
        .unwrap_err();
    assert_eq!(
        (f.1.as_str(), f.2.as_str()),
        (
            "InvalidParameterException",
            "Domain cannot contain reserved word: cognito"
        )
    );

    let up = c
        .update_user_pool_domain()
        .user_pool_id(&p)
        .domain("my-app")
        .managed_login_version(2)
        .send()
        .await
        .unwrap();
    assert_eq!(up.managed_login_version(), Some(2));
    // UpdateUserPool leaves the domains alone.
    c.update_user_pool().user_pool_id(&p).send().await.unwrap();
    let described = c
        .describe_user_pool()
        .user_pool_id(&p)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    assert_eq!(described.domain(), Some("my-app"));

    c.delete_user_pool_domain()
        .user_pool_id(&p)
        .domain("my-app")
        .send()
        .await
        .unwrap();
    let described = c
        .describe_user_pool()
        .user_pool_id(&p)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    assert_eq!(
        (described.domain(), described.custom_domain()),
        (None, Some("auth.example.com"))
    );
    let f = c
        .delete_user_pool_domain()
        .user_pool_id(&p)
        .domain("my-app")
        .send()
        .await
        .map_err(service_fail)
        .unwrap_err();
    assert_eq!(f.1, "InvalidParameterException");
    // Free again for the other pool.
    c.create_user_pool_domain()
        .user_pool_id(&other)
        .domain("my-app")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn without_a_relying_party_id_passkeys_use_the_pool_domain() {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let p = pool(&c, true).await;
    let client = c
        .create_user_pool_client()
        .user_pool_id(&p)
        .client_name("web")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .and_then(|c| c.client_id)
        .unwrap();
    cmfa_testkit::cognito::confirmed_user(&c, &p, "u", "Domain-Passw0rd!", &[]).await;
    let access = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "u")
        .auth_parameters("PASSWORD", "Domain-Passw0rd!")
        .send()
        .await
        .unwrap()
        .authentication_result
        .and_then(|r| r.access_token)
        .unwrap();
    let rp = |c: &cip::Client, access: String| {
        let c = c.clone();
        async move {
            c.start_web_authn_registration()
                .access_token(access)
                .send()
                .await
                .map(|o| {
                    to_json(o.credential_creation_options())["rp"]["id"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .map_err(service_fail)
        }
    };
    let f = rp(&c, access.clone()).await.unwrap_err();
    assert_eq!(f.1, "WebAuthnConfigurationMissingException", "no RP id and no domain");
    c.create_user_pool_domain()
        .user_pool_id(&p)
        .domain("myapp")
        .send()
        .await
        .unwrap();
    assert_eq!(
        rp(&c, access.clone()).await.unwrap(),
        "myapp.auth.us-east-1.amazoncognito.com"
    );
    let custom = CustomDomainConfigType::builder().certificate_arn(CERT).build().unwrap();
    c.create_user_pool_domain()
        .user_pool_id(&p)
        .domain("login.example.com")
        .custom_domain_config(custom)
        .send()
        .await
        .unwrap();
    assert_eq!(
        rp(&c, access).await.unwrap(),
        "login.example.com",
        "the custom domain first"
    );
}
