//! `cognito-mfa outbox`: reads the newest recorded messages from a running server
//! (`GET /_cognito-mfa/outbox`), so a shell script or test can complete a sign-up or MFA step
//! without a mail server or phone.

use crate::admin_http::{encode, request};
use anyhow::{Context, bail};
use clap::Args;

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
    let answer = request(&a.url, "GET", &format!("/_cognito-mfa/outbox?{query}"), None)?;
    if answer.status != 200 {
        bail!("the server answered {}", answer.error_text());
    }
    let doc: serde_json::Value = serde_json::from_str(&answer.body).context("the outbox answer is not JSON")?;
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
    }
}
