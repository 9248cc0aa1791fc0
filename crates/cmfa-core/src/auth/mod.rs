//! Sign-in's building blocks: SRP, token signing and claims, sessions, refresh tokens, the
//! access-token check and the pool keys. The challenge engine that uses them is [`crate::signin`].

pub mod access;
pub mod issue;
pub mod keys;
pub mod refresh;
pub mod session;
pub mod srp;
pub mod tokens;
