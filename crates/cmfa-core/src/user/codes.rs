//! One-time codes sent to users: made by a CSPRNG, stored hashed, single use, expiring and
//! attempt-limited, compared in constant time.

use crate::error::{DomainError, Result};
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a code is for; a user holds at most one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodePurpose {
    SignUp,
    ForgotPassword,
    VerifyEmail,
    VerifyPhone,
}

/// A code waiting to be entered. Only its hash is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingCode {
    pub purpose: CodePurpose,
    pub hash: String,
    pub expires_at: f64,
    pub attempts: u32,
}

/// Wrong entries allowed before the code is void (AWS then asks for a new one).
pub const MAX_ATTEMPTS: u32 = 5;
/// Sign-up and reset codes live 24 hours on AWS.
pub const CODE_TTL_SECS: f64 = 24.0 * 3600.0;

pub const MISMATCH: &str = "Invalid verification code provided, please try again.";
pub const EXPIRED: &str = "Invalid code provided, please request a code again.";
pub const LIMIT: &str = "Attempt limit exceeded, please try after some time.";

/// A random numeric code of `digits` digits.
pub fn new_code(digits: u32) -> String {
    let n = rand::rng().random_range(0..10u64.pow(digits));
    format!("{n:0width$}", width = digits as usize)
}

fn hash(pool_id: &str, username: &str, purpose: CodePurpose, code: &str) -> String {
    let mut h = Sha256::new();
    for part in [pool_id, username, &format!("{purpose:?}"), code] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

impl super::User {
    /// Replaces any code for `purpose` with a fresh one and returns it (to be sent, never kept).
    pub fn issue_code(&mut self, purpose: CodePurpose, now: f64) -> String {
        let code = new_code(6);
        self.codes.retain(|c| c.purpose != purpose);
        self.codes.push(PendingCode {
            purpose,
            hash: hash(&self.pool_id, &self.username, purpose, &code),
            expires_at: now + CODE_TTL_SECS,
            attempts: 0,
        });
        code
    }

    /// Checks `code` for `purpose`. A match consumes it; a miss counts an attempt. The caller
    /// must save the user either way (attempts are state).
    pub fn redeem_code(&mut self, purpose: CodePurpose, code: &str, now: f64) -> Result<()> {
        let Some(i) = self.codes.iter().position(|c| c.purpose == purpose) else {
            return Err(DomainError::ExpiredCode(EXPIRED.into()));
        };
        if self.codes[i].expires_at <= now {
            self.codes.remove(i);
            return Err(DomainError::ExpiredCode(EXPIRED.into()));
        }
        if self.codes[i].attempts >= MAX_ATTEMPTS {
            return Err(DomainError::LimitExceeded(LIMIT.into()));
        }
        let want = hash(&self.pool_id, &self.username, purpose, code);
        if crate::ct::eq(want.as_bytes(), self.codes[i].hash.as_bytes()) {
            self.codes.remove(i);
            Ok(())
        } else {
            self.codes[i].attempts += 1;
            Err(DomainError::CodeMismatch(MISMATCH.into()))
        }
    }
}
