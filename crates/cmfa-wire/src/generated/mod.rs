//! Code generated from botocore's cognito-idp model by `tools/gen_wire.py`; never edited by hand.
//! rustfmt leaves it alone so that `gen_wire.py --check` can compare it byte for byte.

#[rustfmt::skip]
pub(crate) mod constraint_tables;
#[rustfmt::skip]
pub(crate) mod errors;
#[rustfmt::skip]
pub(crate) mod operations;
#[rustfmt::skip]
pub mod shapes;
