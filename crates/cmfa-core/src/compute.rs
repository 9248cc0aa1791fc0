//! A bounded pool of threads for the CPU-heavy steps of a request: Argon2id hashing, the SRP
//! exponentiations and RSA signing.
//!
//! Why not on the async runtime: a default Argon2id hash takes tens of milliseconds and 19 MiB.
//! Run on a runtime worker, it holds back every other request queued on that worker, and the
//! memory grows with the number of hashes in flight. Here at most `threads` jobs run at once (so at
//! most `threads` hashes' memory is in use), and at most `queue` more wait; past that a job is
//! refused with AWS's `TooManyRequestsException` instead of piling up.
//!
//! The threads run at a lower scheduling priority (nice 10 on Unix) than the runtime's workers:
//! when both want the CPU, the cheap requests (a GetUser, a configuration read) go first and the
//! expensive steps take what is left, which is all of it when nothing else is waiting.

use crate::error::{DomainError, Result};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The answer when the queue is full (AWS's throttling text for the category).
pub const BUSY: &str = "Too many requests";

/// How the pool is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ComputeSettings {
    /// Worker threads; 0 means one per available core.
    pub threads: usize,
    /// Jobs that may wait for a thread before new ones are refused.
    pub queue: usize,
}

impl Default for ComputeSettings {
    fn default() -> Self {
        ComputeSettings {
            threads: 0,
            queue: 1024,
        }
    }
}

/// The pool. Cheap to clone; the threads end when the last clone is dropped.
#[derive(Clone)]
pub struct Compute {
    tx: Sender<Job>,
    /// Jobs sent and not yet taken by a thread.
    waiting: Arc<AtomicUsize>,
    queue: usize,
    threads: usize,
}

impl Compute {
    /// Starts the threads.
    pub fn new(settings: ComputeSettings) -> Self {
        let threads = match settings.threads {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
            n => n,
        };
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let waiting = Arc::new(AtomicUsize::new(0));
        for i in 0..threads {
            let (rx, waiting) = (rx.clone(), waiting.clone());
            let spawned = std::thread::Builder::new()
                .name(format!("cmfa-compute-{i}"))
                .spawn(move || worker(&rx, &waiting));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a compute thread");
            }
        }
        Compute {
            tx,
            waiting,
            queue: settings.queue,
            threads,
        }
    }

    /// How many threads run jobs.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on a pool thread and waits for its result without blocking the caller's thread.
    /// Refused with `TooManyRequestsException` when the queue is full.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, result) = futures_channel::oneshot::channel();
        let job: Job = Box::new(move || {
            // A panicking job must not take the thread with it; its caller hears an internal error.
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = done.send(out);
        });
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.queue {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(DomainError::TooManyRequests(BUSY.into()));
        }
        if self.tx.send(job).is_err() {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(DomainError::Internal("compute pool stopped".into()));
        }
        match result.await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(_)) => Err(DomainError::Internal("a compute job panicked".into())),
            Err(_) => Err(DomainError::Internal("compute pool stopped".into())),
        }
    }
}

fn worker(rx: &Mutex<Receiver<Job>>, waiting: &AtomicUsize) {
    lower_priority();
    loop {
        // The lock is held only while waiting for the next job; the job runs without it.
        let job = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => {
                waiting.fetch_sub(1, Ordering::AcqRel);
                job()
            }
            Err(_) => return,
        }
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // On Linux a thread id names just that thread for setpriority.
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), 10) {
        tracing::debug!(error = %e, "compute thread keeps its priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn runs_jobs_off_the_callers_thread() {
        let pool = Compute::new(ComputeSettings { threads: 2, queue: 8 });
        let caller = std::thread::current().id();
        let (ran_on, sum) = block_on(pool.run(move || (std::thread::current().id(), 40 + 2))).unwrap();
        assert_ne!(ran_on, caller);
        assert_eq!(sum, 42);
    }

    #[test]
    fn at_most_threads_jobs_run_at_once_and_a_full_queue_is_refused() {
        let pool = Compute::new(ComputeSettings { threads: 2, queue: 2 });
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let release_rx = Arc::new(Mutex::new(release_rx));
        block_on(async {
            let mut tasks = Vec::new();
            let spawn = |tasks: &mut Vec<_>| {
                let (running, peak, release) = (running.clone(), peak.clone(), release_rx.clone());
                let pool = pool.clone();
                tasks.push(tokio::spawn(async move {
                    pool.run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        let _ = release.lock().unwrap().recv_timeout(Duration::from_secs(5));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                }));
            };
            // Two run...
            spawn(&mut tasks);
            spawn(&mut tasks);
            while running.load(Ordering::SeqCst) < 2 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            // ...two wait...
            spawn(&mut tasks);
            spawn(&mut tasks);
            while pool.waiting.load(Ordering::SeqCst) < 2 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            // ...and a fifth is refused.
            let refused = pool.run(|| ()).await;
            assert!(
                matches!(refused, Err(DomainError::TooManyRequests(ref m)) if m == BUSY),
                "{refused:?}"
            );
            for _ in 0..4 {
                release_tx.send(()).unwrap();
            }
            for t in tasks {
                t.await.unwrap().unwrap();
            }
        });
        assert_eq!(peak.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_panicking_job_is_an_internal_error_and_the_pool_goes_on() {
        let pool = Compute::new(ComputeSettings { threads: 1, queue: 4 });
        let r: Result<()> = block_on(pool.run(|| panic!("boom")));
        assert!(matches!(r, Err(DomainError::Internal(_))));
        assert_eq!(block_on(pool.run(|| 7)).unwrap(), 7);
    }
}
