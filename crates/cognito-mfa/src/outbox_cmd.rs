//! `cognito-mfa outbox`: reads the newest recorded messages from a running server, so a shell
//! script or test can complete a sign-up or MFA step without a mail server or phone.
//!
//! It asks the server (`GET /_cognito-mfa/outbox`) rather than opening the database: the SQLite
//! data directory belongs to the running server, and the same command then works for PostgreSQL.

use anyhow::{Context, bail};
use clap::Args;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// `outbox` options.
#[derive(Debug, Args)]
pub(crate) struct OutboxArgs {
    /// The server's base URL.
    #[arg(long, default_value = "http://127.0.0.1:9330", value_name = "URL")]
    url: String,
    /// Only messages of this user pool.
    #[arg(long)]
    pool_id: Option<String>,
    /// Only messages to this (internal) username.
    #[arg(long)]
    username: Option<String>,
    /// Only messages to this email address or phone number.
    #[arg(long)]
    destination: Option<String>,
    /// How many messages, newest first.
    #[arg(long, default_value_t = 1)]
    limit: usize,
    /// Print only the code (the first run of 6 or more digits) of the newest message.
    #[arg(long)]
    code: bool,
}

fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn first_code(body: &str) -> Option<&str> {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start >= 6 {
                return Some(&body[start..i]);
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Runs the command; prints JSON lines (or the bare code with `--code`).
pub(crate) fn run(a: OutboxArgs) -> anyhow::Result<()> {
    let rest = a.url.strip_prefix("http://").context("--url must start with http://")?;
    let host = rest.trim_end_matches('/');
    let mut query = format!("limit={}", a.limit.max(1));
    for (k, v) in [
        ("pool_id", &a.pool_id),
        ("username", &a.username),
        ("destination", &a.destination),
    ] {
        if let Some(v) = v {
            query.push_str(&format!("&{k}={}", encode(v)));
        }
    }
    let mut stream = TcpStream::connect(host).with_context(|| format!("connecting to {host}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET /_cognito-mfa/outbox?{query} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response.split_once("\r\n\r\n").context("malformed HTTP response")?;
    if !head.starts_with("HTTP/1.1 200") {
        bail!("the server answered {}", head.lines().next().unwrap_or(""));
    }
    let doc: serde_json::Value = serde_json::from_str(body).context("the outbox answer is not JSON")?;
    let messages = doc
        .get("messages")
        .and_then(|m| m.as_array())
        .cloned()
        .unwrap_or_default();
    if messages.is_empty() {
        bail!("no message matches");
    }
    if a.code {
        let text = messages[0].get("body").and_then(|b| b.as_str()).unwrap_or("");
        println!("{}", first_code(text).context("the newest message carries no code")?);
    } else {
        for m in messages {
            println!("{m}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_codes() {
        assert_eq!(super::first_code("Your code is 123456."), Some("123456"));
        assert_eq!(super::first_code("pool 12, code 12345678"), Some("12345678"));
        assert_eq!(super::first_code("nothing"), None);
        assert_eq!(super::encode("a+b@c.d"), "a%2Bb%40c.d");
    }
}
