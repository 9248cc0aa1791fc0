#![forbid(unsafe_code)]
//! `cognito-mfa`: the composition root. The only place that reads argv, env vars and files;
//! it builds the store, the service and the server, then runs until SIGINT/SIGTERM.

mod config;

use anyhow::Context;
use clap::{Parser, Subcommand};
use cmfa_core::user::password::HashCost;
use cmfa_core::{CoreSettings, Service, SystemClock};
use cmfa_server::{AppState, AuthMode, sigv4};
use cmfa_store::SqliteStore;
use cmfa_store::sqlite::Synchronous;
use config::{Config, HashKind, LogFormat, ServeArgs, SyncKind};
use std::io::Write;
use std::sync::Arc;

/// A Cognito user pools server (cognito-idp, AWS JSON 1.1) with real MFA and passkeys.
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
    Serve(ServeArgs),
}

fn init_logging(cfg: &Config) -> anyhow::Result<()> {
    let filter =
        tracing_subscriber::EnvFilter::try_new(&cfg.log).with_context(|| format!("bad log filter {:?}", cfg.log))?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
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
    let store = SqliteStore::open_dir(&cfg.data_dir, sync).map_err(|e| anyhow::anyhow!("opening the store: {e}"))?;
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
    };
    let service = Service::new(Arc::new(store), clock.clone(), settings);
    let state = AppState {
        service,
        auth,
        clock,
        default_region: cfg.region.clone().into(),
        max_body_bytes: cfg.max_body_bytes,
        outbox_http: cfg.outbox_http,
    };
    tracing::info!(%addr, %public_url, data_dir = %cfg.data_dir.display(), "listening");
    // Tests and scripts read this line to learn the port when --listen uses port 0.
    let mut out = std::io::stdout().lock();
    writeln!(out, "cognito-mfa listening on http://{addr}")?;
    out.flush()?;
    drop(out);
    cmfa_server::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => {
            let cfg = Config::resolve(args)?;
            init_logging(&cfg)?;
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(serve(cfg))
        }
    }
}
