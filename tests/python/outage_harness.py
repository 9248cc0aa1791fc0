"""PostgreSQL stopped and started under load (issue 12 item 5, second half).

The harness runs its own PostgreSQL cluster (initdb into a temporary directory, on a free port,
with the machine's PostgreSQL binaries), so stopping it disturbs nothing else on the machine. One
`cognito-mfa serve` process runs on it for the whole run, under the write load of
crash_harness.py (pools, MFA configuration, users, TOTP enrolment, sign-ins). Each cycle stops
PostgreSQL (alternately `fast`, which closes sessions cleanly, and `immediate`, which is a crash
that needs WAL recovery), keeps it down for a while, and starts it again. Meanwhile:

- every call made while the database is down must fail fast (well under the client's read
  timeout) with an AWS-shaped error: HTTP 500 `InternalErrorException`, never a dropped
  connection, a hang or a panic;
- once PostgreSQL is back, the same server process must answer again by itself, within a bound;
- at the end, every write acknowledged in any cycle reads back intact (crash_harness.verify).

Full run: `python3 tests/python/outage_harness.py --cycles 10`; test_outage.py runs a short one.
"""

from __future__ import annotations

import argparse
import functools
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import botocore.exceptions

sys.path.insert(0, str(Path(__file__).parent))
import crash_harness  # noqa: E402
from conftest import ServerProcess, free_port  # noqa: E402

# A call during the outage must be answered within this (the client's read timeout is 10 s).
FAIL_FAST_SECS = 2.0
# After PostgreSQL is back, the server must answer a read within this.
RECOVER_SECS = 15.0


@functools.cache
def postgres_bin(name: str) -> str:
    """A PostgreSQL server binary: pg_config's bindir, else the newest Debian install."""
    try:
        bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True).stdout.strip()
        if os.path.exists(os.path.join(bindir, name)):
            return os.path.join(bindir, name)
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError(f"no PostgreSQL {name} binary (install postgresql)")
    return found[-1]


class PrivatePostgres:
    """A throwaway cluster, owned by the `postgres` user when this runs as root (initdb and the
    server refuse to run as root)."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="cmfa-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, cwd="/")

    def init(self) -> "PrivatePostgres":
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(postgres_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        return self

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=on"
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "log"), "-w", "start")

    def stop(self, mode: str) -> None:
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)


def shaped(e: Exception) -> bool:
    """An AWS-shaped internal error: HTTP 500 with `__type` InternalErrorException."""
    return (isinstance(e, botocore.exceptions.ClientError)
            and e.response["ResponseMetadata"]["HTTPStatusCode"] == 500
            and e.response["Error"]["Code"] == "InternalErrorException")


def describe(e: Exception) -> str:
    if isinstance(e, botocore.exceptions.ClientError):
        return f"{e.response['ResponseMetadata']['HTTPStatusCode']} {e.response['Error']['Code']}"
    return type(e).__name__


def run(cycles: int, base: Path, writers: int = 3, load_secs: float = 1.5, down_secs: float = 2.0) -> dict:
    pg = PrivatePostgres().init()
    try:
        pg.start()
        return _run(pg, cycles, base, writers, load_secs, down_secs)
    finally:
        pg.destroy()


def _run(pg: PrivatePostgres, cycles: int, base: Path, writers: int, load_secs: float, down_secs: float) -> dict:
    srv = ServerProcess(base / "data", ["--password-hash", "fast", "--database-url", pg.url], log_dir=base).start()
    c = crash_harness.client(srv.url)
    probe_pool = c.create_user_pool(PoolName="outage-probe")["UserPool"]["Id"]
    acked = crash_harness.Acked()
    problems: list[str] = []
    errors: list[Exception] = []
    stop = threading.Event()
    threads = [threading.Thread(target=crash_harness.writer, args=(srv.url, acked, stop, i, errors), daemon=True)
               for i in range(writers)]
    for t in threads:
        t.start()
    outage_calls, slowest, recoveries = 0, 0.0, []
    try:
        for cycle in range(cycles):
            time.sleep(load_secs)
            mode = "fast" if cycle % 2 == 0 else "immediate"
            pg.stop(mode)
            down_until = time.monotonic() + down_secs
            while time.monotonic() < down_until:
                # A read and a write while the database is down: both must fail fast and shaped.
                for call in (lambda: c.get_user_pool_mfa_config(UserPoolId=probe_pool),
                             lambda: c.create_user_pool(PoolName="during-outage")):
                    t0 = time.monotonic()
                    try:
                        call()
                        problems.append(f"cycle {cycle} ({mode}): a call succeeded with PostgreSQL stopped")
                    except Exception as e:  # noqa: BLE001 - every failure kind is judged below
                        took = time.monotonic() - t0
                        outage_calls += 1
                        slowest = max(slowest, took)
                        if not shaped(e):
                            problems.append(f"cycle {cycle} ({mode}): outage answered {describe(e)}")
                        if took > FAIL_FAST_SECS:
                            problems.append(f"cycle {cycle} ({mode}): outage answer took {took:.2f}s")
                time.sleep(0.05)
            if not srv.alive:
                problems.append(f"cycle {cycle}: the server exited during the outage")
                break
            pg.start()
            t0 = time.monotonic()
            while True:
                try:
                    c.get_user_pool_mfa_config(UserPoolId=probe_pool)
                    recoveries.append(time.monotonic() - t0)
                    break
                except botocore.exceptions.ClientError as e:
                    if not shaped(e):
                        problems.append(f"cycle {cycle}: while recovering, {describe(e)}")
                if time.monotonic() - t0 > RECOVER_SECS:
                    problems.append(f"cycle {cycle}: no recovery within {RECOVER_SECS}s of PostgreSQL's return")
                    break
                time.sleep(0.05)
        time.sleep(load_secs)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=20)
    # The writers' own failures (they saw the outages too) must all be shaped.
    for e in errors:
        if not shaped(e):
            problems.append(f"a writer's call failed as {describe(e)}: {e}")
    problems += crash_harness.verify(srv.url, acked)
    if not srv.alive:
        problems.append("the server is not running at the end")
    if "panicked" in srv.stderr_text():
        problems.append("the server's log shows a panic")
    srv.stop()
    return {"cycles": cycles, "pools": len(acked.pools), "users": len(acked.users),
            "enrolled": sum(1 for s in acked.users.values() if s), "outage_calls": outage_calls,
            "writer_errors": len(errors), "slowest_outage_answer": slowest,
            "slowest_recovery": max(recoveries, default=0.0), "problems": problems}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, default=10)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        out = run(a.cycles, Path(d))
    print(f"postgres outage: {out['cycles']} stop/start cycles; {out['pools']} pools, {out['users']} users "
          f"({out['enrolled']} with TOTP) acknowledged; {out['outage_calls']} probe calls during outages "
          f"(slowest answer {out['slowest_outage_answer'] * 1000:.0f} ms), {out['writer_errors']} writer calls "
          f"refused; slowest recovery {out['slowest_recovery'] * 1000:.0f} ms; problems: {len(out['problems'])}")
    return crash_harness.report_problems(out["problems"])


if __name__ == "__main__":
    sys.exit(main())
