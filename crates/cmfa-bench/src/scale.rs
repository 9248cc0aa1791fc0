//! `--scenario scale`: what a request costs as one pool grows (issue 12).
//!
//! One pool holds a fixed set of active users (`GET_USERS` signed in for GetUser, `--users`
//! enrolled in TOTP) and is filled with seeded users (AdminCreateUser with an email) up to each
//! of `--sizes` in turn. At each size three runs: GetUser (`--duration`), a TOTP sign-in
//! (InitiateAuth + RespondToAuthChallenge; a short run from a fresh step) and ListUsers with an `email = "…"` filter. The
//! summary gives p50, p99 and throughput at each size as ratios to the first size, and the
//! server's RSS after the last.

use crate::api::Api;
use crate::load::{self, Report};
use crate::scenarios::{self, GetUser, ListUsers, TotpSignIn};
use crate::{Args, print_report};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Users signed in once, whose access tokens GetUser cycles through.
const GET_USERS: usize = 100;
/// Each TOTP user signs in at most once per 30-s step, and the smallest pool holds only 1,000
/// users, so the TOTP run starts at a fresh step and lasts this long: at the ~2,000 sign-ins/s
/// this machine does, fewer sign-ins than there are enrolled users.
const TOTP_RUN: Duration = Duration::from_millis(300);

struct Measured {
    size: usize,
    what: &'static str,
    p50_us: u64,
    p99_us: u64,
    rate: f64,
}

impl Measured {
    fn new(size: usize, what: &'static str, r: &Report) -> Measured {
        Measured {
            size,
            what,
            p50_us: r.percentile_us(50.0),
            p99_us: r.percentile_us(99.0),
            rate: r.ops_per_sec(),
        }
    }
}

pub(crate) async fn run(api: Api, pool_id: String, args: &Args, totp_users: usize) -> anyhow::Result<()> {
    let (conns, pw) = (args.connections, args.password.clone());
    let mut sizes = args.sizes.clone();
    sizes.sort_unstable();
    let active = GET_USERS + totp_users;
    if sizes.first().is_none_or(|&s| s < active) {
        anyhow::bail!("every --sizes value must be at least the {active} active users");
    }
    api.enable_optional_totp(&pool_id).await?;
    let client_id = api.create_client(&pool_id).await?;
    let t = Instant::now();
    let names = scenarios::create_users(&api, &pool_id, "get", &pw, GET_USERS, conns).await?;
    let tokens = scenarios::sign_in_all(&api, &client_id, names, &pw, conns).await?;
    let enrolled = scenarios::enroll_totp_users(&api, &pool_id, &client_id, &pw, totp_users, conns).await?;
    eprintln!("   {active} active users set up in {:.1} s", t.elapsed().as_secs_f64());
    let get = Arc::new(GetUser {
        api: api.clone(),
        tokens,
        next: AtomicUsize::new(0),
    });
    let totp = Arc::new(TotpSignIn {
        api: api.clone(),
        client_id,
        users: enrolled,
        password: pw.clone(),
        next: AtomicUsize::new(0),
    });
    let mut seeded = 0;
    let mut out = Vec::new();
    for &size in &sizes {
        let fill = size - active;
        let t = Instant::now();
        scenarios::seed_users(&api, &pool_id, &pw, seeded..fill, conns).await?;
        eprintln!(
            "   pool at {size} users (seeded {} more in {:.1} s)",
            fill - seeded,
            t.elapsed().as_secs_f64()
        );
        seeded = fill;
        let r = load::run(get.clone(), conns, args.duration, args.server_pid).await;
        print_report(&format!("scale-{size}-getuser"), "requests", &r, args, size, &[]);
        out.push(Measured::new(size, "GetUser", &r));
        wait_for_fresh_step().await;
        let r = load::run(totp.clone(), conns, TOTP_RUN, args.server_pid).await;
        print_report(&format!("scale-{size}-totp"), "sign-ins", &r, args, size, &[]);
        out.push(Measured::new(size, "TOTP sign-in", &r));
        if seeded > 0 {
            let list = ListUsers {
                api: api.clone(),
                pool_id: pool_id.clone(),
                seeded,
                prefix: false,
                next: AtomicUsize::new(0),
            };
            let r = load::run(Arc::new(list), conns, args.duration, args.server_pid).await;
            print_report(&format!("scale-{size}-listusers"), "requests", &r, args, size, &[]);
            out.push(Measured::new(size, "ListUsers email=", &r));
        }
    }
    summary(&out, args.server_pid);
    Ok(())
}

/// Sleeps until just after the next 30-s TOTP step begins, so no enrolled user has spent it.
async fn wait_for_fresh_step() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let into = now.as_millis() % 30_000;
    tokio::time::sleep(Duration::from_millis((30_000 - into) as u64 + 50)).await;
}

fn summary(out: &[Measured], server_pid: Option<u32>) {
    eprintln!("\n== scale: ratios to the smallest pool (goal ≤ 1.5× latency, ≥ 0.67× throughput)");
    eprintln!(
        "{:<18} {:>9} {:>9} {:>9} {:>10} {:>8} {:>8} {:>8}",
        "request", "users", "p50 ms", "p99 ms", "per s", "p50 ×", "p99 ×", "rate ×"
    );
    for m in out {
        let Some(base) = out.iter().find(|b| b.what == m.what) else {
            continue;
        };
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        eprintln!(
            "{:<18} {:>9} {:>9.2} {:>9.2} {:>10.0} {:>8.2} {:>8.2} {:>8.2}",
            m.what,
            m.size,
            m.p50_us as f64 / 1000.0,
            m.p99_us as f64 / 1000.0,
            m.rate,
            ratio(m.p50_us as f64, base.p50_us as f64),
            ratio(m.p99_us as f64, base.p99_us as f64),
            ratio(m.rate, base.rate),
        );
        println!(
            "BENCH_RATIO label=scale request={:?} users={} p50_x={:.2} p99_x={:.2} rate_x={:.2}",
            m.what,
            m.size,
            ratio(m.p50_us as f64, base.p50_us as f64),
            ratio(m.p99_us as f64, base.p99_us as f64),
            ratio(m.rate, base.rate)
        );
    }
    if let Some(pid) = server_pid
        && let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status"))
        && let Some(rss) = status.lines().find(|l| l.starts_with("VmRSS:"))
    {
        let kb: u64 = rss.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0);
        eprintln!("server RSS after the largest pool: {:.1} MiB", kb as f64 / 1024.0);
        println!("BENCH_RESULT label=scale-rss rss_kib={kb}");
    }
}
