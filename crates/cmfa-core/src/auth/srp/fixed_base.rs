//! `g^e mod N` for the group's fixed generator, from a table built once.
//!
//! Every exponent with base `g` is a 256-bit secret (`x` when a password is set, `b` when a
//! sign-in starts). Generic square-and-multiply spends 256 squarings and a window multiplication
//! every few bits on each one. Because the base never changes, the squarings can be done once:
//! the table holds `g^(d · 16^i)` for each of the exponent's 64 four-bit digits `i` and each digit
//! value `d`, and `g^e` is then the product of one entry per digit, 64 multiplications in all
//! (Brickell–Gordon–McCurley–Wilson fixed-base windowing).
//!
//! The exponent is secret, so the lookup must not show which entry was taken: every entry of a
//! row is read and the wanted one kept with a constant-time select, and the multiplication count
//! does not depend on the digits (a zero digit multiplies by one).
//!
//! Size: 64 rows × 16 entries × 384 bytes = 384 KiB, built lazily in about a thousand
//! multiplications.

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{Choice, CtAssign, U256, U3072};

type Monty = FixedMontyForm<{ U3072::LIMBS }>;

/// Exponent bits per table row.
const DIGIT_BITS: usize = 4;
/// Entries per row: every value one digit can take.
const ENTRIES: usize = 1 << DIGIT_BITS;
/// Rows: the digits of a 256-bit exponent.
const ROWS: usize = 256 / DIGIT_BITS;

pub(super) struct FixedBase {
    params: FixedMontyParams<{ U3072::LIMBS }>,
    /// `rows[i][d]` is `base^(d · 16^i)` in Montgomery form.
    rows: Vec<[U3072; ENTRIES]>,
}

impl FixedBase {
    pub(super) fn new(base: &Monty) -> FixedBase {
        let params = *base.params();
        let mut rows = Vec::with_capacity(ROWS);
        // base^(16^i) for the current row
        let mut step = *base;
        for _ in 0..ROWS {
            let mut row = [U3072::ZERO; ENTRIES];
            let mut power = Monty::one(&params);
            for entry in row.iter_mut() {
                *entry = power.to_montgomery();
                power = power.mul(&step);
            }
            rows.push(row);
            // after ENTRIES multiplications, power = step^16: the next row's step
            step = power;
        }
        FixedBase { params, rows }
    }

    /// `base^e`, in time and memory accesses that do not depend on `e`.
    pub(super) fn pow(&self, e: &U256) -> Monty {
        let le = e.to_le_bytes();
        let mut acc = Monty::one(&self.params);
        for (i, row) in self.rows.iter().enumerate() {
            let digit = (le[i / 2] >> ((i % 2) * DIGIT_BITS)) & (ENTRIES as u8 - 1);
            let mut pick = U3072::ZERO;
            for (d, entry) in row.iter().enumerate() {
                pick.ct_assign(entry, Choice::from_u8_eq(d as u8, digit));
            }
            acc = acc.mul(&Monty::from_montgomery(pick, &self.params));
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    fn group() -> (FixedMontyParams<{ U3072::LIMBS }>, Monty) {
        let params = FixedMontyParams::new_vartime(super::super::N);
        (params, Monty::new(&U3072::from_u8(super::super::G), &params))
    }

    #[test]
    fn agrees_with_square_and_multiply() {
        let (_, g) = group();
        let table = FixedBase::new(&g);
        let mut rng = rand::rng();
        let mut exponents = vec![U256::ZERO, U256::ONE, U256::from_u8(15), U256::from_u8(16), U256::MAX];
        exponents.extend((0..20).map(|_| {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            U256::from_be_slice(&bytes)
        }));
        for e in exponents {
            assert_eq!(table.pow(&e).retrieve(), g.pow(&e).retrieve(), "exponent {e}");
        }
    }

    #[test]
    fn works_for_any_base_of_the_modulus() {
        // Nothing in the table is specific to g = 2.
        let (params, _) = group();
        let base = Monty::new(&U3072::from_u64(0x1234_5678_9abc_def1), &params);
        let table = FixedBase::new(&base);
        let e = U256::from_be_hex("8000000000000000000000000000000000000000000000000000000000000001");
        assert_eq!(table.pow(&e).retrieve(), base.pow(&e).retrieve());
    }
}
