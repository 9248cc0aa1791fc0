//! Passwords: the pool's policy with AWS's messages, and Argon2id hashing.
//!
//! A password is stored twice over, never in the clear: an Argon2id hash for password sign-in
//! and the SRP verifier that `USER_SRP_AUTH` needs. Both are computed when it is set.

use crate::auth::srp::{self, PasswordVerifier};
use crate::error::{DomainError, Result};
use argon2::password_hash::{PasswordHasher, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use cmfa_wire::shapes::PasswordPolicyType;
use serde::{Deserialize, Serialize};

/// How expensive the Argon2id hash is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HashCost {
    /// OWASP's recommendation: 19 MiB, 2 passes.
    #[default]
    Default,
    /// 8 KiB (Argon2's minimum), 1 pass: for test suites and benchmarks only; never for real users.
    Fast,
}

fn hasher(cost: HashCost) -> Argon2<'static> {
    let params = match cost {
        HashCost::Default => Params::new(19 * 1024, 2, 1, None),
        HashCost::Fast => Params::new(8, 1, 1, None),
    }
    .expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// What is stored for a user's password.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct PasswordRecord {
    /// Argon2id in PHC string form (carries its own salt and parameters).
    pub hash: String,
    /// The SRP salt and verifier.
    pub srp: PasswordVerifier,
    /// Set by an administrator and to be changed at next sign-in.
    pub temporary: bool,
    /// When it was set (temporary passwords expire).
    pub set_at: f64,
}

impl std::fmt::Debug for PasswordRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRecord")
            .field("temporary", &self.temporary)
            .finish_non_exhaustive()
    }
}

impl PasswordRecord {
    /// Hashes `password` for the user `user_id` (the SRP user id) of `pool_id`.
    pub fn new(
        pool_id: &str,
        user_id: &str,
        password: &str,
        temporary: bool,
        now: f64,
        cost: HashCost,
    ) -> Result<Self> {
        let hash = hasher(cost)
            .hash_password(password.as_bytes())
            .map_err(|e| DomainError::Internal(format!("password hashing failed: {e}")))?
            .to_string();
        Ok(PasswordRecord {
            hash,
            srp: srp::make_verifier(pool_id, user_id, password),
            temporary,
            set_at: now,
        })
    }

    /// Whether `password` matches, in constant time (Argon2's own comparison).
    pub fn matches(&self, password: &str) -> bool {
        hash_matches(&self.hash, password)
    }
}

/// Whether `password` matches an Argon2id hash in PHC form, in constant time.
pub fn hash_matches(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(h) => Argon2::default().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// A hash of no one's password at `cost`, made once: checking a password against it costs what
/// checking a real user's costs.
pub fn decoy_hash(cost: HashCost) -> &'static str {
    static DEFAULT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static FAST: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let cell = match cost {
        HashCost::Default => &DEFAULT,
        HashCost::Fast => &FAST,
    };
    cell.get_or_init(|| {
        let mut random = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rng(), &mut random);
        hasher(cost)
            .hash_password(&random)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

const PREFIX: &str = "Password did not conform with policy: ";

/// Symbols Cognito counts as special characters.
const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";

/// Checks a password against the pool's policy, with AWS's `InvalidPasswordException` texts.
pub fn check_policy(policy: &PasswordPolicyType, password: &str) -> Result<()> {
    let fail = |m: &str| Err(DomainError::InvalidPassword(format!("{PREFIX}{m}")));
    let min = policy.minimum_length.unwrap_or(8).max(6) as usize;
    if password.chars().count() < min {
        return fail("Password not long enough");
    }
    if policy.require_lowercase.unwrap_or(false) && !password.chars().any(|c| c.is_lowercase()) {
        return fail("Password must have lowercase characters");
    }
    if policy.require_uppercase.unwrap_or(false) && !password.chars().any(|c| c.is_uppercase()) {
        return fail("Password must have uppercase characters");
    }
    if policy.require_numbers.unwrap_or(false) && !password.chars().any(|c| c.is_ascii_digit()) {
        return fail("Password must have numeric characters");
    }
    if policy.require_symbols.unwrap_or(false) && !password.chars().any(|c| SYMBOLS.contains(c)) {
        return fail("Password must have symbol characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> PasswordPolicyType {
        PasswordPolicyType {
            minimum_length: Some(8),
            require_uppercase: Some(true),
            require_lowercase: Some(true),
            require_numbers: Some(true),
            require_symbols: Some(true),
            ..Default::default()
        }
    }

    #[test]
    fn policy_messages_are_aws_texts() {
        let msg = |p: &str| match check_policy(&strict(), p) {
            Err(DomainError::InvalidPassword(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            msg("Ab1!"),
            "Password did not conform with policy: Password not long enough"
        );
        assert_eq!(
            msg("ABCDEFG1!"),
            "Password did not conform with policy: Password must have lowercase characters"
        );
        assert_eq!(
            msg("abcdefg1!"),
            "Password did not conform with policy: Password must have uppercase characters"
        );
        assert_eq!(
            msg("Abcdefgh!"),
            "Password did not conform with policy: Password must have numeric characters"
        );
        assert_eq!(
            msg("Abcdefgh1"),
            "Password did not conform with policy: Password must have symbol characters"
        );
        check_policy(&strict(), "Abcdefg1!").unwrap();
    }

    #[test]
    fn hashes_verify_and_never_print() {
        let r = PasswordRecord::new("us-east-1_abc", "alice", "Secret-123", false, 1.0, HashCost::Fast).unwrap();
        assert!(r.hash.starts_with("$argon2id$"));
        assert!(r.matches("Secret-123"));
        assert!(!r.matches("Secret-124"));
        assert!(!format!("{r:?}").contains("argon2"));
    }
}
