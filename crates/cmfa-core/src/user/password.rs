//! Passwords: the pool's policy with AWS's messages, and Argon2id hashing.
//!
//! A password is stored twice over, never in the clear: an Argon2id hash for password sign-in
//! and the SRP verifier that `USER_SRP_AUTH` needs. Both are computed when it is set.

use crate::auth::srp::{self, PasswordVerifier};
use crate::error::{DomainError, Result};
use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use cmfa_wire::shapes::PasswordPolicyType;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

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

fn params(cost: HashCost) -> Params {
    match cost {
        HashCost::Default => Params::new(19 * 1024, 2, 1, None),
        HashCost::Fast => Params::new(8, 1, 1, None),
    }
    .expect("valid Argon2 parameters")
}

thread_local! {
    /// This thread's Argon2 working memory, kept between hashes. Allocating 19 MiB afresh for each
    /// hash made the allocator keep several of them per thread (peak RSS over 200 MB under a burst
    /// of sign-ins); kept, a thread holds exactly one, and hashes skip the page faults too.
    static BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 of `password` and `salt` with `argon2`'s parameters into `out`, in this thread's memory.
fn argon2_into(argon2: &Argon2<'_>, params: &Params, password: &[u8], salt: &[u8], out: &mut [u8]) -> Result<()> {
    BLOCKS.with(|cell| {
        let mut blocks = cell.borrow_mut();
        let n = params.block_count();
        if blocks.len() < n {
            blocks.resize(n, Block::default());
        }
        argon2
            .hash_password_into_with_memory(password, salt, out, &mut blocks[..n])
            .map_err(|e| DomainError::Internal(format!("password hashing failed: {e}")))
    })
}

/// A new Argon2id hash of `password` at `cost`, in PHC string form (it carries its salt and
/// parameters).
fn hash_new(cost: HashCost, password: &[u8]) -> Result<String> {
    let params = params(cost);
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut salt = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut salt);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon2, &params, password, &salt, &mut out)?;
    let phc = |e: argon2::password_hash::phc::Error| DomainError::Internal(format!("password hash encoding: {e}"));
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|e| DomainError::Internal(format!("Argon2 parameters: {e}")))?,
        salt: Some(Salt::new(&salt).map_err(phc)?),
        hash: Some(Output::new(&out).map_err(phc)?),
    };
    Ok(hash.to_string())
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
        let hash = hash_new(cost, password.as_bytes())?;
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

/// Whether `password` matches an Argon2id hash in PHC form, in constant time (`Output`'s own
/// comparison).
pub fn hash_matches(hash: &str, password: &str) -> bool {
    let Ok(h) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&h.salt, &h.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(h.algorithm.as_str()), Params::try_from(&h)) else {
        return false;
    };
    let version = h.version.map(Version::try_from).transpose();
    let Ok(version) = version.map(Option::unwrap_or_default) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    if argon2_into(&argon2, &params, password.as_bytes(), salt.as_ref(), &mut out).is_err() {
        return false;
    }
    Output::new(&out).is_ok_and(|computed| &computed == expected)
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
        hash_new(cost, &random).unwrap_or_default()
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

/// A temporary password that satisfies the policy (AdminCreateUser without one).
pub fn temporary_password(policy: &PasswordPolicyType) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let len = (policy.minimum_length.unwrap_or(8).max(12)) as usize;
    let sets: [&[u8]; 4] = [
        b"abcdefghijkmnopqrstuvwxyz",
        b"ABCDEFGHJKLMNPQRSTUVWXYZ",
        b"23456789",
        b"^$*.[]{}()?!@#%&",
    ];
    let mut out: Vec<u8> = sets.iter().map(|s| s[rng.random_range(0..s.len())]).collect();
    while out.len() < len {
        let s = sets[rng.random_range(0..2)];
        out.push(s[rng.random_range(0..s.len())]);
    }
    String::from_utf8(out).unwrap_or_default()
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

    #[test]
    fn hashes_are_the_argon2_crates_phc_strings_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        // Stored by earlier versions (the crate's own hasher): still verify.
        for cost in [HashCost::Fast, HashCost::Default] {
            let a = Argon2::new(Algorithm::Argon2id, Version::V0x13, params(cost));
            let stored = a.hash_password(b"Secret-123").unwrap().to_string();
            assert!(hash_matches(&stored, "Secret-123"), "{cost:?}");
            assert!(!hash_matches(&stored, "Secret-124"), "{cost:?}");
            // And ours verify with the crate.
            let ours = hash_new(cost, b"Secret-123").unwrap();
            assert!(
                ours.starts_with(if cost == HashCost::Fast {
                    "$argon2id$v=19$m=8,t=1,p=1$"
                } else {
                    "$argon2id$v=19$m=19456,t=2,p=1$"
                }),
                "{ours}"
            );
            let parsed = PasswordHash::new(&ours).unwrap();
            assert!(Argon2::default().verify_password(b"Secret-123", &parsed).is_ok());
            assert!(Argon2::default().verify_password(b"Secret-124", &parsed).is_err());
        }
        // Two hashes of one password differ (fresh salt); junk never matches.
        assert_ne!(
            hash_new(HashCost::Fast, b"x").unwrap(),
            hash_new(HashCost::Fast, b"x").unwrap()
        );
        for junk in ["", "$argon2id$", "not a hash", "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ"] {
            assert!(!hash_matches(junk, "x"), "{junk}");
        }
    }

    #[test]
    fn a_thread_keeps_one_working_memory_of_the_largest_cost_it_used() {
        std::thread::spawn(|| {
            hash_new(HashCost::Default, b"a").unwrap();
            hash_new(HashCost::Fast, b"b").unwrap();
            assert_eq!(
                BLOCKS.with(|b| b.borrow().len()),
                params(HashCost::Default).block_count()
            );
        })
        .join()
        .unwrap();
    }
}
