//! The real `cognito-mfa` binary as a child process. The binary's path comes from the calling
//! test (`env!("CARGO_BIN_EXE_cognito-mfa")` is only set for the binary's own tests).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What `serve` prints on stdout once it accepts connections, followed by its URL.
pub const READY_PREFIX: &str = "cognito-mfa listening on ";

/// A command for the binary at `bin` with every `COGNITO_MFA_*` variable removed: the binary
/// refuses unknown ones, and known ones would override the test's flags.
pub fn command(bin: &str) -> Command {
    let mut cmd = Command::new(bin);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("COGNITO_MFA_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// [`command`] for `serve` on a free local port, logging warnings only, with the fast password
/// hash: what most tests start; they add the store's flags.
pub fn serve_command(bin: &str) -> Command {
    let mut cmd = command(bin);
    cmd.args([
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--log",
        "warn",
        "--password-hash",
        "fast",
    ]);
    cmd
}

/// A started child: its stdout line by line, and its stderr as collected so far.
pub struct Spawned {
    pub child: Child,
    pub lines: mpsc::Receiver<String>,
    pub stderr: Arc<Mutex<String>>,
    stderr_reader: JoinHandle<()>,
}

/// Spawns `cmd` with stdin closed and stdout and stderr drained by threads, without waiting.
pub fn spawn(mut cmd: Command) -> Spawned {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn cognito-mfa");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut err = child.stderr.take().expect("stderr");
    let stderr = Arc::new(Mutex::new(String::new()));
    let sink = stderr.clone();
    let stderr_reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = err.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    Spawned {
        child,
        lines,
        stderr,
        stderr_reader,
    }
}

/// Waits up to `timeout` for `child` to exit.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// A `cognito-mfa serve` child that reported its URL. Killed on drop so a failing test leaves
/// nothing behind.
pub struct Server {
    pub child: Child,
    /// `http://ADDR`, from the "listening" line.
    pub url: String,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<JoinHandle<()>>,
    timeout: Duration,
}

/// Spawns `cmd` (a `serve` command from [`command`]) and waits up to `timeout` for its
/// "listening" line; `timeout` also bounds [`Server::terminate`] and [`Server::kill_hard`].
pub fn spawn_server(cmd: Command, timeout: Duration) -> Server {
    let Spawned {
        mut child,
        lines,
        stderr,
        stderr_reader,
    } = spawn(cmd);
    let deadline = Instant::now() + timeout;
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                if let Some(url) = line.strip_prefix(READY_PREFIX) {
                    return Server {
                        child,
                        url: url.trim().to_owned(),
                        stderr,
                        stderr_reader: Some(stderr_reader),
                        timeout,
                    };
                }
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "cognito-mfa did not report readiness within {timeout:?}; stderr:\n{}",
                    stderr.lock().unwrap()
                );
            }
        }
    }
}

impl Server {
    /// What the server wrote to stderr so far (all of it once [`Server::terminate`] returned).
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// SIGTERM, then the exit status of a graceful shutdown; stderr is complete afterwards.
    pub fn terminate(&mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let timeout = self.timeout;
        let status = wait_exit(&mut self.child, timeout)
            .unwrap_or_else(|| panic!("no exit within {timeout:?} of SIGTERM; stderr:\n{}", self.stderr()));
        if let Some(reader) = self.stderr_reader.take() {
            reader.join().expect("stderr reader");
        }
        status
    }

    /// SIGKILL: no chance to flush or clean up.
    pub fn kill_hard(mut self) {
        self.child.kill().expect("SIGKILL");
        assert!(
            wait_exit(&mut self.child, self.timeout).is_some(),
            "no exit after SIGKILL"
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
