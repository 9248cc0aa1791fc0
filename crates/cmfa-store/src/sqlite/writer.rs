//! Group commit: one thread owns the write connection and commits waiting writes together.
//!
//! Why: SQLite admits one writer, and a commit costs far more than the statements in it. Under
//! concurrent load, callers queue their write as a closure; the writer takes every queued write
//! (up to `MAX_BATCH`), runs them in one transaction and commits once, then answers each caller.
//! A caller is answered only after the commit, so an acknowledged write is durable. A lone write
//! is committed at once, with no added delay.
//!
//! Each write runs inside its own savepoint, so one that fails is rolled back alone and the
//! others in the batch still commit. A write may carry an `after` step that runs on the writer
//! thread right after a successful commit, in commit order: that is where caches are updated, so
//! a cache can never apply two writes in a different order than the database did.
//!
//! Housekeeping (deleting expired rows) also runs here, between batches, in a transaction of its
//! own: it is a write like any other, and this is the one thread that writes.

use super::owned_thread::OwnedThread;
use crate::error::from_sqlite;
use crate::{DbCall, DbTimer};
use cmfa_core::store::{StoreError, StoreResult};
use rusqlite::Connection;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const MAX_BATCH: usize = 256;

/// A periodic write of the store's own: deletes a bounded number of stale rows and says whether
/// it left more to delete.
pub(super) type Sweep = Box<dyn FnMut(&Connection) -> StoreResult<bool> + Send>;

/// How often the sweep runs; `SWEEP_SOON` (or four times the last run's length, if longer) when
/// the last run left more to do.
const SWEEP_EVERY: Duration = Duration::from_secs(crate::expiry::SWEEP_EVERY_SECS);
const SWEEP_SOON: Duration = Duration::from_millis(100);

/// What a job leaves to do once the batch's commit has succeeded or failed.
type Finish = Box<dyn FnOnce(StoreResult<()>) + Send>;

trait Job: Send {
    /// Runs the write; says whether it succeeded (else its savepoint is rolled back).
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Finish);
    /// The batch could not even start: answer with `e` without running.
    fn abort(self: Box<Self>, e: StoreError);
}

struct Write<F, A, T> {
    f: F,
    after: A,
    reply: oneshot::Sender<StoreResult<T>>,
}

impl<F, A, T> Job for Write<F, A, T>
where
    F: FnOnce(&Connection) -> StoreResult<T> + Send,
    A: FnOnce(&T) + Send + 'static,
    T: Send + 'static,
{
    fn run(self: Box<Self>, conn: &Connection) -> (bool, Finish) {
        let Write { f, after, reply } = *self;
        let r = f(conn);
        let ok = r.is_ok();
        let finish: Finish = Box::new(move |commit| {
            let r = commit.and(r);
            if let Ok(v) = &r {
                after(v);
            }
            let _ = reply.send(r);
        });
        (ok, finish)
    }

    fn abort(self: Box<Self>, e: StoreError) {
        let _ = self.reply.send(Err(e));
    }
}

/// Handle to the writer thread. Dropping it lets the thread finish the writes already queued,
/// and waits for it (see [`OwnedThread`]).
pub(super) struct Writer {
    jobs: OwnedThread<Box<dyn Job>>,
    /// Told how long each write took, from its submission to its batch's commit.
    pub(super) timer: Option<DbTimer>,
}

impl Writer {
    /// Starts the writer thread, which owns `conn` until the handle is dropped, and runs `sweep`
    /// every minute (sooner while it has more to do).
    pub(super) fn start(conn: Connection, sweep: Sweep) -> StoreResult<Writer> {
        Self::start_sweeping_every(conn, sweep, SWEEP_EVERY)
    }

    fn start_sweeping_every(conn: Connection, sweep: Sweep, every: Duration) -> StoreResult<Writer> {
        let jobs = OwnedThread::spawn("sqlite-writer", move |rx| run(conn, rx, sweep, every))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the SQLite writer thread: {e}")))?;
        Ok(Writer { jobs, timer: None })
    }

    /// Runs `f` in the next batch and, once that batch is committed, `after` on its result;
    /// returns the result.
    pub(super) async fn write<T, F, A>(&self, f: F, after: A) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
        A: FnOnce(&T) + Send + 'static,
    {
        let started = Instant::now();
        let (reply, answer) = oneshot::channel();
        if !self.jobs.send(Box::new(Write { f, after, reply })) {
            return Err(StoreError::Unavailable("the SQLite writer has stopped".into()));
        }
        let result = answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the SQLite writer dropped a write".into())));
        crate::report(self.timer.as_ref(), DbCall::Write, started);
        result
    }
}

fn exec(conn: &Connection, sql: &str) -> StoreResult<()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(|_| ())
        .map_err(from_sqlite)
}

fn run(conn: Connection, rx: mpsc::Receiver<Box<dyn Job>>, mut sweep: Sweep, every: Duration) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    let mut finishes: Vec<Finish> = Vec::with_capacity(MAX_BATCH);
    let mut sweep_at = Instant::now() + every;
    loop {
        let first = match rx.recv_timeout(sweep_at.saturating_duration_since(Instant::now())) {
            Ok(job) => Some(job),
            Err(mpsc::RecvTimeoutError::Timeout) => None,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        if Instant::now() >= sweep_at {
            let started = Instant::now();
            let more = run_sweep(&conn, &mut sweep);
            // While draining a backlog, sweeps take at most a fifth of the writer's time.
            let soon = SWEEP_SOON.max(started.elapsed() * 4).min(every);
            sweep_at = Instant::now() + if more { soon } else { every };
        }
        let Some(first) = first else { continue };
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        if let Err(e) = exec(&conn, "BEGIN IMMEDIATE") {
            for job in batch.drain(..) {
                job.abort(e.clone());
            }
            continue;
        }
        for job in batch.drain(..) {
            if let Err(e) = exec(&conn, "SAVEPOINT w") {
                job.abort(e);
                continue;
            }
            let (ok, finish) = job.run(&conn);
            if !ok {
                let _ = exec(&conn, "ROLLBACK TO w");
            }
            let _ = exec(&conn, "RELEASE w");
            finishes.push(finish);
        }
        let commit = exec(&conn, "COMMIT");
        if commit.is_err() {
            let _ = exec(&conn, "ROLLBACK");
        }
        for finish in finishes.drain(..) {
            finish(commit.clone());
        }
    }
}

/// Runs the sweep in a transaction of its own; whether it has more to do. A failure is logged
/// and retried at the next run: housekeeping never stops the writer.
fn run_sweep(conn: &Connection, sweep: &mut Sweep) -> bool {
    let result = exec(conn, "BEGIN IMMEDIATE").and_then(|()| {
        let more = sweep(conn);
        let end = if more.is_ok() { "COMMIT" } else { "ROLLBACK" };
        exec(conn, end).and(more)
    });
    match result {
        Ok(more) => more,
        Err(e) => {
            let _ = exec(conn, "ROLLBACK");
            tracing::warn!(error = %e, "SQLite housekeeping failed; retrying later");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t (v INTEGER)").unwrap();
        c
    }

    fn count(c: &Connection) -> i64 {
        c.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_sweep_commits_what_it_did_and_says_whether_more_is_left() {
        let c = conn();
        let mut sweep: Sweep = Box::new(|c| {
            c.execute("INSERT INTO t VALUES (1)", []).map_err(from_sqlite)?;
            Ok(true)
        });
        assert!(run_sweep(&c, &mut sweep));
        assert!(c.is_autocommit(), "the sweep's transaction was left open");
        assert_eq!(count(&c), 1);
    }

    #[tokio::test]
    async fn the_writer_sweeps_between_batches_while_idle_and_while_busy() {
        let sweeps = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = sweeps.clone();
        let sweep: Sweep = Box::new(move |_| {
            counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(false)
        });
        let w = Writer::start_sweeping_every(conn(), sweep, Duration::from_millis(20)).unwrap();
        tokio::time::sleep(Duration::from_millis(150)).await;
        let idle = sweeps.load(std::sync::atomic::Ordering::Relaxed);
        assert!(idle >= 2, "{idle} sweeps while idle");
        let until = Instant::now() + Duration::from_millis(150);
        while Instant::now() < until {
            w.write(
                |c| c.execute("INSERT INTO t VALUES (1)", []).map_err(from_sqlite),
                |_| {},
            )
            .await
            .unwrap();
        }
        let busy = sweeps.load(std::sync::atomic::Ordering::Relaxed) - idle;
        assert!(busy >= 2, "{busy} sweeps while busy");
    }

    #[test]
    fn dropping_the_writer_waits_for_its_thread() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let busy = std::sync::Arc::new(AtomicUsize::new(0));
        let (inside, done) = (busy.clone(), std::sync::Arc::new(AtomicUsize::new(0)));
        let finished = done.clone();
        let sweep: Sweep = Box::new(move |_| {
            inside.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(100));
            inside.fetch_sub(1, Ordering::SeqCst);
            finished.fetch_add(1, Ordering::SeqCst);
            Ok(false)
        });
        let w = Writer::start_sweeping_every(conn(), sweep, Duration::from_millis(1)).unwrap();
        while busy.load(Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        drop(w);
        assert_eq!(
            busy.load(Ordering::SeqCst),
            0,
            "the writer was still sweeping after the drop"
        );
        assert!(done.load(Ordering::SeqCst) >= 1);
    }

    #[test]
    fn a_failed_sweep_is_rolled_back_and_the_writer_goes_on() {
        let c = conn();
        let mut sweep: Sweep = Box::new(|c| {
            c.execute("INSERT INTO t VALUES (1)", []).map_err(from_sqlite)?;
            Err(StoreError::Unavailable("disk on fire".into()))
        });
        assert!(!run_sweep(&c, &mut sweep));
        assert!(c.is_autocommit());
        assert_eq!(count(&c), 0);
    }
}
