"""End-to-end fixtures: a real ``powerdialer serve`` process on a random free localhost port,
over the test's own database (``database_url``: a SQLite file, or PostgreSQL when
POWERDIALER_TEST_DATABASE_URL is set), plus helpers to run the CLI and to talk HTTP to it.

The server's output goes to a log file; it is shown when the server fails to start and printed
at teardown, so pytest shows it next to any failing test."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import COMPAT

READY_TIMEOUT = 20.0
HERE = Path(__file__).resolve().parent
NODE_DIR = HERE / "node"
LOCALHOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


def child_env(**overrides: str) -> dict[str, str]:
    """The environment for processes we start: no inherited POWERDIALER_* setting can change
    what the test means, and no proxy from the environment sits between a client (curl, axios)
    and 127.0.0.1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERDIALER_")}
    env.update(PYTHONUNBUFFERED="1", NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env.update(overrides)
    return env


class Server:
    """One ``powerdialer serve`` process; ``restart()`` brings it back on the same port and
    database, after a ``kill9()`` or a clean stop."""

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        env: dict[str, str],
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.env = env
        self.preexec_fn = preexec_fn  # run in the child before exec (e.g. resource limits)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def compat_url(self) -> str:
        return self.url + COMPAT

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "the server is running"
        first_start = self.proc is None
        for attempt in range(3):
            self._spawn()
            try:
                self._wait_ready()
                return
            except _PortTaken as exc:
                # Another process took the free port between our probe and uvicorn's bind: a
                # first start may move to another port; a restart must keep its port.
                if not first_start or attempt == 2:
                    pytest.fail(f"port {self.port} is taken:\n{exc}", pytrace=False)
                self.port = free_port()

    def _spawn(self) -> None:
        command = [
            sys.executable,
            "-m",
            "powerdialer",
            "serve",
            "--host",
            LOCALHOST,
            "--port",
            str(self.port),
            "--database-url",
            self.database_url,
            "--no-bootstrap",
        ]
        with self.log_path.open("ab") as log:
            log.write(f"\n$ {' '.join(command[1:])}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                start_new_session=True,
                preexec_fn=self.preexec_fn,
            )

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while True:
                code = self.proc.poll()
                if code is not None:
                    output = self.output()
                    if "address already in use" in output.lower():
                        raise _PortTaken(output)
                    pytest.fail(
                        f"powerdialer serve exited with {code} before it was ready:\n{output}",
                        pytrace=False,
                    )
                try:
                    if client.get(self.url + "/healthz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.proc.kill()
                    self.proc.wait()
                    pytest.fail(
                        f"powerdialer serve was not ready after {READY_TIMEOUT:g} s:\n"
                        f"{self.output()}",
                        pytrace=False,
                    )
                time.sleep(0.05)

    def kill9(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash or an OOM kill."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


class _PortTaken(Exception):
    pass


@pytest.fixture
def start_server(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """``start_server(**env)`` starts a server over this test's database; rate limiting is off
    (POWERDIALER_RATE_LIMIT=0) unless ``env`` says otherwise.  Every server is stopped at
    teardown and its output printed (pytest shows it when the test failed)."""
    started: list[Server] = []

    def start(**env: str) -> Server:
        server = Server(
            database_url,
            tmp_path / f"server-{len(started)}.log",
            child_env(
                **{
                    "POWERDIALER_RATE_LIMIT": "0",
                    "POWERDIALER_DATA_DIR": str(tmp_path / "data"),
                    **env,
                }
            ),
        )
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()
        print(f"--- output of the server on port {server.port} ---\n{server.output()}")


@pytest.fixture
def server(start_server: Callable[..., Server]) -> Server:
    return start_server()


def run_cli(database_url: str, *args: str) -> Any:
    """``powerdialer ARGS --database-url URL --json``, parsed."""
    done = subprocess.run(
        [sys.executable, "-m", "powerdialer", *args, "--database-url", database_url, "--json"],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"powerdialer {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return json.loads(done.stdout)


def rows_via_cli(database_url: str, campaign_id: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = run_cli(
        database_url, "rows", "list", "--campaign", str(campaign_id), "--limit", "10000"
    )
    return found


@pytest.fixture(scope="session")
def node() -> str:
    path = shutil.which("node")
    if path is None:
        pytest.skip("node is not installed: the article's Node.js examples need it")
    return path


@pytest.fixture(scope="session")
def node_modules(node: str) -> Path:
    """tests/e2e/node/node_modules with axios, installed from the committed package-lock.json."""
    modules = NODE_DIR / "node_modules"
    if not (modules / "axios" / "package.json").is_file():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: the article's axios example needs axios")
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            check=True,
            timeout=300,
        )
    return modules
