//! Malformed input: always `IncompleteSignatureException` with a message saying what is wrong,
//! never a panic.

use super::*;

#[test]
fn garbage_authorization_is_incomplete() {
    let long = "A".repeat(100_000);
    let long_credential = format!("AWS4-HMAC-SHA256 Credential={long}, SignedHeaders=host, Signature=00");
    let cases = [
        "",
        " ",
        "Bearer abc.def.ghi",
        "Basic dXNlcjpwYXNz",
        "AWS4-HMAC-SHA256",
        "AWS4-HMAC-SHA256 ",
        "AWS4-HMAC-SHA256 garbage",
        "AWS4-HMAC-SHA256 Credential",
        "AWS4-HMAC-SHA256 ,,,,",
        "AWS4-HMAC-SHA256 =,=,=",
        "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
        "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request, Credential=x, SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request, SignedHeaders=;;, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request, SignedHeaders=HOST, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request, SignedHeaders=host;host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request, SignedHeaders=ho st, Signature=00",
        "AWS4-HMAC-SHA512 Credential=AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=00",
        "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20240501/cognito-idp/aws4_request, SignedHeaders=host, Signature=00",
        "aws4-hmac-sha256 Credential=AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request, SignedHeaders=host, Signature=00",
        &long_credential,
    ];
    for case in cases {
        let message = incomplete_message(verify(
            "POST",
            "/",
            "",
            &with_auth(case),
            BODY,
            &example_creds(),
            SIGN_NOW,
        ));
        assert!(!message.is_empty());
        assert!(message.len() < 1_000, "message stays bounded: {}", message.len());
        assert_eq!(
            SigV4Error::Incomplete(message).error_type(),
            "IncompleteSignatureException"
        );
    }
}

#[test]
fn incomplete_messages_say_what_is_wrong() {
    let scope = "AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request";
    let sig = "0".repeat(64);
    let run = |headers: HeaderMap, query: &str| {
        incomplete_message(verify("POST", "/", query, &headers, BODY, &example_creds(), SIGN_NOW))
    };
    let good_auth = |signed: &str, credential: &str| {
        format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={signed}, Signature={sig}")
    };

    assert_eq!(
        run(with_auth("AWS4-HMAC-SHA256 Credential=x"), ""),
        "Authorization header requires 'Signature' parameter. \
         Authorization header requires 'SignedHeaders' parameter."
    );
    assert!(run(with_auth("Bearer token"), "").starts_with("Unsupported AWS 'algorithm': 'Bearer'"));

    // No x-amz-date at all.
    let headers = header_map(&[("host", "h"), ("authorization", &good_auth("host", scope))]);
    assert!(run(headers, "").contains("'X-Amz-Date'"));

    // Malformed x-amz-date values.
    for date in [
        "2024-05-01T10:00:00Z",
        "20240501",
        "20241301T100000Z",
        "20240230T100000Z",
        "20240501T250000Z",
        "20240501T100000",
        "２０２４0501T100000Z",
    ] {
        let mut headers = with_auth(&good_auth("host;x-amz-date;x-amz-target", scope));
        headers.insert(X_AMZ_DATE, HeaderValue::from_bytes(date.as_bytes()).unwrap());
        let message = run(headers, "");
        assert!(
            message.starts_with("Date must be in ISO-8601 'basic format'") || message.contains("not visible ASCII"),
            "{date}: {message}"
        );
    }

    let signed = "host;x-amz-date;x-amz-target";
    assert_eq!(
        run(with_auth(&good_auth("x-amz-date;x-amz-target", scope)), ""),
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
    assert_eq!(
        run(with_auth(&good_auth("host;x-amz-target", scope)), ""),
        "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."
    );
    assert_eq!(
        run(with_auth(&good_auth("host;x-amz-date", scope)), ""),
        "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
    );
    assert_eq!(
        run(
            with_auth(&good_auth("host;x-amz-date;x-amz-target;content-type", scope)),
            ""
        ),
        "SignedHeaders names 'content-type' but the request has no such header."
    );
    assert_eq!(
        run(
            with_auth(&good_auth(
                signed,
                "AKIDEXAMPLE/20240502/eu-west-1/cognito-idp/aws4_request"
            )),
            ""
        ),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from \
         HTTP: '20240502' != '20240501', from '20240501T100000Z'."
    );
    assert_eq!(
        run(
            with_auth(&good_auth(
                signed,
                "AKIDEXAMPLE/20240501/eu-west-1/cognito-identity/aws4_request"
            )),
            ""
        ),
        "Credential should be scoped to correct service: 'cognito-idp'."
    );
    assert_eq!(
        run(
            with_auth(&good_auth(
                signed,
                "AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws5_request"
            )),
            ""
        ),
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."
    );
    for region in ["", "EU-WEST-1", "eu_west_1", "eu west 1"] {
        let credential = format!("AKIDEXAMPLE/20240501/{region}/cognito-idp/aws4_request");
        let message = run(with_auth(&good_auth(signed, &credential)), "");
        assert!(
            message.starts_with("Credential should be scoped to a valid region"),
            "{message}"
        );
    }
    assert_eq!(
        run(
            with_auth(&good_auth(signed, "/20240501/eu-west-1/cognito-idp/aws4_request")),
            ""
        ),
        "Credential has an empty access key id."
    );
    assert!(
        run(
            with_auth(&good_auth(signed, "AKIDEXAMPLE/20240501/eu-west-1/cognito-idp")),
            ""
        )
        .starts_with("Credential must have exactly 5 slash-delimited elements")
    );

    // Both mechanisms at once.
    assert!(
        run(with_auth(&good_auth(signed, scope)), "X-Amz-Algorithm=AWS4-HMAC-SHA256")
            .starts_with("Only one auth mechanism allowed")
    );

    // Two Authorization headers.
    let mut headers = with_auth(&good_auth(signed, scope));
    headers.append(AUTHORIZATION, HeaderValue::from_static("AWS4-HMAC-SHA256 x=y"));
    assert_eq!(run(headers, ""), "Request has more than one Authorization header.");

    // UNSIGNED-PAYLOAD would leave the body unauthenticated.
    let mut headers = with_auth(&good_auth(signed, scope));
    headers.insert(X_AMZ_CONTENT_SHA256, HeaderValue::from_static("UNSIGNED-PAYLOAD"));
    assert!(run(headers, "").starts_with("UNSIGNED-PAYLOAD is not accepted"));

    // Presigned query strings with missing or bad parts.
    let host = header_map(&[("host", "h")]);
    assert!(
        run(host.clone(), "X-Amz-Algorithm=AWS4-HMAC-SHA256")
            .contains("Query string requires 'X-Amz-Credential' parameter.")
    );
    assert!(run(host.clone(), "X-Amz-Algorithm=HMAC").starts_with("Unsupported AWS 'algorithm'"));
    let presigned = |expires: &str| {
        format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date=20240501T100000Z\
             &X-Amz-SignedHeaders=host&X-Amz-Signature={sig}&X-Amz-Expires={expires}",
            scope.replace('/', "%2F")
        )
    };
    for expires in ["0", "-5", "604801", "soon", "99999999999999999999999"] {
        assert!(run(host.clone(), &presigned(expires)).starts_with("X-Amz-Expires must be"));
    }
    assert!(
        run(
            host.clone(),
            &format!("{}&X-Amz-Date=20240501T100000Z", presigned("60"))
        )
        .contains("more than one 'X-Amz-Date'")
    );
    assert!(
        run(
            host,
            &presigned("60").replace("X-Amz-Date=20240501T100000Z", "X-Amz-Date=%FF")
        )
        .contains("not valid UTF-8")
    );
}

#[test]
fn non_ascii_header_values_do_not_panic() {
    let mut headers = HeaderMap::new();
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_bytes(b"AWS4-HMAC-SHA256 Credential=\xff\xfe/\xc3\xa9").unwrap(),
    );
    headers.insert(HOST, HeaderValue::from_bytes(b"h\xe2\x80\x8bost").unwrap());
    assert!(matches!(
        verify("POST", "/", "", &headers, BODY, &example_creds(), SIGN_NOW),
        Err(SigV4Error::Incomplete(_))
    ));
    assert_eq!(scope_region(&headers), None);

    // A signed header holding opaque bytes is hashed as bytes and simply fails to match.
    let scope = "AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request";
    let mut headers = with_auth(&format!(
        "AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host;x-amz-date;x-amz-target;x-odd, Signature={}",
        "ab".repeat(32)
    ));
    headers.insert("x-odd", HeaderValue::from_bytes(b"\xff \xfe\t\x80").unwrap());
    assert_eq!(
        verify(
            "POST",
            "/ä/../%zz",
            "a=%&b=%F&%%=1&=&&",
            &headers,
            BODY,
            &example_creds(),
            SIGN_NOW
        ),
        Err(SigV4Error::BadSignature)
    );
}

/// Deterministic fuzzing: random bytes in every input never panic.
#[test]
fn random_inputs_never_panic() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: &[u8] = b"AWS4-HMAC-SHA256 Credential=SignedHeaders=Signature=/,;=%&?.:\t \
                             0123456789abcdefhostx-amz-dateTZ\x80\xff_aws4_requestcognito-idp";
    let creds = example_creds();
    for _ in 0..3_000 {
        let mut random = |max: usize| -> Vec<u8> {
            let len = (next() as usize) % max;
            (0..len).map(|_| alphabet[(next() as usize) % alphabet.len()]).collect()
        };
        let auth = random(200);
        let date = random(20);
        let query = String::from_utf8_lossy(&random(80)).into_owned();
        let path = String::from_utf8_lossy(&random(40)).into_owned();
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("h"));
        if let Ok(v) = HeaderValue::from_bytes(&auth) {
            headers.insert(AUTHORIZATION, v);
        }
        if let Ok(v) = HeaderValue::from_bytes(&date) {
            headers.insert(X_AMZ_DATE, v);
        }
        let _ = verify("POST", &path, &query, &headers, &auth, &creds, next() as i64);
        let _ = scope_region(&headers);
    }
    // Structured prefix with random tail, so deeper branches are reached too.
    for _ in 0..3_000 {
        let tail: String = (0..(next() % 60))
            .map(|_| alphabet[(next() as usize) % alphabet.len()] as char)
            .filter(char::is_ascii_graphic)
            .collect();
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240501/eu-west-1/cognito-idp/aws4_request, SignedHeaders=host;x-amz-date{tail}"
        );
        let Ok(value) = HeaderValue::from_str(&auth) else {
            continue;
        };
        let mut headers = with_auth("x");
        headers.insert(AUTHORIZATION, value);
        let _ = verify("POST", "/", &tail, &headers, BODY, &creds, SIGN_NOW);
    }
}
