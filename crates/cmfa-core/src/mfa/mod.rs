//! Second factors: TOTP (RFC 6238) and, with the sign-in engine, SMS and email codes.

pub mod policy;
pub mod totp;
