//! A tiny HTTP/1.1 client over [`tokio::net::TcpStream`]: one request per connection, nothing
//! between the test and the bytes the server writes (no SDK checks, no retries).

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A response: (status, the head in lower case, body with any chunked encoding removed).
pub type Response = (u16, String, Vec<u8>);

/// `GET {url}{path}` over a fresh connection.
pub async fn get(url: &str, path: &str) -> Response {
    let addr = host(url);
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    exchange(addr, req.as_bytes(), &[]).await
}

/// `GET {url}{path}` that must answer 200; the body as JSON.
pub async fn get_json(url: &str, path: &str) -> Value {
    let (status, _, body) = get(url, path).await;
    assert_eq!(status, 200, "GET {path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("JSON body")
}

/// POSTs `body` to `/` as the Cognito operation `op` (`X-Amz-Target`), unsigned.
pub async fn post_raw(url: &str, op: &str, body: &[u8]) -> Response {
    let addr = host(url);
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AWSCognitoIdentityProviderService.{op}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    exchange(addr, head.as_bytes(), body).await
}

/// `{method} {url}{path}` with a JSON body, or none, over a fresh connection (for the
/// server's own routes: `/_cognito-mfa/faults`, `/_cognito-mfa/reset`, ...).
pub async fn send(url: &str, method: &str, path: &str, json: Option<&Value>) -> Response {
    let addr = host(url);
    let body = json.map(|j| j.to_string()).unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    exchange(addr, head.as_bytes(), body.as_bytes()).await
}

/// [`send`] that must answer 200; the body as JSON.
pub async fn send_json(url: &str, method: &str, path: &str, json: Option<&Value>) -> Value {
    let (status, _, body) = send(url, method, path, json).await;
    assert_eq!(status, 200, "{method} {path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).expect("JSON body")
}

fn host(url: &str) -> &str {
    url.strip_prefix("http://").expect("http url")
}

async fn exchange(addr: &str, head: &[u8], body: &[u8]) -> Response {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(head).await.expect("write");
    s.write_all(body).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let headers = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut body = raw[split + 4..].to_vec();
    let status: u16 = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    if headers.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, headers, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&b[..eol]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16).unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}
