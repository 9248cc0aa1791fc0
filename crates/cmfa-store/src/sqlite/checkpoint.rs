//! WAL checkpoints on a thread of their own, so the writer rarely waits for one.
//!
//! Why: with SQLite's automatic checkpoint, the connection whose commit crosses the threshold
//! copies the whole WAL back into the database file before it returns. Here that connection is
//! the group-commit writer, so every write in the process waited for it (tens of milliseconds,
//! the p99 of a sign-in). This thread instead copies what it can every `INTERVAL` with a PASSIVE
//! checkpoint, which never blocks the writer. A PASSIVE checkpoint alone cannot let a busy WAL
//! start over (the writer keeps appending past what was copied), so once the WAL holds
//! `RESTART_AT` frames this thread asks for a RESTART checkpoint: it takes the write lock, copies
//! the few frames written since the last pass, and the next write starts the WAL from its
//! beginning. RESTART also waits for readers still using the WAL, and the writer waits behind
//! it, so this connection gives up after `WAIT` (a slow read would otherwise hold every write
//! back): the RESTART then ends as a PASSIVE one and the next pass tries again. The writer keeps
//! its own automatic checkpoint, set higher, as a backstop.

use super::owned_thread::OwnedThread;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// How often the WAL is copied back.
const INTERVAL: Duration = Duration::from_millis(200);

/// How long a checkpoint waits for the write lock or for readers before it gives up this pass.
const WAIT: Duration = Duration::from_millis(20);

/// WAL frames (pages) after which the WAL is made to start over.
pub(super) const RESTART_AT: i64 = 4_096;

/// The writer's own automatic checkpoint: only reached if this thread falls behind.
pub(super) const BACKSTOP_PAGES: i64 = 4 * RESTART_AT;

/// Stops the checkpoint thread when dropped, and waits for it.
pub(super) struct Checkpointer {
    _thread: OwnedThread<()>,
}

impl Checkpointer {
    /// Starts checkpointing the WAL of the database at `path` (already in WAL mode). `None` if
    /// the thread or its connection cannot be had: the writer's own checkpoint still runs.
    pub(super) fn start(path: &Path) -> Option<Checkpointer> {
        let conn = connect(path)?;
        let thread = OwnedThread::spawn("sqlite-checkpoint", move |stopped: mpsc::Receiver<()>| {
            // Nothing is ever sent: the handle's drop ends the loop; a timeout is the next pass.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                pass(&conn);
            }
        })
        .ok()?;
        Some(Checkpointer { _thread: thread })
    }
}

/// The checkpoint thread's own connection: it waits at most `WAIT` for a lock.
fn connect(path: &Path) -> Option<Connection> {
    let conn = Connection::open(path).ok()?;
    conn.busy_timeout(WAIT).ok()?;
    Some(conn)
}

/// One pass: copy back what the writer has committed; restart a WAL that has grown long.
fn pass(conn: &Connection) {
    let Some((_, log, _)) = checkpoint(conn, "PASSIVE") else {
        return;
    };
    if log >= RESTART_AT {
        let _ = checkpoint(conn, "RESTART");
    }
}

/// `PRAGMA wal_checkpoint(mode)`: (busy, frames in the WAL, frames copied back), or None on error
/// (the next pass tries again).
fn checkpoint(conn: &Connection, mode: &str) -> Option<(i64, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database in WAL mode with a table `t`, and its writer connection, whose automatic
    /// checkpoint is off: nothing checkpoints unless the test does.
    fn wal_database() -> (tempfile::TempDir, std::path::PathBuf, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update(None, "journal_mode", "WAL").unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (v BLOB)").unwrap();
        (dir, path, writer)
    }

    fn wal_frames(conn: &Connection) -> i64 {
        // A PASSIVE checkpoint with nothing to copy only reports the WAL's size.
        checkpoint(conn, "PASSIVE").expect("checkpoint").1
    }

    #[test]
    fn a_long_wal_starts_over_and_a_short_one_is_copied_back() {
        let (_dir, path, writer) = wal_database();
        let probe = Connection::open(&path).unwrap();

        // A short WAL: a pass copies it back and leaves it in place.
        writer.execute("INSERT INTO t VALUES (zeroblob(100))", []).unwrap();
        pass(&probe);
        let (_, log, copied) = checkpoint(&probe, "PASSIVE").unwrap();
        assert!(
            log > 0 && log < RESTART_AT && copied == log,
            "log {log}, copied {copied}"
        );

        // A long WAL: after a pass, the next write starts the WAL over.
        for _ in 0..RESTART_AT {
            writer.execute("INSERT INTO t VALUES (zeroblob(3000))", []).unwrap();
        }
        assert!(wal_frames(&probe) >= RESTART_AT);
        pass(&probe);
        writer.execute("INSERT INTO t VALUES (zeroblob(100))", []).unwrap();
        let after = wal_frames(&probe);
        assert!(after < 10, "the WAL did not start over: {after} frames");
        let rows: i64 = probe.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(rows, RESTART_AT + 2);
    }

    #[test]
    fn a_reader_holding_the_wal_does_not_hold_the_writer_back() {
        let (_dir, path, writer) = wal_database();
        writer.busy_timeout(Duration::from_secs(5)).unwrap();
        for _ in 0..RESTART_AT {
            writer.execute("INSERT INTO t VALUES (zeroblob(3000))", []).unwrap();
        }
        // A long read pins the WAL: RESTART cannot finish while it lasts.
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN; SELECT count(*) FROM t;").unwrap();
        let probe = connect(&path).unwrap();
        let t = std::time::Instant::now();
        pass(&probe);
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "the pass waited {:?}",
            t.elapsed()
        );
        let t = std::time::Instant::now();
        writer.execute("INSERT INTO t VALUES (zeroblob(100))", []).unwrap();
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "the writer waited {:?}",
            t.elapsed()
        );
        reader.execute_batch("COMMIT").unwrap();
    }

    #[test]
    fn the_thread_copies_committed_frames_back() {
        let (_dir, path, writer) = wal_database();
        let _c = Checkpointer::start(&path).expect("started");
        for _ in 0..50 {
            writer.execute("INSERT INTO t VALUES (zeroblob(3000))", []).unwrap();
        }
        // Nothing else checkpoints, so the database file itself grows only if the thread copied
        // the WAL back.
        let deadline = std::time::Instant::now() + INTERVAL * 20;
        while db_file_pages(&path) < 50 {
            assert!(std::time::Instant::now() < deadline, "nothing was copied back");
            std::thread::sleep(INTERVAL);
        }
    }

    /// Pages in the main database file itself (not counting the WAL).
    fn db_file_pages(path: &Path) -> u64 {
        std::fs::metadata(path).unwrap().len() / 4096
    }
}
