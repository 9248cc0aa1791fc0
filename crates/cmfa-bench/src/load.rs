//! The timed part: `connections` concurrent workers repeat one operation until the time is up;
//! latency percentiles, error counts by `__type`, and the CPU the server, this process and
//! everything else used meanwhile.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one operation (a request, or a whole sign-in flow) came to.
pub(crate) enum Outcome {
    /// Succeeded after `requests` HTTP requests.
    Done { requests: u32, latency: Duration },
    /// Failed; `kind` is the error `__type` (or `transport`, or the scenario's own check).
    Failed { requests: u32, kind: String },
    /// Nothing can be done for this long (no TOTP user is free in this time step): the worker
    /// sleeps that long, or until the run ends if that comes first.
    Wait(Duration),
}

/// One benchmarked operation.
pub(crate) trait Scenario: Send + Sync + 'static {
    /// Runs the operation once; `worker` is the caller's index (0..connections).
    fn run(&self, worker: usize) -> impl Future<Output = Outcome> + Send;
}

/// What a load run measured.
#[derive(Debug, Default)]
pub(crate) struct Report {
    pub(crate) ops: u64,
    pub(crate) requests: u64,
    pub(crate) elapsed: Duration,
    /// Successful operations' latencies, sorted, in µs.
    pub(crate) latencies_us: Vec<u64>,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) waits: u64,
    pub(crate) cpu: Option<Cores>,
}

impl Report {
    /// Successful operations per second.
    pub(crate) fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// HTTP requests per second (successful or not).
    pub(crate) fn requests_per_sec(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `p`-th percentile (0..=100) of the successful operations' latency, in µs.
    pub(crate) fn percentile_us(&self, p: f64) -> u64 {
        percentile(&self.latencies_us, p)
    }

    /// Failed operations.
    pub(crate) fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// `Type:count,Type:count`, or `none`.
    pub(crate) fn error_types(&self) -> String {
        if self.errors.is_empty() {
            return "none".into();
        }
        self.errors
            .iter()
            .map(|(k, v)| format!("{k}:{v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The `p`-th percentile (nearest rank) of sorted `v`; 0 when empty.
pub(crate) fn percentile(v: &[u64], p: f64) -> u64 {
    if v.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

#[derive(Default)]
struct WorkerStats {
    ops: u64,
    requests: u64,
    latencies_us: Vec<u64>,
    errors: BTreeMap<String, u64>,
    waits: u64,
}

/// Runs `scenario` on `connections` workers for `duration`. Operations still in flight when the
/// time is up are finished and counted; the rate is over the time until the last one finished.
pub(crate) async fn run<S: Scenario>(
    scenario: Arc<S>,
    connections: usize,
    duration: Duration,
    server_pid: Option<u32>,
) -> Report {
    let cpu0 = CpuSample::take(server_pid);
    let start = Instant::now();
    let deadline = start + duration;
    let mut handles = Vec::with_capacity(connections);
    for worker in 0..connections {
        let scenario = scenario.clone();
        handles.push(tokio::spawn(async move {
            let mut s = WorkerStats::default();
            while Instant::now() < deadline {
                match scenario.run(worker).await {
                    Outcome::Done { requests, latency } => {
                        s.ops += 1;
                        s.requests += requests as u64;
                        s.latencies_us.push(latency.as_micros() as u64);
                    }
                    Outcome::Failed { requests, kind } => {
                        s.requests += requests as u64;
                        *s.errors.entry(kind).or_default() += 1;
                    }
                    Outcome::Wait(d) => {
                        s.waits += 1;
                        tokio::time::sleep_until(deadline.min(Instant::now() + d).into()).await;
                    }
                }
            }
            s
        }));
    }
    let mut report = Report::default();
    for h in handles {
        let s = h.await.expect("a load worker panicked");
        report.ops += s.ops;
        report.requests += s.requests;
        report.latencies_us.extend(s.latencies_us);
        for (k, v) in s.errors {
            *report.errors.entry(k).or_default() += v;
        }
        report.waits += s.waits;
    }
    report.elapsed = start.elapsed();
    report.latencies_us.sort_unstable();
    report.cpu = cpu0.and_then(|c0| Some(c0.cores_until(&CpuSample::take(server_pid)?)));
    report
}

/// Average cores used over a run: by the server (when its pid is known), by this process, and by
/// everything else on the machine.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cores {
    pub(crate) server: Option<f64>,
    pub(crate) generator: f64,
    pub(crate) others: f64,
}

/// CPU counters from /proc (Linux); clock ticks are USER_HZ, 100 per second.
pub(crate) struct CpuSample {
    at: Instant,
    machine: f64,
    own: f64,
    server: Option<f64>,
}

const USER_HZ: f64 = 100.0;

impl CpuSample {
    /// None when /proc cannot be read (not Linux).
    pub(crate) fn take(server_pid: Option<u32>) -> Option<CpuSample> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        // user nice system idle iowait irq softirq steal: busy = user + nice + system + steal
        // (irq and softirq are left out: the benchmark's own loopback traffic lands there).
        let f: Vec<f64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .map(|x| x.parse().unwrap_or(0.0))
            .collect();
        let machine = (f.first()? + f.get(1)? + f.get(2)? + f.get(7).copied().unwrap_or(0.0)) / USER_HZ;
        Some(CpuSample {
            at: Instant::now(),
            machine,
            own: process_cpu("self")?,
            server: server_pid.and_then(|p| process_cpu(&p.to_string())),
        })
    }

    /// Average cores used between `self` and `later`.
    pub(crate) fn cores_until(&self, later: &CpuSample) -> Cores {
        let wall = later.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let server = match (self.server, later.server) {
            (Some(a), Some(b)) => Some((b - a) / wall),
            _ => None,
        };
        let generator = (later.own - self.own) / wall;
        let others = ((later.machine - self.machine) / wall - generator - server.unwrap_or(0.0)).max(0.0);
        Cores {
            server,
            generator,
            others,
        }
    }
}

/// utime + stime of /proc/<pid>/stat, in seconds.
fn process_cpu(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces; utime and
    // stime are fields 14 and 15, i.e. the 12th and 13th after the ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / USER_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[], 50.0), 0);
        assert_eq!(percentile(&[7], 99.0), 7);
    }

    #[test]
    fn own_cpu_is_readable() {
        assert!(process_cpu("self").is_some());
    }
}
