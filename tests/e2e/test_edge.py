"""The HTTP edge of a real ``powerdialer serve`` process started as systemd or a shell would with
the default ``ulimit -n 1024``: head size cap (431), head deadline, connection cap."""

from __future__ import annotations

import os
import resource
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import COMPAT, Persona
from tests.e2e.conftest import LOCALHOST, Server, child_env

pytestmark = pytest.mark.e2e

FD_LIMIT = 1024  # the default soft and hard RLIMIT_NOFILE of a login shell on most distributions
ATTACKERS = 2000
CAP = 768  # the connection cap serve derives from FD_LIMIT


def limit_fds() -> None:
    """In the server's child process: ``ulimit -n 1024`` (soft and hard, so it cannot raise it)."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_LIMIT, FD_LIMIT))


@pytest.fixture
def start_limited(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    started: list[Server] = []

    def start(**env: str) -> Server:
        server = Server(
            database_url,
            tmp_path / f"server-{len(started)}.log",
            child_env(
                POWERDIALER_RATE_LIMIT="0",
                POWERDIALER_DATA_DIR=str(tmp_path / "data"),
                **env,
            ),
            preexec_fn=limit_fds,
        )
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()
        print(f"--- output of the server on port {server.port} ---\n{server.output()}")


def connect(server: Server, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection((LOCALHOST, server.port), timeout=timeout)


def read_response(sock: socket.socket) -> bytes:
    """One whole response (head and ``Content-Length`` bytes of body), however the server
    splits it into segments; the connection stays open."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"the server closed the connection after {received[:200]!r}"
        received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection in the middle of a body"
        body += chunk
    return head + b"\r\n\r\n" + body


def read_until_closed(sock: socket.socket, deadline: float) -> bytes:
    """Everything the server sends until it closes the connection; fails past ``deadline``."""
    received = b""
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return received
        except TimeoutError:
            pytest.fail(f"the server kept the connection open; it sent {received[:200]!r}")
        if not chunk:
            return received
        received += chunk


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def test_a_request_head_over_the_limit_is_answered_431_and_one_under_it_is_served(
    start_limited: Callable[..., Server],
) -> None:
    server = start_limited()
    with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client:
        assert client.get("/healthz", headers={"X-Filler": "a" * 15_000}).status_code == 200
        refused = client.get("/healthz", headers={"X-Filler": "a" * 64 * 1024})
        assert refused.status_code == 431, refused.text
        # A head split over many chunks and never finished is refused as it grows, not
        # buffered whole: 1 MiB of one header line, sent in 4 KiB writes.
        with connect(server) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: ")
            for _ in range(256):
                sock.sendall(b"a" * 4096)
            answer = read_until_closed(sock, time.monotonic() + 10)
        assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
        assert client.get("/healthz").status_code == 200
        # A large body sent with its head in one write is a body, not a head: the endpoint
        # answers it (with its own error shape: 401 here, no credentials), not the edge.
        body = b'{"fio": "' + b"x" * 100_000 + b'"}'
        with connect(server) as sock:
            sock.sendall(
                b"POST " + COMPAT.encode() + b" HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
                + body
            )
            answer = read_until_closed(sock, time.monotonic() + 10)
        assert answer.startswith(b"HTTP/1.1 401 "), answer[:200]
        assert b'"result":false' in answer


def test_a_head_that_trickles_in_is_closed_at_its_deadline_however_often_bytes_arrive(
    start_limited: Callable[..., Server],
) -> None:
    server = start_limited(POWERDIALER_HEAD_TIMEOUT="1")
    with connect(server) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        received = b""
        # A header line every 0.1 s (slowloris): each byte is news, but the deadline is for
        # the whole head.
        while time.monotonic() - started < 10:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
                sock.settimeout(0.1)
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            received += chunk
            if not chunk:
                break
        closed_after = time.monotonic() - started
    assert received.startswith(b"HTTP/1.1 408 "), received[:200]
    assert 0.9 < closed_after < 5, closed_after


def test_the_next_head_on_a_kept_alive_connection_has_the_same_deadline(
    start_limited: Callable[..., Server],
) -> None:
    server = start_limited(POWERDIALER_HEAD_TIMEOUT="1")
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.settimeout(10)
        # The whole first answer: its body may come in a segment of its own, which must not
        # be taken for the answer to the second head.
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        answer = read_until_closed(sock, started + 10)
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert time.monotonic() - started > 0.9


def test_a_connection_that_sends_nothing_is_closed_at_the_head_deadline(
    start_limited: Callable[..., Server],
) -> None:
    server = start_limited(POWERDIALER_HEAD_TIMEOUT="1")
    with connect(server) as sock:
        started = time.monotonic()
        assert read_until_closed(sock, started + 10) == b""
        assert time.monotonic() - started > 0.9
    with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client:
        assert client.get("/healthz").status_code == 200


def test_2000_half_sent_requests_leave_healthz_and_a_real_client_answering_under_1024_fds(
    start_limited: Callable[..., Server], owner: Persona
) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < ATTACKERS + 200:
        pytest.skip(f"this test process may open only {hard} files; it needs {ATTACKERS + 200}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # A long head deadline, so what keeps the server answering is the connection cap alone.
    server = start_limited(POWERDIALER_HEAD_TIMEOUT="600")
    assert server.proc is not None
    fds_before = open_fds(server.proc.pid)
    attackers: list[socket.socket] = []
    try:
        for _ in range(ATTACKERS):
            sock = connect(server)
            sock.sendall(b"POST " + COMPAT.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-")
            attackers.append(sock)
        with httpx.Client(base_url=server.url, trust_env=False, timeout=10) as client:
            started = time.monotonic()
            assert client.get("/healthz").status_code == 200
            healthz_seconds = time.monotonic() - started
            answer = client.post(COMPAT, json=owner.row(), headers=owner.headers)
            assert answer.json() == {"result": True}
        assert healthz_seconds < 2, healthz_seconds
        # The cap for 1,024 descriptors is 768 connections (docs/deployment.md): the process
        # stays clear of its limit, with room for the database and imports.
        assert open_fds(server.proc.pid) <= fds_before + CAP + 8
        assert f"{CAP} open connections, the cap" in server.output()
    finally:
        for sock in attackers:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
