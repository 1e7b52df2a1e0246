"""A 1.6 KB spreadsheet used to kill the whole server: a dense reader asked for 17 billion
cells.  Over real HTTP, against a real ``powerdialer serve``: the file is refused, and when
the bounds are lifted on purpose, the reader's child dies alone; the server keeps answering
``/healthz`` and real requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from powerdialer.storage import Store
from tests.conftest import Persona, stored_rows
from tests.e2e.conftest import Server
from tests.hostile import sparse_xlsx

pytestmark = pytest.mark.e2e

SPARSE = sparse_xlsx()  # A1 and XFD1048576


def preview(client: httpx.Client, persona: Persona, name: str, content: bytes) -> httpx.Response:
    return client.post(
        "/power-dialer/imports/preview", headers=persona.headers, files={"file": (name, content)}
    )


def assert_serving(server: Server, client: httpx.Client, persona: Persona) -> None:
    assert server.proc is not None
    assert server.proc.poll() is None, server.output()
    assert client.get("/healthz").status_code == 200
    answer = client.post(server.compat_url, json=persona.row(), headers=persona.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"] is True
    fine = preview(client, persona, "ok.csv", b"phone\n380931234567\n")
    assert fine.status_code == 200, fine.text


def wait_job(client: httpx.Client, persona: Persona, job_id: int) -> dict[str, Any]:
    for _ in range(600):
        job: dict[str, Any] = client.get(
            f"/power-dialer/imports/{job_id}", headers=persona.headers
        ).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"import {job_id} did not finish: {job}")


def test_the_small_sparse_spreadsheet_is_refused_and_the_server_keeps_serving(
    server: Server, owner: Persona
) -> None:
    assert len(SPARSE) < 1700
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as client:
        answer = preview(client, owner, "leads.xlsx", SPARSE)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "workbook_too_large"
        assert_serving(server, client, owner)


def test_a_reader_that_runs_out_of_memory_dies_alone(
    start_server: Callable[..., Server], owner: Persona, store: Store
) -> None:
    # The bounds lifted: the file reaches calamine, which asks for 512 GiB and aborts.
    server = start_server(POWERDIALER_MAX_WORKBOOK_CELLS=str(10**12))
    with httpx.Client(base_url=server.url, trust_env=False, timeout=30) as client:
        answer = preview(client, owner, "leads.xlsx", SPARSE)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "file_too_complex"
        assert_serving(server, client, owner)
        started = client.post(
            f"/power-dialer/campaigns/{owner.campaign_id}/imports",
            headers=owner.headers,
            files={"file": ("leads.xlsx", SPARSE)},
        )
        assert started.status_code == 202, started.text
        job = wait_job(client, owner, started.json()["id"])
        assert (job["status"], job["error"]["code"]) == ("failed", "file_too_complex")
        assert_serving(server, client, owner)
    # Only the compatible endpoint's row (the same number each time): nothing of the file.
    assert [phone for _fio, phone, _e164 in stored_rows(store, owner)] == ["380930000000"]
