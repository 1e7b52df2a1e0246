"""`powerdialer serve` on an empty database: a newcomer gets working credentials at once."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import COMPAT

pytestmark = pytest.mark.e2e


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_first_serve_prints_credentials_that_work_with_the_articles_request(
    tmp_path: Path,
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "powerdialer",
            "serve",
            "--port",
            str(port),
            "--database-url",
            f"sqlite:///{tmp_path / 'fresh.db'}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        printed = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            printed.append(line)
            if "serving on" in line or not line:
                break
        text = "".join(printed)
        project = re.search(r"x-project-id: (\d+)", text)
        campaign = re.search(r"campaignId:\s+(\d+)", text)
        key = re.search(r"Auth-key:\s+(pd_\S+)", text)
        assert project, text
        assert campaign, text
        assert key, text
        assert f"http://127.0.0.1:{port}" in text
        body = {
            "campaignId": int(campaign[1]),
            "fio": "Іван Петренко",
            "phone_number": "380930000000",
        }
        headers = {"x-project-id": project[1], "Auth-key": key[1]}
        for _ in range(100):
            try:
                answer = httpx.post(f"http://127.0.0.1:{port}{COMPAT}", json=body, headers=headers)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert answer.json() == {"result": True}
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_serve_prints_no_credentials_when_the_database_has_a_project(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'used.db'}"
    subprocess.run(
        [sys.executable, "-m", "powerdialer", "project", "create", "Mine", "--database-url", url],
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "powerdialer", "serve", "--port", str(port), "--database-url", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert "serving on" in first
        assert "Auth-key" not in first
    finally:
        proc.terminate()
        proc.wait(timeout=15)
