use std::time::{Duration, UNIX_EPOCH};

use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use http::HeaderValue;

use super::canonical::*;
use super::*;

const EXAMPLE_KEY_ID: &str = "AKIDEXAMPLE";
const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z, the timestamp of AWS's SigV4 test suite.
const EXAMPLE_NOW: i64 = 1_440_938_160;
/// 2024-05-01T10:00:00Z, the signing time used for requests signed by `aws-sigv4`.
const SIGN_NOW: i64 = 1_714_557_600;
const BODY: &[u8] = br#"{"UserPoolId":"eu-west-1_AbCdEf123","Username":"alice"}"#;
const TARGET: &str = "AWSCognitoIdentityProviderService.AdminGetUser";

fn example_creds() -> Credentials {
    Credentials::from_pairs([(EXAMPLE_KEY_ID.to_owned(), EXAMPLE_SECRET.to_owned())])
}

fn header_map(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// A request taken apart the way the server hands it to `verify`.
struct Parts {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Parts {
    fn verify(&self, creds: &Credentials, now: i64) -> Result<Verified> {
        verify(
            &self.method,
            &self.path,
            &self.query,
            &self.headers,
            &self.body,
            creds,
            now,
        )
    }

    fn set(&mut self, name: &str, value: &str) {
        self.headers.insert(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(value).unwrap(),
        );
    }
}

struct Signer<'a> {
    key_id: &'a str,
    secret: &'a str,
    session_token: Option<&'a str>,
    region: &'a str,
    service: &'a str,
    time: i64,
    location: SignatureLocation,
}

impl Default for Signer<'_> {
    fn default() -> Self {
        Signer {
            key_id: "AKIAIOSFODNN7EXAMPLE",
            secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            session_token: None,
            region: "eu-west-1",
            service: "cognito-idp",
            time: SIGN_NOW,
            location: SignatureLocation::Headers,
        }
    }
}

impl Signer<'_> {
    fn creds(&self) -> Credentials {
        Credentials::from_pairs([(self.key_id.to_owned(), self.secret.to_owned())])
    }

    /// Signs with AWS's own `aws-sigv4` crate: the independent reference for the verifier.
    fn sign(&self, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Parts {
        let identity = aws_credential_types::Credentials::new(
            self.key_id,
            self.secret,
            self.session_token.map(str::to_owned),
            None,
            "sigv4-tests",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.signature_location = self.location;
        if self.location == SignatureLocation::QueryParams {
            settings.expires_in = Some(Duration::from_secs(300));
        }
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(UNIX_EPOCH + Duration::from_secs(self.time as u64))
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let signable = SignableRequest::new("POST", uri, headers.iter().copied(), SignableBody::Bytes(body)).unwrap();
        let (instructions, _signature) = sign(signable, &params).unwrap().into_parts();
        let mut builder = http::Request::builder().method("POST").uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder.body(body.to_vec()).unwrap();
        instructions.apply_to_request_http1x(&mut request);
        let (parts, body) = request.into_parts();
        Parts {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers: parts.headers,
            body,
        }
    }
}

/// What botocore sends for an admin operation (it adds `host` itself).
fn botocore_like(signer: &Signer<'_>) -> Parts {
    signer.sign(
        "https://cognito-idp.eu-west-1.amazonaws.com/",
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("host", "cognito-idp.eu-west-1.amazonaws.com"),
            ("x-amz-target", TARGET),
            ("amz-sdk-invocation-id", "3f1d7a3e-1b2c-4d5e-8f90-a1b2c3d4e5f6"),
            ("amz-sdk-request", "attempt=1; max=3"),
            ("user-agent", "Boto3/1.40.0 md/Botocore#1.40.0"),
        ],
        BODY,
    )
}

/// Headers of a request to eu-west-1 with this `Authorization` value.
fn with_auth(auth: &str) -> HeaderMap {
    header_map(&[
        ("host", "cognito-idp.eu-west-1.amazonaws.com"),
        ("x-amz-date", "20240501T100000Z"),
        ("x-amz-target", TARGET),
        ("authorization", auth),
    ])
}

fn incomplete_message(result: Result<Verified>) -> String {
    match result {
        Err(SigV4Error::Incomplete(message)) => message,
        other => panic!("expected Incomplete, got {other:?}"),
    }
}

// --- (1) AWS's documented test vectors -----------------------------------------------------

/// `get-vanilla` from AWS's SigV4 test suite, through the full verification path.
#[test]
fn aws_get_vanilla_vector_verifies() {
    let headers = header_map(&[
        ("host", "example.amazonaws.com"),
        ("x-amz-date", "20150830T123600Z"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
    ]);
    let verified = verify_for_service("service", "GET", "/", "", &headers, b"", &example_creds(), EXAMPLE_NOW).unwrap();
    assert_eq!(
        verified,
        Verified {
            access_key_id: EXAMPLE_KEY_ID.into(),
            region: "us-east-1".into()
        }
    );

    // The same request is refused by the public entry point: wrong service in the scope.
    let message = incomplete_message(verify("GET", "/", "", &headers, b"", &example_creds(), EXAMPLE_NOW));
    assert_eq!(
        message,
        "Credential should be scoped to correct service: 'cognito-idp'."
    );
}

/// The intermediate values AWS documents for `get-vanilla`.
#[test]
fn aws_get_vanilla_intermediate_values() {
    let headers = header_map(&[("host", "example.amazonaws.com"), ("x-amz-date", "20150830T123600Z")]);
    let empty_hash = hex::encode(Sha256::digest(b""));
    let canonical = canonical_request(
        "GET",
        "/",
        "",
        &headers,
        "host;x-amz-date",
        &empty_hash,
        Whitespace::Spaces,
    )
    .unwrap();
    assert_eq!(
        String::from_utf8(canonical.clone()).unwrap(),
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
         host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex::encode(Sha256::digest(&canonical)),
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
    );
    let key = signing_key(EXAMPLE_SECRET, "20150830", "us-east-1", "service");
    let claim_to_sign = format!(
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n{}",
        hex::encode(Sha256::digest(&canonical))
    );
    assert_eq!(
        hex::encode(hmac(&key, claim_to_sign.as_bytes())),
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

/// The signing-key example from AWS's "derive a signing key" documentation.
#[test]
fn documented_signing_key_derivation() {
    assert_eq!(
        hex::encode(signing_key(EXAMPLE_SECRET, "20120215", "us-east-1", "iam")),
        "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
    );
    // And it agrees with the official crate for our service.
    let ours = signing_key(EXAMPLE_SECRET, "20240501", "eu-west-1", "cognito-idp");
    let theirs = aws_sigv4::sign::v4::generate_signing_key(
        EXAMPLE_SECRET,
        UNIX_EPOCH + Duration::from_secs(SIGN_NOW as u64),
        "eu-west-1",
        "cognito-idp",
    );
    assert_eq!(ours.as_slice(), theirs.as_ref());
}

/// Further vectors from AWS's suite: header-value trimming, repeated headers, query ordering,
/// a signed body, and a presigned URL.
#[test]
fn more_aws_suite_vectors() {
    let auth = |signed: &str, signature: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders={signed}, Signature={signature}"
        )
    };
    let check = |method: &str, path: &str, query: &str, headers: &[(&str, &str)], body: &[u8]| {
        verify_for_service(
            "service",
            method,
            path,
            query,
            &header_map(headers),
            body,
            &example_creds(),
            EXAMPLE_NOW,
        )
    };

    // get-header-value-trim
    let a = auth(
        "host;my-header1;my-header2;x-amz-date",
        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    );
    check(
        "GET",
        "/",
        "",
        &[
            ("host", "example.amazonaws.com"),
            ("my-header1", "value1"),
            ("my-header2", "\"a   b   c\""),
            ("x-amz-date", "20150830T123600Z"),
            ("authorization", &a),
        ],
        b"",
    )
    .unwrap();

    // get-vanilla-query-order-key-case
    let a = auth(
        "host;x-amz-date",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    );
    let headers = [
        ("host", "example.amazonaws.com"),
        ("x-amz-date", "20150830T123600Z"),
        ("authorization", a.as_str()),
    ];
    check("GET", "/", "Param2=value2&Param1=value1", &headers, b"").unwrap();
    assert_eq!(
        check("GET", "/", "Param2=value2&Param1=value3", &headers, b""),
        Err(SigV4Error::BadSignature)
    );

    // post-x-www-form-urlencoded (signs content-length and x-amz-content-sha256)
    let a = auth(
        "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
        "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
    );
    let headers = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("host", "example.amazonaws.com"),
        ("content-length", "13"),
        ("x-amz-date", "20150830T123600Z"),
        (
            "x-amz-content-sha256",
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
        ),
        ("authorization", a.as_str()),
    ];
    check("POST", "/", "", &headers, b"Param1=value1").unwrap();
    // The declared hash is not trusted: the body we hold is what gets hashed.
    assert_eq!(
        check("POST", "/", "", &headers, b"Param1=value2"),
        Err(SigV4Error::BadSignature)
    );

    // get-vanilla, presigned (query-string) form.
    check(
        "GET",
        "/",
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request\
         &X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600\
         &X-Amz-Signature=e93c787ed7f371d5c6b165c1b38ede9550f4dce4144713e844b25b7192d3865d",
        &[("host", "example.amazonaws.com")],
        b"",
    )
    .unwrap();
}

/// `post-sts-header-after` (presigned): the signer appended `X-Amz-Security-Token` after
/// signing, so the token is not part of the canonical query.
#[test]
fn aws_presigned_token_added_after_signing() {
    let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fservice%2Faws4_request\
         &X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600\
         &X-Amz-Security-Token=AQoDYXdzEPT%2F%2F%2F%2F%2F%2F%2F%2F%2F%2FwEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI%2FqkPpKPi%2FkMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d%2Bxo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz%2BscqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR%2FoLxBA%3D%3D\
         &X-Amz-Signature=2ce6e6d2e0cf2f9d1b55fafec88cd20574c31dc2e7631979f71ba2310083e95b";
    let headers = header_map(&[("host", "example.amazonaws.com")]);
    let run = |query: &str| {
        verify_for_service(
            "service",
            "POST",
            "/",
            query,
            &headers,
            b"",
            &example_creds(),
            EXAMPLE_NOW,
        )
    };
    run(query).unwrap();
    assert_eq!(
        run(&query.replace("X-Amz-Expires=3600", "X-Amz-Expires=3601")),
        Err(SigV4Error::BadSignature)
    );
}

/// `double-url-encode` from the Rust SDK's copy of the suite: the already-encoded path is
/// encoded a second time.
#[test]
fn path_is_double_encoded() {
    let path =
        "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-west-2%3A892717189312%3Afunction%3Amy-rusty-fun/invocations";
    assert_eq!(
        canonical_uri(path),
        "/2015-03-31/functions/arn%253Aaws%253Alambda%253Aus-west-2%253A892717189312%253Afunction%253Amy-rusty-fun/invocations"
    );
    let headers = header_map(&[
        ("host", "lambda.us-east-2.amazonaws.com"),
        ("x-amz-date", "20210511T154045Z"),
        (
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20210511/us-east-2/lambda/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=4b93abbcc68be32bd64c18e2c71150660ab4c29bbd6c32a383a7517a88fc1804",
        ),
    ]);
    let now = parse_amz_date("20210511T154045Z").unwrap();
    let verified = verify_for_service("lambda", "POST", path, "", &headers, b"", &example_creds(), now).unwrap();
    assert_eq!(verified.region, "us-east-2");
}

// --- (2) requests signed by the official aws-sigv4 crate -----------------------------------

#[test]
fn accepts_botocore_style_post_signed_by_aws_sigv4() {
    let signer = Signer::default();
    let request = botocore_like(&signer);
    let signed = request.headers["authorization"].to_str().unwrap();
    assert!(signed.contains("/20240501/eu-west-1/cognito-idp/aws4_request"));
    assert!(signed.contains("x-amz-target"));
    let verified = request.verify(&signer.creds(), SIGN_NOW + 60).unwrap();
    assert_eq!(verified.access_key_id, "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(verified.region, "eu-west-1");
}

#[test]
fn accepts_any_region_and_session_token() {
    let signer = Signer {
        region: "ap-southeast-2",
        session_token: Some("FwoGZXIvYXdzEXAMPLE//token=="),
        ..Signer::default()
    };
    let request = botocore_like(&signer);
    assert!(request.headers.contains_key("x-amz-security-token"));
    let verified = request.verify(&signer.creds(), SIGN_NOW).unwrap();
    assert_eq!(verified.region, "ap-southeast-2");
}

#[test]
fn accepts_presigned_url_from_aws_sigv4() {
    let signer = Signer {
        location: SignatureLocation::QueryParams,
        ..Signer::default()
    };
    let request = signer.sign(
        "https://cognito-idp.eu-west-1.amazonaws.com/?Extra=a%20b",
        &[
            ("host", "cognito-idp.eu-west-1.amazonaws.com"),
            ("x-amz-target", TARGET),
        ],
        BODY,
    );
    assert!(request.query.contains("X-Amz-Signature="));
    assert!(!request.headers.contains_key("authorization"));
    request.verify(&signer.creds(), SIGN_NOW + 299).unwrap();
    // X-Amz-Expires (300 s) rather than the 15-minute header rule bounds its life.
    match request.verify(&signer.creds(), SIGN_NOW + 301) {
        Err(SigV4Error::Expired(message)) => assert_eq!(
            message,
            "Signature expired: 20240501T100000Z is now earlier than 20240501T100001Z \
             (20240501T100501Z - 300 sec.)"
        ),
        other => panic!("expected Expired, got {other:?}"),
    }
}

#[test]
fn header_values_are_folded_like_the_sdks() {
    let signer = Signer::default();
    let request = signer.sign(
        "https://cognito-idp.eu-west-1.amazonaws.com/",
        &[
            ("host", "cognito-idp.eu-west-1.amazonaws.com"),
            ("x-amz-target", TARGET),
            ("x-custom", "  a   b  c "),
            ("x-tabbed", "a\tb"),
        ],
        BODY,
    );
    request.verify(&signer.creds(), SIGN_NOW).unwrap();
}

/// botocore folds tabs too (`' '.join(value.split())`); a signature made that way verifies.
#[test]
fn accepts_botocore_tab_folding() {
    let mut headers = header_map(&[
        ("host", "cognito-idp.eu-west-1.amazonaws.com"),
        ("x-amz-date", "20240501T100000Z"),
        ("x-amz-target", TARGET),
        ("x-custom", "a\t\tb"),
    ]);
    let signed = "host;x-amz-date;x-amz-target;x-custom";
    let hash = hex::encode(Sha256::digest(BODY));
    let canonical = canonical_request("POST", "/", "", &headers, signed, &hash, Whitespace::Python).unwrap();
    assert!(
        String::from_utf8_lossy(&canonical).contains("x-custom:a b\n"),
        "python folding turns the tabs into one space"
    );
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n20240501T100000Z\n20240501/us-east-1/cognito-idp/aws4_request\n{}",
        hex::encode(Sha256::digest(&canonical))
    );
    let key = signing_key(EXAMPLE_SECRET, "20240501", "us-east-1", "cognito-idp");
    let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_str(&format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/us-east-1/cognito-idp/aws4_request,SignedHeaders={signed},Signature={signature}"
        ))
        .unwrap(),
    );
    verify("POST", "/", "", &headers, BODY, &example_creds(), SIGN_NOW).unwrap();
}

// --- (3)-(7) rejections --------------------------------------------------------------------

#[test]
fn wrong_secret_is_bad_signature() {
    let signer = Signer::default();
    let request = botocore_like(&signer);
    let other = Credentials::from_pairs([(signer.key_id.to_owned(), "not-the-secret".to_owned())]);
    let err = request.verify(&other, SIGN_NOW).unwrap_err();
    assert_eq!(err, SigV4Error::BadSignature);
    assert_eq!(err.error_type(), "InvalidSignatureException");
    assert_eq!(
        err.message(),
        "The request signature we calculated does not match the signature you provided. \
         Check your AWS Secret Access Key and signing method. Consult the service \
         documentation for details."
    );
}

#[test]
fn unknown_key_is_unrecognized_client() {
    let request = botocore_like(&Signer::default());
    let err = request.verify(&example_creds(), SIGN_NOW).unwrap_err();
    assert_eq!(err, SigV4Error::UnknownKey);
    assert_eq!(err.error_type(), "UnrecognizedClientException");
    assert_eq!(err.message(), "The security token included in the request is invalid.");
}

#[test]
fn no_authorization_is_missing() {
    let headers = header_map(&[
        ("host", "cognito-idp.eu-west-1.amazonaws.com"),
        ("x-amz-target", TARGET),
        ("x-amz-date", "20240501T100000Z"),
    ]);
    for query in ["", "X-Amz-Signature=abc&X-Amz-Credential=x"] {
        let err = verify("POST", "/", query, &headers, BODY, &example_creds(), SIGN_NOW).unwrap_err();
        assert_eq!(err, SigV4Error::Missing);
        assert_eq!(err.error_type(), "MissingAuthenticationTokenException");
        assert_eq!(err.message(), "Request is missing Authentication Token");
    }
}

#[test]
fn tampering_is_bad_signature() {
    let signer = Signer::default();
    let creds = signer.creds();

    let mut request = botocore_like(&signer);
    request.body = br#"{"UserPoolId":"eu-west-1_AbCdEf123","Username":"mallory"}"#.to_vec();
    assert_eq!(request.verify(&creds, SIGN_NOW), Err(SigV4Error::BadSignature));

    // Claiming the original body's hash does not help: the body is hashed again.
    request.set("x-amz-content-sha256", &hex::encode(Sha256::digest(BODY)));
    assert_eq!(request.verify(&creds, SIGN_NOW), Err(SigV4Error::BadSignature));

    let mut request = botocore_like(&signer);
    request.set("x-amz-target", "AWSCognitoIdentityProviderService.AdminDeleteUser");
    assert_eq!(request.verify(&creds, SIGN_NOW), Err(SigV4Error::BadSignature));

    let mut request = botocore_like(&signer);
    request.set("x-amz-date", "20240501T100500Z");
    assert_eq!(request.verify(&creds, SIGN_NOW), Err(SigV4Error::BadSignature));

    let mut request = botocore_like(&signer);
    request.path = "/other".into();
    assert_eq!(request.verify(&creds, SIGN_NOW), Err(SigV4Error::BadSignature));

    let mut request = botocore_like(&signer);
    request.method = "PUT".into();
    assert_eq!(request.verify(&creds, SIGN_NOW), Err(SigV4Error::BadSignature));

    // Flipping one hex digit of the signature.
    let mut request = botocore_like(&signer);
    let auth = request.headers["authorization"].to_str().unwrap().to_owned();
    let last = auth.chars().last().unwrap();
    let flipped = format!("{}{}", &auth[..auth.len() - 1], if last == '0' { '1' } else { '0' });
    request.set("authorization", &flipped);
    assert_eq!(request.verify(&creds, SIGN_NOW), Err(SigV4Error::BadSignature));

    // A truncated or non-hex signature cannot match either.
    let mut request = botocore_like(&signer);
    request.set("authorization", &auth[..auth.len() - 2]);
    assert_eq!(request.verify(&creds, SIGN_NOW), Err(SigV4Error::BadSignature));
}

#[test]
fn expired_and_future_dates() {
    let signer = Signer::default();
    let creds = signer.creds();
    let request = botocore_like(&signer);

    // Exactly 15 minutes either side is still accepted.
    request.verify(&creds, SIGN_NOW + 900).unwrap();
    request.verify(&creds, SIGN_NOW - 900).unwrap();

    let err = request.verify(&creds, SIGN_NOW + 901).unwrap_err();
    assert_eq!(err.error_type(), "InvalidSignatureException");
    assert_eq!(
        err,
        SigV4Error::Expired(
            "Signature expired: 20240501T100000Z is now earlier than 20240501T100001Z \
             (20240501T101501Z - 15 min.)"
                .into()
        )
    );

    let err = request.verify(&creds, SIGN_NOW - 901).unwrap_err();
    assert_eq!(
        err.message(),
        "Signature not yet current: 20240501T100000Z is still later than 20240501T095959Z \
         (20240501T094459Z + 15 min.)"
    );

    // Extreme clocks do not overflow.
    assert!(matches!(request.verify(&creds, i64::MAX), Err(SigV4Error::Expired(_))));
    assert!(matches!(request.verify(&creds, i64::MIN), Err(SigV4Error::Expired(_))));
}

// --- (10) scope_region ---------------------------------------------------------------------

#[test]
fn scope_region_reads_the_credential_scope() {
    let headers = with_auth(
        "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/cognito-idp/aws4_request, \
         SignedHeaders=host, Signature=00",
    );
    assert_eq!(scope_region(&headers), Some("eu-west-1"));
    // Order and spacing do not matter; nothing is verified.
    let headers = with_auth("AWS4-HMAC-SHA256 Signature=zz,SignedHeaders=x,Credential=K/d/us-gov-west-1/s/t");
    assert_eq!(scope_region(&headers), Some("us-gov-west-1"));

    // The returned slice borrows from the header itself.
    let value = headers[AUTHORIZATION].as_bytes().as_ptr_range();
    let region = scope_region(&headers).unwrap().as_ptr();
    assert!(value.contains(&region));

    assert_eq!(scope_region(&HeaderMap::new()), None);
    for bad in [
        "Bearer x",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-1/cognito-idp",
        "AWS4-HMAC-SHA256 Credential=AKID/20240101/EU_WEST/cognito-idp/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKID/20240101//cognito-idp/aws4_request",
        "AWS4-HMAC-SHA256 SignedHeaders=host",
    ] {
        assert_eq!(scope_region(&with_auth(bad)), None, "{bad}");
    }
    let mut two = with_auth("AWS4-HMAC-SHA256 Credential=K/d/eu-west-1/s/t");
    two.append(
        AUTHORIZATION,
        HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=K/d/us-east-1/s/t"),
    );
    assert_eq!(scope_region(&two), None);
}

// --- building blocks -----------------------------------------------------------------------

#[test]
fn error_types_and_messages() {
    let cases = [
        (SigV4Error::Missing, "MissingAuthenticationTokenException"),
        (SigV4Error::Incomplete("x".into()), "IncompleteSignatureException"),
        (SigV4Error::UnknownKey, "UnrecognizedClientException"),
        (SigV4Error::BadSignature, "InvalidSignatureException"),
        (SigV4Error::Expired("y".into()), "InvalidSignatureException"),
    ];
    for (err, kind) in cases {
        assert_eq!(err.error_type(), kind);
        assert_eq!(err.message(), err.to_string());
    }
    assert_eq!(SigV4Error::Incomplete("what".into()).message(), "what");
}

#[test]
fn amz_dates_round_trip() {
    assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
    assert_eq!(parse_amz_date("20150830T123600Z"), Some(EXAMPLE_NOW));
    assert_eq!(parse_amz_date("20240229T235959Z"), Some(1_709_251_199));
    assert_eq!(parse_amz_date("20230229T000000Z"), None);
    assert_eq!(parse_amz_date("21000229T000000Z"), None);
    assert_eq!(parse_amz_date("20000229T000000Z"), Some(951_782_400));
    assert_eq!(parse_amz_date("20240431T000000Z"), None);
    assert_eq!(parse_amz_date("20240501T235960Z"), None);
    assert_eq!(parse_amz_date("+0240501T000000Z"), None);
    for unix in [0, EXAMPLE_NOW, SIGN_NOW, 951_782_400, 4_102_444_800, -86_400] {
        assert_eq!(parse_amz_date(&format_amz_date(unix)), Some(unix), "{unix}");
    }
    assert_eq!(format_amz_date(SIGN_NOW), "20240501T100000Z");
    // Out-of-range clocks still format without panicking.
    let _ = format_amz_date(i64::MAX);
    let _ = format_amz_date(i64::MIN);
}

#[test]
fn constant_time_compare() {
    assert!(ct_eq(b"", b""));
    assert!(ct_eq(b"abc", b"abc"));
    assert!(!ct_eq(b"abc", b"abd"));
    assert!(!ct_eq(b"abc", b"ab"));
    assert!(!ct_eq(b"\x00", b"\x80"));
}

#[test]
fn canonical_uri_and_query() {
    assert_eq!(canonical_uri(""), "/");
    assert_eq!(canonical_uri("/"), "/");
    assert_eq!(canonical_uri("//"), "/");
    assert_eq!(canonical_uri("/a/./b/../c/"), "/a/c/");
    assert_eq!(canonical_uri("/../.."), "/");
    assert_eq!(canonical_uri("/a b/ä"), "/a%20b/%C3%A4");
    assert_eq!(canonical_uri("/%41"), "/%2541");

    let q = |raw: &str| canonical_query(&parse_query(raw), &[]);
    assert_eq!(q(""), "");
    assert_eq!(q("b=2&a=1&a=0"), "a=0&a=1&b=2");
    assert_eq!(q("key"), "key=");
    assert_eq!(q("a=%2f&c=d e&b=~-_.!"), "a=%2F&b=~-_.%21&c=d%20e");
    assert_eq!(q("x=%zz&y=%4"), "x=%25zz&y=%254");
    assert_eq!(q("&&a=1&&"), "a=1");
    assert_eq!(q("p=%E1%88%B4"), "p=%E1%88%B4");
}

#[test]
fn value_folding() {
    let fold = |value: &[u8], ws| {
        let mut out = Vec::new();
        fold_value(value, ws, &mut out);
        String::from_utf8(out).unwrap()
    };
    assert_eq!(fold(b"  a   b  ", Whitespace::Spaces), "a b");
    assert_eq!(fold(b"a\t b", Whitespace::Spaces), "a\t b");
    assert_eq!(fold(b"a\t b", Whitespace::Python), "a b");
    assert_eq!(fold(b"   ", Whitespace::Spaces), "");
    assert_eq!(fold(b"", Whitespace::Python), "");
}

mod malformed;
