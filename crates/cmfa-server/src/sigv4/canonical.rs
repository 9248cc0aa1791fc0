//! The canonical request of SigV4 rebuilt from what the server received: header folding (with
//! botocore's whitespace variant), the canonical URI and query string, and percent coding.

use super::{Claim, Result, signed_header_names};
use http::HeaderMap;

/// How header values are folded. AWS's SDKs trim and collapse only spaces; botocore does
/// `' '.join(value.split())`, which also folds tabs and other ASCII whitespace. The second form
/// is only tried when a signed value holds such a character, so ordinary requests hash once.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Whitespace {
    Spaces,
    Python,
}

impl Whitespace {
    fn is_space(self, byte: u8) -> bool {
        match self {
            Whitespace::Spaces => byte == b' ',
            Whitespace::Python => python_whitespace(byte),
        }
    }
}

/// ASCII bytes Python's `str.split()` treats as whitespace.
pub(super) fn python_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | 0x1c..=0x1f)
}

pub(super) fn needs_python_whitespace(claim: &Claim, headers: &HeaderMap) -> bool {
    claim.signed_headers.split(';').any(|name| {
        headers
            .get_all(name)
            .iter()
            .any(|v| v.as_bytes().iter().any(|&b| b != b' ' && python_whitespace(b)))
    })
}

pub(super) fn canonical_request(
    method: &str,
    path: &str,
    canonical_query: &str,
    headers: &HeaderMap,
    signed_headers: &str,
    payload_hash: &str,
    whitespace: Whitespace,
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256 + path.len() + canonical_query.len());
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_uri(path).as_bytes());
    out.push(b'\n');
    out.extend_from_slice(canonical_query.as_bytes());
    out.push(b'\n');
    for name in signed_header_names(signed_headers)? {
        out.extend_from_slice(name.as_bytes());
        out.push(b':');
        for (i, value) in headers.get_all(name).iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            fold_value(value.as_bytes(), whitespace, &mut out);
        }
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(signed_headers.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(payload_hash.as_bytes());
    Ok(out)
}

/// Trims the value and collapses each run of whitespace to one space.
pub(super) fn fold_value(value: &[u8], whitespace: Whitespace, out: &mut Vec<u8>) {
    let mut pending_space = false;
    let mut started = false;
    for &byte in value {
        if whitespace.is_space(byte) {
            pending_space = started;
            continue;
        }
        if pending_space {
            out.push(b' ');
            pending_space = false;
        }
        out.push(byte);
        started = true;
    }
}

/// The normalized, URI-encoded path. The path arrives already percent-encoded and is encoded
/// again, as every AWS SDK does for services other than S3; dot segments and repeated slashes are
/// removed first, as botocore does.
pub(super) fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let segments: Vec<&str> = path.split('/').fold(Vec::new(), |mut kept, segment| {
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            other => kept.push(other),
        }
        kept
    });
    let mut normalized = String::with_capacity(path.len() + 1);
    if path.starts_with('/') {
        normalized.push('/');
    }
    normalized.push_str(&segments.join("/"));
    if path.ends_with('/') && !segments.is_empty() {
        normalized.push('/');
    }
    let mut out = String::with_capacity(normalized.len() + 8);
    uri_encode(normalized.as_bytes(), true, &mut out);
    if out.is_empty() { "/".to_owned() } else { out }
}

/// Splits a raw query string into percent-decoded pairs; `a` without `=` is `("a", "")`.
pub(super) fn parse_query(query: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Re-encodes every pair with AWS's URI encoding and sorts by key, then value. Decoding first
/// and encoding again makes the result independent of how the client chose to escape.
pub(super) fn canonical_query(params: &[(Vec<u8>, Vec<u8>)], skip: &[&[u8]]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_slice()))
        .map(|(k, v)| {
            let mut key = String::with_capacity(k.len());
            uri_encode(k, false, &mut key);
            let mut value = String::with_capacity(v.len());
            uri_encode(v, false, &mut value);
            (key, value)
        })
        .collect();
    encoded.sort();
    let mut out = String::new();
    for (i, (key, value)) in encoded.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Decodes `%XX` escapes; a `%` not followed by two hex digits is kept as-is.
pub(super) fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let hi = bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16));
            let lo = bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16));
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(byte);
        i += 1;
    }
    out
}

/// AWS URI encoding: unreserved characters stay, everything else becomes `%XX` (upper-case).
pub(super) fn uri_encode(bytes: &[u8], keep_slash: bool, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in bytes {
        let unreserved = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && byte == b'/') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 0x0f)] as char);
        }
    }
}
