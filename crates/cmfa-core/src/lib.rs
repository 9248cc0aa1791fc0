#![forbid(unsafe_code)]
//! Every rule and all state of cognito-mfa, free of HTTP and SQL.
//!
//! - [`Service`]: the operations, one method each, taking and returning wire shapes. The HTTP
//!   server and the CLI both call these.
//! - [`store`]: the storage port the adapters implement; one method per unit of work.
//! - [`group`]: user pool groups and the group claims of tokens.
//! - [`pool`]: user pools, their defaults and their MFA configuration rules.
//! - [`clock`]: time as an input, so expiry and TOTP checks are testable.
//! - [`error`]: [`DomainError`], the only error an operation returns.

pub mod auth;
pub mod client;
pub mod clock;
pub mod compute;
pub mod ct;
pub mod error;
pub mod group;
pub mod ids;
pub mod messages;
pub mod mfa;
pub mod ops;
pub mod outbound;
pub mod pool;
pub mod settings;
pub mod signin;
pub mod store;
pub mod user;
pub mod webauthn;

pub use clock::{Clock, SystemClock};
pub use error::{DomainError, Result};
pub use ops::{Caller, Service};
pub use settings::CoreSettings;
pub use store::{Store, StoreError};
