//! A minimal AWS JSON 1.1 client for the cognito-idp API over plain HTTP/1.1 (hyper-util's pooled
//! client), and the set-up calls the scenarios share.

use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use cmfa_core::mfa::totp::{STEP_SECS, code_at};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

/// The server's API endpoint.
#[derive(Clone)]
pub(crate) struct Api {
    client: Client<HttpConnector, Full<Bytes>>,
    uri: http::Uri,
}

impl Api {
    /// A client for `url` (`http://host:port`) that keeps up to `connections` idle connections.
    pub(crate) fn new(url: &str, connections: usize) -> anyhow::Result<Api> {
        let uri: http::Uri = format!("{}/", url.trim_end_matches('/'))
            .parse()
            .with_context(|| format!("bad --url {url}"))?;
        if uri.scheme_str() != Some("http") {
            bail!("--url must be plain http://host:port");
        }
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(connections)
            .build(connector);
        Ok(Api { client, uri })
    }

    /// Calls operation `op` with `body`; the parsed JSON answer on 200, otherwise its `__type`.
    pub(crate) async fn call(&self, op: &str, body: &Value) -> Result<Value, CallError> {
        let req = http::Request::post(self.uri.clone())
            .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")
            .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{op}"))
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| CallError::Transport(e.to_string()))?;
        let resp = self
            .client
            .request(req)
            .await
            .map_err(|e| CallError::Transport(format!("{e:?}")))?;
        let status = resp.status();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| CallError::Transport(e.to_string()))?
            .to_bytes();
        let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status == http::StatusCode::OK {
            return Ok(value);
        }
        let kind = value
            .get("__type")
            .and_then(Value::as_str)
            .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
            .unwrap_or_else(|| format!("HTTP{}", status.as_u16()));
        let message = value
            .get("message")
            .or_else(|| value.get("Message"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Err(CallError::Api { kind, message })
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
    fn base32_round_trip() {
        let bytes: Vec<u8> = (0u8..32).map(|i| i.wrapping_mul(37)).collect();
        let text = cmfa_core::mfa::totp::base32(&bytes);
        assert_eq!(base32_decode(&text).unwrap(), bytes);
        assert_eq!(base32_decode(&text.to_lowercase()).unwrap(), bytes);
    }
}
