//! Email over SMTP: plain, STARTTLS or implicit TLS, with optional AUTH PLAIN / LOGIN.
//!
//! A small client written here rather than `lettre`: with the features this server needs
//! (tokio, SMTP, the message builder, rustls) lettre brings about 50 more crates into the build,
//! among them `url` with the whole ICU normalisation stack (`idna`), `nom` and a second major
//! version of `syn`, for what is one short dialogue per message (EHLO, STARTTLS, AUTH, MAIL,
//! RCPT, DATA) and a text/plain body. TLS reuses the rustls setup the webhook uses.
//!
//! One connection per message: codes are few and latency matters less than simplicity, and a
//! fresh session cannot inherit a broken state from an earlier failure.

use crate::{ConfigError, DeliveryError, OutboundMessage, Result, Transport, tls};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// No TLS (a local relay or a test server).
    None,
    /// Plain connect, then STARTTLS; a server that does not offer it is an error, never a
    /// silent fallback to plain text.
    StartTls,
    /// TLS from the first byte (`smtps`, usually port 465).
    Tls,
}

/// Where and how to send email.
#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    /// Never logged: `Debug` prints `***`.
    pub password: Option<String>,
    /// The `From` header as given (`addr` or `Name <addr>`).
    pub from: String,
    /// Longest one message may take, connect to QUIT. Kept under the store's 60 s claim so a
    /// slow send is never claimed twice.
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl SmtpConfig {
    /// Parses `smtp://host[:port][?starttls=true]` or `smtps://host[:port]`. Ports default to
    /// 25 (plain), 587 (STARTTLS) and 465 (implicit TLS). Credentials are separate settings,
    /// never part of the URL, so the URL can be logged.
    pub fn from_url(url: &str, from: &str) -> std::result::Result<SmtpConfig, ConfigError> {
        let err = |why: &str| ConfigError(format!("bad SMTP URL {url:?}: {why}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(|| err("expected smtp://host:port"))?;
        let implicit = match scheme.to_ascii_lowercase().as_str() {
            "smtp" => false,
            "smtps" => true,
            _ => return Err(err("the scheme must be smtp or smtps")),
        };
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        if authority.contains('@') {
            return Err(err(
                "put credentials in --smtp-username / --smtp-password, not in the URL",
            ));
        }
        if authority.contains('/') {
            return Err(err("an SMTP URL has no path"));
        }
        let mut starttls = false;
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("starttls", v)) => {
                    starttls = match v {
                        "true" | "1" | "yes" => true,
                        "false" | "0" | "no" => false,
                        _ => return Err(err("starttls must be true or false")),
                    }
                }
                _ => return Err(err(&format!("unknown parameter {pair:?} (known: starttls=true|false)"))),
            }
        }
        if implicit && starttls {
            return Err(err("smtps is TLS already; starttls applies to smtp:// only"));
        }
        let security = match (implicit, starttls) {
            (true, _) => SmtpSecurity::Tls,
            (false, true) => SmtpSecurity::StartTls,
            (false, false) => SmtpSecurity::None,
        };
        let (host, port) = split_host_port(authority).ok_or_else(|| err("expected host[:port]"))?;
        let port = port.unwrap_or(match security {
            SmtpSecurity::None => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        });
        let from = from.trim();
        if from.is_empty() || from.contains(['\r', '\n']) || !envelope_address(from).contains('@') {
            return Err(ConfigError(format!(
                "bad sender {from:?}: expected an address such as no-reply@example.com or Name <no-reply@example.com>"
            )));
        }
        Ok(SmtpConfig {
            host,
            port,
            security,
            username: None,
            password: None,
            from: from.to_owned(),
            timeout: Duration::from_secs(30),
        })
    }

    /// The URL without credentials, for logs.
    pub fn display_url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.security {
            SmtpSecurity::None => format!("smtp://{host}:{}", self.port),
            SmtpSecurity::StartTls => format!("smtp://{host}:{}?starttls=true", self.port),
            SmtpSecurity::Tls => format!("smtps://{host}:{}", self.port),
        }
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        match after {
            "" => (h, None),
            p => (h, Some(p.strip_prefix(':')?)),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p != 0)?),
        None => None,
    };
    Some((host.to_owned(), port))
}

/// The bare address of `Name <addr>` (or `addr` itself).
fn envelope_address(from: &str) -> &str {
    match (from.rfind('<'), from.rfind('>')) {
        (Some(a), Some(b)) if a < b => from[a + 1..b].trim(),
        _ => from,
    }
}

/// Sends email over SMTP.
#[derive(Debug)]
pub struct SmtpTransport {
    config: SmtpConfig,
}

impl SmtpTransport {
    pub fn new(config: SmtpConfig) -> Self {
        SmtpTransport { config }
    }
}

#[async_trait]
impl Transport for SmtpTransport {
    fn name(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, msg: &OutboundMessage) -> Result<()> {
        let to = msg.destination.trim();
        if to.is_empty() || !to.contains('@') || to.contains(['\r', '\n', '<', '>', ' ']) {
            return Err(DeliveryError::permanent("the destination is not an email address"));
        }
        match tokio::time::timeout(self.config.timeout, self.session(to, msg)).await {
            Ok(r) => r,
            Err(_) => Err(DeliveryError::transient(format!(
                "SMTP session with {} timed out after {:?}",
                self.config.display_url(),
                self.config.timeout
            ))),
        }
    }
}

impl SmtpTransport {
    async fn session(&self, to: &str, msg: &OutboundMessage) -> Result<()> {
        let cfg = &self.config;
        let tcp = TcpStream::connect((cfg.host.as_str(), cfg.port))
            .await
            .map_err(|e| DeliveryError::transient(format!("connecting to {}: {e}", cfg.display_url())))?;
        let _ = tcp.set_nodelay(true);
        let data = render(cfg, to, msg, SystemTime::now());
        match cfg.security {
            SmtpSecurity::Tls => {
                let tls = self.tls(tcp).await?;
                let mut conn = Conn::new(tls);
                conn.reply(&[220], Step::Other).await?;
                let caps = conn.ehlo(&helo_name(cfg)).await?;
                self.transaction(&mut conn, &caps, to, &data).await
            }
            SmtpSecurity::None => {
                let mut conn = Conn::new(tcp);
                conn.reply(&[220], Step::Other).await?;
                let caps = conn.ehlo(&helo_name(cfg)).await?;
                self.transaction(&mut conn, &caps, to, &data).await
            }
            SmtpSecurity::StartTls => {
                let mut conn = Conn::new(tcp);
                conn.reply(&[220], Step::Other).await?;
                let caps = conn.ehlo(&helo_name(cfg)).await?;
                if !caps.has("STARTTLS") {
                    return Err(DeliveryError::transient(format!(
                        "{} does not offer STARTTLS",
                        cfg.display_url()
                    )));
                }
                conn.command("STARTTLS", &[220], Step::Other).await?;
                // Anything the server sent after its 220 arrived before TLS and cannot be
                // trusted (the STARTTLS command-injection attack): refuse rather than read it.
                if !conn.io.buffer().is_empty() {
                    return Err(DeliveryError::transient(
                        "SMTP server sent data before the TLS handshake",
                    ));
                }
                let tls = self.tls(conn.io.into_inner()).await?;
                let mut conn = Conn::new(tls);
                let caps = conn.ehlo(&helo_name(cfg)).await?;
                self.transaction(&mut conn, &caps, to, &data).await
            }
        }
    }

    async fn tls(&self, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let name = ServerName::try_from(self.config.host.clone())
            .map_err(|_| DeliveryError::transient(format!("{:?} is not a valid TLS server name", self.config.host)))?;
        tls::connector()
            .connect(name, tcp)
            .await
            .map_err(|e| DeliveryError::transient(format!("TLS with {}: {e}", self.config.display_url())))
    }

    /// Everything after EHLO: AUTH, the envelope, the message, QUIT.
    async fn transaction<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        conn: &mut Conn<S>,
        caps: &Capabilities,
        to: &str,
        data: &str,
    ) -> Result<()> {
        let cfg = &self.config;
        if let Some(user) = &cfg.username {
            let password = cfg.password.as_deref().unwrap_or("");
            if caps.has_auth("PLAIN") || !caps.has_auth("LOGIN") {
                let token = B64.encode(format!("\0{user}\0{password}"));
                conn.secret_command(&format!("AUTH PLAIN {token}"), "AUTH PLAIN ***", &[235], Step::Auth)
                    .await?;
            } else {
                conn.command("AUTH LOGIN", &[334], Step::Auth).await?;
                conn.secret_command(&B64.encode(user), "(username)", &[334], Step::Auth)
                    .await?;
                conn.secret_command(&B64.encode(password), "(password)", &[235], Step::Auth)
                    .await?;
            }
        }
        let from = envelope_address(&cfg.from);
        conn.command(&format!("MAIL FROM:<{from}>"), &[250], Step::Envelope)
            .await?;
        conn.command(&format!("RCPT TO:<{to}>"), &[250, 251], Step::Envelope)
            .await?;
        conn.command("DATA", &[354], Step::Envelope).await?;
        conn.write(&dot_stuff(data)).await?;
        conn.write(".\r\n").await?;
        conn.reply(&[250], Step::Envelope).await?;
        // The message is accepted; a failed goodbye changes nothing.
        let _ = conn.command("QUIT", &[221], Step::Other).await;
        Ok(())
    }
}

/// The EHLO name: the sender's domain (a real host name of ours is not known, and relays only
/// want something well-formed).
fn helo_name(cfg: &SmtpConfig) -> String {
    let domain = envelope_address(&cfg.from)
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("");
    if !domain.is_empty()
        && domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
    {
        domain.to_owned()
    } else {
        "localhost".to_owned()
    }
}

/// Which part of the dialogue failed, to tell a refusal of the message (permanent) from
/// everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Other,
    Auth,
    Envelope,
}

/// What EHLO advertised.
#[derive(Debug, Default)]
struct Capabilities {
    lines: Vec<String>,
}

impl Capabilities {
    fn has(&self, keyword: &str) -> bool {
        self.lines.iter().any(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|k| k.eq_ignore_ascii_case(keyword))
        })
    }

    fn has_auth(&self, mechanism: &str) -> bool {
        self.lines.iter().any(|l| {
            let mut words = l.split_whitespace();
            words.next().is_some_and(|k| k.eq_ignore_ascii_case("AUTH"))
                && words.any(|m| m.eq_ignore_ascii_case(mechanism))
        })
    }
}

/// One SMTP connection: buffered reads of multi-line replies, writes of command lines.
struct Conn<S> {
    io: BufReader<S>,
}

/// Longest reply line read, and most lines in one reply: a broken or hostile server cannot make
/// us buffer without bound.
const MAX_LINE: u64 = 4096;
const MAX_LINES: usize = 64;

impl<S: AsyncRead + AsyncWrite + Unpin> Conn<S> {
    fn new(io: S) -> Self {
        Conn { io: BufReader::new(io) }
    }

    async fn write(&mut self, text: &str) -> Result<()> {
        let w = self.io.get_mut();
        w.write_all(text.as_bytes()).await.map_err(io_err)?;
        w.flush().await.map_err(io_err)
    }

    async fn command(&mut self, line: &str, expect: &[u16], step: Step) -> Result<Vec<String>> {
        self.write(&format!("{line}\r\n")).await?;
        self.reply(expect, step).await.map_err(|e| DeliveryError {
            message: format!("{line}: {}", e.message),
            permanent: e.permanent,
        })
    }

    /// A command whose text must not reach an error message (credentials).
    async fn secret_command(&mut self, line: &str, shown: &str, expect: &[u16], step: Step) -> Result<Vec<String>> {
        self.write(&format!("{line}\r\n")).await?;
        self.reply(expect, step).await.map_err(|e| DeliveryError {
            message: format!("{shown}: {}", e.message),
            permanent: e.permanent,
        })
    }

    async fn ehlo(&mut self, name: &str) -> Result<Capabilities> {
        self.write(&format!("EHLO {name}\r\n")).await?;
        match self.read_reply().await? {
            (250, lines) => Ok(Capabilities {
                lines: lines.into_iter().skip(1).collect(),
            }),
            _ => {
                // A server from before ESMTP: HELO, with no extensions.
                self.command(&format!("HELO {name}"), &[250], Step::Other).await?;
                Ok(Capabilities::default())
            }
        }
    }

    /// Reads one reply and checks its code.
    async fn reply(&mut self, expect: &[u16], step: Step) -> Result<Vec<String>> {
        let (code, lines) = self.read_reply().await?;
        if expect.contains(&code) {
            return Ok(lines);
        }
        let text = format!("server answered {code} {}", lines.join(" / "));
        Err(if step == Step::Envelope && (500..600).contains(&code) {
            DeliveryError::permanent(text)
        } else {
            DeliveryError::transient(text)
        })
    }

    async fn read_reply(&mut self) -> Result<(u16, Vec<String>)> {
        let mut lines = Vec::new();
        loop {
            let mut raw = Vec::new();
            let n = (&mut self.io)
                .take(MAX_LINE)
                .read_until(b'\n', &mut raw)
                .await
                .map_err(io_err)?;
            if n == 0 {
                return Err(DeliveryError::transient("SMTP server closed the connection"));
            }
            if raw.last() != Some(&b'\n') {
                return Err(DeliveryError::transient("SMTP reply line too long"));
            }
            let line = String::from_utf8_lossy(&raw);
            let line = line.trim_end_matches(['\r', '\n']);
            let code = line
                .get(..3)
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|c| (200..600).contains(c))
                .ok_or_else(|| DeliveryError::transient(format!("not an SMTP reply: {line:?}")))?;
            let more = line.as_bytes().get(3) == Some(&b'-');
            lines.push(line.get(4..).unwrap_or("").to_owned());
            if !more {
                return Ok((code, lines));
            }
            if lines.len() >= MAX_LINES {
                return Err(DeliveryError::transient("SMTP reply has too many lines"));
            }
        }
    }
}

fn io_err(e: std::io::Error) -> DeliveryError {
    DeliveryError::transient(format!("SMTP connection: {e}"))
}

/// The message as sent after DATA (before dot-stuffing): headers, a blank line, the body, every
/// line ending in CRLF.
fn render(cfg: &SmtpConfig, to: &str, msg: &OutboundMessage, now: SystemTime) -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let date = httpdate::fmt_http_date(now).replace(" GMT", " +0000");
    let nanos = now.duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let message_id = format!(
        "<{nanos}.{}.{}@{}>",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed),
        helo_name(cfg)
    );
    let subject = encode_header(msg.subject.as_deref().unwrap_or(""));
    let body = msg.body.replace("\r\n", "\n");
    let lines: Vec<&str> = body.split('\n').collect();
    let plain = body.is_ascii() && lines.iter().all(|l| l.len() <= 998);
    let kind = if looks_like_html(&body) { "html" } else { "plain" };
    let mut out = format!(
        "Date: {date}\r\nFrom: {}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/{kind}; charset=utf-8\r\nContent-Transfer-Encoding: {}\r\n\r\n",
        cfg.from,
        if plain { "7bit" } else { "base64" }
    );
    if plain {
        for l in lines {
            out.push_str(l);
            out.push_str("\r\n");
        }
    } else {
        let encoded = B64.encode(body.replace('\n', "\r\n"));
        for chunk in encoded.as_bytes().chunks(76) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
            out.push_str("\r\n");
        }
    }
    out
}

/// Cognito's message templates may hold HTML (AWS sends those as HTML mail).
fn looks_like_html(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    ["</", "<br", "<p>", "<html", "<a "].iter().any(|t| lower.contains(t))
}

/// A header value: as is when it is short printable ASCII, else RFC 2047 encoded words (whole
/// characters per word, folded), so any subject survives any relay.
fn encode_header(value: &str) -> String {
    let value: String = value
        .chars()
        .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
        .collect();
    if value.bytes().all(|b| (0x20..0x7f).contains(&b)) && value.len() <= 900 && !value.contains("=?") {
        return value;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?utf-8?B?{}?=", B64.encode(&chunk)));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?utf-8?B?{}?=", B64.encode(&chunk)));
    }
    words.join("\r\n ")
}

/// Doubles a leading dot on every line, so no line of the message ends the DATA section.
fn dot_stuff(data: &str) -> String {
    let mut out = String::with_capacity(data.len() + 8);
    for line in data.split_inclusive("\r\n") {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel;
    use tokio::net::TcpListener;

    fn msg(to: &str, subject: &str, body: &str) -> OutboundMessage {
        OutboundMessage {
            pool_id: "us-east-1_a".into(),
            username: "u".into(),
            channel: Channel::Email,
            destination: to.into(),
            subject: Some(subject.into()),
            body: body.into(),
            purpose: "SIGN_UP".into(),
        }
    }

    #[test]
    fn urls() {
        let c = SmtpConfig::from_url("smtp://mail.example.com", "a@b.c").unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.security),
            ("mail.example.com", 25, SmtpSecurity::None)
        );
        let c = SmtpConfig::from_url("smtp://mail.example.com?starttls=true", "a@b.c").unwrap();
        assert_eq!((c.port, c.security), (587, SmtpSecurity::StartTls));
        let c = SmtpConfig::from_url("smtps://[::1]:2465/", "Me <a@b.c>").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.security), ("::1", 2465, SmtpSecurity::Tls));
        assert_eq!(c.display_url(), "smtps://[::1]:2465");
        for bad in [
            "http://x",
            "smtp://u:p@x",
            "smtp://x:0",
            "smtp://x:99999",
            "smtp://x?tls=1",
            "smtps://x?starttls=true",
            "smtp://",
            "smtp://x/path",
        ] {
            assert!(SmtpConfig::from_url(bad, "a@b.c").is_err(), "{bad}");
        }
        assert!(SmtpConfig::from_url("smtp://x", "nobody").is_err());
        assert!(SmtpConfig::from_url("smtp://x", "a@b.c\r\nBcc: x@y").is_err());
    }

    #[test]
    fn debug_redacts_the_password() {
        let mut c = SmtpConfig::from_url("smtp://x", "a@b.c").unwrap();
        c.username = Some("user".into());
        c.password = Some("hunter2".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2") && shown.contains("***"), "{shown}");
    }

    #[test]
    fn rendering() {
        let c = SmtpConfig::from_url("smtp://x", "Example <no-reply@example.com>").unwrap();
        let m = render(
            &c,
            "to@example.com",
            &msg("to@example.com", "Welcome", "Hi\n.dot line\nbye"),
            UNIX_EPOCH,
        );
        assert!(m.starts_with("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\nFrom: Example <no-reply@example.com>\r\n"));
        assert!(m.contains("\r\nTo: to@example.com\r\nSubject: Welcome\r\n"));
        assert!(m.contains("text/plain; charset=utf-8") && m.contains("7bit"));
        assert!(m.ends_with("\r\n\r\nHi\r\n.dot line\r\nbye\r\n"));
        assert!(dot_stuff(&m).ends_with("\r\nHi\r\n..dot line\r\nbye\r\n"));

        let m = render(
            &c,
            "to@example.com",
            &msg("to@example.com", "Grüße", "Code: 123 — ok"),
            UNIX_EPOCH,
        );
        assert!(m.contains("Subject: =?utf-8?B?R3LDvMOfZQ==?=\r\n"), "{m}");
        assert!(m.contains("base64\r\n\r\n") && m.contains(&B64.encode("Code: 123 — ok")));
        let m = render(&c, "t@e.c", &msg("t@e.c", "s", "<p>Code <b>1</b></p>"), UNIX_EPOCH);
        assert!(m.contains("text/html"));
    }

    /// A scripted SMTP server: answers each command, records what it was sent.
    async fn fake_server(auth: &'static str, rcpt_reply: &'static str) -> (u16, tokio::task::JoinHandle<Vec<String>>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let h = tokio::spawn(async move {
            let (s, _) = l.accept().await.unwrap();
            let (r, mut w) = s.into_split();
            let mut r = BufReader::new(r);
            let mut seen = Vec::new();
            w.write_all(b"220 fake ESMTP\r\n").await.unwrap();
            let mut in_data = false;
            let mut login = 0;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).await.unwrap() == 0 {
                    break;
                }
                let line = line.trim_end().to_owned();
                seen.push(line.clone());
                if login == 1 || login == 2 {
                    login += 1;
                    let reply: &[u8] = if login == 2 {
                        b"334 UGFzc3dvcmQ6\r\n"
                    } else {
                        b"235 ok\r\n"
                    };
                    w.write_all(reply).await.unwrap();
                    continue;
                }
                if in_data {
                    if line == "." {
                        in_data = false;
                        w.write_all(b"250 queued\r\n").await.unwrap();
                    }
                    continue;
                }
                let reply = match line.split(' ').next().unwrap() {
                    "EHLO" => format!("250-fake\r\n250-{auth}\r\n250 8BITMIME\r\n"),
                    "AUTH" if line == "AUTH LOGIN" => {
                        login = 1;
                        "334 VXNlcm5hbWU6\r\n".into()
                    }
                    "AUTH" => "235 ok\r\n".into(),
                    "MAIL" => "250 ok\r\n".into(),
                    "RCPT" => format!("{rcpt_reply}\r\n"),
                    "DATA" => {
                        in_data = true;
                        "354 go\r\n".into()
                    }
                    "QUIT" => {
                        w.write_all(b"221 bye\r\n").await.unwrap();
                        break;
                    }
                    _ => "500 unknown command\r\n".into(),
                };
                w.write_all(reply.as_bytes()).await.unwrap();
            }
            seen
        });
        (port, h)
    }

    fn transport(port: u16, creds: bool) -> SmtpTransport {
        let mut c = SmtpConfig::from_url(&format!("smtp://127.0.0.1:{port}"), "no-reply@example.com").unwrap();
        if creds {
            c.username = Some("user".into());
            c.password = Some("pw".into());
        }
        SmtpTransport::new(c)
    }

    #[tokio::test]
    async fn plain_session_with_auth_plain() {
        let (port, server) = fake_server("AUTH LOGIN PLAIN", "250 ok").await;
        transport(port, true)
            .send(&msg("to@example.com", "Welcome", "Your code is 123456.\n.\nend"))
            .await
            .unwrap();
        let seen = server.await.unwrap();
        assert_eq!(seen[0], "EHLO example.com");
        assert_eq!(seen[1], format!("AUTH PLAIN {}", B64.encode("\0user\0pw")));
        assert_eq!(seen[2], "MAIL FROM:<no-reply@example.com>");
        assert_eq!(seen[3], "RCPT TO:<to@example.com>");
        assert!(seen.contains(&"Your code is 123456.".to_owned()));
        assert!(seen.contains(&"..".to_owned()), "the lone dot is stuffed: {seen:?}");
        assert_eq!(seen.last().unwrap(), "QUIT");
    }

    #[tokio::test]
    async fn auth_login_when_plain_is_not_offered() {
        let (port, server) = fake_server("AUTH LOGIN", "250 ok").await;
        transport(port, true)
            .send(&msg("to@example.com", "s", "b"))
            .await
            .unwrap();
        let seen = server.await.unwrap();
        assert_eq!(
            &seen[1..4],
            ["AUTH LOGIN".to_owned(), B64.encode("user"), B64.encode("pw")]
        );
    }

    #[tokio::test]
    async fn a_refused_recipient_is_permanent_and_names_no_body() {
        let (port, _server) = fake_server("SIZE 1000", "550 no such user").await;
        let err = transport(port, false)
            .send(&msg("to@example.com", "s", "code 123456"))
            .await
            .unwrap_err();
        assert!(err.permanent, "{err}");
        assert!(err.message.contains("550") && !err.message.contains("123456"), "{err}");
    }

    #[tokio::test]
    async fn a_busy_recipient_is_transient_and_starttls_is_required_when_asked() {
        let (port, _server) = fake_server("SIZE 1000", "451 try later").await;
        let err = transport(port, false)
            .send(&msg("to@example.com", "s", "b"))
            .await
            .unwrap_err();
        assert!(!err.permanent, "{err}");

        let (port, _server) = fake_server("SIZE 1000", "250 ok").await;
        let c = SmtpConfig::from_url(&format!("smtp://127.0.0.1:{port}?starttls=true"), "a@b.c").unwrap();
        let err = SmtpTransport::new(c)
            .send(&msg("to@example.com", "s", "b"))
            .await
            .unwrap_err();
        assert!(err.message.contains("STARTTLS") && !err.permanent, "{err}");
    }

    #[tokio::test]
    async fn connection_refused_is_transient() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let err = transport(port, false)
            .send(&msg("to@example.com", "s", "b"))
            .await
            .unwrap_err();
        assert!(!err.permanent);
    }
}
