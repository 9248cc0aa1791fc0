//! The one constant-time comparison every secret comparison uses: codes, code hashes, TOTP codes,
//! client secrets, signatures.
//!
//! Built on `subtle` (the RustCrypto crate whose comparisons resist the compiler turning them
//! back into early-exit loops), not hand-written: a hand-rolled fold is only as constant-time
//! as the optimiser leaves it.

use subtle::ConstantTimeEq;

/// Whether `a` and `b` are equal, in time that depends only on their lengths (which are not
/// secret: every code, hash and signature compared here has a public length).
pub fn eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::eq;

    #[test]
    fn equal_only_for_the_same_bytes() {
        assert!(eq(b"", b""));
        assert!(eq(b"123456", b"123456"));
        assert!(!eq(b"123456", b"123457"));
        assert!(!eq(b"123456", b"12345"));
        assert!(!eq(b"\x00", b"\x80"));
    }
}
