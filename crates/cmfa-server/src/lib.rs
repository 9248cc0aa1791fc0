#![forbid(unsafe_code)]
//! The HTTP edge of cognito-mfa: AWS JSON 1.1 on `POST /`, and nothing more.
//!
//! - [`app`] builds the router; [`serve`] runs it on a listener until a shutdown future fires.
//! - `dispatch`: `X-Amz-Target` → [`cmfa_wire::Operation`] → caller check → body → validation →
//!   the domain operation → JSON.
//! - `error`: [`ApiError`], the one place a failure becomes `{"__type","message"}` plus headers.
//! - `body`: reading a bounded body, on a deadline, without ever dropping the connection on the
//!   client.
//! - [`listen`]: the accept loop, with header and body deadlines and a connection cap.
//! - [`sigv4`]: opt-in signature verification for IAM operations.
//! - `extra`: JWKS/OpenID discovery per pool, and the project's own routes under
//!   `/_cognito-mfa/` (health, metrics, outbox, faults, reset, the passkey demo page; also moto's `/moto-api/reset`).
//! - [`faults`]: the fault-injection rules dispatch consults before the domain runs.
//! - [`metrics`]: request, sign-in and delivery counters in the Prometheus text format.

mod body;
mod cors;
pub mod dispatch;
mod error;
mod extra;
pub mod faults;
pub mod listen;
pub mod metrics;
pub mod sigv4;
pub mod throttle;

pub use error::ApiError;
pub use faults::Faults;
pub use listen::{DEFAULT_MAX_BODY_BYTES, Edge, serve};
pub use metrics::Metrics;

use axum::Router;
use axum::routing::{delete, get, post};
use cmfa_core::{Clock, Service};
use std::sync::Arc;

/// How IAM operations are authenticated.
#[derive(Clone, Default)]
pub enum AuthMode {
    /// Any credentials (or none) are accepted, as in every local AWS emulator.
    #[default]
    None,
    /// IAM operations need a valid SigV4 signature from one of these keys.
    SigV4(Arc<sigv4::Credentials>),
}

/// What every request handler shares.
#[derive(Clone)]
pub struct AppState {
    pub service: Service,
    pub auth: AuthMode,
    pub clock: Arc<dyn Clock>,
    /// Region for requests that carry no SigV4 credential scope.
    pub default_region: Arc<str>,
    /// Body size, read deadlines and the connection cap.
    pub edge: Edge,
    /// Serve the routes for test suites: recorded messages with their codes
    /// (`/_cognito-mfa/outbox`), fault injection (`/_cognito-mfa/faults`) and the wipes
    /// (`/_cognito-mfa/reset`, `/moto-api/reset`). Off, they answer as unknown routes.
    pub test_routes: bool,
    /// The fault-injection rules in force.
    pub faults: Arc<Faults>,
    /// What `/_cognito-mfa/metrics` shows.
    pub metrics: Arc<Metrics>,
    /// Request-rate quotas (`--throttle aws`; off by default).
    pub throttle: Arc<throttle::Throttle>,
}

/// The router: `POST /` for the API, `OPTIONS /` for CORS preflights, and `/_cognito-mfa/*`.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route(
            "/",
            post(dispatch::handle)
                .options(cors::preflight)
                .fallback(extra::not_found),
        )
        .route("/_cognito-mfa/health", get(extra::health))
        .route(
            "/_cognito-mfa/metrics",
            get(extra::metrics).fallback(extra::wrong_method),
        )
        .route("/_cognito-mfa/outbox", get(extra::outbox))
        .route("/_cognito-mfa/passkeys", get(extra::passkey_demo))
        .route(
            "/_cognito-mfa/faults",
            get(extra::faults_list)
                .post(extra::faults_add)
                .delete(extra::faults_clear)
                .fallback(extra::wrong_method),
        )
        .route(
            "/_cognito-mfa/faults/{id}",
            delete(extra::faults_remove).fallback(extra::wrong_method),
        )
        .route("/_cognito-mfa/reset", post(extra::reset).fallback(extra::wrong_method))
        .route("/moto-api/reset", post(extra::moto_reset).fallback(extra::wrong_method))
        .route("/{pool_id}/.well-known/jwks.json", get(extra::jwks))
        .route(
            "/{pool_id}/.well-known/openid-configuration",
            get(extra::openid_configuration),
        )
        .fallback(extra::not_found)
        .with_state(state)
}
