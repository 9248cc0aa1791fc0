#![forbid(unsafe_code)]
//! `cognito-mfa`: the composition root. The only place that reads argv, env vars and files;
//! it builds the store, the service and the server, then runs until SIGINT/SIGTERM.

mod admin_http;
mod config;
mod delivery_metrics;
mod faults_cmd;
mod outbox_cmd;
mod process_metrics;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cmfa_core::user::password::HashCost;
use cmfa_core::{CoreSettings, Service, SystemClock};
use cmfa_server::{AppState, AuthMode, Metrics, sigv4};
use cmfa_store::sqlite::Synchronous;
use cmfa_store::{PgStore, SqliteStore};
use config::{Config, HashKind, LogFormat, ServeArgs, SyncKind};
use std::io::Write;
use std::sync::Arc;

/// A Cognito user pools server (cognito-idp, AWS JSON 1.1) with real MFA: SMS, email and TOTP.
///
/// Point any AWS client at it with an endpoint URL, e.g.
/// `aws cognito-idp list-user-pools --max-results 10 --endpoint-url http://127.0.0.1:9330`.
#[derive(Debug, Parser)]
#[command(name = "cognito-mfa", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server. Settings: defaults < --config TOML file < COGNITO_MFA_* env < flags.
    Serve(Box<ServeArgs>),
    /// Print the newest recorded messages (codes included) from a running server's outbox.
    Outbox(outbox_cmd::OutboxArgs),
    /// Add, list or clear a running server's fault-injection rules (errors, latency, dropped
    /// connections for chosen operations), to try a client's retry and error paths.
    Faults(faults_cmd::FaultsArgs),
}

fn init_logging(cfg: &Config) -> anyhow::Result<()> {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&cfg.log).with_context(|| format!("bad log filter {:?}", cfg.log))?;
    // Colours only on a terminal: log files and CI output stay plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match cfg.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

async fn serve(cfg: Config) -> anyhow::Result<()> {
    let auth = match cfg.auth {
        config::AuthKind::None => AuthMode::None,
        config::AuthKind::Sigv4 => {
            let path = cfg
                .credentials_file
                .as_ref()
                .context("--auth sigv4 needs --credentials-file")?;
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let creds = sigv4::Credentials::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            tracing::info!(keys = creds.len(), "SigV4 verification on for IAM operations");
            AuthMode::SigV4(Arc::new(creds))
        }
    };
    let sync = match cfg.sqlite_synchronous {
        SyncKind::Normal => Synchronous::Normal,
        SyncKind::Full => Synchronous::Full,
    };
    let mut metrics = Metrics::default();
    metrics.register_collector(Box::new(process_metrics::Process::new()));
    let metrics = Arc::new(metrics);
    let timed = metrics.clone();
    let timer: cmfa_store::DbTimer = Arc::new(move |call, elapsed| timed.observe_store(call.name(), elapsed));
    // PostgreSQL when a database URL is given (several processes may share it), else SQLite.
    let store: Arc<dyn cmfa_core::Store> = match &cfg.database_url {
        Some(url) => {
            let pg = PgStore::connect(url.expose())
                .await
                .map_err(|e| anyhow::anyhow!("opening the store at {url}: {e}"))?;
            tracing::info!(database = %url, "store: PostgreSQL");
            Arc::new(pg.with_timer(timer))
        }
        None => Arc::new(
            SqliteStore::open_dir(&cfg.data_dir, sync)
                .map_err(|e| anyhow::anyhow!("opening the store: {e}"))?
                .with_timer(timer),
        ),
    };
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("binding {}", cfg.listen))?;
    let addr = listener.local_addr()?;
    let public_url = cfg.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let clock = Arc::new(SystemClock);
    let settings = CoreSettings {
        account_id: cfg.account_id.clone(),
        default_region: cfg.region.clone(),
        public_url: public_url.clone(),
        password_hash: match cfg.password_hash {
            HashKind::Default => HashCost::Default,
            HashKind::Fast => HashCost::Fast,
        },
        compute: Default::default(),
        webauthn_origins: cfg.webauthn_origins.clone(),
    };
    let service = Service::new(store, clock.clone(), settings);
    let transports = delivery_metrics::metered(transports(&cfg), &metrics);
    let counted = metrics.clone();
    let worker = cmfa_delivery::Worker::new(service.outbox_port(), transports, clock.clone())
        .reporting_backlog(Arc::new(move |n| counted.set_delivery_backlog(n)));
    let state = AppState {
        service,
        auth,
        clock,
        default_region: cfg.region.clone().into(),
        edge: cfg.edge.clone(),
        test_routes: cfg.test_routes,
        faults: Default::default(),
        metrics,
        throttle: Arc::new(cmfa_server::throttle::Throttle::new(cfg.throttle.clone())),
    };
    tracing::info!(%addr, %public_url, data_dir = %cfg.data_dir.display(), "listening");
    // Tests and scripts read this line to learn the port when --listen uses port 0.
    let mut out = std::io::stdout().lock();
    writeln!(out, "cognito-mfa listening on http://{addr}")?;
    out.flush()?;
    drop(out);
    // The worker runs beside the server and stops with it: on a signal, or when the server
    // fails (the sender below is dropped with the server's future).
    let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(worker.run(async move {
        let _ = stop_rx.wait_for(|stop| *stop).await;
    }));
    let served = cmfa_server::serve(listener, state, async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    })
    .await;
    if let Err(e) = worker.await {
        tracing::error!(error = %e, "delivery worker failed");
    }
    served?;
    tracing::info!("stopped");
    Ok(())
}

/// The transport for each channel: SMTP and the webhook where configured, the log otherwise
/// (every message is in the outbox either way).
fn transports(cfg: &Config) -> cmfa_delivery::Transports {
    use cmfa_delivery::{SmtpTransport, Transport, WebhookTransport};
    let mut t = cmfa_delivery::Transports::log_only();
    if let Some(smtp) = &cfg.smtp {
        if smtp.username.is_some() && smtp.security == cmfa_delivery::smtp::SmtpSecurity::None {
            tracing::warn!(url = %smtp.display_url(), "SMTP credentials will cross the network unencrypted; use smtps:// or ?starttls=true");
        }
        tracing::info!(url = %smtp.display_url(), from = %smtp.from, "email goes out over SMTP");
        t.email = Arc::new(SmtpTransport::new(smtp.clone()));
    }
    if let Some((hook, channels)) = &cfg.webhook {
        tracing::info!(url = %hook.display_url(), sms = channels.sms(), email = channels.email(), "webhook delivery on");
        let hook: Arc<dyn Transport> = Arc::new(WebhookTransport::new(hook.clone()));
        if channels.sms() {
            t.sms = hook.clone();
        }
        if channels.email() {
            t.email = hook;
        }
    }
    t
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let cfg = Config::resolve(*args)?;
            init_logging(&cfg)?;
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(serve(cfg))
        }
        Command::Outbox(args) => outbox_cmd::run(args),
        Command::Faults(args) => faults_cmd::run(args),
    }
}
