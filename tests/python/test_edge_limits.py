"""Slow, partial and flooding clients at the HTTP edge (issue 12 item 6), on the real binary:

- headers that never finish, and an idle keep-alive connection, are closed after
  `--read-timeout`;
- a body that stops arriving is answered 408 `RequestTimeoutException`, then closed;
- a flood of stalled connections, beyond `--max-connections` too, does not starve a connection
  already being served, and once the flood is gone new connections are served again.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import statistics
import threading
import time

from conftest import make_client

TIMEOUT = 2  # --read-timeout for these servers, seconds
TARGET = "AWSCognitoIdentityProviderService.ListUserPools"


def connect(srv) -> socket.socket:
    return socket.create_connection(("127.0.0.1", srv.port), timeout=15)


def closed_after(s: socket.socket) -> tuple[float, bytes]:
    """Reads until the server closes; returns how long that took and what it sent."""
    t0 = time.monotonic()
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except ConnectionResetError:
        pass
    return time.monotonic() - t0, got


def request_head(body_len: int) -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Target: {TARGET}\r\n"
            f"Content-Type: application/x-amz-json-1.1\r\nContent-Length: {body_len}\r\n\r\n").encode()


def test_headers_that_never_finish_are_closed_after_the_read_timeout(server_factory):
    srv = server_factory(args=["--read-timeout", str(TIMEOUT)])
    s = connect(srv)
    s.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nX-Amz-Tar")
    took, _ = closed_after(s)
    assert TIMEOUT - 0.5 <= took <= TIMEOUT + 3, took
    # The server is fine afterwards.
    assert "UserPools" in make_client(srv.url).list_user_pools(MaxResults=1)


def test_an_idle_keep_alive_connection_is_closed_after_the_read_timeout(server_factory):
    srv = server_factory(args=["--read-timeout", str(TIMEOUT)])
    s = connect(srv)
    s.sendall(request_head(17) + b'{"MaxResults": 1}')
    time.sleep(0.3)
    first = s.recv(65536)
    assert first.startswith(b"HTTP/1.1 200"), first[:200]
    took, rest = closed_after(s)
    assert rest == b"" and TIMEOUT - 0.5 <= took <= TIMEOUT + 3, (took, rest[:200])


def test_a_body_that_stops_arriving_gets_408_request_timeout(server_factory):
    srv = server_factory(args=["--read-timeout", str(TIMEOUT)])
    s = connect(srv)
    s.sendall(request_head(100) + b'{"MaxResu')
    took, got = closed_after(s)
    assert TIMEOUT - 0.5 <= took <= TIMEOUT + 3, took
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), got[:300]
    doc = json.loads(body)
    assert doc["__type"] == "RequestTimeoutException" and "2 seconds" in doc["message"], doc


def stall_flood(srv, n: int, stop: threading.Event, opened: list) -> None:
    """`n` connections that each send half a request line and then nothing, reopened as the
    server closes them, until `stop`."""
    socks = []
    try:
        while not stop.is_set():
            while len(socks) < n and not stop.is_set():
                try:
                    s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
                    s.sendall(b"POST / HTTP/1.1\r\nHost: flood\r\n")
                    s.setblocking(False)
                    socks.append(s)
                    opened.append(1)
                except OSError:
                    break  # the backlog is full: the server is not accepting past its cap
            alive = []
            for s in socks:
                try:
                    if s.recv(1) == b"":
                        s.close()
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    s.close()
                    continue
                alive.append(s)
            socks = alive
            stop.wait(0.05)
    finally:
        for s in socks:
            s.close()


BUILD_UP = 10  # seconds a flood may take to open all its connections on a loaded machine


@contextlib.contextmanager
def flooding(srv, n: int, until: int | None = None, tick=lambda: time.sleep(0.05)):
    """Runs `stall_flood` with `n` connections for the body of the `with`, once it has built up
    (`until` connections opened, all `n` by default, or BUILD_UP seconds), calling `tick`
    meanwhile. Yields the list that counts the connections it opened."""
    stop = threading.Event()
    opened: list = []
    t = threading.Thread(target=stall_flood, args=(srv, n, stop, opened), daemon=True)
    t.start()
    deadline = time.monotonic() + BUILD_UP
    while len(opened) < (n if until is None else until) and time.monotonic() < deadline:
        tick()
    try:
        yield opened
    finally:
        stop.set()
        t.join(timeout=20)


BODY = b'{"MaxResults": 1}'
HEADERS = {"X-Amz-Target": TARGET, "Content-Type": "application/x-amz-json-1.1"}


def call(conn: http.client.HTTPConnection) -> float:
    t0 = time.monotonic()
    conn.request("POST", "/", BODY, HEADERS)
    r = conn.getresponse()
    assert r.status == 200 and b"UserPools" in r.read()
    return time.monotonic() - t0


def run_flood(srv, flood: int, build_up_to: int, calls: int) -> tuple[list[float], int]:
    """A keep-alive connection opened (and used) before the flood starts keeps making requests
    while the flood builds up to `build_up_to` connections (or for BUILD_UP seconds), then
    `calls` more; the latencies of all of them, and how many flood connections were opened."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    call(conn)
    lat = []

    def busy() -> None:
        lat.append(call(conn))
        time.sleep(0.01)  # well under the idle timeout, so the connection stays open

    try:
        with flooding(srv, flood, until=build_up_to, tick=busy) as opened:
            for _ in range(calls):
                busy()
    finally:
        conn.close()
    return lat, len(opened)


def test_a_flood_of_stalled_connections_does_not_starve_served_ones(server_factory):
    srv = server_factory(args=["--read-timeout", str(TIMEOUT)])
    lat, opened = run_flood(srv, 800, 800, 150)
    assert opened >= 800, opened
    assert statistics.median(lat) < 0.1 and max(lat) < 2.0, (statistics.median(lat), max(lat))
    # Under the cap, new connections are served during a flood too.
    with flooding(srv, 800):
        t0 = time.monotonic()
        assert "UserPools" in make_client(srv.url).list_user_pools(MaxResults=1)
        assert time.monotonic() - t0 < 2.0


def test_past_the_connection_cap_a_served_connection_keeps_its_place(server_factory):
    srv = server_factory(args=["--read-timeout", str(TIMEOUT), "--max-connections", "32"])
    lat, opened = run_flood(srv, 300, 33, 150)
    assert opened > 32, opened
    assert statistics.median(lat) < 0.1 and max(lat) < 2.0, (statistics.median(lat), max(lat))
    # The flood gone, a new connection is accepted and served.
    deadline = time.monotonic() + 3 * TIMEOUT + 5
    while True:
        try:
            assert "UserPools" in make_client(srv.url).list_user_pools(MaxResults=1)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
