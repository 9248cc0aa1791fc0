//! The HTTP client of the subcommands that talk to a running server (`outbox`, `faults`): one
//! HTTP/1.1 request per connection over plain TCP to its `/_cognito-mfa/` routes.
//!
//! They ask the server rather than opening the database: the SQLite data directory belongs to
//! the running server, the same commands then work for PostgreSQL, and fault rules live only in
//! the server's memory.

use anyhow::Context;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// An answer: its status and body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
}

impl Answer {
    /// The AWS-shaped error's text (`__type: message`), or the status line's code.
    pub(crate) fn error_text(&self) -> String {
        let doc: Option<serde_json::Value> = serde_json::from_str(&self.body).ok();
        let field = |k: &str| {
            doc.as_ref()
                .and_then(|d| d.get(k))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        match (field("__type"), field("message")) {
            (Some(t), Some(m)) => format!("{t}: {m}"),
            _ => format!("HTTP {}", self.status),
        }
    }
}

/// Percent-encodes a query value.
pub(crate) fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `method base_url + path` with an optional JSON body.
pub(crate) fn request(
    base_url: &str,
    method: &str,
    path: &str,
    json: Option<&serde_json::Value>,
) -> anyhow::Result<Answer> {
    let rest = base_url
        .strip_prefix("http://")
        .context("--url must start with http://")?;
    let host = rest.trim_end_matches('/');
    let body = json.map(|j| j.to_string()).unwrap_or_default();
    let mut stream = TcpStream::connect(host).with_context(|| format!("connecting to {host}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let content_type = if json.is_some() {
        "Content-Type: application/json\r\n"
    } else {
        ""
    };
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").context("malformed HTTP response")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("malformed HTTP status line")?;
    Ok(Answer {
        status,
        body: body.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_encoded() {
        assert_eq!(super::encode("a+b@c.d"), "a%2Bb%40c.d");
    }
}
