//! The webhook transport: one HTTP(S) POST of JSON per message, so any SMS gateway (or mail
//! API) can be plugged in with a few lines of glue. A 2xx answer means delivered; anything
//! else is retried by the worker.
//!
//! The body: `{"channel":"SMS"|"EMAIL","destination","subject","body","poolId","username",
//! "purpose"}`. One connection per message through hyper's single-connection client: volume is
//! low, and no pool means no stale connection to trip over after an idle night.

use crate::{ConfigError, DeliveryError, OutboundMessage, Result, Transport, tls};
use async_trait::async_trait;
use bytes::Bytes;
use http::{Request, Uri, header};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls::pki_types::ServerName;

/// Where to POST.
#[derive(Clone)]
pub struct WebhookConfig {
    url: Uri,
    host: String,
    port: u16,
    tls: bool,
    /// Longest one POST may take, connect to response head (under the store's 60 s claim).
    pub timeout: Duration,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("url", &self.display_url())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl WebhookConfig {
    /// Parses an `http://` or `https://` URL. Credentials in it are refused (they would reach
    /// the logs); a token in the query string is allowed and never logged.
    pub fn from_url(url: &str) -> std::result::Result<WebhookConfig, ConfigError> {
        let err = |why: &str| ConfigError(format!("bad webhook URL: {why}"));
        let uri: Uri = url.parse().map_err(|_| err("not a URL"))?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(err("the scheme must be http or https")),
        };
        let authority = uri.authority().ok_or_else(|| err("no host"))?;
        if authority.as_str().contains('@') {
            return Err(err(
                "credentials in the URL are not supported; use a token in the path or query",
            ));
        }
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        if host.is_empty() {
            return Err(err("no host"));
        }
        let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
        Ok(WebhookConfig {
            url: uri,
            host,
            port,
            tls,
            timeout: Duration::from_secs(30),
        })
    }

    /// Scheme, host and path, without the query (it may hold a token).
    pub fn display_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        let authority = self.url.authority().map(|a| a.as_str()).unwrap_or("");
        format!("{scheme}://{authority}{}", self.url.path())
    }
}

/// POSTs each message as JSON.
#[derive(Debug)]
pub struct WebhookTransport {
    config: WebhookConfig,
}

impl WebhookTransport {
    pub fn new(config: WebhookConfig) -> Self {
        WebhookTransport { config }
    }

    /// The JSON body for one message.
    pub fn payload(msg: &OutboundMessage) -> serde_json::Value {
        serde_json::json!({
            "channel": msg.channel,
            "destination": msg.destination,
            "subject": msg.subject,
            "body": msg.body,
            "poolId": msg.pool_id,
            "username": msg.username,
            "purpose": msg.purpose,
        })
    }

    async fn post(&self, msg: &OutboundMessage) -> Result<()> {
        let cfg = &self.config;
        let body = serde_json::to_vec(&Self::payload(msg))
            .map_err(|e| DeliveryError::transient(format!("encoding the webhook body: {e}")))?;
        let host_header = cfg.url.authority().map(|a| a.as_str()).unwrap_or(&cfg.host).to_owned();
        let path = cfg.url.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let request = Request::post(path)
            .header(header::HOST, host_header)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, concat!("cognito-mfa/", env!("CARGO_PKG_VERSION")))
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| DeliveryError::transient(format!("building the webhook request: {e}")))?;
        let tcp = TcpStream::connect((cfg.host.as_str(), cfg.port))
            .await
            .map_err(|e| DeliveryError::transient(format!("connecting to {}: {e}", cfg.display_url())))?;
        let _ = tcp.set_nodelay(true);
        let status = if cfg.tls {
            let name = ServerName::try_from(cfg.host.clone())
                .map_err(|_| DeliveryError::transient(format!("{:?} is not a valid TLS server name", cfg.host)))?;
            let stream = tls::connector()
                .connect(name, tcp)
                .await
                .map_err(|e| DeliveryError::transient(format!("TLS with {}: {e}", cfg.display_url())))?;
            send_request(stream, request).await?
        } else {
            send_request(tcp, request).await?
        };
        if status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError::transient(format!(
                "{} answered {status}",
                cfg.display_url()
            )))
        }
    }
}

async fn send_request<S>(stream: S, request: Request<Full<Bytes>>) -> Result<http::StatusCode>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| DeliveryError::transient(format!("webhook HTTP handshake: {e}")))?;
    // The connection future drives the socket; it ends when the response is read and the
    // sender dropped.
    let driver = tokio::spawn(async move {
        let _ = conn.await;
    });
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| DeliveryError::transient(format!("webhook request: {e}")));
    drop(sender);
    driver.abort();
    Ok(response?.status())
}

#[async_trait]
impl Transport for WebhookTransport {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn send(&self, msg: &OutboundMessage) -> Result<()> {
        match tokio::time::timeout(self.config.timeout, self.post(msg)).await {
            Ok(r) => r,
            Err(_) => Err(DeliveryError::transient(format!(
                "{} did not answer within {:?}",
                self.config.display_url(),
                self.config.timeout
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    fn sms() -> OutboundMessage {
        OutboundMessage {
            pool_id: "us-east-1_a".into(),
            username: "alice".into(),
            channel: Channel::Sms,
            destination: "+15550100".into(),
            subject: None,
            body: "Your code is 123456".into(),
            purpose: "INVITATION".into(),
        }
    }

    #[test]
    fn urls() {
        let c = WebhookConfig::from_url("https://sms.example.com/hook?token=s3cret").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.tls), ("sms.example.com", 443, true));
        assert_eq!(c.display_url(), "https://sms.example.com/hook");
        assert!(!format!("{c:?}").contains("s3cret"));
        let c = WebhookConfig::from_url("http://[::1]:8080").unwrap();
        assert_eq!((c.host.as_str(), c.port, c.tls), ("::1", 8080, false));
        for bad in ["ftp://x/", "http://u:p@x/", "not a url", "/relative"] {
            assert!(WebhookConfig::from_url(bad).is_err(), "{bad}");
        }
    }

    /// Accepts one request, answers `status`, returns the raw request.
    async fn one_shot(status: &'static str) -> (u16, tokio::task::JoinHandle<String>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let h = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            loop {
                let n = s.read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
                let text = String::from_utf8_lossy(&buf).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(|v| v.parse().unwrap())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break;
                    }
                }
                if n == 0 {
                    break;
                }
            }
            s.write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n").as_bytes())
                .await
                .unwrap();
            String::from_utf8_lossy(&buf).to_string()
        });
        (port, h)
    }

    #[tokio::test]
    async fn posts_json_and_2xx_is_delivered() {
        let (port, server) = one_shot("204 No Content").await;
        let t = WebhookTransport::new(WebhookConfig::from_url(&format!("http://127.0.0.1:{port}/sms?k=v")).unwrap());
        t.send(&sms()).await.unwrap();
        let raw = server.await.unwrap();
        assert!(raw.starts_with("POST /sms?k=v HTTP/1.1\r\n"), "{raw}");
        assert!(raw.to_ascii_lowercase().contains("content-type: application/json"));
        let body: serde_json::Value = serde_json::from_str(raw.split_once("\r\n\r\n").unwrap().1).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"channel": "SMS", "destination": "+15550100", "subject": null,
                "body": "Your code is 123456", "poolId": "us-east-1_a", "username": "alice",
                "purpose": "INVITATION"})
        );
    }

    #[tokio::test]
    async fn non_2xx_is_a_transient_failure() {
        let (port, _server) = one_shot("503 Service Unavailable").await;
        let t = WebhookTransport::new(WebhookConfig::from_url(&format!("http://127.0.0.1:{port}/")).unwrap());
        let err = t.send(&sms()).await.unwrap_err();
        assert!(!err.permanent && err.message.contains("503"), "{err}");
        assert!(!err.message.contains("123456"));
    }
}
