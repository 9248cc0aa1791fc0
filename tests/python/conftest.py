"""Fixtures for the cognito-mfa Python integration suite.

The suite drives the real `cognito-mfa` binary over HTTP, exactly as an unchanged
AWS client would: boto3/botocore, the AWS CLI, and raw HTTP for inputs no SDK sends.

Binary: `$COGNITO_MFA_BIN`, else `<repo>/target/debug/cognito-mfa`
(build it with `cargo build -p cognito-mfa`).

Run: `pip install -r tests/python/requirements.txt && python -m pytest tests/python -q`
"""

from __future__ import annotations

import configparser
import http.client
import json
import os
import queue
import re
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlsplit

import boto3
import botocore.config
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = REPO_ROOT / "target" / "debug" / "cognito-mfa"
READY_RE = re.compile(r"^cognito-mfa listening on http://127\.0\.0\.1:(\d+)\s*$")
READY_TIMEOUT = 20.0
TARGET_PREFIX = "AWSCognitoIdentityProviderService"
AMZ_JSON = "application/x-amz-json-1.1"

# Dummy credentials: with signature checking off (the default), any credentials work.
DUMMY_KEY = "AKIAIOSFODNN7EXAMPLE"
DUMMY_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def binary_path() -> Path:
    return Path(os.environ.get("COGNITO_MFA_BIN", str(DEFAULT_BIN)))


# --------------------------------------------------------------------------------------
# Server process management
# --------------------------------------------------------------------------------------


class ServerProcess:
    """One running `cognito-mfa serve` process on 127.0.0.1:<ephemeral>."""

    def __init__(self, data_dir: Path, extra_args: list[str] | None = None, log_dir: Path | None = None):
        self.data_dir = Path(data_dir)
        self.extra_args = list(extra_args or [])
        self.log_dir = Path(log_dir) if log_dir else self.data_dir.parent
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.stdout_lines: list[str] = []
        self._stdout_q: queue.Queue = queue.Queue()
        self.stderr_path: Path | None = None
        self._stderr_file = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> "ServerProcess":
        binary = binary_path()
        if not binary.exists():
            pytest.fail(
                f"cognito-mfa binary not found at {binary}; build it with "
                "`cargo build -p cognito-mfa` or set COGNITO_MFA_BIN",
                pytrace=False,
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = self.log_dir / f"server-{uuid.uuid4().hex[:8]}.stderr.log"
        self._stderr_file = open(self.stderr_path, "wb")
        args = [
            str(binary),
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            str(self.data_dir),
            *self.extra_args,
        ]
        self.proc = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr_file,
            cwd=str(self.data_dir.parent),
        )
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._abort(f"no ready line on stdout within {READY_TIMEOUT}s")
            try:
                line = self._stdout_q.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    self._abort(f"server exited with code {self.proc.returncode} before it was ready")
                continue
            if line is None:
                self._abort("server closed stdout before printing the ready line")
            m = READY_RE.match(line)
            if m:
                self.port = int(m.group(1))
                return self
            self._abort(f"first stdout line is not the ready line: {line!r}")

    def _pump_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            self.stdout_lines.append(line)
            self._stdout_q.put(line)
        self._stdout_q.put(None)

    def _abort(self, why: str) -> None:
        self.kill()
        pytest.fail(f"cognito-mfa failed to start: {why}\n--- stderr ---\n{self.stderr_text()[-4000:]}", pytrace=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig: int) -> None:
        if self.alive:
            self.proc.send_signal(sig)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `sig` and wait for the process to exit; returns the exit code."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise AssertionError(f"server did not exit within {timeout}s of signal {sig}")
        self._close_logs()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._close_logs()

    def _close_logs(self) -> None:
        if self._stderr_file is not None:
            self._stderr_file.close()
            self._stderr_file = None

    def stderr_text(self) -> str:
        if self._stderr_file is not None:
            self._stderr_file.flush()
        if self.stderr_path and self.stderr_path.exists():
            return self.stderr_path.read_text("utf-8", "replace")
        return ""


@pytest.fixture(scope="session")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    """The shared default server (no signature checking) on a fresh data dir."""
    base = tmp_path_factory.mktemp("shared-server")
    srv = ServerProcess(base / "data", log_dir=base).start()
    yield srv
    srv.stop()


@pytest.fixture(autouse=True)
def _shared_server_still_alive(request):
    """If the shared server dies, say so (with its exit code and log) instead of a wall of
    connection errors. An exit code of -15/-2 means someone outside the suite signalled it."""
    if "server" not in request.fixturenames:
        yield
        return
    srv = request.getfixturevalue("server")
    if not srv.alive:
        pytest.fail(
            f"the shared cognito-mfa server is not running (exit code {srv.proc.returncode})\n"
            f"--- stderr tail ---\n{srv.stderr_text()[-3000:]}",
            pytrace=False,
        )
    yield
    if not srv.alive:
        pytest.fail(
            f"the shared cognito-mfa server died during this test (exit code {srv.proc.returncode})\n"
            f"--- stderr tail ---\n{srv.stderr_text()[-3000:]}",
            pytrace=False,
        )


@pytest.fixture
def server_factory(tmp_path) -> Iterator[Callable[..., ServerProcess]]:
    """Start extra servers (restart / sigv4 tests). All are killed at teardown.

    `start(data_dir=None, args=())`: `data_dir` defaults to a fresh dir under tmp_path, so
    passing the same dir twice restarts on the same data.
    """
    started: list[ServerProcess] = []

    def start(data_dir: Path | None = None, args: list[str] | tuple = ()) -> ServerProcess:
        d = Path(data_dir) if data_dir is not None else tmp_path / f"data-{len(started)}"
        srv = ServerProcess(d, list(args), log_dir=tmp_path).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.kill()


# --------------------------------------------------------------------------------------
# boto3 clients
# --------------------------------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_client(
    srv: ServerProcess | str,
    region: str = "us-east-1",
    access_key: str = DUMMY_KEY,
    secret_key: str = DUMMY_SECRET,
    signature_version: Any = None,
):
    url = srv if isinstance(srv, str) else srv.url
    cfg = dict(
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
    )
    if signature_version is not None:
        cfg["signature_version"] = signature_version
    return boto3.session.Session().client(
        "cognito-idp",
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=botocore.config.Config(**cfg),
    )


@pytest.fixture(scope="session")
def client_factory(server) -> Callable[..., Any]:
    def factory(**kw):
        return make_client(server, **kw)

    return factory


@pytest.fixture(scope="session")
def cognito(server):
    """boto3 cognito-idp client for the shared server, region us-east-1."""
    return make_client(server)


class RawBodies:
    """Captures the raw HTTP response body of every call a boto3 client makes.

    The parsed dict hides details (e.g. `null` members, extra members), so the contract
    checks compare the exact JSON the server sent.
    """

    def __init__(self, client):
        self.by_op: dict[str, list[dict]] = {}
        self.last: dict | None = None
        client.meta.events.register("after-call.cognito-idp", self._hook)

    def _hook(self, http_response, model, **_kw):
        raw = http_response.content
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"__unparseable__": raw.decode("utf-8", "replace")}
        self.by_op.setdefault(model.name, []).append(body)
        self.last = body

    def latest(self, op: str) -> dict:
        return self.by_op[op][-1]


@pytest.fixture(scope="session")
def raw_bodies(cognito) -> RawBodies:
    return RawBodies(cognito)


def unique_name(prefix: str = "pool") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


# --------------------------------------------------------------------------------------
# Raw HTTP
# --------------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes
    error: str | None = None  # set if the connection dropped before a full response

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def describe(self) -> str:
        return f"HTTP {self.status} headers={self.headers} body={self.body[:600]!r} error={self.error}"


def raw_request(
    srv: ServerProcess | str,
    body: bytes | str | None = b"{}",
    *,
    target: str | None = None,
    content_type: str | None = AMZ_JSON,
    method: str = "POST",
    path: str = "/",
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
    chunked: bool = False,
) -> RawResponse:
    """Send one HTTP/1.1 request on a fresh socket and read the full response.

    Large bodies are streamed in chunks; if the server answers early (e.g. 413) or closes
    its read side, sending stops and the response it already sent is still read.
    """
    url = srv if isinstance(srv, str) else srv.url
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port
    if isinstance(body, str):
        body = body.encode("utf-8")
    hdrs: dict[str, str] = {"Host": f"{host}:{port}", "Connection": "close"}
    if target is not None:
        hdrs["X-Amz-Target"] = target
    if content_type is not None:
        hdrs["Content-Type"] = content_type
    if chunked:
        hdrs["Transfer-Encoding"] = "chunked"
    elif body is not None:
        hdrs["Content-Length"] = str(len(body))
    if headers:
        hdrs.update(headers)
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"

    sock = socket.create_connection((host, port), timeout=timeout)
    send_error = None
    try:
        sock.sendall(head.encode("latin-1"))
        if body or chunked:
            view = memoryview(body or b"")
            chunk = 256 * 1024
            pieces = [view[off : off + chunk] for off in range(0, len(view), chunk)]
            if chunked:
                pieces = [f"{len(p):x}\r\n".encode() + bytes(p) + b"\r\n" for p in pieces] + [b"0\r\n\r\n"]
            for piece in pieces:
                r, _, _ = select.select([sock], [], [], 0)
                if r:  # the server has already answered (or closed): stop sending
                    break
                try:
                    sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError) as e:
                    send_error = repr(e)
                    break
        resp = http.client.HTTPResponse(sock, method=method)
        try:
            resp.begin()
            data = resp.read()
        except (http.client.HTTPException, OSError) as e:
            return RawResponse(0, {}, b"", error=f"no response ({e!r}); send error: {send_error}")
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        sock.close()


def raw_call(srv, operation: str, payload: Any, **kw) -> RawResponse:
    """A well-formed AWS JSON 1.1 call (unsigned) for `operation` with a JSON payload."""
    body = payload if isinstance(payload, (bytes, str)) else json.dumps(payload)
    return raw_request(srv, body, target=f"{TARGET_PREFIX}.{operation}", **kw)


def assert_aws_error(resp: RawResponse, type_: str | None = None, message: str | None = None, *, status_range=(400, 499)) -> dict:
    """The response is an AWS-shaped error: JSON {__type, message}, x-amzn-ErrorType, x-amzn-RequestId."""
    assert resp.error is None, f"connection dropped: {resp.describe()}"
    lo, hi = status_range
    assert lo <= resp.status <= hi, f"expected HTTP {lo}-{hi}, got {resp.describe()}"
    try:
        body = resp.json()
    except ValueError:
        raise AssertionError(f"error body is not JSON: {resp.describe()}")
    assert isinstance(body, dict), f"error body is not a JSON object: {resp.describe()}"
    assert isinstance(body.get("__type"), str) and body["__type"], f"no __type: {resp.describe()}"
    assert isinstance(body.get("message"), str), f"no message: {resp.describe()}"
    etype = resp.header("x-amzn-ErrorType")
    assert etype is not None, f"no x-amzn-ErrorType header: {resp.describe()}"
    short = body["__type"].split("#")[-1]
    assert etype.split(":")[0].split("#")[-1] == short, f"x-amzn-ErrorType {etype!r} != __type {body['__type']!r}"
    assert etype.endswith(":"), f"x-amzn-ErrorType should end with ':' (AWS style): {etype!r}"
    assert resp.header("x-amzn-RequestId"), f"no x-amzn-RequestId: {resp.describe()}"
    if type_ is not None:
        assert short == type_, f"expected __type {type_}, got {resp.describe()}"
    if message is not None:
        assert body["message"] == message, f"message mismatch:\n  expected {message!r}\n  got      {body['message']!r}"
    return body


# --------------------------------------------------------------------------------------
# Misc
# --------------------------------------------------------------------------------------


def write_credentials_file(path: Path, profiles: dict[str, tuple[str, str]]) -> Path:
    cp = configparser.ConfigParser()
    for name, (akid, secret) in profiles.items():
        cp[name] = {"aws_access_key_id": akid, "aws_secret_access_key": secret}
    with open(path, "w") as f:
        cp.write(f)
    return path


@pytest.fixture
def tmp_dir(tmp_path) -> Path:
    return tmp_path
