//! Refresh tokens, sealed: what a refresh needs travels inside the token, encrypted and
//! authenticated, so issuing one writes nothing.
//!
//! Format: a compact JWE, as Cognito's refresh tokens are (`header..iv.ciphertext.tag`, five
//! base64url parts; the encrypted-key part is empty because the key is used directly, `alg:
//! dir`), with AES-256-GCM (`enc: A256GCM`), a random 96-bit IV per token and the encoded header
//! as additional data (RFC 7516 §5.1). The key is derived from the pool's access-token signing
//! key (see `SigningKey::refresh_secret`), so it is as secret as that key and changes with it.
//! Clients treat the token as opaque, as they must with Cognito's.
//!
//! Revocation does not need a row per token either: RevokeToken revokes the token's sign-in
//! (`origin_jti`), and a global sign-out stamps the user with its time, which every token of an
//! earlier sign-in fails (see [`signed_in_before_sign_out`]).
//!
//! Before this format, refresh tokens were random strings with a stored hash; those still work
//! until they expire (the auth engine looks them up when a token does not open here).

use super::tokens::SigningKey;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// `{"cty":"JWT","enc":"A256GCM","alg":"dir"}`: Cognito's header members, with `dir` for the
/// key management we actually do.
const HEADER_B64: &str = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiZGlyIn0";
const TAG_LEN: usize = 16;
/// Longer tokens are refused before any decoding (ours are about 400 characters).
const MAX_LEN: usize = 4096;

/// What a refresh token carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshClaims {
    #[serde(rename = "p")]
    pub pool_id: String,
    #[serde(rename = "c")]
    pub client_id: String,
    /// The user's key in the pool (see `user::username_key`).
    #[serde(rename = "u")]
    pub username_key: String,
    /// The sign-in the token belongs to; tokens refreshed from it keep it.
    #[serde(rename = "o")]
    pub origin_jti: String,
    #[serde(rename = "a")]
    pub auth_time: i64,
    /// Unix seconds.
    #[serde(rename = "x")]
    pub expires_at: f64,
}

fn key(signing: &SigningKey) -> LessSafeKey {
    let unbound =
        UnboundKey::new(&AES_256_GCM, signing.refresh_secret()).expect("a 32-byte key is valid for AES-256-GCM");
    LessSafeKey::new(unbound)
}

/// Seals `claims` into a refresh token under the pool's access-token key.
pub fn seal(signing: &SigningKey, claims: &RefreshClaims) -> String {
    let mut iv = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut iv)
        .expect("the OS random source does not fail");
    let mut data = serde_json::to_vec(claims).expect("refresh claims always serialize");
    let tag = key(signing)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(HEADER_B64.as_bytes()),
            &mut data,
        )
        .expect("AES-GCM sealing of a short message cannot fail");
    let mut token = String::with_capacity(HEADER_B64.len() + 4 + (NONCE_LEN + data.len() + TAG_LEN) * 4 / 3 + 4);
    token.push_str(HEADER_B64);
    token.push_str("..");
    URL_SAFE_NO_PAD.encode_string(iv, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&data, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(tag.as_ref(), &mut token);
    token
}

/// The claims of a token sealed under `signing`, or `None` for anything else: another pool's
/// token, a tampered or truncated one, a legacy opaque token, garbage. Expiry is the caller's
/// check.
pub fn open(signing: &SigningKey, token: &str) -> Option<RefreshClaims> {
    if token.len() > MAX_LEN {
        return None;
    }
    let mut parts = token.split('.');
    let (header, enc_key, iv, data, tag) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() || header != HEADER_B64 || !enc_key.is_empty() {
        return None;
    }
    let iv: [u8; NONCE_LEN] = URL_SAFE_NO_PAD.decode(iv).ok()?.try_into().ok()?;
    let mut sealed = URL_SAFE_NO_PAD.decode(data).ok()?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    if tag.len() != TAG_LEN {
        return None;
    }
    sealed.extend_from_slice(&tag);
    let plain = key(signing)
        .open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(HEADER_B64.as_bytes()),
            &mut sealed,
        )
        .ok()?;
    serde_json::from_slice(plain).ok()
}

/// A new sign-in id (`origin_jti`): a UUID version 7, whose first 48 bits are the sign-in's
/// time in milliseconds, so that a global sign-out can tell earlier sign-ins from later ones.
/// The time is moved past `signed_out_at_ms` if the clock has not got there yet (a sign-in
/// right after a sign-out in the same millisecond, or a clock stopped in a test).
pub fn new_origin_jti(now: f64, signed_out_at_ms: u64) -> String {
    let ms = ((now * 1000.0).floor().max(0.0) as u64).max(signed_out_at_ms + 1);
    let ts = uuid::Timestamp::from_unix(uuid::NoContext, ms / 1000, ((ms % 1000) * 1_000_000) as u32);
    uuid::Uuid::new_v7(ts).to_string()
}

/// Whether a sign-in (its `origin_jti`, and `auth_time` in seconds for ids that carry no time)
/// happened before the user's last global sign-out, which revokes all its tokens.
pub fn signed_in_before_sign_out(origin_jti: &str, auth_time: i64, signed_out_at_ms: u64) -> bool {
    if signed_out_at_ms == 0 {
        return false;
    }
    let started_ms = match uuid::Uuid::parse_str(origin_jti) {
        Ok(u) if u.get_version_num() == 7 => u.get_timestamp().map(|t| {
            let (secs, nanos) = t.to_unix();
            secs * 1000 + u64::from(nanos) / 1_000_000
        }),
        _ => None,
    };
    match started_ms {
        Some(ms) => ms <= signed_out_at_ms,
        // Older ids are random: the sign-in's second is all there is; a sign-in in the same
        // second as the sign-out counts as earlier (revoking too much, never too little).
        None => auth_time.saturating_mul(1000) <= signed_out_at_ms as i64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> RefreshClaims {
        RefreshClaims {
            pool_id: "us-east-1_abc".into(),
            client_id: "client".into(),
            username_key: "alice".into(),
            origin_jti: new_origin_jti(1_700_000_000.5, 0),
            auth_time: 1_700_000_000,
            expires_at: 1_702_592_000.0,
        }
    }

    #[test]
    fn seals_and_opens_and_looks_like_cognitos() {
        let k = SigningKey::generate();
        let c = claims();
        let t = seal(&k, &c);
        assert_eq!(t.split('.').count(), 5);
        assert!(t.starts_with("eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoi"));
        assert!(t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)));
        assert_eq!(open(&k, &t), Some(c.clone()));
        // A fresh IV every time: the same claims never give the same token.
        assert_ne!(seal(&k, &c), t);
        // Nothing readable inside.
        assert!(!t.contains("alice") && !t.contains("YWxpY2"));
    }

    #[test]
    fn refuses_other_keys_tampering_and_garbage() {
        let (k, other) = (SigningKey::generate(), SigningKey::generate());
        let t = seal(&k, &claims());
        assert_eq!(open(&other, &t), None);
        let parts: Vec<&str> = t.split('.').collect();
        for i in [0, 2, 3, 4] {
            let mut p = parts.clone();
            let flipped = if p[i].starts_with('A') { "B" } else { "A" }.to_string() + &p[i][1..];
            p[i] = &flipped;
            assert_eq!(open(&k, &p.join(".")), None, "part {i} altered");
        }
        for bad in [
            "",
            "....",
            "a.b.c.d.e",
            &t[..t.len() - 2],
            &format!("{t}.x"),
            "cmfa_rt_abc",
        ] {
            assert_eq!(open(&k, bad), None, "{bad:?}");
        }
        assert_eq!(open(&k, &"A".repeat(MAX_LEN + 1)), None);
    }

    #[test]
    fn origin_ids_order_sign_ins_around_a_sign_out() {
        let now = 1_700_000_000.250;
        let before = new_origin_jti(now, 0);
        let out_ms = 1_700_000_000_250;
        assert!(signed_in_before_sign_out(&before, 1_700_000_000, out_ms));
        // Same millisecond as the sign-out, but issued after it was seen: later.
        let after = new_origin_jti(now, out_ms);
        assert!(!signed_in_before_sign_out(&after, 1_700_000_000, out_ms));
        assert!(!signed_in_before_sign_out(
            &new_origin_jti(now + 1.0, out_ms),
            0,
            out_ms
        ));
        // Never signed out.
        assert!(!signed_in_before_sign_out(&before, 1_700_000_000, 0));
        // Random (v4) ids fall back to auth_time seconds.
        let v4 = uuid::Uuid::new_v4().to_string();
        assert!(signed_in_before_sign_out(&v4, 1_700_000_000, out_ms));
        assert!(!signed_in_before_sign_out(&v4, 1_700_000_001, out_ms));
    }
}
