//! AWS Signature Version 4 verification for IAM-signed operations: the shared-credentials key set,
//! parsing of the `Authorization` header (or a presigned query string), canonical-request rebuild,
//! and the mapping of each failure to the error AWS's front end would return.
//!
//! The verifier rebuilds the canonical request from whatever `SignedHeaders` names, because SDKs
//! disagree on which headers they sign (botocore signs almost everything, the Rust SDK skips
//! `x-amz-user-agent`). It never trusts client-supplied digests: the payload hash is always
//! recomputed from the body it actually received.

use hmac::{Hmac, Mac};
use http::HeaderMap;
use http::header::{AUTHORIZATION, HOST, HeaderName};
use sha2::{Digest, Sha256};

/// The only algorithm accepted; SigV4a (`AWS4-ECDSA-P256-SHA256`) is not supported.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// Service name every credential scope must carry.
const SERVICE: &str = "cognito-idp";
/// Fixed last element of a credential scope.
const TERMINATOR: &str = "aws4_request";
/// Allowed clock skew, as AWS applies it to header-signed requests.
const MAX_SKEW_SECS: i64 = 15 * 60;
/// Longest lifetime AWS allows for a presigned URL (7 days).
const MAX_PRESIGN_EXPIRES_SECS: i64 = 7 * 24 * 60 * 60;
/// Longest client-supplied value echoed back in an error message, so messages stay small.
const MAX_ECHO: usize = 128;

const X_AMZ_DATE: &str = "x-amz-date";
const X_AMZ_TARGET: &str = "x-amz-target";
const X_AMZ_CONTENT_SHA256: &str = "x-amz-content-sha256";

type HmacSha256 = Hmac<Sha256>;

/// Module-local result alias.
type Result<T, E = SigV4Error> = std::result::Result<T, E>;

mod canonical;
use canonical::{Whitespace, canonical_query, canonical_request, needs_python_whitespace, parse_query};
mod credentials;
pub use credentials::Credentials;

// ---------------------------------------------------------------------------------------------
// Errors and result
// ---------------------------------------------------------------------------------------------

/// Why a request failed verification. Each variant maps to the `__type` AWS's front end uses,
/// so SDK retry and error-classification logic behaves as it would against AWS.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SigV4Error {
    /// Neither an `Authorization` header nor an `X-Amz-Algorithm` query parameter.
    #[error("Request is missing Authentication Token")]
    Missing,
    /// Authentication was attempted but is malformed or incomplete; the text says what is wrong.
    #[error("{0}")]
    Incomplete(String),
    /// The access key id is not in the credentials file.
    #[error("The security token included in the request is invalid.")]
    UnknownKey,
    /// The signature does not match the one computed with the stored secret.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    BadSignature,
    /// The request time is outside the accepted window; holds AWS's full message.
    #[error("{0}")]
    Expired(String),
}

impl SigV4Error {
    /// The `__type` / `x-amzn-ErrorType` name for this failure.
    pub fn error_type(&self) -> &'static str {
        match self {
            SigV4Error::Missing => "MissingAuthenticationTokenException",
            SigV4Error::Incomplete(_) => "IncompleteSignatureException",
            SigV4Error::UnknownKey => "UnrecognizedClientException",
            SigV4Error::BadSignature => "InvalidSignatureException",
            SigV4Error::Expired(_) => "InvalidSignatureException",
        }
    }

    /// The client-facing `message`, in AWS's wording where it is known.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Who signed a request that verified, and for which region, so the caller can scope pool ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The access key id from the credential scope.
    pub access_key_id: String,
    /// The region from the credential scope (any well-formed region is accepted).
    pub region: String,
}

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/// Verifies a request signed for `cognito-idp`.
///
/// `path` and `query` are the raw (still percent-encoded) request-target parts, as they arrived.
/// Under HTTP/2 the caller must put the `:authority` into a `host` header first, because `host`
/// must be signed. `now_unix` is injected so tests (and a fixed clock) are deterministic.
pub fn verify(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    creds: &Credentials,
    now_unix: i64,
) -> Result<Verified> {
    verify_for_service(SERVICE, method, path, query, headers, body, creds, now_unix)
}

/// The region named in the `Authorization` header's credential scope, without verifying anything.
///
/// Used to pick the region for pool ids even when verification is off, so it is allocation-free
/// and returns `None` rather than failing: no header, several headers, a non-SigV4 scheme, or a
/// region that is not a plausible region name (lower-case letters, digits, `-`).
pub fn scope_region(headers: &HeaderMap) -> Option<&str> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let auth = parse_authorization(value.to_str().ok()?).ok()?;
    let scope = split_scope(auth.credential?)?;
    valid_region(scope.region).then_some(scope.region)
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// Everything the client claims about its signature, from either the header or the query string.
struct Claim {
    key_id: String,
    scope_date: String,
    region: String,
    service: String,
    terminator: String,
    signed_headers: String,
    signature: String,
    amz_date: String,
    date_unix: i64,
    /// `X-Amz-Expires` for presigned requests; `None` means the ±15 minute header rule.
    expires: Option<i64>,
    canonical_query: String,
    /// Presigned URLs only: the canonical query without `X-Amz-Security-Token`, for signers that
    /// append the token after signing (AWS's own test suite has such a case).
    canonical_query_without_token: Option<String>,
    /// Header-signed requests must also sign `x-amz-date`; presigned ones carry it in the query.
    date_in_headers: bool,
}

/// [`verify`] with the service name as a parameter, so the AWS test vectors (service `service`)
/// exercise the exact same code path.
#[allow(clippy::too_many_arguments)]
fn verify_for_service(
    service: &str,
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    creds: &Credentials,
    now_unix: i64,
) -> Result<Verified> {
    let params = parse_query(query);
    let query_auth = params.iter().any(|(k, _)| k.as_slice() == b"X-Amz-Algorithm");
    let auth_count = headers.get_all(AUTHORIZATION).iter().count();

    let claim = match (auth_count, query_auth) {
        (0, false) => return Err(SigV4Error::Missing),
        (n, true) if n > 0 => {
            return Err(incomplete(
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
                 Signature query string parameter or the Authorization header should be specified",
            ));
        }
        (1, false) => header_claim(headers, &params)?,
        (0, true) => query_claim(&params)?,
        _ => {
            return Err(incomplete("Request has more than one Authorization header."));
        }
    };

    check_scope(&claim, service)?;
    check_signed_header_set(&claim, headers)?;

    let secret = creds.secret(&claim.key_id).ok_or(SigV4Error::UnknownKey)?;

    check_time(&claim, now_unix)?;

    let payload_hash = payload_hash(headers, body, claim.date_in_headers)?;
    let provided = decode_signature(&claim.signature).ok_or(SigV4Error::BadSignature)?;
    let signing_key = signing_key(secret, &claim.scope_date, &claim.region, &claim.service);

    // Each variant is a way a genuine signer may have built the canonical request; all of them
    // need the secret, so trying them widens compatibility without weakening anything.
    let mut whitespaces = vec![Whitespace::Spaces];
    if needs_python_whitespace(&claim, headers) {
        whitespaces.push(Whitespace::Python);
    }
    let queries = std::iter::once(&claim.canonical_query).chain(claim.canonical_query_without_token.as_ref());
    let mut matched = false;
    'variants: for query in queries {
        for &whitespace in &whitespaces {
            let canonical = canonical_request(
                method,
                path,
                query,
                headers,
                &claim.signed_headers,
                &payload_hash,
                whitespace,
            )?;
            let to_sign = string_to_sign(&claim, &canonical);
            if ct_eq(&hmac(&signing_key, to_sign.as_bytes()), &provided) {
                matched = true;
                break 'variants;
            }
        }
    }
    if !matched {
        return Err(SigV4Error::BadSignature);
    }

    Ok(Verified {
        access_key_id: claim.key_id,
        region: claim.region,
    })
}

/// Reads the claim from `Authorization` and `X-Amz-Date` headers.
fn header_claim(headers: &HeaderMap, params: &[(Vec<u8>, Vec<u8>)]) -> Result<Claim> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Err(SigV4Error::Missing);
    };
    let value = value
        .to_str()
        .map_err(|_| incomplete("Authorization header contains characters that are not visible ASCII."))?;
    let auth = parse_authorization(value).map_err(|e| e.into_error())?;

    let mut missing = String::new();
    if auth.credential.is_none() {
        missing.push_str("Authorization header requires 'Credential' parameter. ");
    }
    if auth.signature.is_none() {
        missing.push_str("Authorization header requires 'Signature' parameter. ");
    }
    if auth.signed_headers.is_none() {
        missing.push_str("Authorization header requires 'SignedHeaders' parameter. ");
    }
    let mut dates = headers.get_all(X_AMZ_DATE).iter();
    let date = dates.next();
    if date.is_none() {
        missing.push_str(
            "Authorization header requires existence of a 'X-Amz-Date' header \
             (the 'Date' header is not accepted). ",
        );
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(date)) =
        (auth.credential, auth.signature, auth.signed_headers, date)
    else {
        return Err(SigV4Error::Incomplete(missing.trim_end().to_owned()));
    };
    if dates.next().is_some() {
        return Err(incomplete("Request has more than one X-Amz-Date header."));
    }
    let amz_date = date
        .to_str()
        .map_err(|_| incomplete("X-Amz-Date header contains characters that are not visible ASCII."))?;
    let date_unix = parse_amz_date(amz_date).ok_or_else(|| bad_date(amz_date))?;
    let scope = split_scope(credential).ok_or_else(|| bad_credential(credential))?;

    Ok(Claim {
        key_id: scope.key_id.to_owned(),
        scope_date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        terminator: scope.terminator.to_owned(),
        signed_headers: signed_headers.to_owned(),
        signature: signature.to_owned(),
        amz_date: amz_date.to_owned(),
        date_unix,
        expires: None,
        canonical_query: canonical_query(params, &[]),
        canonical_query_without_token: None,
        date_in_headers: true,
    })
}

/// Reads the claim from a presigned query string (`X-Amz-Algorithm`, `X-Amz-Credential`, ...).
fn query_claim(params: &[(Vec<u8>, Vec<u8>)]) -> Result<Claim> {
    let get = |name: &str| -> Result<Option<String>> {
        let mut found = params.iter().filter(|(k, _)| k.as_slice() == name.as_bytes());
        let Some((_, value)) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() {
            return Err(SigV4Error::Incomplete(format!(
                "Query string has more than one '{name}' parameter."
            )));
        }
        String::from_utf8(value.clone())
            .map(Some)
            .map_err(|_| SigV4Error::Incomplete(format!("'{name}' is not valid UTF-8.")))
    };

    let algorithm = get("X-Amz-Algorithm")?.unwrap_or_default();
    if algorithm != ALGORITHM {
        return Err(SigV4Error::Incomplete(format!(
            "Unsupported AWS 'algorithm': '{}'. Only {ALGORITHM} is accepted.",
            echo(&algorithm)
        )));
    }
    let credential = get("X-Amz-Credential")?;
    let signature = get("X-Amz-Signature")?;
    let signed_headers = get("X-Amz-SignedHeaders")?;
    let amz_date = get("X-Amz-Date")?;
    let expires = get("X-Amz-Expires")?;

    let mut missing = String::new();
    for (name, value) in [
        ("X-Amz-Credential", &credential),
        ("X-Amz-Signature", &signature),
        ("X-Amz-SignedHeaders", &signed_headers),
        ("X-Amz-Date", &amz_date),
    ] {
        if value.is_none() {
            missing.push_str(&format!("Query string requires '{name}' parameter. "));
        }
    }
    let (Some(credential), Some(signature), Some(signed_headers), Some(amz_date)) =
        (credential, signature, signed_headers, amz_date)
    else {
        return Err(SigV4Error::Incomplete(missing.trim_end().to_owned()));
    };
    let date_unix = parse_amz_date(&amz_date).ok_or_else(|| bad_date(&amz_date))?;
    let expires = match expires {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=MAX_PRESIGN_EXPIRES_SECS).contains(&n) => Some(n),
            _ => {
                return Err(SigV4Error::Incomplete(format!(
                    "X-Amz-Expires must be a whole number of seconds between 1 and \
                     {MAX_PRESIGN_EXPIRES_SECS}, got '{}'.",
                    echo(&text)
                )));
            }
        },
    };
    let scope = split_scope(&credential).ok_or_else(|| bad_credential(&credential))?;

    Ok(Claim {
        key_id: scope.key_id.to_owned(),
        scope_date: scope.date.to_owned(),
        region: scope.region.to_owned(),
        service: scope.service.to_owned(),
        terminator: scope.terminator.to_owned(),
        signed_headers: signed_headers.clone(),
        signature,
        amz_date,
        date_unix,
        expires,
        canonical_query: canonical_query(params, &[b"X-Amz-Signature"]),
        canonical_query_without_token: params
            .iter()
            .any(|(k, _)| k.as_slice() == b"X-Amz-Security-Token")
            .then(|| canonical_query(params, &[b"X-Amz-Signature", b"X-Amz-Security-Token"])),
        date_in_headers: false,
    })
}

/// Checks the credential scope against the request date and this service, in AWS's wording.
fn check_scope(claim: &Claim, service: &str) -> Result<()> {
    if claim.key_id.is_empty() {
        return Err(incomplete("Credential has an empty access key id."));
    }
    let request_day = claim.amz_date.get(..8).unwrap_or_default();
    if claim.scope_date != request_day {
        return Err(SigV4Error::Incomplete(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
             '{}' != '{request_day}', from '{}'.",
            echo(&claim.scope_date),
            claim.amz_date
        )));
    }
    if !valid_region(&claim.region) {
        return Err(SigV4Error::Incomplete(format!(
            "Credential should be scoped to a valid region, not '{}'.",
            echo(&claim.region)
        )));
    }
    if claim.service != service {
        return Err(SigV4Error::Incomplete(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }
    if claim.terminator != TERMINATOR {
        return Err(SigV4Error::Incomplete(format!(
            "Credential should be scoped with a valid terminator: '{TERMINATOR}', not '{}'.",
            echo(&claim.terminator)
        )));
    }
    Ok(())
}

/// Checks the `SignedHeaders` list is well formed and covers the headers whose tampering would
/// matter: `host`, `x-amz-date` (else the freshness window means nothing) and `x-amz-target`
/// (else a captured request could be replayed as a different operation with the same body).
fn check_signed_header_set(claim: &Claim, headers: &HeaderMap) -> Result<()> {
    let names = signed_header_names(&claim.signed_headers)?;
    let signs = |name: &str| names.contains(&name);
    if !signs(HOST.as_str()) {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if claim.date_in_headers && !signs(X_AMZ_DATE) {
        return Err(incomplete(
            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    if headers.contains_key(X_AMZ_TARGET) && !signs(X_AMZ_TARGET) {
        return Err(incomplete(
            "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    for name in &names {
        if !headers.contains_key(*name) {
            return Err(SigV4Error::Incomplete(format!(
                "SignedHeaders names '{}' but the request has no such header.",
                echo(name)
            )));
        }
    }
    Ok(())
}

/// Splits `SignedHeaders` into names, rejecting anything that is not a lower-case header name or
/// that repeats, because either would make the canonical request ambiguous.
fn signed_header_names(list: &str) -> Result<Vec<&str>> {
    let mut names: Vec<&str> = Vec::new();
    for name in list.split(';') {
        let valid = HeaderName::from_bytes(name.as_bytes())
            .map(|parsed| parsed.as_str() == name)
            .unwrap_or(false);
        if !valid {
            return Err(SigV4Error::Incomplete(format!(
                "SignedHeaders must be lower-case header names separated by ';', got '{}'.",
                echo(list)
            )));
        }
        if names.contains(&name) {
            return Err(SigV4Error::Incomplete(format!(
                "SignedHeaders names '{}' more than once.",
                echo(name)
            )));
        }
        names.push(name);
    }
    Ok(names)
}

/// Applies the freshness window: ±15 minutes for header signing, `[date - 15 min, date +
/// X-Amz-Expires]` for presigned URLs.
fn check_time(claim: &Claim, now_unix: i64) -> Result<()> {
    let date = claim.date_unix;
    let earliest = now_unix.saturating_sub(MAX_SKEW_SECS);
    let latest = now_unix.saturating_add(MAX_SKEW_SECS);
    if date > latest {
        return Err(SigV4Error::Expired(format!(
            "Signature not yet current: {} is still later than {} ({} + 15 min.)",
            claim.amz_date,
            format_amz_date(latest),
            format_amz_date(now_unix)
        )));
    }
    match claim.expires {
        None if date < earliest => Err(SigV4Error::Expired(format!(
            "Signature expired: {} is now earlier than {} ({} - 15 min.)",
            claim.amz_date,
            format_amz_date(earliest),
            format_amz_date(now_unix)
        ))),
        Some(expires) if date.saturating_add(expires) < now_unix => Err(SigV4Error::Expired(format!(
            "Signature expired: {} is now earlier than {} ({} - {expires} sec.)",
            claim.amz_date,
            format_amz_date(now_unix.saturating_sub(expires)),
            format_amz_date(now_unix)
        ))),
        _ => Ok(()),
    }
}

/// The payload hash always comes from the body we hold. A client-sent `x-amz-content-sha256`
/// is never trusted; `UNSIGNED-PAYLOAD` is refused because it would leave the body (and so the
/// admin operation's arguments) unauthenticated.
fn payload_hash(headers: &HeaderMap, body: &[u8], header_mode: bool) -> Result<String> {
    if header_mode
        && headers
            .get_all(X_AMZ_CONTENT_SHA256)
            .iter()
            .any(|v| v.as_bytes() == b"UNSIGNED-PAYLOAD")
    {
        return Err(incomplete(
            "UNSIGNED-PAYLOAD is not accepted by this service; sign the request body.",
        ));
    }
    Ok(hex::encode(Sha256::digest(body)))
}

fn string_to_sign(claim: &Claim, canonical_request: &[u8]) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}/{}/{}/{}\n{}",
        claim.amz_date,
        claim.scope_date,
        claim.region,
        claim.service,
        claim.terminator,
        hex::encode(Sha256::digest(canonical_request))
    )
}

/// `kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")`.
fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut k_secret = Vec::with_capacity(4 + secret.len());
    k_secret.extend_from_slice(b"AWS4");
    k_secret.extend_from_slice(secret.as_bytes());
    let k_date = hmac(&k_secret, date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    hmac(&k_service, TERMINATOR.as_bytes())
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC takes keys of any length (long ones are hashed), so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Decodes the client's hex signature; anything that is not 32 bytes of hex cannot match.
fn decode_signature(signature: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(signature, &mut out).ok()?;
    Some(out)
}

use cmfa_core::ct::eq as ct_eq;

// ---------------------------------------------------------------------------------------------
// Authorization header parsing (allocation-free, shared with `scope_region`)
// ---------------------------------------------------------------------------------------------

struct AuthParts<'a> {
    credential: Option<&'a str>,
    signed_headers: Option<&'a str>,
    signature: Option<&'a str>,
}

/// Parse failures kept as borrowed data so `scope_region` never allocates.
enum AuthParseError<'a> {
    Algorithm(&'a str),
    Component(&'a str),
    Duplicate(&'a str),
}

impl AuthParseError<'_> {
    fn into_error(self) -> SigV4Error {
        match self {
            AuthParseError::Algorithm(alg) => SigV4Error::Incomplete(format!(
                "Unsupported AWS 'algorithm': '{}'. Only {ALGORITHM} is accepted.",
                echo(alg)
            )),
            AuthParseError::Component(part) => SigV4Error::Incomplete(format!(
                "Authorization header requires each component to be of the form key=value, got '{}'.",
                echo(part)
            )),
            AuthParseError::Duplicate(key) => {
                SigV4Error::Incomplete(format!("Authorization header has more than one '{key}' parameter."))
            }
        }
    }
}

/// Parses `AWS4-HMAC-SHA256 Credential=.., SignedHeaders=.., Signature=..` in any order, with
/// or without spaces after the commas. Unknown components are ignored, as AWS does.
fn parse_authorization(value: &str) -> Result<AuthParts<'_>, AuthParseError<'_>> {
    let value = value.trim_matches(' ');
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(AuthParseError::Algorithm(algorithm));
    }
    let mut parts = AuthParts {
        credential: None,
        signed_headers: None,
        signature: None,
    };
    for component in rest.split(',') {
        let component = component.trim_matches(' ');
        if component.is_empty() {
            continue;
        }
        let Some((key, val)) = component.split_once('=') else {
            return Err(AuthParseError::Component(component));
        };
        let slot = match key.trim_matches(' ') {
            "Credential" => &mut parts.credential,
            "SignedHeaders" => &mut parts.signed_headers,
            "Signature" => &mut parts.signature,
            _ => continue,
        };
        if slot.is_some() {
            return Err(AuthParseError::Duplicate(match key.trim_matches(' ') {
                "Credential" => "Credential",
                "SignedHeaders" => "SignedHeaders",
                _ => "Signature",
            }));
        }
        *slot = Some(val.trim_matches(' '));
    }
    Ok(parts)
}

struct ScopeParts<'a> {
    key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
}

/// Splits `AKID/yyyymmdd/region/service/aws4_request`; `None` unless there are exactly five parts.
fn split_scope(credential: &str) -> Option<ScopeParts<'_>> {
    let mut it = credential.split('/');
    let parts = ScopeParts {
        key_id: it.next()?,
        date: it.next()?,
        region: it.next()?,
        service: it.next()?,
        terminator: it.next()?,
    };
    it.next().is_none().then_some(parts)
}

/// A region must look like one (`us-east-1`, `local`): it ends up inside pool ids, whose pattern
/// is `[\w-]+_[0-9a-zA-Z]+`, so `_` and anything exotic are refused.
fn valid_region(region: &str) -> bool {
    (1..=32).contains(&region.len())
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

// ---------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------

/// Parses ISO-8601 basic format `yyyymmddThhmmssZ` to unix seconds, validating every field.
fn parse_amz_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 16 || bytes.get(8) != Some(&b'T') || bytes.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        bytes.get(from..to)?.iter().try_fold(0i64, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + i64::from(b - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(4, 6)?, num(6, 8)?);
    let (hour, minute, second) = (num(9, 11)?, num(11, 13)?, num(13, 15)?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

/// Formats unix seconds as `yyyymmddThhmmssZ` (for error messages that quote the server clock).
fn format_amz_date(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]; valid for any `i64` day count an `i64` of seconds can give.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

// ---------------------------------------------------------------------------------------------
// Error helpers
// ---------------------------------------------------------------------------------------------

fn incomplete(message: &str) -> SigV4Error {
    SigV4Error::Incomplete(message.to_owned())
}

fn bad_date(text: &str) -> SigV4Error {
    SigV4Error::Incomplete(format!(
        "Date must be in ISO-8601 'basic format'. Got '{}'. See http://en.wikipedia.org/wiki/ISO_8601",
        echo(text)
    ))
}

fn bad_credential(credential: &str) -> SigV4Error {
    SigV4Error::Incomplete(format!(
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
        echo(credential)
    ))
}

/// Bounds client text quoted in a message, cutting on a character boundary.
fn echo(text: &str) -> &str {
    if text.len() <= MAX_ECHO {
        return text;
    }
    let mut end = MAX_ECHO;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests;
