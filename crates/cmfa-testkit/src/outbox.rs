//! The server's outbox (`/_cognito-mfa/outbox`): the messages it recorded instead of sending.

use crate::http;
use serde_json::Value;

/// The outbox messages for a user, newest first.
pub async fn messages(url: &str, pool: &str, username: &str) -> Vec<Value> {
    let (status, _, body) = http::get(url, &format!("/_cognito-mfa/outbox?pool_id={pool}&username={username}")).await;
    assert_eq!(status, 200, "outbox: {}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).expect("outbox JSON");
    v["messages"].as_array().cloned().unwrap_or_default()
}

/// The newest message recorded for a user.
pub async fn latest_message(url: &str, pool: &str, username: &str) -> Value {
    messages(url, pool, username)
        .await
        .into_iter()
        .next()
        .expect("a message was recorded")
}

/// The one 6-digit code in the newest message recorded for a user.
pub async fn latest_code(url: &str, pool: &str, username: &str) -> String {
    let m = latest_message(url, pool, username).await;
    six_digit_code(m["body"].as_str().expect("a message with a body"))
}

/// The one run of exactly six digits in `text`.
pub fn six_digit_code(text: &str) -> String {
    let digits: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| s.len() == 6)
        .collect();
    assert_eq!(digits.len(), 1, "one 6-digit code in {text:?}");
    digits[0].to_owned()
}

/// The one run of exactly `digits` digits in `text` (a code in a message body).
pub fn code(text: &str, digits: usize) -> String {
    let runs: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(runs.len(), 1, "one code in {text:?}");
    assert_eq!(runs[0].len(), digits, "a {digits}-digit code in {text:?}");
    runs[0].to_owned()
}
