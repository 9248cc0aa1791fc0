//! Code generated from botocore's cognito-idp model by `tools/gen_wire.py`; never edited by hand.

pub(crate) mod constraint_tables;
pub(crate) mod errors;
pub(crate) mod operations;
pub mod shapes;
