"""``serve --workers 2`` with metrics on: prometheus-client's multiprocess mode under the data
dir, so whichever worker answers a scrape, it reports every worker's requests; the
directory is gone once the server stops."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import COMPAT, Persona
from tests.e2e.conftest import Server
from tests.telemetry.scrape import value

ROWS = 20


def worker_pids(shared: Path) -> set[str]:
    return {p.stem.rsplit("_", 1)[-1] for p in shared.glob("counter_*.db")}


def test_two_workers_report_one_set_of_numbers(
    start_server: Callable[..., Server], owner: Persona, tmp_path: Path
) -> None:
    server = start_server(POWERDIALER_METRICS="1", POWERDIALER_WORKERS="2")
    shared = tmp_path / "data" / "metrics-multiproc"
    # Each worker keeps its own files there (named by its pid): two workers, two pids (the
    # server answers once one worker is up; the other may still be starting).
    deadline = time.monotonic() + 15
    while len(pids := worker_pids(shared)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(pids) == 2, sorted(shared.iterdir())
    for n in range(ROWS):  # a new connection each: the kernel spreads them over the workers
        answer = httpx.post(
            server.compat_url,
            json=owner.row(f"38093000{n:04d}"),
            headers=owner.headers,
            trust_env=False,
        )
        assert answer.json() == {"result": True}, answer.text
    for _ in range(6):
        text = httpx.get(server.url + "/metrics", trust_env=False).text
        total = "powerdialer_http_requests_total"
        assert value(text, total, route=COMPAT, method="POST", status="200") == ROWS
    server.stop()
    assert not shared.exists()
