//! The two signed structures of a WebAuthn response: the authenticator data (binary, WebAuthn
//! §6.1) and the client data (`clientDataJSON`, §5.8.1), and the origin rule.

use super::Fail;
use super::cose::CoseKey;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// User present.
pub const UP: u8 = 0x01;
/// User verified.
pub const UV: u8 = 0x04;
/// Backup eligible.
pub const BE: u8 = 0x08;
/// Backup state (backed up).
pub const BS: u8 = 0x10;
/// Attested credential data included.
pub const AT: u8 = 0x40;
/// Extensions included.
pub const ED: u8 = 0x80;

/// A new credential, as registration's authenticator data carries it.
#[derive(Debug, Clone)]
pub struct Attested {
    pub aaguid: [u8; 16],
    pub credential_id: Vec<u8>,
    /// The COSE key exactly as the authenticator encoded it (what is stored).
    pub public_key: Vec<u8>,
    pub key: CoseKey,
}

/// Parsed authenticator data.
#[derive(Debug, Clone)]
pub struct AuthData {
    pub rp_id_hash: [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub attested: Option<Attested>,
}

impl AuthData {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Parses `raw`. A key of an unsupported algorithm is `Fail::NotSupported`.
    pub fn parse(raw: &[u8]) -> Result<AuthData, Fail> {
        let bad = |what: &str| Fail::Invalid(format!("authenticator data: {what}"));
        if raw.len() < 37 {
            return Err(bad("shorter than 37 bytes"));
        }
        let rp_id_hash: [u8; 32] = raw[..32].try_into().expect("32 bytes");
        let flags = raw[32];
        let sign_count = u32::from_be_bytes(raw[33..37].try_into().expect("4 bytes"));
        let mut rest = &raw[37..];
        let attested = if flags & AT != 0 {
            if rest.len() < 18 {
                return Err(bad("attested credential data cut short"));
            }
            let aaguid: [u8; 16] = rest[..16].try_into().expect("16 bytes");
            let len = u16::from_be_bytes([rest[16], rest[17]]) as usize;
            rest = &rest[18..];
            if len == 0 || len > 1023 || rest.len() < len {
                return Err(bad("credential id of a bad length"));
            }
            let credential_id = rest[..len].to_vec();
            rest = &rest[len..];
            let before = rest.len();
            let value: ciborium::Value =
                ciborium::de::from_reader(&mut rest).map_err(|_| bad("the public key is not CBOR"))?;
            let public_key = raw[raw.len() - before..raw.len() - rest.len()].to_vec();
            let key = CoseKey::from_cbor(&value).map_err(|e| match e {
                super::cose::KeyError::Unsupported(alg) => Fail::NotSupported(format!("algorithm {alg}")),
                super::cose::KeyError::Malformed(m) => bad(m),
            })?;
            Some(Attested {
                aaguid,
                credential_id,
                public_key,
                key,
            })
        } else {
            None
        };
        if flags & ED != 0 {
            let _: ciborium::Value =
                ciborium::de::from_reader(&mut rest).map_err(|_| bad("extensions are not CBOR"))?;
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(AuthData {
            rp_id_hash,
            flags,
            sign_count,
            attested,
        })
    }
}

/// The members of `clientDataJSON` the checks read (others are ignored: browsers add some).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ClientData {
    #[serde(rename = "type")]
    pub kind: String,
    pub challenge: String,
    pub origin: String,
    #[serde(rename = "crossOrigin", default)]
    pub cross_origin: bool,
}

impl ClientData {
    pub fn parse(raw: &[u8]) -> Result<ClientData, Fail> {
        serde_json::from_slice(raw).map_err(|_| Fail::Invalid("clientDataJSON is not valid".into()))
    }

    /// The challenge's bytes.
    pub fn challenge_bytes(&self) -> Result<Vec<u8>, Fail> {
        URL_SAFE_NO_PAD
            .decode(self.challenge.trim_end_matches('='))
            .map_err(|_| Fail::ChallengeNotFound)
    }
}

/// Whether a page at `origin` may use RP ID `rp_id`: `https://` on the RP ID or a subdomain of
/// it (any port), `http://localhost[:port]` (and `http://*.localhost`) for an RP ID of
/// `localhost` (browsers treat localhost as a secure context), or any origin in `extra`
/// (`--webauthn-origin`, for pages that live elsewhere).
pub fn origin_allowed(origin: &str, rp_id: &str, extra: &[String]) -> bool {
    if extra.iter().any(|o| o.trim_end_matches('/') == origin) {
        return true;
    }
    let (scheme, rest) = match origin.split_once("://") {
        Some(x) => x,
        None => return false,
    };
    let host = match rest.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => rest,
    };
    if host.is_empty() || host.contains('/') {
        return false;
    }
    let host = host.to_ascii_lowercase();
    let rp = rp_id.to_ascii_lowercase();
    let within = host == rp || host.ends_with(&format!(".{rp}"));
    match scheme {
        "https" => within,
        "http" => rp == "localhost" && within,
        _ => false,
    }
}

/// SHA-256.
pub fn sha256(b: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(b).into()
}

/// base64url without padding, as WebAuthn's JSON encodes bytes.
pub fn b64url(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// Decodes base64url (padding tolerated).
pub fn from_b64url(s: &str, what: &str) -> Result<Vec<u8>, Fail> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| Fail::Invalid(format!("{what} is not base64url")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_follow_the_rp_id() {
        let none: &[String] = &[];
        assert!(origin_allowed("https://auth.example.com", "auth.example.com", none));
        assert!(origin_allowed(
            "https://app.auth.example.com:8443",
            "auth.example.com",
            none
        ));
        assert!(
            !origin_allowed("https://example.com", "auth.example.com", none),
            "a parent is not in"
        );
        assert!(!origin_allowed(
            "https://evilauth.example.com",
            "auth.example.com",
            none
        ));
        assert!(
            !origin_allowed("http://auth.example.com", "auth.example.com", none),
            "https only"
        );
        assert!(origin_allowed("http://localhost:5173", "localhost", none));
        assert!(origin_allowed("http://localhost", "localhost", none));
        assert!(!origin_allowed("http://127.0.0.1:5173", "localhost", none));
        assert!(!origin_allowed("http://localhost:5173", "example.com", none));
        let extra = vec!["https://app.example.net".to_owned()];
        assert!(origin_allowed("https://app.example.net", "auth.example.com", &extra));
        assert!(!origin_allowed("android:apk-key-hash:abc", "auth.example.com", none));
    }

    #[test]
    fn short_or_trailing_authenticator_data_is_invalid() {
        assert!(matches!(AuthData::parse(&[0; 36]), Err(Fail::Invalid(_))));
        let mut ok = vec![0u8; 37];
        ok[32] = UP;
        let d = AuthData::parse(&ok).unwrap();
        assert!(d.has(UP) && !d.has(UV) && d.attested.is_none());
        ok.push(0);
        assert!(matches!(AuthData::parse(&ok), Err(Fail::Invalid(_))));
    }
}
