//! TOTP as Cognito does it (RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, ±1 step of skew),
//! made strictly safer: a time step that has been used can never be used again for that user,
//! and codes are compared in constant time.

use hmac::{Hmac, Mac, digest::KeyInit};
use rand::RngCore;
use sha1::Sha1;

/// Seconds per time step.
pub const STEP_SECS: u64 = 30;
/// Bytes of secret (AWS's SecretCode is 52 Base32 characters: 32 bytes).
pub const SECRET_BYTES: usize = 32;

/// Why a code was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpError {
    /// No step in the window gives this code.
    Mismatch,
    /// The code is right but its step was already used (a replay).
    Replayed,
}

/// A fresh random secret.
pub fn new_secret() -> [u8; SECRET_BYTES] {
    let mut s = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut s);
    s
}

/// RFC 4648 Base32, upper case, no padding: the form authenticator apps take.
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The 6-digit code for one time step (RFC 4226 HOTP over the step counter).
pub fn code_at(secret: &[u8], step: u64) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[offset] & 0x7f, h[offset + 1], h[offset + 2], h[offset + 3]]);
    format!("{:06}", bin % 1_000_000)
}

/// Checks `code` at `now` (Unix seconds) against the steps now-1, now, now+1. Every step of the
/// window is compared (no early exit), so timing does not say which step matched. Steps at or
/// below `last_used` are refused as replays. Returns the matched step, to be stored as the new
/// `last_used`.
pub fn check(secret: &[u8], code: &str, now: f64, last_used: Option<u64>) -> Result<u64, TotpError> {
    let current = (now.max(0.0) as u64) / STEP_SECS;
    let mut matched = None;
    for step in current.saturating_sub(1)..=current + 1 {
        if crate::ct::eq(code_at(secret, step).as_bytes(), code.as_bytes()) && matched.is_none() {
            matched = Some(step);
        }
    }
    match matched {
        None => Err(TotpError::Mismatch),
        Some(step) if last_used.is_some_and(|l| step <= l) => Err(TotpError::Replayed),
        Some(step) => Ok(step),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA-1 secret "12345678901234567890", last 6 digits.
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59u64, "287082"),
            (1111111109, "081804"),
            (1111111111, "050471"),
            (1234567890, "005924"),
            (2000000000, "279037"),
        ] {
            assert_eq!(code_at(secret, t / STEP_SECS), code, "t={t}");
        }
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(&[0u8; 32]).len(), 52);
    }

    #[test]
    fn window_and_replay() {
        let s = new_secret();
        let now = 1_700_000_000.0;
        let step = 1_700_000_000 / STEP_SECS;
        let code = code_at(&s, step);
        assert_eq!(check(&s, &code, now, None), Ok(step));
        assert_eq!(check(&s, &code, now, Some(step)), Err(TotpError::Replayed));
        // One step of skew either way is accepted; two are not.
        assert_eq!(check(&s, &code_at(&s, step - 1), now, None), Ok(step - 1));
        assert_eq!(check(&s, &code_at(&s, step + 1), now, None), Ok(step + 1));
        assert_eq!(check(&s, &code_at(&s, step - 2), now, None), Err(TotpError::Mismatch));
        assert_eq!(check(&s, "12345", now, None), Err(TotpError::Mismatch));
        // A code from an older step than the last used is refused even inside the window.
        assert_eq!(
            check(&s, &code_at(&s, step - 1), now, Some(step)),
            Err(TotpError::Replayed)
        );
    }
}
