//! Sign-in: the cryptography (SRP, tokens, password hashing) and, later, the challenge engine.

pub mod issue;
pub mod refresh;
pub mod session;
pub mod srp;
pub mod tokens;
