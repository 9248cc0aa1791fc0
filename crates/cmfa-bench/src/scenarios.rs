//! The scenarios: their set-up through the API (before any timing) and the timed operation.

use crate::api::{Api, CallError, current_step, str_at, unix_time};
use crate::load::{Outcome, Scenario};
use cmfa_core::mfa::totp::{STEP_SECS, code_at};
use serde_json::{Value, json};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A name no earlier run on the same server used.
pub(crate) fn unique(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}-{:x}", nanos % 0xffff_ffff)
}

/// Runs `f(0..n)` with `concurrency` tasks at a time and returns the results in index order.
/// Stops at the first error. Prints progress to stderr every 10 s when it takes that long.
pub(crate) async fn parallel<T, F, Fut>(n: usize, concurrency: usize, label: &str, f: F) -> anyhow::Result<Vec<T>>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let progress = {
        let (done, label) = (done.clone(), label.to_owned());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                let d = done.load(Ordering::Relaxed);
                eprintln!(
                    "  {label}: {d}/{n} after {:.0} s ({:.0}/s)",
                    start.elapsed().as_secs_f64(),
                    d as f64 / start.elapsed().as_secs_f64()
                );
            }
        })
    };
    let mut handles = Vec::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (f, next, done, failed) = (f.clone(), next.clone(), done.clone(), failed.clone());
        handles.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n || failed.load(Ordering::Relaxed) {
                    return Ok(out);
                }
                match f(i).await {
                    Ok(t) => out.push((i, t)),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return Err(e);
                    }
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    let mut first_err = None;
    for h in handles {
        match h.await? {
            Ok(part) => all.extend(part),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    progress.abort();
    if let Some(e) = first_err {
        return Err(e);
    }
    all.sort_unstable_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, t)| t).collect())
}

fn failed(requests: u32, e: CallError) -> Outcome {
    Outcome::Failed {
        requests,
        kind: e.kind(),
    }
}

fn has(v: &Value, ptr: &str) -> bool {
    v.pointer(ptr).and_then(Value::as_str).is_some()
}

// --- signin-password -------------------------------------------------------------------------

/// InitiateAuth USER_PASSWORD_AUTH straight to tokens, round-robin over the users.
pub(crate) struct PasswordSignIn {
    pub(crate) api: Api,
    pub(crate) client_id: String,
    pub(crate) users: Vec<String>,
    pub(crate) password: String,
    pub(crate) next: AtomicUsize,
}

impl Scenario for PasswordSignIn {
    async fn run(&self, _worker: usize) -> Outcome {
        let user = &self.users[self.next.fetch_add(1, Ordering::Relaxed) % self.users.len()];
        let t = Instant::now();
        match self
            .api
            .initiate_password_auth(&self.client_id, user, &self.password)
            .await
        {
            Ok(v) if has(&v, "/AuthenticationResult/AccessToken") => Outcome::Done {
                requests: 1,
                latency: t.elapsed(),
            },
            Ok(_) => Outcome::Failed {
                requests: 1,
                kind: "UnexpectedChallenge".into(),
            },
            Err(e) => failed(1, e),
        }
    }
}

// --- signin-totp -----------------------------------------------------------------------------

/// An enrolled TOTP user and the last time step it signed in with.
pub(crate) struct TotpUser {
    pub(crate) name: String,
    pub(crate) secret: Vec<u8>,
    pub(crate) last_step: AtomicU64,
}

/// InitiateAuth USER_PASSWORD_AUTH → SOFTWARE_TOKEN_MFA → RespondToAuthChallenge with the
/// current step's code → tokens. The server accepts each step once per user, so every sign-in
/// takes a user that has not signed in during the current step yet (round-robin); when none is
/// left, the worker waits for the next step (counted as `waits`).
pub(crate) struct TotpSignIn {
    pub(crate) api: Api,
    pub(crate) client_id: String,
    pub(crate) users: Vec<TotpUser>,
    pub(crate) password: String,
    pub(crate) next: AtomicUsize,
}

impl TotpSignIn {
    /// Claims a user for time step `step`.
    fn claim(&self, step: u64) -> Option<&TotpUser> {
        for _ in 0..self.users.len() {
            let u = &self.users[self.next.fetch_add(1, Ordering::Relaxed) % self.users.len()];
            let last = u.last_step.load(Ordering::Relaxed);
            if last < step
                && u.last_step
                    .compare_exchange(last, step, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                return Some(u);
            }
        }
        None
    }
}

impl Scenario for TotpSignIn {
    async fn run(&self, _worker: usize) -> Outcome {
        let step = current_step();
        let Some(user) = self.claim(step) else {
            // Every user has signed in during this step: wait until the next one begins.
            let next_step_at = Duration::from_secs((step + 1) * STEP_SECS);
            return Outcome::Wait(next_step_at.saturating_sub(unix_time()) + Duration::from_millis(20));
        };
        let t = Instant::now();
        let first = match self
            .api
            .initiate_password_auth(&self.client_id, &user.name, &self.password)
            .await
        {
            Ok(v) => v,
            Err(e) => return failed(1, e),
        };
        if first.get("ChallengeName").and_then(Value::as_str) != Some("SOFTWARE_TOKEN_MFA") {
            return Outcome::Failed {
                requests: 1,
                kind: "NoSoftwareTokenChallenge".into(),
            };
        }
        let Ok(session) = str_at(&first, "/Session") else {
            return Outcome::Failed {
                requests: 1,
                kind: "NoSession".into(),
            };
        };
        let body = json!({
            "ClientId": self.client_id,
            "ChallengeName": "SOFTWARE_TOKEN_MFA",
            "Session": session,
            "ChallengeResponses": { "USERNAME": user.name, "SOFTWARE_TOKEN_MFA_CODE": code_at(&user.secret, step) },
        });
        match self.api.call("RespondToAuthChallenge", &body).await {
            Ok(v) if has(&v, "/AuthenticationResult/AccessToken") => Outcome::Done {
                requests: 2,
                latency: t.elapsed(),
            },
            Ok(_) => Outcome::Failed {
                requests: 2,
                kind: "UnexpectedChallenge".into(),
            },
            Err(e) => failed(2, e),
        }
    }
}

/// Creates `n` users in `pool_id`, signs each in and enrolls TOTP as its preferred MFA.
pub(crate) async fn enroll_totp_users(
    api: &Api,
    pool_id: &str,
    client_id: &str,
    password: &str,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<TotpUser>> {
    let (api, pool_id, client_id, password) = (
        api.clone(),
        Arc::<str>::from(pool_id),
        Arc::<str>::from(client_id),
        Arc::<str>::from(password),
    );
    parallel(n, concurrency, "enrolling TOTP users", move |i| {
        let (api, pool_id, client_id, password) = (api.clone(), pool_id.clone(), client_id.clone(), password.clone());
        async move {
            let name = format!("totp-{i:06}");
            api.create_confirmed_user(&pool_id, &name, &password).await?;
            let token = api.sign_in(&client_id, &name, &password).await?;
            let (secret, step) = api.enroll_totp(&token).await?;
            Ok(TotpUser {
                name,
                secret,
                last_step: AtomicU64::new(step),
            })
        }
    })
    .await
}

// --- signin-email-otp ------------------------------------------------------------------------

/// InitiateAuth USER_AUTH with PREFERRED_CHALLENGE EMAIL_OTP → the 8-digit code read from the
/// outbox → RespondToAuthChallenge EMAIL_OTP → tokens (three requests; no password hash, two
/// token signatures), round-robin over passwordless users.
pub(crate) struct EmailOtpSignIn {
    pub(crate) api: Api,
    pub(crate) pool_id: String,
    pub(crate) client_id: String,
    pub(crate) users: Vec<String>,
    pub(crate) next: AtomicUsize,
}

impl Scenario for EmailOtpSignIn {
    async fn run(&self, _worker: usize) -> Outcome {
        let user = &self.users[self.next.fetch_add(1, Ordering::Relaxed) % self.users.len()];
        let t = Instant::now();
        let start = json!({
            "ClientId": self.client_id,
            "AuthFlow": "USER_AUTH",
            "AuthParameters": { "USERNAME": user, "PREFERRED_CHALLENGE": "EMAIL_OTP" },
        });
        let first = match self.api.call("InitiateAuth", &start).await {
            Ok(v) => v,
            Err(e) => return failed(1, e),
        };
        let (Some("EMAIL_OTP"), Ok(session)) = (
            first.get("ChallengeName").and_then(Value::as_str),
            str_at(&first, "/Session"),
        ) else {
            return Outcome::Failed {
                requests: 1,
                kind: "NoEmailOtpChallenge".into(),
            };
        };
        let code = match self.api.outbox_code(&self.pool_id, user, 8).await {
            Ok(c) => c,
            Err(e) => return failed(2, e),
        };
        let answer = json!({
            "ClientId": self.client_id,
            "ChallengeName": "EMAIL_OTP",
            "Session": session,
            "ChallengeResponses": { "USERNAME": user, "EMAIL_OTP_CODE": code },
        });
        match self.api.call("RespondToAuthChallenge", &answer).await {
            Ok(v) if has(&v, "/AuthenticationResult/AccessToken") => Outcome::Done {
                requests: 3,
                latency: t.elapsed(),
            },
            Ok(_) => Outcome::Failed {
                requests: 3,
                kind: "UnexpectedChallenge".into(),
            },
            Err(e) => failed(3, e),
        }
    }
}

/// Creates `n` passwordless users with verified emails.
pub(crate) async fn create_email_users(
    api: &Api,
    pool_id: &str,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<String>> {
    let (api, pool_id) = (api.clone(), Arc::<str>::from(pool_id));
    parallel(n, concurrency, "creating passwordless users", move |i| {
        let (api, pool_id) = (api.clone(), pool_id.clone());
        async move {
            let name = format!("otp-{i:06}");
            api.create_email_user(&pool_id, &name, &format!("{name}@example.com"))
                .await?;
            Ok(name)
        }
    })
    .await
}

// --- signin-passkey --------------------------------------------------------------------------

/// A user and the passkey it registered (a software authenticator's, synced: no counter).
pub(crate) struct PasskeyUser {
    pub(crate) name: String,
    pub(crate) passkey: std::sync::Mutex<cmfa_core::webauthn::soft::SoftPasskey>,
}

/// InitiateAuth USER_AUTH with PREFERRED_CHALLENGE WEB_AUTHN → an ES256 assertion made here →
/// RespondToAuthChallenge WEB_AUTHN → tokens (two requests), round-robin over the users.
pub(crate) struct PasskeySignIn {
    pub(crate) api: Api,
    pub(crate) client_id: String,
    pub(crate) users: Vec<PasskeyUser>,
    pub(crate) next: AtomicUsize,
}

impl Scenario for PasskeySignIn {
    async fn run(&self, _worker: usize) -> Outcome {
        let user = &self.users[self.next.fetch_add(1, Ordering::Relaxed) % self.users.len()];
        let t = Instant::now();
        let start = json!({
            "ClientId": self.client_id,
            "AuthFlow": "USER_AUTH",
            "AuthParameters": { "USERNAME": user.name, "PREFERRED_CHALLENGE": "WEB_AUTHN" },
        });
        let first = match self.api.call("InitiateAuth", &start).await {
            Ok(v) => v,
            Err(e) => return failed(1, e),
        };
        let options = first
            .pointer("/ChallengeParameters/CREDENTIAL_REQUEST_OPTIONS")
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str::<Value>(s).ok());
        let (Some(options), Ok(session)) = (options, str_at(&first, "/Session")) else {
            return Outcome::Failed {
                requests: 1,
                kind: "NoWebAuthnChallenge".into(),
            };
        };
        let assertion = user.passkey.lock().unwrap_or_else(|e| e.into_inner()).assert(&options);
        let answer = json!({
            "ClientId": self.client_id,
            "ChallengeName": "WEB_AUTHN",
            "Session": session,
            "ChallengeResponses": { "USERNAME": user.name, "CREDENTIAL": assertion.to_string() },
        });
        match self.api.call("RespondToAuthChallenge", &answer).await {
            Ok(v) if has(&v, "/AuthenticationResult/AccessToken") => Outcome::Done {
                requests: 2,
                latency: t.elapsed(),
            },
            Ok(_) => Outcome::Failed {
                requests: 2,
                kind: "UnexpectedChallenge".into(),
            },
            Err(e) => failed(2, e),
        }
    }
}

/// Creates `n` users, each signed in once with a password to register a passkey.
pub(crate) async fn enroll_passkey_users(
    api: &Api,
    pool_id: &str,
    client_id: &str,
    password: &str,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<PasskeyUser>> {
    let (api, pool_id, client_id, password) = (
        api.clone(),
        Arc::<str>::from(pool_id),
        Arc::<str>::from(client_id),
        Arc::<str>::from(password),
    );
    parallel(n, concurrency, "registering passkeys", move |i| {
        let (api, pool_id, client_id, password) = (api.clone(), pool_id.clone(), client_id.clone(), password.clone());
        async move {
            let name = format!("pk-{i:06}");
            api.create_confirmed_user(&pool_id, &name, &password).await?;
            let token = api.sign_in(&client_id, &name, &password).await?;
            let passkey = cmfa_core::webauthn::soft::SoftPasskey::synced("http://localhost");
            let options = api
                .call("StartWebAuthnRegistration", &json!({ "AccessToken": token }))
                .await?;
            let credential = passkey.register(&options["CredentialCreationOptions"], "none");
            api.call(
                "CompleteWebAuthnRegistration",
                &json!({ "AccessToken": token, "Credential": credential }),
            )
            .await?;
            Ok(PasskeyUser {
                name,
                passkey: std::sync::Mutex::new(passkey),
            })
        }
    })
    .await
}

// --- getuser ---------------------------------------------------------------------------------

/// GetUser, round-robin over the access tokens of signed-in users.
pub(crate) struct GetUser {
    pub(crate) api: Api,
    pub(crate) tokens: Vec<String>,
    pub(crate) next: AtomicUsize,
}

impl Scenario for GetUser {
    async fn run(&self, _worker: usize) -> Outcome {
        let token = &self.tokens[self.next.fetch_add(1, Ordering::Relaxed) % self.tokens.len()];
        let t = Instant::now();
        match self.api.call("GetUser", &json!({ "AccessToken": token })).await {
            Ok(v) if has(&v, "/Username") => Outcome::Done {
                requests: 1,
                latency: t.elapsed(),
            },
            Ok(_) => Outcome::Failed {
                requests: 1,
                kind: "NoUsername".into(),
            },
            Err(e) => failed(1, e),
        }
    }
}

// --- listusers -------------------------------------------------------------------------------

/// The email of seeded user `i` of a ListUsers pool.
pub(crate) fn seeded_email(i: usize) -> String {
    format!("user{i:06}@example.com")
}

/// ListUsers with an email filter on a seeded pool: `email = "user012345@example.com"` (exactly
/// one match) or, with `prefix`, `email ^= "user01234"` (ten matches). The users are visited in
/// a scattered order (a stride coprime to their count), not one after another.
pub(crate) struct ListUsers {
    pub(crate) api: Api,
    pub(crate) pool_id: String,
    pub(crate) seeded: usize,
    pub(crate) prefix: bool,
    pub(crate) next: AtomicUsize,
}

impl Scenario for ListUsers {
    async fn run(&self, _worker: usize) -> Outcome {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let i = (n.wrapping_mul(7919).wrapping_add(13)) % self.seeded;
        let (filter, want_min, want_max) = if self.prefix {
            let p = format!("user{:05}", i / 10);
            (format!("email ^= \"{p}\""), 1, 10)
        } else {
            (format!("email = \"{}\"", seeded_email(i)), 1, 1)
        };
        let t = Instant::now();
        match self
            .api
            .call("ListUsers", &json!({ "UserPoolId": self.pool_id, "Filter": filter }))
            .await
        {
            Ok(v) => {
                let found = v.get("Users").and_then(Value::as_array).map_or(0, Vec::len);
                if (want_min..=want_max).contains(&found) {
                    Outcome::Done {
                        requests: 1,
                        latency: t.elapsed(),
                    }
                } else {
                    Outcome::Failed {
                        requests: 1,
                        kind: "WrongUserCount".into(),
                    }
                }
            }
            Err(e) => failed(1, e),
        }
    }
}

/// Seeds users `u{i}` with emails `seeded_email(i)` for each i in `users` (AdminCreateUser,
/// MessageAction SUPPRESS).
pub(crate) async fn seed_users(
    api: &Api,
    pool_id: &str,
    password: &str,
    users: std::ops::Range<usize>,
    concurrency: usize,
) -> anyhow::Result<()> {
    let (api, pool_id, password) = (api.clone(), Arc::<str>::from(pool_id), Arc::<str>::from(password));
    let from = users.start;
    parallel(users.len(), concurrency, "seeding users", move |i| {
        let (api, pool_id, password) = (api.clone(), pool_id.clone(), password.clone());
        let i = from + i;
        async move {
            api.admin_create_user(&pool_id, &format!("u{i:06}"), Some(&seeded_email(i)), Some(&password))
                .await
        }
    })
    .await?;
    Ok(())
}

/// Creates `n` confirmed users named `{prefix}-NNNNNN`; returns their names.
pub(crate) async fn create_users(
    api: &Api,
    pool_id: &str,
    prefix: &str,
    password: &str,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<Vec<String>> {
    let (api, pool_id, prefix, password) = (
        api.clone(),
        Arc::<str>::from(pool_id),
        Arc::<str>::from(prefix),
        Arc::<str>::from(password),
    );
    parallel(n, concurrency, "creating users", move |i| {
        let (api, pool_id, prefix, password) = (api.clone(), pool_id.clone(), prefix.clone(), password.clone());
        async move {
            let name = format!("{prefix}-{i:06}");
            api.create_confirmed_user(&pool_id, &name, &password).await?;
            Ok(name)
        }
    })
    .await
}

/// Signs every user in once; returns their access tokens.
pub(crate) async fn sign_in_all(
    api: &Api,
    client_id: &str,
    users: Vec<String>,
    password: &str,
    concurrency: usize,
) -> anyhow::Result<Vec<String>> {
    let (api, client_id, password, users) = (
        api.clone(),
        Arc::<str>::from(client_id),
        Arc::<str>::from(password),
        Arc::new(users),
    );
    let n = users.len();
    parallel(n, concurrency, "signing users in", move |i| {
        let (api, client_id, password, users) = (api.clone(), client_id.clone(), password.clone(), users.clone());
        async move { api.sign_in(&client_id, &users[i], &password).await }
    })
    .await
}
