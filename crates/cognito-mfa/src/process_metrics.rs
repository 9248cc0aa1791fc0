//! The process's own figures for `/_cognito-mfa/metrics`, read from `/proc/self` at each scrape
//! (Linux; elsewhere only the start time is shown), under the names Prometheus's client
//! libraries use (`process_*`), so stock dashboards and alerts apply.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::time::{SystemTime, UNIX_EPOCH};

/// Collects the figures on each scrape.
#[derive(Debug)]
pub(crate) struct Process {
    /// Unix time the server started, in seconds.
    started: f64,
}

impl Process {
    pub(crate) fn new() -> Self {
        let started = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        Process { started }
    }
}

/// What `/proc/self` tells.
#[derive(Debug, Default, PartialEq)]
struct Figures {
    cpu_seconds: f64,
    resident_bytes: u64,
    virtual_bytes: u64,
    threads: u64,
    open_fds: u64,
    max_fds: Option<u64>,
}

/// Parses `/proc/self/stat`: the fields after the command name (which may hold spaces and
/// parentheses, hence the last `)`), `utime` and `stime` in clock ticks, `num_threads`,
/// `vsize` in bytes and `rss` in pages.
fn parse_stat(stat: &str, ticks_per_second: f64, page_size: u64) -> Option<Figures> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // `rest` starts at field 3 (state), so field n of proc(5) is f[n - 3].
    let num = |n: usize| f.get(n - 3)?.parse::<u64>().ok();
    Some(Figures {
        cpu_seconds: (num(14)? + num(15)?) as f64 / ticks_per_second,
        threads: num(20)?,
        virtual_bytes: num(23)?,
        resident_bytes: num(24)? * page_size,
        ..Figures::default()
    })
}

/// The soft limit on open files from `/proc/self/limits`.
fn parse_max_fds(limits: &str) -> Option<u64> {
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..].split_whitespace().next()?.parse().ok()
}

#[cfg(target_os = "linux")]
fn read() -> Option<Figures> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    let mut figures = parse_stat(&stat, ticks, rustix::param::page_size() as u64)?;
    figures.open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
    figures.max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .as_deref()
        .and_then(parse_max_fds);
    Some(figures)
}

#[cfg(not(target_os = "linux"))]
fn read() -> Option<Figures> {
    None
}

fn gauge<V>(encoder: &mut DescriptorEncoder, name: &str, help: &str, value: V) -> Result<(), std::fmt::Error>
where
    V: prometheus_client::encoding::EncodeGaugeValue + std::fmt::Debug + Send + Sync + 'static,
{
    let g = ConstGauge::new(value);
    g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
}

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        gauge(
            &mut encoder,
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch, in seconds",
            self.started,
        )?;
        let Some(f) = read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(f.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "User and system CPU time spent, in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        gauge(
            &mut encoder,
            "process_resident_memory_bytes",
            "Resident memory size, in bytes",
            f.resident_bytes as i64,
        )?;
        gauge(
            &mut encoder,
            "process_virtual_memory_bytes",
            "Virtual memory size, in bytes",
            f.virtual_bytes as i64,
        )?;
        gauge(&mut encoder, "process_threads", "OS threads", f.threads as i64)?;
        gauge(
            &mut encoder,
            "process_open_fds",
            "Open file descriptors (sockets and database files included)",
            f.open_fds as i64,
        )?;
        if let Some(max) = f.max_fds {
            gauge(
                &mut encoder,
                "process_max_fds",
                "Limit on open file descriptors",
                max as i64,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_read_after_the_command_name() {
        // A command name with a space and a parenthesis, as proc(5) allows.
        let stat = "4242 (cognito (mfa) x) S 1 4242 4242 0 -1 4194560 900 0 0 0 250 50 0 0 20 0 7 0 12345 \
                    104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0";
        let f = parse_stat(stat, 100.0, 4096).unwrap();
        assert_eq!(
            f,
            Figures {
                cpu_seconds: 3.0,
                resident_bytes: 2560 * 4096,
                virtual_bytes: 104_857_600,
                threads: 7,
                ..Figures::default()
            }
        );
        assert_eq!(parse_stat("garbage", 100.0, 4096), None);
    }

    #[test]
    fn the_open_file_limit_is_the_soft_one() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max processes             1000                 2000                 processes\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(parse_max_fds(limits), Some(1024));
        assert_eq!(parse_max_fds("nothing"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_figures() {
        let f = read().expect("/proc/self is readable");
        assert!(f.resident_bytes > 0 && f.threads >= 1 && f.open_fds >= 3, "{f:?}");
    }
}
