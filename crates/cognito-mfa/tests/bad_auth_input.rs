//! Bad input to the sign-in operations, sent as raw HTTP so no SDK check stands in the way:
//! missing or unknown AuthParameters and flows, tampered Sessions, garbage SRP values, oversize
//! and unknown attributes, and JSON of the wrong shape. Each must be an AWS-shaped 4xx
//! (`{"__type", "message"}`), never a 500.

use aws_sdk_cognitoidentityprovider as cip;
use cip::Client;
use cip::types::{ExplicitAuthFlowsType, MessageActionType};
use cmfa_testkit::http::post_raw;
use cmfa_testkit::{TestServer, sdk_client};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Raw calls (over `cmfa_testkit::http`)
// ---------------------------------------------------------------------------------------------

/// POSTs JSON; returns (status, body as JSON).
async fn call(url: &str, op: &str, body: &Value) -> (u16, Value) {
    let (status, _, b) = post_raw(url, op, body.to_string().as_bytes()).await;
    (status, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

/// Sends bytes that must be refused; checks the AWS error shape and returns (__type, message).
async fn refused_raw(url: &str, op: &str, body: &[u8]) -> (String, String) {
    let (status, headers, b) = post_raw(url, op, body).await;
    let shown = String::from_utf8_lossy(body).chars().take(200).collect::<String>();
    assert!(
        (400..500).contains(&status),
        "{op} {shown}: status {status}, {}",
        String::from_utf8_lossy(&b)
    );
    let v: Value = serde_json::from_slice(&b).unwrap_or_else(|_| panic!("{op} {shown}: JSON error body"));
    let t = v["__type"]
        .as_str()
        .unwrap_or_else(|| panic!("{op} {shown}: no __type in {v}"))
        .to_owned();
    assert!(!t.contains("Internal"), "{op} {shown}: {v}");
    assert!(
        headers.contains(&format!("x-amzn-errortype: {}", t.to_ascii_lowercase())),
        "{op} {shown}: x-amzn-ErrorType header missing:\n{headers}"
    );
    let m = v["message"]
        .as_str()
        .or_else(|| v["Message"].as_str())
        .unwrap_or_else(|| panic!("{op} {shown}: no message in {v}"))
        .to_owned();
    (t, m)
}

async fn refused(url: &str, op: &str, body: &Value) -> (String, String) {
    refused_raw(url, op, body.to_string().as_bytes()).await
}

/// Refused with exactly this `__type` (and message, when given).
async fn expect_error(url: &str, op: &str, body: &Value, t: &str, message: Option<&str>) {
    let (got, m) = refused(url, op, body).await;
    assert_eq!(got, t, "{op} {body}: {m}");
    if let Some(want) = message {
        assert_eq!(m, want, "{op} {body}");
    }
}

// ---------------------------------------------------------------------------------------------
// Set-up through the SDK
// ---------------------------------------------------------------------------------------------

struct Fixture {
    server: TestServer,
    c: Client,
    pool: String,
    /// Every flow allowed.
    client: String,
    /// Only SRP and refresh (the AWS default).
    srp_only: String,
}

async fn fixture() -> Fixture {
    let server = TestServer::start().await;
    let c = sdk_client(&server.url);
    let pool = c
        .create_user_pool()
        .pool_name("bad-input")
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .expect("pool")
        .id
        .expect("id");
    let make = |flows: Option<Vec<ExplicitAuthFlowsType>>| {
        let c = c.clone();
        let pool = pool.clone();
        async move {
            c.create_user_pool_client()
                .user_pool_id(&pool)
                .client_name("app")
                .set_explicit_auth_flows(flows)
                .send()
                .await
                .expect("CreateUserPoolClient")
                .user_pool_client
                .expect("client")
                .client_id
                .expect("id")
        }
    };
    let client = make(Some(vec![
        ExplicitAuthFlowsType::AllowUserPasswordAuth,
        ExplicitAuthFlowsType::AllowAdminUserPasswordAuth,
        ExplicitAuthFlowsType::AllowUserSrpAuth,
        ExplicitAuthFlowsType::AllowRefreshTokenAuth,
    ]))
    .await;
    let srp_only = make(None).await;
    Fixture {
        server,
        c,
        pool,
        client,
        srp_only,
    }
}

const PASSWORD: &str = "Bad-Input-Passw0rd!";
const TEMPORARY: &str = "Temp-Passw0rd!";

impl Fixture {
    fn url(&self) -> &str {
        &self.server.url
    }

    async fn confirmed_user(&self, username: &str) {
        self.c
            .admin_create_user()
            .user_pool_id(&self.pool)
            .username(username)
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("AdminCreateUser");
        self.c
            .admin_set_user_password()
            .user_pool_id(&self.pool)
            .username(username)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("AdminSetUserPassword");
    }

    /// An invited user and their NEW_PASSWORD_REQUIRED session.
    async fn new_password_session(&self, username: &str) -> String {
        self.c
            .admin_create_user()
            .user_pool_id(&self.pool)
            .username(username)
            .temporary_password(TEMPORARY)
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("AdminCreateUser");
        let (status, v) = call(
            self.url(),
            "InitiateAuth",
            &json!({"ClientId": self.client, "AuthFlow": "USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": username, "PASSWORD": TEMPORARY}}),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["ChallengeName"], "NEW_PASSWORD_REQUIRED");
        v["Session"].as_str().expect("Session").to_owned()
    }
}

fn initiate(client: &str, flow: &str, params: Value) -> Value {
    json!({"ClientId": client, "AuthFlow": flow, "AuthParameters": params})
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn malformed_auth_parameters_and_flows() {
    let f = fixture().await;
    let url = f.url();
    f.confirmed_user("alice").await;
    let cid = f.client.as_str();
    let missing = |p: &str| format!("Missing required parameter {p}");

    for (flow, params, absent) in [
        ("USER_PASSWORD_AUTH", json!({}), "USERNAME"),
        ("USER_PASSWORD_AUTH", json!({"PASSWORD": PASSWORD}), "USERNAME"),
        ("USER_PASSWORD_AUTH", json!({"USERNAME": "alice"}), "PASSWORD"),
        ("USER_SRP_AUTH", json!({"USERNAME": "alice"}), "SRP_A"),
        ("USER_SRP_AUTH", json!({"SRP_A": "0a"}), "USERNAME"),
        ("REFRESH_TOKEN_AUTH", json!({}), "REFRESH_TOKEN"),
        ("REFRESH_TOKEN", json!({"USERNAME": "alice"}), "REFRESH_TOKEN"),
    ] {
        expect_error(
            url,
            "InitiateAuth",
            &initiate(cid, flow, params),
            "InvalidParameterException",
            Some(&missing(absent)),
        )
        .await;
    }
    // No AuthParameters at all.
    expect_error(
        url,
        "InitiateAuth",
        &json!({"ClientId": cid, "AuthFlow": "USER_PASSWORD_AUTH"}),
        "InvalidParameterException",
        None,
    )
    .await;
    expect_error(
        url,
        "AdminInitiateAuth",
        &json!({"UserPoolId": f.pool, "ClientId": cid, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "alice"}}),
        "InvalidParameterException",
        Some(&missing("PASSWORD")),
    )
    .await;

    // A flow the client does not allow.
    expect_error(
        url,
        "InitiateAuth",
        &initiate(
            &f.srp_only,
            "USER_PASSWORD_AUTH",
            json!({"USERNAME": "alice", "PASSWORD": PASSWORD}),
        ),
        "InvalidParameterException",
        Some("USER_PASSWORD_AUTH flow not enabled for this client"),
    )
    .await;
    expect_error(
        url,
        "AdminInitiateAuth",
        &json!({"UserPoolId": f.pool, "ClientId": f.srp_only, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
        "InvalidParameterException",
        Some("ADMIN_USER_PASSWORD_AUTH flow not enabled for this client"),
    )
    .await;
    // Admin flows are not for the public operation, nor public flows for the admin one.
    for flow in ["ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"] {
        expect_error(
            url,
            "InitiateAuth",
            &initiate(cid, flow, json!({"USERNAME": "alice", "PASSWORD": PASSWORD})),
            "InvalidParameterException",
            None,
        )
        .await;
    }
    expect_error(
        url,
        "AdminInitiateAuth",
        &json!({"UserPoolId": f.pool, "ClientId": cid, "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
        "InvalidParameterException",
        None,
    )
    .await;
    // Flows that are not in the model, or not wired up here.
    for flow in ["NOT_A_FLOW", "user_password_auth", "", "CUSTOM_AUTH", "USER_AUTH"] {
        refused(
            url,
            "InitiateAuth",
            &initiate(cid, flow, json!({"USERNAME": "alice", "PASSWORD": PASSWORD})),
        )
        .await;
    }
    // Required members missing; an unknown client.
    for body in [
        json!({"ClientId": cid, "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
        json!({"AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
        json!({}),
    ] {
        refused(url, "InitiateAuth", &body).await;
    }
    expect_error(
        url,
        "InitiateAuth",
        &initiate(
            "nosuchclient0000000000000",
            "USER_PASSWORD_AUTH",
            json!({"USERNAME": "alice", "PASSWORD": PASSWORD}),
        ),
        "ResourceNotFoundException",
        None,
    )
    .await;
    // Oversize values: a password past 256 chars, an empty one, a 10k-char username.
    for params in [
        json!({"USERNAME": "alice", "PASSWORD": "p".repeat(10_000)}),
        json!({"USERNAME": "alice", "PASSWORD": ""}),
        json!({"USERNAME": "a".repeat(10_000), "PASSWORD": PASSWORD}),
        json!({"USERNAME": "", "PASSWORD": PASSWORD}),
    ] {
        refused(url, "InitiateAuth", &initiate(cid, "USER_PASSWORD_AUTH", params)).await;
    }
    // A garbage refresh token.
    for rt in ["x", "a.b.c.d.e", &"R".repeat(5000)] {
        expect_error(
            url,
            "InitiateAuth",
            &initiate(cid, "REFRESH_TOKEN_AUTH", json!({"REFRESH_TOKEN": rt})),
            "NotAuthorizedException",
            None,
        )
        .await;
    }

    // After all that, the user signs in.
    let (status, v) = call(
        url,
        "InitiateAuth",
        &initiate(
            cid,
            "USER_PASSWORD_AUTH",
            json!({"USERNAME": "alice", "PASSWORD": PASSWORD}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert!(v["AuthenticationResult"]["AccessToken"].is_string());
}

#[tokio::test]
async fn tampered_and_malformed_sessions() {
    let f = fixture().await;
    let url = f.url();
    let cid = f.client.as_str();
    let session = f.new_password_session("bob").await;
    let answer = |s: Value| {
        json!({"ClientId": cid, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": s,
               "ChallengeResponses": {"USERNAME": "bob", "NEW_PASSWORD": "Chosen-Passw0rd!"}})
    };

    let mut flipped: Vec<char> = session.chars().collect();
    let mid = flipped.len() / 2;
    flipped[mid] = if flipped[mid] == 'A' { 'B' } else { 'A' };
    let flipped: String = flipped.into_iter().collect();
    let tampered = [
        flipped,
        session[..session.len() - 1].to_owned(),
        format!("{session}A"),
        session.chars().rev().collect(),
        "A".repeat(session.len()),
        "AYABeEv5HklEXAMPLEAYABeEv5HklEXAMPLE".to_owned(),
    ];
    for s in &tampered {
        expect_error(
            url,
            "RespondToAuthChallenge",
            &answer(json!(s)),
            "NotAuthorizedException",
            Some("Invalid session for the user."),
        )
        .await;
    }
    // Outside the model's 20..=4096 chars, of the wrong type, or absent.
    for s in [
        json!("short"),
        json!("S".repeat(5000)),
        json!(42),
        json!({"a": 1}),
        json!([session]),
    ] {
        refused(url, "RespondToAuthChallenge", &answer(s)).await;
    }
    expect_error(
        url,
        "RespondToAuthChallenge",
        &json!({"ClientId": cid, "ChallengeName": "NEW_PASSWORD_REQUIRED",
                "ChallengeResponses": {"USERNAME": "bob", "NEW_PASSWORD": "Chosen-Passw0rd!"}}),
        "InvalidParameterException",
        Some("Missing required parameter Session"),
    )
    .await;
    // Missing answers, an unknown challenge name, a password the policy refuses.
    for (responses, absent) in [
        (json!({"USERNAME": "bob"}), "NEW_PASSWORD"),
        (json!({"NEW_PASSWORD": "Chosen-Passw0rd!"}), "USERNAME"),
    ] {
        expect_error(
            url,
            "RespondToAuthChallenge",
            &json!({"ClientId": cid, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
                    "ChallengeResponses": responses}),
            "InvalidParameterException",
            Some(&format!("Missing required parameter {absent}")),
        )
        .await;
    }
    refused(
        url,
        "RespondToAuthChallenge",
        &json!({"ClientId": cid, "ChallengeName": "NOT_A_CHALLENGE", "Session": session,
                "ChallengeResponses": {"USERNAME": "bob", "NEW_PASSWORD": "Chosen-Passw0rd!"}}),
    )
    .await;
    expect_error(
        url,
        "RespondToAuthChallenge",
        &json!({"ClientId": cid, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
                "ChallengeResponses": {"USERNAME": "bob", "NEW_PASSWORD": "short"}}),
        "InvalidPasswordException",
        None,
    )
    .await;
    // Unknown, oversize and read-only attributes in the answer.
    for (name, value) in [
        ("userAttributes.favourite_colour", "teal".to_owned()),
        ("userAttributes.custom:nope", "1".to_owned()),
        ("userAttributes.name", "n".repeat(2049)),
        ("userAttributes.sub", "00000000-0000-4000-8000-000000000000".to_owned()),
        ("userAttributes.email", "not-an-email".to_owned()),
    ] {
        let mut responses = json!({"USERNAME": "bob", "NEW_PASSWORD": "Chosen-Passw0rd!"});
        responses[name] = json!(value);
        expect_error(
            url,
            "RespondToAuthChallenge",
            &json!({"ClientId": cid, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
                    "ChallengeResponses": responses}),
            "InvalidParameterException",
            None,
        )
        .await;
    }

    // None of that spent the real session.
    let (status, v) = call(url, "RespondToAuthChallenge", &answer(json!(session))).await;
    assert_eq!(status, 200, "{v}");
    assert!(v["AuthenticationResult"]["AccessToken"].is_string(), "{v}");
}

#[tokio::test]
async fn garbage_srp_values_are_refused() {
    let f = fixture().await;
    let url = f.url();
    let cid = f.client.as_str();
    // The SRP group's modulus N: A = N is A ≡ 0 (mod N), which must be refused like A = 0.
    const N_HEX: &str = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";
    let garbage = [
        "".to_owned(),
        "zz-not-hex".to_owned(),
        "0".to_owned(),
        "00".repeat(384),
        N_HEX.to_owned(),
        "1".to_owned(),
        "f".repeat(2000),
        "\u{1F511}".to_owned(),
    ];
    // A user per value: failed proofs count towards the lockout.
    for (i, a) in garbage.iter().enumerate() {
        let user = format!("carol{i}");
        f.confirmed_user(&user).await;
        let body = initiate(cid, "USER_SRP_AUTH", json!({"USERNAME": user, "SRP_A": a}));
        let (status, _, b) = post_raw(url, "InitiateAuth", body.to_string().as_bytes()).await;
        if status != 200 {
            // Refused up front: fine, if AWS-shaped.
            refused(url, "InitiateAuth", &body).await;
            continue;
        }
        // Accepted for now: the answer must fail, whatever it is.
        let v: Value = serde_json::from_slice(&b).expect("JSON");
        assert_eq!(v["ChallengeName"], "PASSWORD_VERIFIER", "{v}");
        let p = &v["ChallengeParameters"];
        let (t, _) = refused(
            url,
            "RespondToAuthChallenge",
            &json!({"ClientId": cid, "ChallengeName": "PASSWORD_VERIFIER", "Session": v["Session"],
                    "ChallengeResponses": {"USERNAME": p["USER_ID_FOR_SRP"],
                        "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
                        "PASSWORD_CLAIM_SIGNATURE": "c2lnbmF0dXJlLXRoYXQtaXMtbm90LXJpZ2h0LWF0LWFsbA==",
                        "TIMESTAMP": "Mon Jan 5 10:00:00 UTC 2026"}}),
        )
        .await;
        assert_eq!(t, "NotAuthorizedException", "SRP_A {a:?}");
    }

    // A well-formed SRP_A, then garbage answers.
    f.confirmed_user("carol").await;
    let a = aws_cognito_srp::SrpClient::<aws_cognito_srp::User>::new(
        aws_cognito_srp::User::new(&f.pool, "carol", PASSWORD),
        cid,
        None,
    )
    .get_auth_parameters()
    .a;
    let (status, v) = call(
        url,
        "InitiateAuth",
        &initiate(cid, "USER_SRP_AUTH", json!({"USERNAME": "carol", "SRP_A": a})),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let p = v["ChallengeParameters"].clone();
    let session = v["Session"].clone();
    for responses in [
        json!({"USERNAME": "carol"}),
        json!({"USERNAME": "carol", "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"], "TIMESTAMP": "x"}),
        json!({"USERNAME": "carol", "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
               "PASSWORD_CLAIM_SIGNATURE": "!!!not base64!!!", "TIMESTAMP": "Mon Jan 5 10:00:00 UTC 2026"}),
        json!({"USERNAME": "carol", "PASSWORD_CLAIM_SECRET_BLOCK": p["SECRET_BLOCK"],
               "PASSWORD_CLAIM_SIGNATURE": "c2ln", "TIMESTAMP": "not a timestamp"}),
        json!({"USERNAME": "carol", "PASSWORD_CLAIM_SECRET_BLOCK": "!!!", 
               "PASSWORD_CLAIM_SIGNATURE": "c2ln", "TIMESTAMP": "Mon Jan 5 10:00:00 UTC 2026"}),
        json!({"USERNAME": "carol", "PASSWORD_CLAIM_SECRET_BLOCK": "",
               "PASSWORD_CLAIM_SIGNATURE": "", "TIMESTAMP": ""}),
    ] {
        refused(
            url,
            "RespondToAuthChallenge",
            &json!({"ClientId": cid, "ChallengeName": "PASSWORD_VERIFIER", "Session": session,
                    "ChallengeResponses": responses}),
        )
        .await;
    }
}

#[tokio::test]
async fn oversize_and_unknown_attributes() {
    let f = fixture().await;
    let url = f.url();
    let cid = f.client.as_str();
    let sign_up = |username: &str, attrs: Value| json!({"ClientId": cid, "Username": username, "Password": PASSWORD, "UserAttributes": attrs});
    let schema = |rest: &str| format!("Attributes did not conform to the schema: {rest}");

    for (attrs, message) in [
        (
            json!([{"Name": "favourite_colour", "Value": "teal"}]),
            Some(schema("Type for attribute {favourite_colour} could not be determined")),
        ),
        (
            json!([{"Name": "custom:nope", "Value": "1"}]),
            Some(schema("Type for attribute {custom:nope} could not be determined")),
        ),
        (json!([{"Name": "name", "Value": "n".repeat(2049)}]), None),
        (
            json!([{"Name": "email", "Value": format!("{}@example.com", "e".repeat(2040))}]),
            None,
        ),
        (json!([{"Name": "n".repeat(33), "Value": "x"}]), None),
        (json!([{"Name": "", "Value": "x"}]), None),
        (json!([{"Name": "email_verified", "Value": "yes"}]), None),
        (
            json!([{"Name": "sub", "Value": "00000000-0000-4000-8000-000000000000"}]),
            None,
        ),
    ] {
        expect_error(
            url,
            "SignUp",
            &sign_up("dave", attrs.clone()),
            "InvalidParameterException",
            message.as_deref(),
        )
        .await;
        expect_error(
            url,
            "AdminCreateUser",
            &json!({"UserPoolId": f.pool, "Username": "dave", "UserAttributes": attrs,
                    "MessageAction": "SUPPRESS"}),
            "InvalidParameterException",
            message.as_deref(),
        )
        .await;
    }
    // Hundreds of unknown custom attributes in one request.
    let many: Vec<Value> = (0..500)
        .map(|i| json!({"Name": format!("custom:a{i}"), "Value": "x"}))
        .collect();
    refused(url, "SignUp", &sign_up("dave", Value::Array(many))).await;
    // Oversize usernames and passwords.
    refused(url, "SignUp", &sign_up(&"u".repeat(129), json!([]))).await;
    refused(
        url,
        "SignUp",
        &json!({"ClientId": cid, "Username": "dave", "Password": "p".repeat(257)}),
    )
    .await;
    // Exactly 2048 characters is allowed.
    let (status, v) = call(
        url,
        "SignUp",
        &sign_up("dave", json!([{"Name": "name", "Value": "n".repeat(2048)}])),
    )
    .await;
    assert_eq!(status, 200, "{v}");
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_a_4xx() {
    let f = fixture().await;
    let url = f.url();
    let cid = f.client.as_str();
    let session = f.new_password_session("erin").await;

    let bodies: Vec<(&str, Value)> = vec![
        ("InitiateAuth", json!({"ClientId": 5, "AuthFlow": "USER_PASSWORD_AUTH"})),
        ("InitiateAuth", json!({"ClientId": cid, "AuthFlow": 7})),
        (
            "InitiateAuth",
            json!({"ClientId": cid, "AuthFlow": null, "AuthParameters": {}}),
        ),
        (
            "InitiateAuth",
            json!({"ClientId": cid, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": "USERNAME=erin"}),
        ),
        (
            "InitiateAuth",
            json!({"ClientId": cid, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": ["USERNAME", "erin"]}),
        ),
        (
            "InitiateAuth",
            json!({"ClientId": cid, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": 1, "PASSWORD": true}}),
        ),
        (
            "InitiateAuth",
            json!({"ClientId": cid, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": {"nested": "erin"}, "PASSWORD": null}}),
        ),
        (
            "InitiateAuth",
            json!({"ClientId": [cid], "AuthFlow": ["USER_PASSWORD_AUTH"]}),
        ),
        (
            "AdminInitiateAuth",
            json!({"UserPoolId": 1, "ClientId": cid, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH"}),
        ),
        (
            "RespondToAuthChallenge",
            json!({"ClientId": cid, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
                   "ChallengeResponses": ["USERNAME", "erin"]}),
        ),
        (
            "RespondToAuthChallenge",
            json!({"ClientId": cid, "ChallengeName": 3, "Session": session,
                   "ChallengeResponses": {"USERNAME": "erin"}}),
        ),
        (
            "SignUp",
            json!({"ClientId": cid, "Username": "x", "Password": PASSWORD,
                   "UserAttributes": {"Name": "email", "Value": "x@example.com"}}),
        ),
        (
            "SignUp",
            json!({"ClientId": cid, "Username": "x", "Password": PASSWORD,
                   "UserAttributes": [{"Name": "email", "Value": 5}]}),
        ),
        (
            "SignUp",
            json!({"ClientId": cid, "Username": "x", "Password": PASSWORD, "UserAttributes": ["email"]}),
        ),
        (
            "SignUp",
            json!({"ClientId": cid, "Username": 12345, "Password": PASSWORD}),
        ),
        (
            "ConfirmSignUp",
            json!({"ClientId": cid, "Username": "x", "ConfirmationCode": 123456}),
        ),
        ("GetUser", json!({"AccessToken": 1})),
        ("GetUser", json!({"AccessToken": {"alg": "none"}})),
        ("GlobalSignOut", json!({"AccessToken": null})),
        ("RevokeToken", json!({"ClientId": cid, "Token": ["a"]})),
        ("InitiateAuth", json!([])),
        ("InitiateAuth", json!("InitiateAuth")),
        ("InitiateAuth", json!(null)),
        ("InitiateAuth", json!(42)),
    ];
    for (op, body) in &bodies {
        refused(url, op, body).await;
    }
    for raw in [
        &b""[..],
        b"{",
        b"{\"ClientId\": ",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"{\"ClientId\": \"\\ud800\"}",
    ] {
        refused_raw(url, "InitiateAuth", raw).await;
    }
    // Deep nesting must not overflow the stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    refused_raw(url, "InitiateAuth", deep.as_bytes()).await;
    let deep_obj = format!(
        "{{\"ClientId\": \"{cid}\", \"AuthFlow\": \"USER_PASSWORD_AUTH\", \"AuthParameters\": {}{}}}",
        "{\"a\":".repeat(50_000),
        "}".repeat(50_000)
    );
    refused_raw(url, "InitiateAuth", deep_obj.as_bytes()).await;
    // An unknown operation.
    refused(url, "NoSuchOperation", &json!({})).await;

    // The session survived all of it.
    let (status, v) = call(
        url,
        "RespondToAuthChallenge",
        &json!({"ClientId": cid, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
                "ChallengeResponses": {"USERNAME": "erin", "NEW_PASSWORD": "Chosen-Passw0rd!"}}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
}
