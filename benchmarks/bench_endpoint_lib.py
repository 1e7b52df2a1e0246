"""Helpers for ``bench_endpoint.py``: servers as real processes, wrk runs and their output,
a throwaway database (SQLite file or PostgreSQL database), versions and machine facts."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent  # the venv's bin: powerdialer, uvicorn
LUA = HERE / "rows.lua"
PATH = "/power-dialer/campaigns/campaign-rows"
SERVER_CPU, WRK_CPU = "0", "1"


class BenchError(RuntimeError):
    """Something the benchmark cannot honestly report around."""


def require_tools(pin: bool) -> None:
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed: apt-get install wrk")
    if pin and shutil.which("taskset") is None:
        raise BenchError("taskset is missing (apt-get install util-linux), or pass --no-pin")
    if pin and (os.cpu_count() or 1) < 2:
        raise BenchError("pinning needs two CPUs (server on 0, wrk on 1): pass --no-pin")


def pinned(cmd: list[str], cpu: str, pin: bool) -> list[str]:
    return ["taskset", "-c", cpu, *cmd] if pin else cmd


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- servers -----------------------------------------------------------------------------


class Server:
    """A server process on 127.0.0.1:port, its output in a log file, stopped with SIGINT."""

    def __init__(self, name: str, cmd: list[str], port: int, log: Path, env: dict[str, str]):
        self.name, self.port, self.log = name, port, log
        self.url = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, path: str = "/healthz", timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited at start:\n{self.tail()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(self.url + path, timeout=1) as answer,
            ):
                if answer.status == 200:
                    return
            time.sleep(0.1)
        raise BenchError(f"{self.name} not ready after {timeout:.0f} s:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def powerdialer(*args: str, url: str) -> dict:
    """Run the real CLI with --json and return its answer."""
    cmd = [str(BIN / "powerdialer"), *args, "--json", "--database-url", url]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BenchError(f"{' '.join(args[:2])} failed: {done.stderr.strip() or done.stdout}")
    return json.loads(done.stdout)


@contextlib.contextmanager
def fresh_database(url: str | None, tmp: Path) -> Iterator[str]:
    """A new, empty database: a SQLite file in tmp, or a PostgreSQL database created on the
    server that ``url`` names (its database is only used to connect) and dropped after."""
    if not url:
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    if not url.startswith(("postgres://", "postgresql://")):
        raise BenchError("--database-url must be postgresql://...; SQLite is the default")
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"powerdialer_bench_{os.getpid()}"
    admin = make_url(url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def count_rows(url: str, campaign_ids: list[int]) -> dict[int, int]:
    from sqlalchemy import text

    from powerdialer.storage.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            query = text("SELECT campaign_id, count(*) FROM campaign_rows GROUP BY campaign_id")
            counts = dict(conn.execute(query).all())
    finally:
        engine.dispose()
    return {c: counts.get(c, 0) for c in campaign_ids}


# --- wrk -----------------------------------------------------------------------------------


@dataclass
class WrkResult:
    requests: int  # responses wrk counted
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    wrk_cpu: float  # share of one CPU the load generator used: near 1.0 means it limited us
    server_cpu: float  # share of one CPU the server process used

    @property
    def ok(self) -> int:
        return self.requests - self.non_2xx


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(out: str) -> tuple[int, float, float, float, int, int]:
    """(requests, requests/s, p50 ms, p99 ms, non-2xx/3xx, socket errors) from ``wrk --latency``."""
    try:
        requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
        p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    except AttributeError:
        raise BenchError(f"cannot read wrk's output:\n{out}") from None
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
    return requests, rps, p50, p99, int(non_2xx.group(1)) if non_2xx else 0, socket_errors


def run_wrk(
    server: Server,
    headers: dict[str, str],
    campaign: int,
    connections: int,
    threads: int,
    duration: float,
    pin: bool,
    lua_args: tuple[str, ...] = (),
) -> WrkResult:
    cmd = [
        "wrk",
        "--latency",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "-s",
        str(LUA),
    ]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd += [server.url + PATH, "--", str(campaign), *lua_args]
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_server, started = server.cpu_seconds(), time.monotonic()
    done = subprocess.run(pinned(cmd, WRK_CPU, pin), capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    server_cpu = (server.cpu_seconds() - before_server) / wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_cpu = (
        after.ru_utime + after.ru_stime - before_children.ru_utime - before_children.ru_stime
    ) / wall
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return WrkResult(*parse_wrk(done.stdout), wrk_cpu=wrk_cpu, server_cpu=server_cpu)


# --- facts ---------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else cpu
    mem_kb = 0
    with contextlib.suppress(OSError):
        found = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        mem_kb = int(found.group(1)) if found else 0
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kb / 2**20:.1f} GiB",
        "kernel": platform.release(),
    }


def versions(url: str) -> dict[str, str]:
    import sqlite3
    from importlib.metadata import version

    found = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for package in ("powerdialer", "uvicorn", "uvloop", "httptools"):
        found[package] = version(package)
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    found["wrk"] = (wrk.stdout or wrk.stderr).split(" [")[0].removeprefix("wrk ").strip()
    if url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(url) as conn:
            found["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
    return found
