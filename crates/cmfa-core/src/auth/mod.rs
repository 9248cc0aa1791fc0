//! Sign-in: the cryptography (SRP, tokens, password hashing) and, later, the challenge engine.

pub mod srp;
pub mod tokens;
