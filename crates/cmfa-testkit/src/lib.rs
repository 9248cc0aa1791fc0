#![forbid(unsafe_code)]
//! Test helpers: a real cognito-mfa server on a free port, and real AWS SDK clients for it.
//!
//! [`TestServer::start`] builds the same state the binary builds (SQLite in a temp dir, or in
//! memory) and serves it on `127.0.0.1:0` until dropped. [`sdk_client`] returns the official
//! `aws-sdk-cognitoidentityprovider` client pointed at it over plain HTTP.
//!
//! Also: [`http`], a raw HTTP/1.1 client; [`outbox`], the recorded messages and their codes;
//! [`binary`], the real binary as a child process; [`cognito`], SDK building blocks.

pub mod binary;
pub mod cognito;
pub mod document;
pub mod http;
pub mod outbox;

use aws_sdk_cognitoidentityprovider as cip;
use cmfa_core::user::password::HashCost;
use cmfa_core::{Clock, CoreSettings, Service, SystemClock};
use cmfa_server::{AppState, AuthMode};
use cmfa_store::SqliteStore;
use std::sync::Arc;
use tokio::sync::oneshot;

/// A server running inside the test process.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// How to build a [`TestServer`].
#[derive(Clone, Default)]
pub struct Options {
    /// Signature checking for IAM operations.
    pub auth: AuthMode,
    /// A clock to inject (the system clock when `None`).
    pub clock: Option<Arc<dyn Clock>>,
    /// Keep the database in memory instead of a temp dir.
    pub in_memory: bool,
    /// The compute pool's size (the default: one thread per core, 1,024 waiting jobs).
    pub compute: Option<cmfa_core::compute::ComputeSettings>,
    /// Turn the test routes (outbox, faults, reset) off, as `--test-routes false` does.
    pub no_test_routes: bool,
    /// Request-rate quotas, as `--throttle aws` turns on (off when `None`).
    pub throttle: Option<cmfa_server::throttle::ThrottleSettings>,
}

impl TestServer {
    /// Starts a server with default options.
    pub async fn start() -> TestServer {
        Self::start_with(Options::default()).await
    }

    /// Starts a server with these options.
    pub async fn start_with(opts: Options) -> TestServer {
        let (store, dir) = if opts.in_memory {
            (SqliteStore::open_in_memory().expect("in-memory store"), None)
        } else {
            let dir = tempfile::tempdir().expect("temp dir");
            let store = SqliteStore::open_dir(dir.path(), Default::default()).expect("sqlite store");
            (store, Some(dir))
        };
        let clock: Arc<dyn Clock> = opts.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let settings = CoreSettings {
            public_url: url.clone(),
            password_hash: HashCost::Fast,
            compute: opts.compute.unwrap_or_default(),
            ..CoreSettings::default()
        };
        let region: Arc<str> = settings.default_region.clone().into();
        let service = Service::new(Arc::new(store), clock.clone(), settings);
        let state = AppState {
            service,
            auth: opts.auth,
            clock,
            default_region: region,
            edge: Default::default(),
            test_routes: !opts.no_test_routes,
            faults: Default::default(),
            metrics: Default::default(),
            throttle: Arc::new(cmfa_server::throttle::Throttle::new(opts.throttle)),
        };
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = cmfa_server::serve(listener, state, async {
                let _ = rx.await;
            })
            .await;
        });
        TestServer {
            url,
            shutdown: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Stops the server and waits for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The official Rust SDK client for `url`, region us-east-1, dummy credentials, plain HTTP.
pub fn sdk_client(url: &str) -> cip::Client {
    sdk_client_in(url, "us-east-1")
}

/// The official Rust SDK client for `url` in `region`.
pub fn sdk_client_in(url: &str, region: &str) -> cip::Client {
    cip::Client::from_conf(sdk_config(url, region).build())
}

/// [`sdk_client`] that tries each call once: every error the server answers (or a dropped
/// connection) reaches the test instead of being retried away.
pub fn sdk_client_without_retries(url: &str) -> cip::Client {
    let conf = sdk_config(url, "us-east-1")
        .retry_config(cip::config::retry::RetryConfig::disabled())
        .build();
    cip::Client::from_conf(conf)
}

fn sdk_config(url: &str, region: &str) -> cip::config::Builder {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let creds = aws_credential_types::Credentials::new("AKIDTEST", "secret", None, None, "cmfa-testkit");
    cip::Config::builder()
        .behavior_version(cip::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(cip::config::Region::new(region.to_owned()))
        .credentials_provider(creds)
        .http_client(http)
}
