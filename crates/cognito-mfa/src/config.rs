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
/// `--throttle`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum ThrottleKind {
    #[default]
    Off,
    Aws,
}

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

/// Which messages go to the webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub(crate) enum WebhookChannels {
    #[default]
    Sms,
    Email,
    Both,
}

impl WebhookChannels {
    pub(crate) fn sms(self) -> bool {
        matches!(self, WebhookChannels::Sms | WebhookChannels::Both)
    }
    pub(crate) fn email(self) -> bool {
        matches!(self, WebhookChannels::Email | WebhookChannels::Both)
    }
}

/// A password: `Debug` never shows it, so no log line or error can carry it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub(crate) struct Secret(pub(crate) String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"***\"")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
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
    /// PostgreSQL URL (`postgres://user:pass@host:5432/db`, plain TCP, no TLS) to keep the data
    /// in PostgreSQL instead, so several server processes can share it; --data-dir is then unused.
    #[arg(long, env = "COGNITO_MFA_DATABASE_URL", value_name = "URL")]
    pub(crate) database_url: Option<DatabaseUrl>,
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
    /// Seconds a request's headers, then its body, may take to arrive; also how long an idle
    /// keep-alive connection stays open. [default: 60]
    #[arg(long, env = "COGNITO_MFA_READ_TIMEOUT", value_name = "SECONDS")]
    pub(crate) read_timeout: Option<u64>,
    /// Connections served at once; more wait in the listen backlog. [default: 4096]
    #[arg(long, env = "COGNITO_MFA_MAX_CONNECTIONS")]
    pub(crate) max_connections: Option<usize>,
    /// SQLite commit durability. [default: normal]
    #[arg(long, env = "COGNITO_MFA_SQLITE_SYNCHRONOUS", value_enum)]
    pub(crate) sqlite_synchronous: Option<SyncKind>,
    /// Argon2id cost of password hashes: `default` (19 MiB, 2 passes) or `fast` (test suites only). [default: default]
    #[arg(long, env = "COGNITO_MFA_PASSWORD_HASH", value_enum)]
    pub(crate) password_hash: Option<HashKind>,
    /// Serve the routes for automated tests: recorded messages, codes included
    /// (/_cognito-mfa/outbox), fault injection (/_cognito-mfa/faults) and the wipes
    /// (/_cognito-mfa/reset, /moto-api/reset). `false` on any server real users reach.
    /// Formerly --outbox-http (still accepted, as is COGNITO_MFA_OUTBOX_HTTP). [default: true]
    #[arg(long, alias = "outbox-http", env = "COGNITO_MFA_TEST_ROUTES", value_name = "BOOL")]
    pub(crate) test_routes: Option<bool>,
    /// A page origin allowed to use passkeys besides `https://<RelyingPartyId>` (and its
    /// subdomains) and, for RP ID `localhost`, `http://localhost[:port]`. Repeat for several.
    #[arg(long = "webauthn-origin", value_name = "ORIGIN")]
    pub(crate) webauthn_origins: Vec<String>,
    /// Request-rate quotas: `off`, or `aws` (AWS's categories and default rates, per region;
    /// 5/s per pool for pool-resource and pool-client calls; 10/s per user). Rates can be
    /// changed by category in the TOML file (`[throttle_rates] UserAuthentication = 500`). [default: off]
    #[arg(long, env = "COGNITO_MFA_THROTTLE", value_enum)]
    pub(crate) throttle: Option<ThrottleKind>,
    /// Send email through this SMTP server: `smtp://host:port` (plain), `smtp://host:port?starttls=true`,
    /// `smtps://host:port` (implicit TLS). Without it (and without a webhook for email), email goes to the log.
    #[arg(long, env = "COGNITO_MFA_SMTP_URL", value_name = "URL")]
    pub(crate) smtp_url: Option<String>,
    /// SMTP AUTH user name (PLAIN or LOGIN, whichever the server offers).
    #[arg(long, env = "COGNITO_MFA_SMTP_USERNAME", value_name = "USER")]
    pub(crate) smtp_username: Option<String>,
    /// SMTP AUTH password; prefer the env var or the file to a flag. Never logged.
    #[arg(
        long,
        env = "COGNITO_MFA_SMTP_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true
    )]
    pub(crate) smtp_password: Option<Secret>,
    /// Sender of every email (`addr` or `Name <addr>`). [default: no-reply@localhost]
    #[arg(long, env = "COGNITO_MFA_SMTP_FROM", value_name = "ADDRESS")]
    pub(crate) smtp_from: Option<String>,
    /// POST each message as JSON {channel, destination, subject, body, poolId, username, purpose}
    /// to this http(s) URL (any SMS gateway can sit behind it); 2xx means delivered.
    #[arg(long, env = "COGNITO_MFA_WEBHOOK_URL", value_name = "URL")]
    pub(crate) webhook_url: Option<String>,
    /// Which messages go to the webhook. [default: sms]
    #[arg(long, env = "COGNITO_MFA_WEBHOOK_CHANNELS", value_enum)]
    pub(crate) webhook_channels: Option<WebhookChannels>,
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
    database_url: Option<DatabaseUrl>,
    region: Option<String>,
    account_id: Option<String>,
    public_url: Option<String>,
    auth: Option<AuthKind>,
    credentials_file: Option<PathBuf>,
    max_body_bytes: Option<usize>,
    read_timeout: Option<u64>,
    max_connections: Option<usize>,
    sqlite_synchronous: Option<SyncKind>,
    password_hash: Option<HashKind>,
    #[serde(alias = "outbox_http")]
    test_routes: Option<bool>,
    webauthn_origins: Option<Vec<String>>,
    throttle: Option<ThrottleKind>,
    /// Requests per second by category name (and `PerPool`, `PerUser`), over AWS's defaults.
    throttle_rates: Option<std::collections::HashMap<String, f64>>,
    smtp_url: Option<String>,
    smtp_username: Option<String>,
    smtp_password: Option<Secret>,
    smtp_from: Option<String>,
    webhook_url: Option<String>,
    webhook_channels: Option<WebhookChannels>,
    log: Option<String>,
    log_format: Option<LogFormat>,
}

/// Every `COGNITO_MFA_*` variable this program reads.
const KNOWN_ENV: &[&str] = &[
    "COGNITO_MFA_CONFIG",
    "COGNITO_MFA_LISTEN",
    "COGNITO_MFA_DATA_DIR",
    "COGNITO_MFA_DATABASE_URL",
    "COGNITO_MFA_REGION",
    "COGNITO_MFA_ACCOUNT_ID",
    "COGNITO_MFA_PUBLIC_URL",
    "COGNITO_MFA_AUTH",
    "COGNITO_MFA_CREDENTIALS_FILE",
    "COGNITO_MFA_MAX_BODY_BYTES",
    "COGNITO_MFA_SQLITE_SYNCHRONOUS",
    "COGNITO_MFA_PASSWORD_HASH",
    "COGNITO_MFA_TEST_ROUTES",
    // the old name of COGNITO_MFA_TEST_ROUTES, still read
    "COGNITO_MFA_OUTBOX_HTTP",
    "COGNITO_MFA_SMTP_URL",
    "COGNITO_MFA_SMTP_USERNAME",
    "COGNITO_MFA_SMTP_PASSWORD",
    "COGNITO_MFA_SMTP_FROM",
    "COGNITO_MFA_WEBHOOK_URL",
    "COGNITO_MFA_WEBHOOK_CHANNELS",
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
    /// When set, the store is PostgreSQL. Its Debug and Display hide the password.
    pub(crate) database_url: Option<DatabaseUrl>,
    pub(crate) region: String,
    pub(crate) account_id: String,
    pub(crate) public_url: Option<String>,
    pub(crate) auth: AuthKind,
    pub(crate) credentials_file: Option<PathBuf>,
    /// Body size, read deadlines and the connection cap.
    pub(crate) edge: cmfa_server::Edge,
    pub(crate) sqlite_synchronous: SyncKind,
    pub(crate) password_hash: HashKind,
    pub(crate) test_routes: bool,
    /// Extra passkey origins (`--webauthn-origin`).
    pub(crate) webauthn_origins: Vec<String>,
    /// Request-rate quotas (`--throttle aws`), `None` when off.
    pub(crate) throttle: Option<cmfa_server::throttle::ThrottleSettings>,
    /// Email over SMTP (its `Debug` hides the password).
    pub(crate) smtp: Option<cmfa_delivery::SmtpConfig>,
    /// The webhook and the channels it takes.
    pub(crate) webhook: Option<(cmfa_delivery::WebhookConfig, WebhookChannels)>,
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
            database_url: args.database_url.or(file.database_url),
            region: args.region.or(file.region).unwrap_or_else(|| "us-east-1".into()),
            account_id: args
                .account_id
                .or(file.account_id)
                .unwrap_or_else(|| "000000000000".into()),
            public_url: args.public_url.or(file.public_url),
            auth: args.auth.or(file.auth).unwrap_or_default(),
            credentials_file: args.credentials_file.or(file.credentials_file),
            edge: {
                let default = cmfa_server::Edge::default();
                cmfa_server::Edge {
                    max_body_bytes: args
                        .max_body_bytes
                        .or(file.max_body_bytes)
                        .unwrap_or(default.max_body_bytes),
                    read_timeout: args
                        .read_timeout
                        .or(file.read_timeout)
                        .map_or(default.read_timeout, std::time::Duration::from_secs),
                    max_connections: args
                        .max_connections
                        .or(file.max_connections)
                        .unwrap_or(default.max_connections),
                }
            },
            sqlite_synchronous: args.sqlite_synchronous.or(file.sqlite_synchronous).unwrap_or_default(),
            password_hash: args.password_hash.or(file.password_hash).unwrap_or_default(),
            test_routes: args
                .test_routes
                .or(legacy_bool(
                    "COGNITO_MFA_OUTBOX_HTTP",
                    std::env::var("COGNITO_MFA_OUTBOX_HTTP").ok(),
                )?)
                .or(file.test_routes)
                .unwrap_or(true),
            throttle: match args.throttle.or(file.throttle).unwrap_or_default() {
                ThrottleKind::Off => None,
                ThrottleKind::Aws => Some(
                    cmfa_server::throttle::ThrottleSettings::aws(&file.throttle_rates.clone().unwrap_or_default())
                        .map_err(|e| anyhow::anyhow!("throttle_rates: {e}"))?,
                ),
            },
            webauthn_origins: if args.webauthn_origins.is_empty() {
                file.webauthn_origins.unwrap_or_default()
            } else {
                args.webauthn_origins
            },
            smtp: smtp_config(
                args.smtp_url.or(file.smtp_url),
                args.smtp_username.or(file.smtp_username),
                args.smtp_password.or(file.smtp_password),
                args.smtp_from.or(file.smtp_from),
            )?,
            webhook: match (
                args.webhook_url.or(file.webhook_url),
                args.webhook_channels.or(file.webhook_channels),
            ) {
                (Some(url), channels) => Some((
                    cmfa_delivery::WebhookConfig::from_url(&url)?,
                    channels.unwrap_or_default(),
                )),
                (None, Some(_)) => bail!("--webhook-channels needs --webhook-url"),
                (None, None) => None,
            },
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
        if cfg.edge.max_body_bytes < 1024 {
            bail!("max body bytes must be at least 1024");
        }
        if cfg.edge.read_timeout.is_zero() {
            bail!("read timeout must be at least 1 second");
        }
        if cfg.edge.max_connections == 0 {
            bail!("max connections must be at least 1");
        }
        if let (Some(_), Some((_, channels))) = (&cfg.smtp, &cfg.webhook)
            && channels.email()
        {
            bail!("email can go to SMTP or to the webhook, not both: drop --smtp-url or use --webhook-channels sms");
        }
        Ok(cfg)
    }
}

/// A boolean from a variable this program used to read under another name: it ranks with the
/// environment, below the flags and above the file.
fn legacy_bool(name: &str, value: Option<String>) -> anyhow::Result<Option<bool>> {
    match value.as_deref() {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(other) => bail!("{name} must be true or false, got {other:?}"),
    }
}

/// The SMTP settings, checked: credentials come in pairs and only with a server to use them on.
fn smtp_config(
    url: Option<String>,
    username: Option<String>,
    password: Option<Secret>,
    from: Option<String>,
) -> anyhow::Result<Option<cmfa_delivery::SmtpConfig>> {
    let Some(url) = url else {
        if username.is_some() || password.is_some() || from.is_some() {
            bail!("--smtp-username, --smtp-password and --smtp-from need --smtp-url");
        }
        return Ok(None);
    };
    let mut cfg = cmfa_delivery::SmtpConfig::from_url(&url, from.as_deref().unwrap_or("no-reply@localhost"))?;
    match (username, password) {
        (Some(u), Some(p)) => {
            cfg.username = Some(u);
            cfg.password = Some(p.0);
        }
        (None, None) => {}
        _ => bail!("--smtp-username and --smtp-password go together"),
    }
    Ok(Some(cfg))
}

/// A PostgreSQL URL. `Debug` and `Display` show it with the password replaced by `***`, so it
/// can be logged; [`DatabaseUrl::expose`] gives the real text to the store only.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub(crate) struct DatabaseUrl(String);

impl DatabaseUrl {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DatabaseUrl {
    type Error = String;
    fn try_from(url: String) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(DatabaseUrl(url))
        } else {
            Err("the database URL must start with postgres:// or postgresql://".into())
        }
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        DatabaseUrl::try_from(s.to_owned())
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = &self.0;
        let start = url.find("://").map_or(0, |i| i + 3);
        let end = url[start..].find(['/', '?']).map_or(url.len(), |i| start + i);
        // userinfo is everything before the authority's last '@'; its password follows a ':'.
        let mut out = match url[start..end].rfind('@') {
            Some(at) => match url[start..start + at].find(':') {
                Some(colon) => format!("{}***{}", &url[..start + colon + 1], &url[start + at..]),
                None => url.clone(),
            },
            None => url.clone(),
        };
        // tokio-postgres also takes `?password=...`.
        if let Some(q) = out.find('?') {
            let pairs: Vec<String> = out[q + 1..]
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k == "password" => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            out = format!("{}?{}", &out[..q], pairs.join("&"));
        }
        f.write_str(&out)
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_never_show_their_password() {
        let url: DatabaseUrl = "postgres://app:s3cr%40t@db.internal:5432/cognito?password=p2&sslmode=disable"
            .parse()
            .unwrap();
        assert_eq!(
            url.to_string(),
            "postgres://app:***@db.internal:5432/cognito?password=***&sslmode=disable"
        );
        let cfg = Config::resolve(ServeArgs {
            database_url: Some(url),
            ..Default::default()
        })
        .unwrap();
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("s3cr") && !shown.contains("p2"), "{shown}");
        assert!(shown.contains("postgres://app:***@db.internal"), "{shown}");
        let plain: DatabaseUrl = "postgresql://postgres@127.0.0.1/test".parse().unwrap();
        assert_eq!(plain.to_string(), "postgresql://postgres@127.0.0.1/test");
        assert!("mysql://x".parse::<DatabaseUrl>().is_err());
    }

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
    fn delivery_settings_are_checked_and_the_password_never_shows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(
            &path,
            "smtp_url = \"smtps://mail.example.com\"\nsmtp_username = \"u\"\nsmtp_password = \"hunter2\"\n\
             webhook_url = \"https://sms.example.com/send\"\n",
        )
        .unwrap();
        let cfg = Config::resolve(ServeArgs {
            config: Some(path),
            smtp_from: Some("Example <no-reply@example.com>".into()),
            ..Default::default()
        })
        .unwrap();
        let smtp = cfg.smtp.as_ref().unwrap();
        assert_eq!((smtp.port, smtp.password.as_deref()), (465, Some("hunter2")));
        assert_eq!(cfg.webhook.as_ref().unwrap().1, WebhookChannels::Sms);
        assert!(!format!("{cfg:?}").contains("hunter2"));
        let args = ServeArgs {
            smtp_password: Some("hunter2".parse().unwrap()),
            ..Default::default()
        };
        assert!(!format!("{args:?}").contains("hunter2"));

        for (args, why) in [
            (
                ServeArgs {
                    smtp_username: Some("u".into()),
                    ..Default::default()
                },
                "need --smtp-url",
            ),
            (
                ServeArgs {
                    smtp_url: Some("smtp://x".into()),
                    smtp_username: Some("u".into()),
                    ..Default::default()
                },
                "go together",
            ),
            (
                ServeArgs {
                    smtp_url: Some("smtp://u:p@x".into()),
                    ..Default::default()
                },
                "--smtp-username",
            ),
            (
                ServeArgs {
                    webhook_channels: Some(WebhookChannels::Both),
                    ..Default::default()
                },
                "needs --webhook-url",
            ),
            (
                ServeArgs {
                    smtp_url: Some("smtp://x".into()),
                    webhook_url: Some("http://y/".into()),
                    webhook_channels: Some(WebhookChannels::Email),
                    ..Default::default()
                },
                "not both",
            ),
        ] {
            let err = Config::resolve(args).unwrap_err();
            assert!(format!("{err:#}").contains(why), "{err:#}");
        }
    }

    #[test]
    fn test_routes_keep_their_old_name_in_the_file_and_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "outbox_http = false\n").unwrap();
        let cfg = Config::resolve(ServeArgs {
            config: Some(path.clone()),
            ..Default::default()
        })
        .unwrap();
        assert!(!cfg.test_routes);
        std::fs::write(&path, "test_routes = false\n").unwrap();
        let args = ServeArgs {
            config: Some(path),
            test_routes: Some(true),
            ..Default::default()
        };
        assert!(Config::resolve(args).unwrap().test_routes, "the flag wins");
        assert!(
            Config::resolve(ServeArgs::default()).unwrap().test_routes,
            "on by default"
        );
        assert_eq!(legacy_bool("X", Some("false".into())).unwrap(), Some(false));
        assert_eq!(legacy_bool("X", None).unwrap(), None);
        assert!(legacy_bool("X", Some("no".into())).is_err());
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
