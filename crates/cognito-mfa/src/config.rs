//! Configuration, loaded once in layers: defaults < TOML file < `COGNITO_MFA_*` env < flags.
//!
//! clap merges flags over env; the file fills in whatever neither set. Unknown keys in the file
//! and unknown `COGNITO_MFA_*` variables are errors, so a typo never silently falls back to a
//! default.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// How IAM operations are authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AuthKind {
    /// Accept any credentials (like every local AWS emulator).
    #[default]
    None,
    /// Require a valid SigV4 signature from a key in --credentials-file on IAM operations.
    Sigv4,
}

/// SQLite's commit durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SyncKind {
    /// Commits survive a crash or kill -9 of the server.
    #[default]
    Normal,
    /// Commits also survive power loss (an fsync per write; slower).
    Full,
}

/// Password hash cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HashKind {
    /// OWASP's Argon2id setting.
    #[default]
    Default,
    /// A cheap setting for test suites and benchmarks; never for real users.
    Fast,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `serve` options. Every flag can also be set by its env var or in the TOML file (same name,
/// with `_` for `-`).
#[derive(Debug, Args, Default)]
pub(crate) struct ServeArgs {
    /// TOML file with any of the settings below.
    #[arg(long, env = "COGNITO_MFA_CONFIG", value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Address to listen on; port 0 picks a free port (the chosen address is printed). [default: 127.0.0.1:9330]
    #[arg(long, env = "COGNITO_MFA_LISTEN", value_name = "ADDR")]
    pub(crate) listen: Option<SocketAddr>,
    /// Directory for the embedded SQLite database (created if missing). [default: ./.cognito-mfa]
    #[arg(long, env = "COGNITO_MFA_DATA_DIR", value_name = "DIR")]
    pub(crate) data_dir: Option<PathBuf>,
    /// Region for requests without a SigV4 credential scope. [default: us-east-1]
    #[arg(long, env = "COGNITO_MFA_REGION")]
    pub(crate) region: Option<String>,
    /// 12-digit account id used in ARNs. [default: 000000000000]
    #[arg(long, env = "COGNITO_MFA_ACCOUNT_ID")]
    pub(crate) account_id: Option<String>,
    /// Base URL clients reach this server at (token issuer, JWKS). [default: http://<listen>]
    #[arg(long, env = "COGNITO_MFA_PUBLIC_URL", value_name = "URL")]
    pub(crate) public_url: Option<String>,
    /// Signature checking for IAM operations. [default: none]
    #[arg(long, env = "COGNITO_MFA_AUTH", value_enum)]
    pub(crate) auth: Option<AuthKind>,
    /// AWS shared-credentials file (INI) with the keys allowed to sign, for --auth sigv4.
    #[arg(long, env = "COGNITO_MFA_CREDENTIALS_FILE", value_name = "FILE")]
    pub(crate) credentials_file: Option<PathBuf>,
    /// Largest request body accepted, in bytes. [default: 1048576]
    #[arg(long, env = "COGNITO_MFA_MAX_BODY_BYTES")]
    pub(crate) max_body_bytes: Option<usize>,
    /// SQLite commit durability. [default: normal]
    #[arg(long, env = "COGNITO_MFA_SQLITE_SYNCHRONOUS", value_enum)]
    pub(crate) sqlite_synchronous: Option<SyncKind>,
    /// Argon2id cost of password hashes: `default` (19 MiB, 2 passes) or `fast` (test suites only). [default: default]
    #[arg(long, env = "COGNITO_MFA_PASSWORD_HASH", value_enum)]
    pub(crate) password_hash: Option<HashKind>,
    /// Serve recorded messages, codes included, at /_cognito-mfa/outbox (for automated tests). [default: true]
    #[arg(long, env = "COGNITO_MFA_OUTBOX_HTTP")]
    pub(crate) outbox_http: Option<bool>,
    /// Log filter, e.g. `info` or `cmfa_server=debug`. [default: info]
    #[arg(long, env = "COGNITO_MFA_LOG", value_name = "FILTER")]
    pub(crate) log: Option<String>,
    /// Log line format. [default: text]
    #[arg(long, env = "COGNITO_MFA_LOG_FORMAT", value_enum)]
    pub(crate) log_format: Option<LogFormat>,
}

/// The same settings as read from the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    region: Option<String>,
    account_id: Option<String>,
    public_url: Option<String>,
    auth: Option<AuthKind>,
    credentials_file: Option<PathBuf>,
    max_body_bytes: Option<usize>,
    sqlite_synchronous: Option<SyncKind>,
    password_hash: Option<HashKind>,
    outbox_http: Option<bool>,
    log: Option<String>,
    log_format: Option<LogFormat>,
}

/// Every `COGNITO_MFA_*` variable this program reads.
const KNOWN_ENV: &[&str] = &[
    "COGNITO_MFA_CONFIG",
    "COGNITO_MFA_LISTEN",
    "COGNITO_MFA_DATA_DIR",
    "COGNITO_MFA_REGION",
    "COGNITO_MFA_ACCOUNT_ID",
    "COGNITO_MFA_PUBLIC_URL",
    "COGNITO_MFA_AUTH",
    "COGNITO_MFA_CREDENTIALS_FILE",
    "COGNITO_MFA_MAX_BODY_BYTES",
    "COGNITO_MFA_SQLITE_SYNCHRONOUS",
    "COGNITO_MFA_PASSWORD_HASH",
    "COGNITO_MFA_OUTBOX_HTTP",
    "COGNITO_MFA_LOG",
    "COGNITO_MFA_LOG_FORMAT",
    // read by the test suites, not by the server
    "COGNITO_MFA_BIN",
];

/// The resolved configuration.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) listen: SocketAddr,
    pub(crate) data_dir: PathBuf,
    pub(crate) region: String,
    pub(crate) account_id: String,
    pub(crate) public_url: Option<String>,
    pub(crate) auth: AuthKind,
    pub(crate) credentials_file: Option<PathBuf>,
    pub(crate) max_body_bytes: usize,
    pub(crate) sqlite_synchronous: SyncKind,
    pub(crate) password_hash: HashKind,
    pub(crate) outbox_http: bool,
    pub(crate) log: String,
    pub(crate) log_format: LogFormat,
}

impl Config {
    /// Resolves the layers and checks the result.
    pub(crate) fn resolve(args: ServeArgs) -> anyhow::Result<Config> {
        for (k, _) in std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v))) {
            if k.starts_with("COGNITO_MFA_") && !KNOWN_ENV.contains(&k.as_str()) {
                bail!("unknown environment variable {k} (known: {})", KNOWN_ENV.join(", "));
            }
        }
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                toml::from_str::<FileConfig>(&text).with_context(|| format!("parsing {}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let cfg = Config {
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| "127.0.0.1:9330".parse().expect("valid default")),
            data_dir: args
                .data_dir
                .or(file.data_dir)
                .unwrap_or_else(|| PathBuf::from("./.cognito-mfa")),
            region: args.region.or(file.region).unwrap_or_else(|| "us-east-1".into()),
            account_id: args
                .account_id
                .or(file.account_id)
                .unwrap_or_else(|| "000000000000".into()),
            public_url: args.public_url.or(file.public_url),
            auth: args.auth.or(file.auth).unwrap_or_default(),
            credentials_file: args.credentials_file.or(file.credentials_file),
            max_body_bytes: args
                .max_body_bytes
                .or(file.max_body_bytes)
                .unwrap_or(cmfa_server::DEFAULT_MAX_BODY_BYTES),
            sqlite_synchronous: args.sqlite_synchronous.or(file.sqlite_synchronous).unwrap_or_default(),
            password_hash: args.password_hash.or(file.password_hash).unwrap_or_default(),
            outbox_http: args.outbox_http.or(file.outbox_http).unwrap_or(true),
            log: args.log.or(file.log).unwrap_or_else(|| "info".into()),
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
        };
        if cfg.auth == AuthKind::Sigv4 && cfg.credentials_file.is_none() {
            bail!("--auth sigv4 needs --credentials-file (an AWS shared-credentials file with the allowed keys)");
        }
        if cfg.account_id.len() != 12 || !cfg.account_id.bytes().all(|b| b.is_ascii_digit()) {
            bail!("account id must be 12 digits, got {:?}", cfg.account_id);
        }
        if cfg.region.is_empty()
            || !cfg
                .region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            bail!("region must look like us-east-1, got {:?}", cfg.region);
        }
        if cfg.max_body_bytes < 1024 {
            bail!("max body bytes must be at least 1024");
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_fills_what_flags_leave_out_and_flags_win() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "listen = \"127.0.0.1:1234\"\nregion = \"eu-west-1\"\n").unwrap();
        let cfg = Config::resolve(ServeArgs {
            config: Some(path),
            region: Some("ap-south-1".into()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cfg.listen.port(), 1234);
        assert_eq!(cfg.region, "ap-south-1");
        assert_eq!(cfg.account_id, "000000000000");
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:1234\"\n").unwrap();
        let err = Config::resolve(ServeArgs {
            config: Some(path),
            ..Default::default()
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
    }

    #[test]
    fn sigv4_needs_credentials() {
        let err = Config::resolve(ServeArgs {
            auth: Some(AuthKind::Sigv4),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("credentials-file"));
    }
}
