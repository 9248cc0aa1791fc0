//! Cognito's SRP-6a variant (`USER_SRP_AUTH` → `PASSWORD_VERIFIER`): password verifiers, the
//! server's ephemeral `SRP_B`, and the check of the client's `PASSWORD_CLAIM_SIGNATURE`.
//!
//! Pure math: no I/O, no storage, no clock (the caller passes "now"). Randomness comes from
//! `rand::rng()` only where a fresh salt or ephemeral is made.
//!
//! Every encoding choice below follows what the deployed clients compute
//! (amazon-cognito-identity-js `AuthenticationHelper`, Amplify, pycognito, the `aws-cognito-srp`
//! crate), because the server has to agree with them byte for byte:
//! - group: the 3072-bit MODP prime of RFC 3526 / RFC 5054 with `g = 2`, hash SHA-256;
//! - numbers enter hashes in Cognito's "padHex" form (see [`pad_bytes`]);
//! - `k = H(pad(N) || pad(g))`, `x = H(pad(salt) || H(pool_name || user_id || ":" || password))`,
//!   `u = H(pad(A) || pad(B))`;
//! - the session key is 16 bytes of HKDF-SHA256 over `pad(S)`, salted with `pad(u)`, with the
//!   info string `"Caldera Derived Key"`;
//! - the proof is `HMAC-SHA256(key, pool_name || user_id || secret_block || TIMESTAMP)`.
//!
//! Cost: all exponents are 256-bit (x, b and u are SHA-256 sized), so setting a password is one
//! modular exponentiation, [`start`] is one and [`verify`] is two; the two with base `g` use a
//! precomputed table (see [`fixed_base`]) and cost about a fifth of the others. The arithmetic is
//! `crypto-bigint`'s fixed-width, constant-time Montgomery form, which keeps the secret `b` and the
//! verifier `v` out of timing and is also faster here than a heap-allocated bignum.

use std::fmt;
use std::sync::LazyLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Odd, U256, U3072, Uint};
use fixed_base::FixedBase;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How far a client's `TIMESTAMP` may be from the server's clock, either way, in seconds.
///
/// Cognito's own window is not documented. The timestamp only proves freshness: the signature is
/// already bound to a one-time `B` and a secret block that the auth session expires within
/// minutes, so the window only needs to absorb honest clock skew. Five minutes is the common
/// allowance for signed requests (SigV4 uses the same).
pub const TIMESTAMP_SKEW_SECS: i64 = 5 * 60;

/// The RFC 3526 §4 / RFC 5054 Appendix A 3072-bit safe prime, as every Cognito client hard-codes it.
const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);
const N: Odd<U3072> = Odd::<U3072>::from_be_hex(N_HEX);
const G: u8 = 2;

/// HKDF `info` that Cognito clients use (the name is AWS's, kept verbatim).
const DERIVED_KEY_INFO: &[u8] = b"Caldera Derived Key";
/// Length of the derived HMAC key; clients keep only the first 16 bytes of the HKDF output.
const DERIVED_KEY_LEN: usize = 16;
/// The clients' salt size (`randomBytes(16)` in amazon-cognito-identity-js).
const SALT_LEN: usize = 16;
/// Bytes in the server secret `b`. 256 bits matches the security of the 3072-bit group.
const B_SECRET_LEN: usize = 32;
/// Longest hex string accepted for any number. A value below `N` needs 768 digits; the slack
/// allows harmless leading zeros while keeping a hostile `SRP_A` from costing real work to parse.
const MAX_HEX_DIGITS: usize = 1024;

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

type Monty = FixedMontyForm<{ U3072::LIMBS }>;
type HmacSha256 = Hmac<Sha256>;

/// The group in Montgomery form, built once: `k` needs a hash, so it cannot be a `const`.
struct Group {
    params: FixedMontyParams<{ U3072::LIMBS }>,
    /// Powers of `g`, so `g^x` and `g^b` skip the squarings (see [`fixed_base`]).
    g: FixedBase,
    k: Monty,
}

static GROUP: LazyLock<Group> = LazyLock::new(|| {
    let params = FixedMontyParams::new_vartime(N);
    let k_hash = Sha256::new()
        .chain_update(pad_bytes(N.as_ref().to_be_bytes().as_slice()))
        .chain_update(pad_bytes(&[G]))
        .finalize();
    Group {
        params,
        g: FixedBase::new(&Monty::new(&U3072::from_u8(G), &params)),
        k: Monty::new(&U256::from_be_slice(&k_hash).resize(), &params),
    }
});

/// What is stored per user when a password is set (never the password).
///
/// Both fields are lowercase hex in Cognito's padHex form, so `salt_hex` can go out as the
/// challenge's `SALT` unchanged and every client decodes it to the same bytes. The verifier is
/// password-equivalent for an offline guessing attack, so `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordVerifier {
    pub salt_hex: String,
    pub verifier_hex: String,
}

impl fmt::Debug for PasswordVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordVerifier")
            .field("salt_hex", &self.salt_hex)
            .field("verifier_hex", &"<redacted>")
            .finish()
    }
}

/// The server's ephemeral for one sign-in; persisted in the auth session between the two calls.
///
/// `big_b_hex` is the challenge's `SRP_B` (padHex form). `b_hex` is the secret exponent: anyone
/// holding it and the verifier can finish the sign-in, so `Debug` leaves it out and it must never
/// leave the server.
#[derive(Clone, Serialize, Deserialize)]
pub struct ServerEphemeral {
    pub b_hex: String,
    pub big_b_hex: String,
}

impl fmt::Debug for ServerEphemeral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerEphemeral")
            .field("b_hex", &"<redacted>")
            .field("big_b_hex", &self.big_b_hex)
            .finish()
    }
}

/// Why a `PASSWORD_VERIFIER` answer was refused. Messages name fields, never values.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SrpError {
    /// `SRP_A` is 0 or not below `N` (SRP-6a's mandatory abort), or yields `u = 0`.
    #[error("SRP_A is not an acceptable public value")]
    BadA,
    /// `TIMESTAMP` parsed but lies outside [`TIMESTAMP_SKEW_SECS`] of the server clock.
    #[error("TIMESTAMP is outside the accepted window")]
    BadTimestamp,
    /// The proof does not match: wrong password, wrong user, or tampered inputs.
    #[error("password claim signature does not match")]
    BadSignature,
    /// An input (from the client, or the stored verifier/ephemeral) cannot be decoded.
    #[error("malformed SRP input: {0}")]
    Malformed(String),
}

/// Builds the verifier stored for `user_id` (Cognito's `USER_ID_FOR_SRP`, the internal username)
/// when a password is set. The salt is fresh, so setting the same password again yields a new one.
pub fn make_verifier(pool_id: &str, user_id: &str, password: &str) -> PasswordVerifier {
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill_bytes(&mut salt);
    verifier_with_salt(pool_id, user_id, password, &salt)
}

/// The deterministic half of [`make_verifier`], split out so tests can pin the salt.
fn verifier_with_salt(pool_id: &str, user_id: &str, password: &str, salt: &[u8]) -> PasswordVerifier {
    // The clients hash the *padded* salt, so store exactly those bytes: then SALT decodes to the
    // same bytes whether a client parses it as a number (JS) or as raw hex (Rust, Python).
    let salt = pad_bytes(salt);
    let x = private_key(pool_id, user_id, password, &salt);
    let v = GROUP.g.pow(&x).retrieve();
    PasswordVerifier {
        salt_hex: hex::encode(salt),
        verifier_hex: hex::encode(pad_uint(&v)),
    }
}

/// `x = H(pad(salt) || H(pool_name || user_id || ":" || password))`.
fn private_key(pool_id: &str, user_id: &str, password: &str, padded_salt: &[u8]) -> U256 {
    let identity = Sha256::new()
        .chain_update(pool_name(pool_id))
        .chain_update(user_id)
        .chain_update(b":")
        .chain_update(password)
        .finalize();
    let x = Sha256::new()
        .chain_update(padded_salt)
        .chain_update(identity)
        .finalize();
    U256::from_be_slice(&x)
}

/// Draws `b` and computes `B = k·v + g^b mod N` for one sign-in attempt.
///
/// This has no error path on purpose: a corrupt stored verifier still yields a well-formed `B`
/// (computed with `v = 0`), the client's answer is then refused by [`verify`] as `Malformed`, and
/// the caller's flow looks the same as for any failed sign-in.
pub fn start(v: &PasswordVerifier) -> ServerEphemeral {
    let group = &*GROUP;
    let v = decode_hex(&v.verifier_hex, "verifier")
        .ok()
        .and_then(|bytes| uint_from_be::<{ U3072::LIMBS }>(&bytes))
        .filter(|v| v < N.as_ref())
        .unwrap_or(U3072::ZERO);
    let kv = group.k.mul(&Monty::new(&v, &group.params));
    loop {
        let mut b = [0u8; B_SECRET_LEN];
        rand::rng().fill_bytes(&mut b);
        let b_uint = U256::from_be_slice(&b);
        if b_uint == U256::ZERO {
            continue;
        }
        let big_b = kv.add(&group.g.pow(&b_uint)).retrieve();
        // SRP-6a: the client aborts on B mod N == 0; B is already reduced, so that is B == 0.
        if big_b == U3072::ZERO {
            continue;
        }
        return ServerEphemeral {
            b_hex: hex::encode(b),
            big_b_hex: hex::encode(pad_uint(&big_b)),
        };
    }
}

/// Checks the client's `PASSWORD_VERIFIER` answer against the stored verifier and this attempt's
/// ephemeral.
///
/// Cheap checks (decoding, `A`'s range, the timestamp window) run before any exponentiation, so a
/// junk request costs no big-number work. `now_unix` bounds `TIMESTAMP` to
/// ±[`TIMESTAMP_SKEW_SECS`]; the timestamp string itself is signed verbatim, as the client wrote
/// it. The signature is compared in constant time. The caller still has to check that
/// `secret_block_b64` is the block it issued for this session: this function only proves the
/// client signed it.
#[allow(clippy::too_many_arguments)] // the names are the challenge's fields; a struct adds nothing
pub fn verify(
    pool_id: &str,
    user_id: &str,
    v: &PasswordVerifier,
    e: &ServerEphemeral,
    srp_a_hex: &str,
    secret_block_b64: &str,
    timestamp: &str,
    signature_b64: &str,
    now_unix: i64,
) -> Result<(), SrpError> {
    let group = &*GROUP;

    // Stored state first: a failure there is ours, not the client's.
    let verifier = decode_hex(&v.verifier_hex, "stored verifier")?;
    let verifier = uint_from_be::<{ U3072::LIMBS }>(&verifier)
        .filter(|v| v < N.as_ref())
        .ok_or_else(|| malformed("stored verifier is out of range"))?;
    let b = decode_hex(&e.b_hex, "stored ephemeral b")?;
    let b = uint_from_be::<{ U256::LIMBS }>(&b).ok_or_else(|| malformed("stored ephemeral b is too large"))?;
    let big_b = decode_hex(&e.big_b_hex, "stored ephemeral B")?;
    let big_b = uint_from_be::<{ U3072::LIMBS }>(&big_b).ok_or_else(|| malformed("stored ephemeral B is too large"))?;

    // Then the client's fields.
    let a = decode_hex(srp_a_hex, "SRP_A")?;
    let secret_block = BASE64
        .decode(secret_block_b64)
        .map_err(|_| malformed("PASSWORD_CLAIM_SECRET_BLOCK is not base64"))?;
    let signature = BASE64
        .decode(signature_b64)
        .map_err(|_| malformed("PASSWORD_CLAIM_SIGNATURE is not base64"))?;
    let sent_at = parse_timestamp(timestamp).ok_or_else(|| malformed("TIMESTAMP is not in Cognito's format"))?;

    // SRP-6a requires refusing A ≡ 0 (mod N); no honest client sends A ≥ N either, so the check
    // is simply 0 < A < N. A value too wide for 3072 bits is ≥ N as well.
    let a = uint_from_be::<{ U3072::LIMBS }>(&a)
        .filter(|a| *a != U3072::ZERO && a < N.as_ref())
        .ok_or(SrpError::BadA)?;

    let fresh = now_unix
        .checked_sub(sent_at)
        .is_some_and(|d| d.unsigned_abs() <= TIMESTAMP_SKEW_SECS.unsigned_abs());
    if !fresh {
        return Err(SrpError::BadTimestamp);
    }

    let u_hash = Sha256::new()
        .chain_update(pad_uint(&a))
        .chain_update(pad_uint(&big_b))
        .finalize();
    let u = U256::from_be_slice(&u_hash);
    if u == U256::ZERO {
        return Err(SrpError::BadA);
    }

    // S = (A · v^u)^b mod N
    let v_u = Monty::new(&verifier, &group.params).pow(&u);
    let s = Monty::new(&a, &group.params).mul(&v_u).pow(&b).retrieve();

    let mut key = [0u8; DERIVED_KEY_LEN];
    Hkdf::<Sha256>::new(Some(&pad_bytes(&u_hash)), &pad_uint(&s))
        .expand(DERIVED_KEY_INFO, &mut key)
        .map_err(|_| malformed("derived key length"))?;

    let mut mac = HmacSha256::new_from_slice(&key).map_err(|_| malformed("derived key length"))?;
    mac.update(pool_name(pool_id).as_bytes());
    mac.update(user_id.as_bytes());
    mac.update(&secret_block);
    mac.update(timestamp.as_bytes());
    if crate::ct::eq(&mac.finalize().into_bytes(), &signature) {
        Ok(())
    } else {
        Err(SrpError::BadSignature)
    }
}

/// Formats a unix time the way Cognito clients write `TIMESTAMP`:
/// `"Thu Nov 26 05:08:26 UTC 2026"`, English names, day of month without a leading zero,
/// time zero-padded, always UTC.
pub fn format_timestamp(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    // 1970-01-01 (day 0) was a Thursday.
    let weekday = WEEKDAYS[usize::try_from((days + 4).rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    format!(
        "{weekday} {month} {day} {:02}:{:02}:{:02} UTC {year}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Parses a client `TIMESTAMP` to unix seconds.
///
/// Lenient where clients differ and the meaning is still clear: runs of spaces, and one or two
/// digits for day, hour, minute and second (a zero-padded day is accepted). The weekday must be a
/// valid name but is not cross-checked against the date, as a lenient Java date parser would not
/// either; it is signed verbatim anyway. The zone must be `UTC` and the year four digits.
fn parse_timestamp(s: &str) -> Option<i64> {
    let mut fields = s.split(' ').filter(|f| !f.is_empty());
    let (weekday, month, day, time, zone, year) = (
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
        fields.next()?,
    );
    if fields.next().is_some() || !WEEKDAYS.contains(&weekday) || zone != "UTC" {
        return None;
    }
    let month = i64::try_from(MONTHS.iter().position(|m| *m == month)? + 1).ok()?;
    let year = digits(year, 4, 4)?;
    let day = digits(day, 1, 2)?;
    let mut hms = time.split(':');
    let (hour, minute, second) = (
        digits(hms.next()?, 1, 2)?,
        digits(hms.next()?, 1, 2)?,
        digits(hms.next()?, 1, 2)?,
    );
    if hms.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    if day < 1 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// An unsigned decimal of `min..=max` ASCII digits (`str::parse` alone would also take a sign).
fn digits(s: &str, min: usize, max: usize) -> Option<i64> {
    if s.len() < min || s.len() > max || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date, counting in 400-year eras (each exactly
/// 146 097 days) with years starting in March so the leap day falls last.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`]: `(year, month 1..=12, day 1..=31)`.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The part of the pool id after `_` (`us-east-1_AbC123` → `AbC123`), which is what the clients
/// mix into `x` and the proof. An id without `_` is used whole; no client can sign in to it anyway.
fn pool_name(pool_id: &str) -> &str {
    pool_id.split('_').nth(1).unwrap_or(pool_id)
}

/// Cognito's padHex rule on a big-endian magnitude, as bytes.
///
/// The clients turn a number into hex without leading zeros, prefix `0` to an odd-length string,
/// and prefix `00` when the first nibble is 8 or more (so the value never reads as negative); the
/// hash input is the bytes of that hex. Here the same thing is done on bytes: strip leading zero
/// bytes, then prepend one zero byte if the top bit is set. Zero becomes `[0]`.
fn pad_bytes(be: &[u8]) -> Vec<u8> {
    let Some(start) = be.iter().position(|&b| b != 0) else {
        return vec![0];
    };
    let magnitude = &be[start..];
    let mut out = Vec::with_capacity(magnitude.len() + 1);
    if magnitude[0] & 0x80 != 0 {
        out.push(0);
    }
    out.extend_from_slice(magnitude);
    out
}

fn pad_uint(x: &U3072) -> Vec<u8> {
    pad_bytes(x.to_be_bytes().as_slice())
}

/// Decodes hex the way the clients read numbers: either case, odd length allowed (an implied
/// leading `0`). Empty and over-long strings are refused before any allocation of note.
fn decode_hex(s: &str, what: &str) -> Result<Vec<u8>, SrpError> {
    if s.is_empty() || s.len() > MAX_HEX_DIGITS {
        return Err(malformed(&format!("{what} has a bad length")));
    }
    let decoded = if s.len() % 2 == 1 {
        hex::decode(format!("0{s}"))
    } else {
        hex::decode(s)
    };
    decoded.map_err(|_| malformed(&format!("{what} is not hex")))
}

/// A big-endian magnitude as a fixed-width integer, or `None` if it does not fit.
fn uint_from_be<const LIMBS: usize>(be: &[u8]) -> Option<Uint<LIMBS>> {
    let start = be.iter().position(|&b| b != 0).unwrap_or(be.len());
    let magnitude = &be[start..];
    let width = Uint::<LIMBS>::BYTES;
    if magnitude.len() > width {
        return None;
    }
    let mut buf = vec![0u8; width];
    buf[width - magnitude.len()..].copy_from_slice(magnitude);
    Some(Uint::from_be_slice(&buf))
}

fn malformed(what: &str) -> SrpError {
    SrpError::Malformed(what.to_owned())
}

mod fixed_base;

#[cfg(test)]
mod tests;
