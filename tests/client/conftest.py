"""Fixtures for the SDK and ``powerdialer fill``: the real server as a process (the e2e
fixtures, reused), a fake *vendor* for behaviours a real server will not show on demand, and
helpers to write input files and run the command as users do (a subprocess, key in the
environment)."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.client.fake_vendor import FakeVendor, Script
from tests.conftest import Persona
from tests.e2e.conftest import Server, child_env, start_server  # noqa: F401 - a fixture


def phones(count: int, start: int = 0, prefix: str = "38067") -> list[str]:
    """Distinct valid Ukrainian mobile numbers in the vendor's digits-only spelling."""
    return [f"{prefix}{1_000_000 + start + i:07d}" for i in range(count)]


def write_csv(
    path: Path, rows: Sequence[Sequence[object]], header: Sequence[str] = ("ПІБ", "Телефон")
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def leads_csv(path: Path, count: int, start: int = 0) -> Path:
    return write_csv(path, [(f"Клієнт {i}", p) for i, p in enumerate(phones(count, start))])


@dataclass
class Done:
    code: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, Any]:
        try:
            found: dict[str, Any] = json.loads(self.stdout)
        except ValueError as exc:
            raise AssertionError(f"no JSON summary:\n{self.stdout}\n{self.stderr}") from exc
        return found


def fill_command(file: Path, campaign: int, url: str, project: int | str, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "powerdialer", "fill", str(file),
        "--campaign", str(campaign), "--url", url, "--project", str(project),
        "--json", "--silent", *args,
    ]  # fmt: skip


def run_fill(
    file: Path, campaign: int, url: str, project: int | str, key: str, *args: str,
    timeout: float = 120,
) -> Done:  # fmt: skip
    """``powerdialer fill`` as a user runs it, the key in POWERDIALER_KEY."""
    done = subprocess.run(
        fill_command(file, campaign, url, project, *args),
        capture_output=True, text=True, timeout=timeout, check=False,
        env=child_env(POWERDIALER_KEY=key),
    )  # fmt: skip
    return Done(done.returncode, done.stdout, done.stderr)


def start_fill(
    file: Path, campaign: int, url: str, project: int | str, key: str, *args: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        fill_command(file, campaign, url, project, *args),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=child_env(POWERDIALER_KEY=key),
    )  # fmt: skip


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> Done:
    stdout, stderr = proc.communicate(timeout=timeout)
    return Done(proc.returncode, stdout, stderr)


def interrupt(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)


def wait_until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def count_rows(server: Server, persona: Persona) -> int:
    """Rows in the persona's campaign, by the server's own listing (the e2e way)."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        answer = client.get(
            f"{server.url}/power-dialer/campaigns/{persona.campaign_id}", headers=persona.headers
        )
        answer.raise_for_status()
        return int(answer.json()["counts"]["rows"])


def server_has_bulk(server: Server) -> bool:
    with httpx.Client(trust_env=False, timeout=10) as client:
        answer = client.get(f"{server.url}/power-dialer/limits")
    return answer.status_code == 200 and "bulk_max_rows" in answer.json()


@pytest.fixture
def vendor() -> Iterator[Callable[..., FakeVendor]]:
    """``vendor(script)`` starts a fake vendor; all are stopped at teardown."""
    started: list[FakeVendor] = []

    def start(script: Script | None = None, *, policy: str | None = None) -> FakeVendor:
        fake = FakeVendor(script, policy=policy).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def live(start_server: Callable[..., Server]) -> Server:  # noqa: F811 - the imported fixture
    """A real ``powerdialer serve`` on this test's database, rate limit off."""
    return start_server()
