"""``serve`` on an empty database prints the first owner's credentials with the rest of the
first-run output, once, and they sign in to the web UI."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import child_env, free_port
from tests.ui.conftest import csrf_of

pytestmark = pytest.mark.e2e


def _serve(url: str, port: int, tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "powerdialer", "serve", "--port", str(port), "--database-url", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=child_env(POWERDIALER_DATA_DIR=str(tmp_path / "data")),
    )
    assert proc.stdout is not None
    printed = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        printed.append(line)
        if "serving on" in line or not line:
            break
    return proc, "".join(printed)


def test_the_first_run_prints_an_owner_who_can_sign_in(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    port = free_port()
    proc, text = _serve(url, port, tmp_path)
    try:
        email = re.search(r"email:\s+(\S+)", text)
        password = re.search(r"password:\s+(\S+)", text)
        assert email, text
        assert password, text
        assert "Auth-key" in text  # together with the existing first-run output
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, trust_env=False, timeout=10) as client:
            for _ in range(100):
                try:
                    login = client.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            answer = client.post(
                "/login",
                data={
                    "email": email.group(1),
                    "password": password.group(1),
                    "csrf_token": csrf_of(login.text),
                },
            )
            assert answer.status_code == 303, answer.text
            # Named in the UI's default language, which the first owner sees first.
            listing = client.get("/settings/softphone/power-dialer").text
            assert "Мій проєкт" in listing
            assert "Перша кампанія" in listing
            assert "My project" not in listing
            assert "First campaign" not in listing
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    # A second start prints no credentials.
    proc, text = _serve(url, free_port(), tmp_path)
    try:
        assert "password:" not in text
        assert "Auth-key" not in text
    finally:
        proc.terminate()
        proc.wait(timeout=15)
