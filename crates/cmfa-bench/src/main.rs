//! `cmfa-bench`: a load generator for cognito-mfa's sign-in, MFA and user-read paths, which are
//! multi-step or need set-up that wrk scripts handle badly. It sets up what a scenario needs
//! through the API (pools, app clients, users, TOTP enrolment) before timing starts, then runs
//! `--connections` concurrent workers for `--duration` and prints the rate, p50/p99 latency and
//! errors by `__type`: human-readably, and as one `BENCH_RESULT key=value ...` line per measured
//! run. See bench/README.md (`bench/auth.sh`).

mod api;
mod load;
mod scale;
mod scenarios;

use anyhow::{Context, bail};
use api::Api;
use clap::{Parser, ValueEnum};
use cmfa_core::auth::srp;
use cmfa_core::auth::tokens::{Claims, SigningKey};
use cmfa_core::user::password::{HashCost, PasswordRecord};
use load::{Report, percentile};
use scenarios::{EmailOtpSignIn, GetUser, ListUsers, PasswordSignIn, TotpSignIn, unique};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ScenarioName {
    /// InitiateAuth USER_PASSWORD_AUTH → tokens, round-robin over --users users.
    SigninPassword,
    /// InitiateAuth → SOFTWARE_TOKEN_MFA → RespondToAuthChallenge with a TOTP code → tokens.
    SigninTotp,
    /// InitiateAuth USER_AUTH (EMAIL_OTP) → the code from the outbox → RespondToAuthChallenge →
    /// tokens, round-robin over --users passwordless users.
    SigninEmailOtp,
    /// InitiateAuth USER_AUTH (WEB_AUTHN) → an ES256 assertion → RespondToAuthChallenge →
    /// tokens, round-robin over --users users with a registered passkey.
    SigninPasskey,
    /// GetUser with the access tokens of --users signed-in users.
    Getuser,
    /// ListUsers with `email = "…"` and then `email ^= "…"` filters over --users seeded users.
    Listusers,
    /// GetUser, TOTP sign-in and ListUsers at each of --sizes users in one pool, as ratios to
    /// the smallest (--users TOTP users are active; the rest are seeded).
    Scale,
    /// One default Argon2id verification in-process, on 1 and on 2 threads (no server).
    HashOnly,
    /// One RS256 token signature in-process, on 1 and on 2 threads (no server).
    SignOnly,
    /// SRP-6a's modular exponentiations in-process (no server): a password verifier (`g^x`, as
    /// AdminCreateUser, SignUp and every password change compute it) and a server ephemeral
    /// (`k·v + g^b`, the first step of USER_SRP_AUTH), on 1 and on 2 threads.
    SrpOnly,
    /// The hand-off of an empty job to the server's compute pool and back (no server): one
    /// request at a time, then --connections at once.
    HandoffOnly,
}

impl ScenarioName {
    fn name(self) -> &'static str {
        match self {
            ScenarioName::SigninPassword => "signin-password",
            ScenarioName::SigninTotp => "signin-totp",
            ScenarioName::SigninEmailOtp => "signin-email-otp",
            ScenarioName::SigninPasskey => "signin-passkey",
            ScenarioName::Getuser => "getuser",
            ScenarioName::Listusers => "listusers",
            ScenarioName::Scale => "scale",
            ScenarioName::HashOnly => "hash-only",
            ScenarioName::SignOnly => "sign-only",
            ScenarioName::SrpOnly => "srp-only",
            ScenarioName::HandoffOnly => "handoff-only",
        }
    }

    fn default_users(self) -> usize {
        match self {
            ScenarioName::SigninPassword
            | ScenarioName::Getuser
            | ScenarioName::SigninEmailOtp
            | ScenarioName::SigninPasskey => 1_000,
            ScenarioName::SigninTotp => 36_000,
            ScenarioName::Listusers => 100_000,
            ScenarioName::Scale => 700,
            ScenarioName::HashOnly | ScenarioName::SignOnly | ScenarioName::SrpOnly | ScenarioName::HandoffOnly => 0,
        }
    }
}

/// Load generator for cognito-mfa's sign-in, MFA and user-read benchmarks.
#[derive(Debug, Parser)]
#[command(name = "cmfa-bench")]
struct Args {
    /// The server, plain http.
    #[arg(long, default_value = "http://127.0.0.1:9330")]
    url: String,
    /// Concurrent requests (workers) during the timed run, and during set-up.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// How long the timed run lasts (`10s`, `500ms`, `2m`); for listusers, per filter variant;
    /// for hash-only and sign-only, per thread count.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    #[arg(long, value_enum)]
    scenario: ScenarioName,
    /// Users to create (default: signin-password and getuser 1000, signin-totp 36000 (each can
    /// sign in once per 30-s TOTP step), listusers 100000).
    #[arg(long)]
    users: Option<usize>,
    /// Threads of the load generator's runtime.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// The server's pid, to report the cores it used during the run (Linux /proc).
    #[arg(long)]
    server_pid: Option<u32>,
    /// The users' password (must satisfy the default pool policy).
    #[arg(long, default_value = "Bench-Passw0rd!")]
    password: String,
    /// listusers only: measure this existing pool, already seeded with --users users by an
    /// earlier listusers run (e.g. on a kept data dir with other server settings), instead of
    /// creating and seeding one.
    #[arg(long)]
    pool_id: Option<String>,
    /// Pool sizes for the scale scenario, smallest first.
    #[arg(long, value_delimiter = ',', default_value = "1000,100000,1000000")]
    sizes: Vec<usize>,
    /// Name in the BENCH_RESULT line (default: the scenario's).
    #[arg(long)]
    label: Option<String>,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, mult) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.trim().parse().map_err(|_| format!("not a duration: {s}"))?;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("not a positive duration: {s}"));
    }
    Ok(Duration::from_secs_f64(v * mult))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.connections == 0 || args.threads == 0 {
        bail!("--connections and --threads must be at least 1");
    }
    match args.scenario {
        ScenarioName::HashOnly => return hash_only(&args),
        ScenarioName::SignOnly => return sign_only(&args),
        ScenarioName::SrpOnly => return srp_only(&args),
        ScenarioName::HandoffOnly => return handoff_only(&args),
        _ => {}
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads)
        .enable_all()
        .build()?
        .block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let api = Api::new(&args.url, args.connections)?;
    let scenario = args.scenario;
    let label = args.label.clone().unwrap_or_else(|| scenario.name().to_owned());
    let users = args.users.unwrap_or(scenario.default_users()).max(1);
    let conns = args.connections;
    let pw = args.password.clone();
    let setup = Instant::now();
    eprintln!("== {label}: setting up through {} ({users} users)", args.url);
    let pool_name = unique(&format!("bench-{}", scenario.name()));
    if args.pool_id.is_some() && scenario != ScenarioName::Listusers {
        bail!("--pool-id is for the listusers scenario");
    }
    let pool_id = match (&args.pool_id, scenario) {
        (Some(id), _) => Ok(id.clone()),
        (None, ScenarioName::SigninEmailOtp) => api.create_passwordless_pool(&pool_name).await,
        (None, ScenarioName::SigninPasskey) => api.create_passkey_pool(&pool_name).await,
        (None, _) => api.create_pool(&pool_name).await,
    }
    .context("CreateUserPool (is the server up?)")?;
    match scenario {
        ScenarioName::SigninPassword => {
            let client_id = api.create_client(&pool_id).await?;
            let names = scenarios::create_users(&api, &pool_id, "pw", &pw, users, conns).await?;
            // Every user signs in once, unmeasured: this proves the set-up and warms the caches.
            scenarios::sign_in_all(&api, &client_id, names.clone(), &pw, conns).await?;
            let setup_s = setup.elapsed().as_secs_f64();
            eprintln!("   set-up took {setup_s:.1} s");
            let s = PasswordSignIn {
                api,
                client_id,
                users: names,
                password: pw,
                next: AtomicUsize::new(0),
            };
            let r = load::run(Arc::new(s), conns, args.duration, args.server_pid).await;
            print_report(
                &label,
                "sign-ins",
                &r,
                &args,
                users,
                &[("setup_s", format!("{setup_s:.1}"))],
            );
        }
        ScenarioName::SigninTotp => {
            api.enable_optional_totp(&pool_id).await?;
            let client_id = api.create_client(&pool_id).await?;
            let enrolled = scenarios::enroll_totp_users(&api, &pool_id, &client_id, &pw, users, conns).await?;
            let setup_s = setup.elapsed().as_secs_f64();
            eprintln!(
                "   set-up took {setup_s:.1} s ({:.0} users enrolled/s)",
                users as f64 / setup_s
            );
            let s = TotpSignIn {
                api,
                client_id,
                users: enrolled,
                password: pw,
                next: AtomicUsize::new(0),
            };
            let r = load::run(Arc::new(s), conns, args.duration, args.server_pid).await;
            print_report(
                &label,
                "sign-ins",
                &r,
                &args,
                users,
                &[("setup_s", format!("{setup_s:.1}"))],
            );
        }
        ScenarioName::SigninEmailOtp => {
            let client_id = api.create_choice_client(&pool_id).await?;
            let names = scenarios::create_email_users(&api, &pool_id, users, conns).await?;
            let setup_s = setup.elapsed().as_secs_f64();
            eprintln!("   set-up took {setup_s:.1} s");
            let s = EmailOtpSignIn {
                api,
                pool_id,
                client_id,
                users: names,
                next: AtomicUsize::new(0),
            };
            let r = load::run(Arc::new(s), conns, args.duration, args.server_pid).await;
            print_report(
                &label,
                "sign-ins",
                &r,
                &args,
                users,
                &[("setup_s", format!("{setup_s:.1}"))],
            );
        }
        ScenarioName::SigninPasskey => {
            let client_id = api.create_choice_client(&pool_id).await?;
            let enrolled = scenarios::enroll_passkey_users(&api, &pool_id, &client_id, &pw, users, conns).await?;
            let setup_s = setup.elapsed().as_secs_f64();
            eprintln!("   set-up took {setup_s:.1} s");
            let s = scenarios::PasskeySignIn {
                api,
                client_id,
                users: enrolled,
                next: AtomicUsize::new(0),
            };
            let r = load::run(Arc::new(s), conns, args.duration, args.server_pid).await;
            print_report(
                &label,
                "sign-ins",
                &r,
                &args,
                users,
                &[("setup_s", format!("{setup_s:.1}"))],
            );
        }
        ScenarioName::Getuser => {
            let client_id = api.create_client(&pool_id).await?;
            let names = scenarios::create_users(&api, &pool_id, "get", &pw, users, conns).await?;
            let tokens = scenarios::sign_in_all(&api, &client_id, names, &pw, conns).await?;
            let setup_s = setup.elapsed().as_secs_f64();
            eprintln!("   set-up took {setup_s:.1} s");
            let s = GetUser {
                api,
                tokens,
                next: AtomicUsize::new(0),
            };
            let r = load::run(Arc::new(s), conns, args.duration, args.server_pid).await;
            print_report(
                &label,
                "requests",
                &r,
                &args,
                users,
                &[("setup_s", format!("{setup_s:.1}"))],
            );
        }
        ScenarioName::Listusers => {
            // With --pool-id the pool is already seeded: nothing to time.
            let t = Instant::now();
            let seeding = args.pool_id.is_none();
            if seeding {
                scenarios::seed_users(&api, &pool_id, &pw, 0..users, conns).await?;
            }
            let seed_s = t.elapsed().as_secs_f64();
            if seeding {
                eprintln!(
                    "   seeded {users} users in {seed_s:.1} s ({:.0} AdminCreateUser/s)",
                    users as f64 / seed_s
                );
            }
            let seed = ("seed_s", format!("{seed_s:.1}"));
            for prefix in [false, true] {
                let s = ListUsers {
                    api: api.clone(),
                    pool_id: pool_id.clone(),
                    seeded: users,
                    prefix,
                    next: AtomicUsize::new(0),
                };
                let r = load::run(Arc::new(s), conns, args.duration, args.server_pid).await;
                let (l, filter) = if prefix {
                    (format!("{label}-prefix"), "email^=")
                } else {
                    (format!("{label}-eq"), "email=")
                };
                print_report(
                    &l,
                    "requests",
                    &r,
                    &args,
                    users,
                    &[seed.clone(), ("filter", filter.into())],
                );
            }
        }
        ScenarioName::Scale => scale::run(api, pool_id, &args, users).await?,
        ScenarioName::HashOnly | ScenarioName::SignOnly | ScenarioName::SrpOnly | ScenarioName::HandoffOnly => {
            unreachable!("handled in main")
        }
    }
    Ok(())
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Prints `r` for people (stderr) and as a BENCH_RESULT line (stdout).
fn print_report(label: &str, unit: &str, r: &Report, args: &Args, users: usize, extra: &[(&str, String)]) {
    let (p50, p90, p99, max) = (
        r.percentile_us(50.0),
        r.percentile_us(90.0),
        r.percentile_us(99.0),
        r.percentile_us(100.0),
    );
    eprintln!(
        "== {label}: {:.0} {unit}/s ({:.0} requests/s), {} {unit} in {:.2} s, {} connections, {users} users",
        r.ops_per_sec(),
        r.requests_per_sec(),
        r.ops,
        r.elapsed.as_secs_f64(),
        args.connections
    );
    eprintln!(
        "   latency per {}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        unit.trim_end_matches('s'),
        ms(p50),
        ms(p90),
        ms(p99),
        ms(max)
    );
    if r.error_count() == 0 {
        eprintln!("   errors: none");
    } else {
        eprintln!("   errors: {} ({})", r.error_count(), r.error_types());
    }
    if r.waits > 0 {
        eprintln!(
            "   waits: {} times a worker found no user free in the current TOTP step and waited for the next",
            r.waits
        );
    }
    let (c_srv, c_gen, c_oth) = match r.cpu {
        Some(c) => (
            c.server.map_or("na".into(), |s| format!("{s:.2}")),
            format!("{:.2}", c.generator),
            format!("{:.2}", c.others),
        ),
        None => ("na".into(), "na".into(), "na".into()),
    };
    eprintln!("   cores used: server {c_srv}, cmfa-bench {c_gen}, other processes {c_oth}");
    let mut line = format!(
        "BENCH_RESULT scenario={label} ops={} requests={} duration_us={} ops_per_s={:.1} req_per_s={:.1} \
         p50_us={p50} p90_us={p90} p99_us={p99} max_us={max} errors={} error_types={} waits={} \
         connections={} users={users} cores_srv={c_srv} cores_gen={c_gen} cores_oth={c_oth}",
        r.ops,
        r.requests,
        r.elapsed.as_micros(),
        r.ops_per_sec(),
        r.requests_per_sec(),
        r.error_count(),
        r.error_types(),
        r.waits,
        args.connections,
    );
    for (k, v) in extra {
        line.push_str(&format!(" {k}={v}"));
    }
    println!("{line}");
}

/// The cost of the hash alone: one default-cost Argon2id record, `matches()` timed in a loop on
/// 1 and then on 2 threads, `--duration` each.
fn hash_only(args: &Args) -> anyhow::Result<()> {
    let label = args.label.clone().unwrap_or_else(|| "hash-only".into());
    let record = PasswordRecord::new(
        "us-east-1_bench",
        "bench-user",
        &args.password,
        false,
        0.0,
        HashCost::Default,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    if !record.matches(&args.password) || record.matches("wrong") {
        bail!("the Argon2id record does not verify");
    }
    in_process(
        &label,
        "Argon2id verifications (default cost: 19 MiB, 2 passes)",
        args.duration,
        || {
            assert!(record.matches(&args.password));
        },
    );
    Ok(())
}

/// The cost of one RS256 token signature (RSA-2048 with ring, as the server signs ID and access
/// tokens: two per sign-in), on 1 and then on 2 threads, `--duration` each.
fn sign_only(args: &Args) -> anyhow::Result<()> {
    let label = args.label.clone().unwrap_or_else(|| "sign-only".into());
    let key = SigningKey::generate();
    let mut claims = Claims::new();
    for (k, v) in [
        ("sub", "6c2f5b8e-0d3a-4a57-9d1e-2b8f3c4d5e6f"),
        ("iss", "http://127.0.0.1:9330/us-east-1_bench"),
        ("client_id", "3n4b5urk1ft4fl3mg5e62d9ado"),
        ("token_use", "access"),
        ("scope", "aws.cognito.signin.user.admin"),
        ("username", "bench-user"),
    ] {
        claims.insert(k.into(), v.into());
    }
    claims.insert("exp".into(), 2_000_000_000u64.into());
    in_process(&label, "RS256 signatures (RSA-2048, aws-lc-rs)", args.duration, || {
        assert!(!key.sign(&claims).is_empty());
    });
    Ok(())
}

/// The cost of SRP-6a's exponentiations in the 3072-bit group: a password verifier (one `g^x`)
/// and a server ephemeral (`k·v + g^b`), on 1 and then on 2 threads, `--duration` each.
fn srp_only(args: &Args) -> anyhow::Result<()> {
    let label = args.label.clone().unwrap_or_else(|| "srp-only".into());
    let pool_id = "us-east-1_bench";
    let verifier = srp::make_verifier(pool_id, "bench-user", &args.password);
    in_process(
        &format!("{label}-verifier"),
        "password verifiers (g^x)",
        args.duration,
        || {
            assert!(
                !srp::make_verifier(pool_id, "bench-user", &args.password)
                    .verifier_hex
                    .is_empty()
            );
        },
    );
    in_process(
        &format!("{label}-start"),
        "server ephemerals (k·v + g^b)",
        args.duration,
        || {
            assert!(!srp::start(&verifier).big_b_hex.is_empty());
        },
    );
    Ok(())
}

/// What moving a step onto the compute pool costs: an empty job sent to the pool (as the server
/// builds it: one thread per core) and its result awaited, from a 2-thread runtime like the
/// server's; first one at a time (the round trip), then `--connections` at once (throughput).
fn handoff_only(args: &Args) -> anyhow::Result<()> {
    use cmfa_core::compute::{Compute, ComputeSettings};
    let label = args.label.clone().unwrap_or_else(|| "handoff-only".into());
    let pool = Compute::new(ComputeSettings::default());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    for concurrent in [1usize, args.connections] {
        let deadline = Instant::now() + args.duration;
        let start = Instant::now();
        let mut lat: Vec<u64> = rt.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for _ in 0..concurrent {
                let pool = pool.clone();
                tasks.spawn(async move {
                    let mut v = Vec::new();
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        pool.run(|| 1u8).await.expect("the pool runs the job");
                        v.push(t.elapsed().as_nanos() as u64);
                    }
                    v
                });
            }
            tasks.join_all().await.into_iter().flatten().collect()
        });
        let elapsed = start.elapsed();
        lat.sort_unstable();
        let rate = lat.len() as f64 / elapsed.as_secs_f64();
        let (p50, p99) = (percentile(&lat, 50.0), percentile(&lat, 99.0));
        eprintln!(
            "== {label}: {rate:.0} hand-offs/s with {concurrent} at once ({} pool threads), round trip p50 {:.1} µs, p99 {:.1} µs",
            pool.threads(),
            p50 as f64 / 1000.0,
            p99 as f64 / 1000.0
        );
        println!(
            "BENCH_RESULT scenario={label} concurrent={concurrent} ops={} duration_us={} ops_per_s={rate:.1} p50_ns={p50} p99_ns={p99}",
            lat.len(),
            elapsed.as_micros()
        );
    }
    Ok(())
}

/// Times `op` in a loop on 1 and then on 2 threads for `duration` each; prints ops/s per thread
/// count (human-readably, and as BENCH_RESULT lines).
fn in_process(label: &str, what: &str, duration: Duration, op: impl Fn() + Sync) {
    for threads in [1usize, 2] {
        let cpu0 = load::CpuSample::take(None);
        let start = Instant::now();
        let deadline = start + duration;
        let mut lat: Vec<u64> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut v = Vec::new();
                        while Instant::now() < deadline {
                            let t = Instant::now();
                            op();
                            v.push(t.elapsed().as_micros() as u64);
                        }
                        v
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a measuring thread panicked"))
                .collect()
        });
        let elapsed = start.elapsed();
        let cores = cpu0.and_then(|c| Some(c.cores_until(&load::CpuSample::take(None)?)));
        lat.sort_unstable();
        let rate = lat.len() as f64 / elapsed.as_secs_f64();
        let (p50, p99) = (percentile(&lat, 50.0), percentile(&lat, 99.0));
        let (c_gen, c_oth) = cores.map_or(("na".into(), "na".into()), |c| {
            (format!("{:.2}", c.generator), format!("{:.2}", c.others))
        });
        eprintln!(
            "== {label}: {rate:.1} {what}/s on {threads} thread(s), p50 {:.3} ms, p99 {:.3} ms; \
             cores used: cmfa-bench {c_gen}, other processes {c_oth}",
            ms(p50),
            ms(p99)
        );
        println!(
            "BENCH_RESULT scenario={label} threads={threads} ops={} duration_us={} ops_per_s={rate:.1} \
             p50_us={p50} p99_us={p99} cores_gen={c_gen} cores_oth={c_oth}",
            lat.len(),
            elapsed.as_micros()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("10s").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("fast").is_err());
    }
}
