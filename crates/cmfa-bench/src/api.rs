//! A minimal AWS JSON 1.1 client for the cognito-idp API over plain HTTP/1.1 keep-alive
//! connections, and the set-up calls the scenarios share.
//!
//! Why not hyper's pooled client: the load generator runs on the same two cores as the server,
//! so every microsecond it spends per request is taken from the server being measured. A
//! request here is one `write` of a prebuilt buffer and one or two `read`s.

use anyhow::{Context, anyhow, bail};
use cmfa_core::mfa::totp::{STEP_SECS, code_at};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Why a call failed: the error `__type` the server answered with, or a transport failure.
#[derive(Debug)]
pub(crate) enum CallError {
    /// A non-200 answer; `kind` is its `__type` (or `HTTP <status>` when it has none).
    Api { kind: String, message: String },
    /// The request never got an answer (connect, read, write).
    Transport(String),
}

impl CallError {
    /// The key errors are counted under.
    pub(crate) fn kind(&self) -> String {
        match self {
            CallError::Api { kind, .. } => kind.clone(),
            CallError::Transport(_) => "transport".into(),
        }
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Api { kind, message } => write!(f, "{kind}: {message}"),
            CallError::Transport(e) => write!(f, "transport error: {e}"),
        }
    }
}

impl std::error::Error for CallError {}

/// A kept-alive connection the server had closed: nothing of an answer arrived.
const CLOSED_IDLE: &str = "the server closed the connection before answering";

/// The server's API endpoint and its idle keep-alive connections.
#[derive(Clone)]
pub(crate) struct Api {
    inner: Arc<Endpoint>,
}

struct Endpoint {
    /// `host:port`, also the Host header.
    authority: String,
    idle: Mutex<Vec<Conn>>,
}

/// One keep-alive connection and its buffers.
struct Conn {
    stream: TcpStream,
    out: Vec<u8>,
    buf: Vec<u8>,
}

impl Api {
    /// A client for `url` (`http://host:port`) that keeps up to `connections` idle connections.
    pub(crate) fn new(url: &str, connections: usize) -> anyhow::Result<Api> {
        let authority = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("--url must be plain http://host:port"))?
            .trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            bail!("bad --url {url}: expected http://host:port");
        }
        Ok(Api {
            inner: Arc::new(Endpoint {
                authority: authority.to_owned(),
                idle: Mutex::new(Vec::with_capacity(connections)),
            }),
        })
    }

    /// Calls operation `op` with `body`; the parsed JSON answer on 200, otherwise its `__type`.
    pub(crate) async fn call(&self, op: &str, body: &Value) -> Result<Value, CallError> {
        let body = body.to_string();
        self.send(Req::Call { op, body: &body }).await
    }

    /// GETs `path` (one of the server's own JSON routes, such as the outbox).
    pub(crate) async fn get(&self, path: &str) -> Result<Value, CallError> {
        self.send(Req::Get { path }).await
    }

    async fn send(&self, req: Req<'_>) -> Result<Value, CallError> {
        let reused = self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let answer = match reused {
            // A connection the server closed while it sat idle fails before any answer; the
            // request is then sent once more on a new connection.
            Some(conn) => match conn.round_trip(&self.inner.authority, req).await {
                Err(CallError::Transport(e)) if e == CLOSED_IDLE => None,
                answer => Some(answer?),
            },
            None => None,
        };
        let (status, value, conn) = match answer {
            Some(answer) => answer,
            None => self.connect().await?.round_trip(&self.inner.authority, req).await?,
        };
        if let Some(conn) = conn {
            self.inner.idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
        }
        if status == 200 {
            return Ok(value);
        }
        let kind = value
            .get("__type")
            .and_then(Value::as_str)
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
            .unwrap_or_else(|| format!("HTTP{status}"));
        let message = value
            .get("message")
            .or_else(|| value.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Err(CallError::Api { kind, message })
    }

    async fn connect(&self) -> Result<Conn, CallError> {
        let stream = TcpStream::connect(&self.inner.authority)
            .await
            .map_err(|e| CallError::Transport(format!("connect {}: {e}", self.inner.authority)))?;
        stream
            .set_nodelay(true)
            .map_err(|e| CallError::Transport(e.to_string()))?;
        Ok(Conn {
            stream,
            out: Vec::with_capacity(1024),
            buf: Vec::with_capacity(8192),
        })
    }

    // --- set-up ------------------------------------------------------------------------------

    /// CreateUserPool; returns the pool id.
    pub(crate) async fn create_pool(&self, name: &str) -> anyhow::Result<String> {
        let v = self.call("CreateUserPool", &json!({ "PoolName": name })).await?;
        str_at(&v, "/UserPool/Id")
    }

    /// SetUserPoolMfaConfig: MFA OPTIONAL with TOTP enabled.
    pub(crate) async fn enable_optional_totp(&self, pool_id: &str) -> anyhow::Result<()> {
        self.call(
            "SetUserPoolMfaConfig",
            &json!({
                "UserPoolId": pool_id,
                "MfaConfiguration": "OPTIONAL",
                "SoftwareTokenMfaConfiguration": { "Enabled": true },
            }),
        )
        .await?;
        Ok(())
    }

    /// CreateUserPoolClient allowing USER_PASSWORD_AUTH and refresh; returns the client id.
    pub(crate) async fn create_client(&self, pool_id: &str) -> anyhow::Result<String> {
        let v = self
            .call(
                "CreateUserPoolClient",
                &json!({
                    "UserPoolId": pool_id,
                    "ClientName": "bench",
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                }),
            )
            .await?;
        str_at(&v, "/UserPoolClient/ClientId")
    }

    /// CreateUserPool allowing EMAIL_OTP as a first factor (choice-based sign-in).
    pub(crate) async fn create_passwordless_pool(&self, name: &str) -> anyhow::Result<String> {
        let body = json!({
            "PoolName": name,
            "Policies": { "SignInPolicy": { "AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"] } },
        });
        let v = self.call("CreateUserPool", &body).await?;
        str_at(&v, "/UserPool/Id")
    }

    /// CreateUserPool allowing WEB_AUTHN, with relying party `localhost`.
    pub(crate) async fn create_passkey_pool(&self, name: &str) -> anyhow::Result<String> {
        let body = json!({
            "PoolName": name,
            "Policies": { "SignInPolicy": { "AllowedFirstAuthFactors": ["PASSWORD", "WEB_AUTHN"] } },
        });
        let pool = str_at(&self.call("CreateUserPool", &body).await?, "/UserPool/Id")?;
        let mfa = json!({
            "UserPoolId": pool,
            "MfaConfiguration": "OFF",
            "WebAuthnConfiguration": { "RelyingPartyId": "localhost", "UserVerification": "preferred" },
        });
        self.call("SetUserPoolMfaConfig", &mfa).await?;
        Ok(pool)
    }

    /// CreateUserPoolClient allowing USER_AUTH; returns the client id.
    pub(crate) async fn create_choice_client(&self, pool_id: &str) -> anyhow::Result<String> {
        let body = json!({
            "UserPoolId": pool_id,
            "ClientName": "bench",
            "ExplicitAuthFlows": ["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
        });
        let v = self.call("CreateUserPoolClient", &body).await?;
        str_at(&v, "/UserPoolClient/ClientId")
    }

    /// AdminCreateUser with a verified email and no password (a passwordless user).
    pub(crate) async fn create_email_user(&self, pool_id: &str, username: &str, email: &str) -> anyhow::Result<()> {
        let body = json!({
            "UserPoolId": pool_id,
            "Username": username,
            "MessageAction": "SUPPRESS",
            "UserAttributes": [{ "Name": "email", "Value": email }, { "Name": "email_verified", "Value": "true" }],
        });
        self.call("AdminCreateUser", &body)
            .await
            .with_context(|| format!("AdminCreateUser {username}"))?;
        Ok(())
    }

    /// The code in the newest outbox message to `username` of `pool_id`.
    pub(crate) async fn outbox_code(&self, pool_id: &str, username: &str, digits: usize) -> Result<String, CallError> {
        let v = self
            .get(&format!(
                "/_cognito-mfa/outbox?pool_id={pool_id}&username={username}&limit=1"
            ))
            .await?;
        let body = v
            .pointer("/messages/0/body")
            .and_then(Value::as_str)
            .unwrap_or_default();
        body.split(|c: char| !c.is_ascii_digit())
            .find(|run| run.len() == digits)
            .map(str::to_owned)
            .ok_or_else(|| CallError::Api {
                kind: "NoCodeInOutbox".into(),
                message: body.to_owned(),
            })
    }

    /// AdminCreateUser (no message sent), with an optional email attribute.
    pub(crate) async fn admin_create_user(
        &self,
        pool_id: &str,
        username: &str,
        email: Option<&str>,
        temporary_password: Option<&str>,
    ) -> anyhow::Result<()> {
        let mut body = json!({ "UserPoolId": pool_id, "Username": username, "MessageAction": "SUPPRESS" });
        if let Some(email) = email {
            body["UserAttributes"] = json!([{ "Name": "email", "Value": email }]);
        }
        if let Some(p) = temporary_password {
            body["TemporaryPassword"] = json!(p);
        }
        self.call("AdminCreateUser", &body)
            .await
            .with_context(|| format!("AdminCreateUser {username}"))?;
        Ok(())
    }

    /// AdminCreateUser + AdminSetUserPassword Permanent: a CONFIRMED user that can sign in.
    pub(crate) async fn create_confirmed_user(
        &self,
        pool_id: &str,
        username: &str,
        password: &str,
    ) -> anyhow::Result<()> {
        self.admin_create_user(pool_id, username, None, Some(password)).await?;
        self.call(
            "AdminSetUserPassword",
            &json!({ "UserPoolId": pool_id, "Username": username, "Password": password, "Permanent": true }),
        )
        .await
        .with_context(|| format!("AdminSetUserPassword {username}"))?;
        Ok(())
    }

    /// InitiateAuth USER_PASSWORD_AUTH, the whole answer.
    pub(crate) async fn initiate_password_auth(
        &self,
        client_id: &str,
        username: &str,
        password: &str,
    ) -> Result<Value, CallError> {
        self.call(
            "InitiateAuth",
            &json!({
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": client_id,
                "AuthParameters": { "USERNAME": username, "PASSWORD": password },
            }),
        )
        .await
    }

    /// Signs in a user without MFA; returns the access token.
    pub(crate) async fn sign_in(&self, client_id: &str, username: &str, password: &str) -> anyhow::Result<String> {
        let v = self
            .initiate_password_auth(client_id, username, password)
            .await
            .with_context(|| format!("InitiateAuth {username}"))?;
        str_at(&v, "/AuthenticationResult/AccessToken").with_context(|| format!("InitiateAuth {username}: {v}"))
    }

    /// AssociateSoftwareToken + VerifySoftwareToken + SetUserMFAPreference (TOTP preferred).
    /// Returns the secret and the time step the verification used.
    ///
    /// The verification answers with the previous step's code, which the server still accepts
    /// (±1 step); it then refuses only steps up to that one, so the user can sign in with the
    /// current step right away instead of 30 s later.
    pub(crate) async fn enroll_totp(&self, access_token: &str) -> anyhow::Result<(Vec<u8>, u64)> {
        let v = self
            .call("AssociateSoftwareToken", &json!({ "AccessToken": access_token }))
            .await?;
        let secret = base32_decode(&str_at(&v, "/SecretCode")?)?;
        let mut used = None;
        for back in [1, 0] {
            let step = current_step().saturating_sub(back);
            let body = json!({ "AccessToken": access_token, "UserCode": code_at(&secret, step), "FriendlyDeviceName": "bench" });
            match self.call("VerifySoftwareToken", &body).await {
                Ok(_) => {
                    used = Some(step);
                    break;
                }
                // The step went out of the window between computing the code and the check.
                Err(CallError::Api { kind, .. }) if kind == "EnableSoftwareTokenMFAException" => continue,
                Err(e) => return Err(e).context("VerifySoftwareToken"),
            }
        }
        let used = used.ok_or_else(|| anyhow!("VerifySoftwareToken refused the current code"))?;
        self.call(
            "SetUserMFAPreference",
            &json!({
                "AccessToken": access_token,
                "SoftwareTokenMfaSettings": { "Enabled": true, "PreferredMfa": true },
            }),
        )
        .await
        .context("SetUserMFAPreference")?;
        Ok((secret, used))
    }
}

/// One request: an operation on `POST /`, or a GET of one of the server's own routes.
#[derive(Clone, Copy)]
enum Req<'a> {
    Call { op: &'a str, body: &'a str },
    Get { path: &'a str },
}

impl Conn {
    /// Sends one request and reads its answer: (status, JSON body or Null, the connection if it
    /// can be used again).
    async fn round_trip(mut self, authority: &str, req: Req<'_>) -> Result<(u16, Value, Option<Conn>), CallError> {
        let transport = |e: std::io::Error| CallError::Transport(e.to_string());
        self.out.clear();
        match req {
            Req::Call { op, body } => {
                self.out.extend_from_slice(b"POST / HTTP/1.1\r\nHost: ");
                self.out.extend_from_slice(authority.as_bytes());
                self.out.extend_from_slice(
                    b"\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: AWSCognitoIdentityProviderService.",
                );
                self.out.extend_from_slice(op.as_bytes());
                self.out.extend_from_slice(b"\r\nContent-Length: ");
                self.out.extend_from_slice(body.len().to_string().as_bytes());
                self.out.extend_from_slice(b"\r\n\r\n");
                self.out.extend_from_slice(body.as_bytes());
            }
            Req::Get { path } => {
                self.out.extend_from_slice(b"GET ");
                self.out.extend_from_slice(path.as_bytes());
                self.out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
                self.out.extend_from_slice(authority.as_bytes());
                self.out.extend_from_slice(b"\r\n\r\n");
            }
        }
        self.stream.write_all(&self.out).await.map_err(transport)?;

        self.buf.clear();
        let head = loop {
            if let Some(head) = parse_head(&self.buf).map_err(CallError::Transport)? {
                break head;
            }
            if self.stream.read_buf(&mut self.buf).await.map_err(transport)? == 0 {
                let why = if self.buf.is_empty() {
                    CLOSED_IDLE
                } else {
                    "the server closed the connection mid-answer"
                };
                return Err(CallError::Transport(why.into()));
            }
        };
        let end = head.len + head.content_length;
        while self.buf.len() < end {
            self.buf.reserve(end - self.buf.len());
            if self.stream.read_buf(&mut self.buf).await.map_err(transport)? == 0 {
                return Err(CallError::Transport(
                    "the server closed the connection mid-answer".into(),
                ));
            }
        }
        let value = serde_json::from_slice(&self.buf[head.len..end]).unwrap_or(Value::Null);
        let again = (head.keep_alive && self.buf.len() == end).then_some(self);
        Ok((head.status, value, again))
    }
}

/// An answer's status line and headers.
#[derive(Debug, PartialEq)]
struct Head {
    status: u16,
    /// Bytes up to and including the blank line.
    len: usize,
    content_length: usize,
    keep_alive: bool,
}

/// The head of the answer in `buf`, None if it has not all arrived yet. Answers without a
/// Content-Length (chunked, or closed-delimited) are refused: the server always sends one.
fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&buf[..at]).map_err(|_| "an answer head that is not UTF-8".to_owned())?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.1 ")
        .and_then(|s| s.get(..3))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP/1.1 status line: {status_line:?}"))?;
    let (mut content_length, mut keep_alive) = (None, true);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse().ok();
        } else if name.eq_ignore_ascii_case("connection") && value.eq_ignore_ascii_case("close") {
            keep_alive = false;
        }
    }
    let content_length = content_length.ok_or_else(|| "an answer without Content-Length".to_owned())?;
    Ok(Some(Head {
        status,
        len: at + 4,
        content_length,
        keep_alive,
    }))
}

/// The string at JSON pointer `ptr`.
pub(crate) fn str_at(v: &Value, ptr: &str) -> anyhow::Result<String> {
    v.pointer(ptr)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no {ptr} in the answer: {v}"))
}

/// The current TOTP time step by this machine's clock.
pub(crate) fn current_step() -> u64 {
    unix_time().as_secs() / STEP_SECS
}

/// Time since the Unix epoch.
pub(crate) fn unix_time() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// RFC 4648 Base32 (upper or lower case, padding optional), as AssociateSoftwareToken returns it.
pub(crate) fn base32_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c.to_ascii_uppercase() {
            c @ b'A'..=b'Z' => c - b'A',
            c @ b'2'..=b'7' => c - b'2' + 26,
            _ => bail!("not Base32: {s}"),
        };
        buffer = (buffer << 5) | v as u32;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_heads_are_parsed_once_complete() {
        let full = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\nContent-Length: 11\r\n\r\n{\"a\":\"b\"}xx";
        let head = parse_head(full).unwrap().unwrap();
        assert_eq!(
            head,
            Head {
                status: 400,
                len: full.len() - 11,
                content_length: 11,
                keep_alive: true
            }
        );
        assert_eq!(parse_head(&full[..20]).unwrap(), None);
        let closing = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert!(!parse_head(closing).unwrap().unwrap().keep_alive);
        assert!(parse_head(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").is_err());
        assert!(parse_head(b"SSH-2.0\r\n\r\n").is_err());
    }

    #[test]
    fn base32_round_trip() {
        let bytes: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37)).collect();
        let text = cmfa_core::mfa::totp::base32(&bytes);
        assert_eq!(base32_decode(&text).unwrap(), bytes);
        assert_eq!(base32_decode(&text.to_lowercase()).unwrap(), bytes);
    }
}
