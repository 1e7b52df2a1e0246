"""Resuming: after the server is killed, after Ctrl-C, after the fill itself is killed, the
same command sends only what was not acknowledged, and every row is stored exactly once."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from powerdialer.fill._journal import Journal
from powerdialer.fill._limit import AUTO_MAXIMUM
from tests.client.conftest import (
    count_rows,
    finish,
    interrupt,
    leads_csv,
    phones,
    run_fill,
    start_fill,
    wait_until,
)
from tests.client.fake_vendor import Answer, FakeVendor
from tests.conftest import Persona
from tests.e2e.conftest import Server, rows_via_cli

Vendor = Callable[..., FakeVendor]

pytestmark = pytest.mark.e2e
ROWS = 3000


def acked(journal: Path) -> int:
    """Rows the journal records as acknowledged (0 while it is being created)."""
    try:
        with sqlite3.connect(journal) as db:
            found = db.execute("SELECT count(*) FROM rows WHERE state = 'acked'").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(found[0])


@pytest.mark.parametrize("mode", ["single", "bulk"])
def test_a_server_killed_mid_run_then_restarted_gets_every_row_once(
    live: Server, owner: Persona, tmp_path: Path, mode: str
) -> None:
    source = leads_csv(tmp_path / "leads.csv", ROWS)
    journal = tmp_path / "leads.csv.fill.sqlite3"
    extra = ["--batch-size", "50"] if mode == "bulk" else []
    proc = start_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                      "--mode", mode, "--rate", "40" if mode == "bulk" else "600",
                      "--retries", "2", *extra)  # fmt: skip
    wait_until(lambda: journal.exists() and acked(journal) > 200)

    live.kill9()
    first = finish(proc)
    live.start()

    assert first.code == 4, first.stderr  # aborted: the server stayed away through retries
    assert 0 < first.summary["sent"] < ROWS
    assert first.summary["unsent"] == ROWS - first.summary["sent"]
    again = run_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                     "--mode", mode, *extra)  # fmt: skip
    assert again.code == 0, again.stderr
    assert again.summary["already_sent"] == first.summary["sent"]
    assert again.summary["sent"] == ROWS - first.summary["sent"]
    assert count_rows(live, owner) == ROWS


def test_ctrl_c_finishes_in_flight_requests_then_a_rerun_sends_the_rest(
    live: Server, owner: Persona, tmp_path: Path
) -> None:
    source = leads_csv(tmp_path / "leads.csv", ROWS)
    journal = tmp_path / "leads.csv.fill.sqlite3"
    proc = start_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                      "--mode", "single", "--rate", "500")  # fmt: skip
    wait_until(lambda: journal.exists() and acked(journal) > 300)

    started = time.monotonic()
    interrupt(proc)
    stopped = finish(proc)

    assert stopped.code == 130, stopped.stderr
    assert time.monotonic() - started < 5
    assert stopped.summary["status"] == "interrupted"
    # A clean stop: what the server stored is exactly what the journal says was sent.
    assert count_rows(live, owner) == acked(journal) == stopped.summary["sent"]
    again = run_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                     "--mode", "single")  # fmt: skip
    assert again.code == 0, again.stderr
    assert again.summary["sent"] == ROWS - stopped.summary["sent"]
    assert count_rows(live, owner) == ROWS


def _keep_duplicates(server: Server, persona: Persona) -> None:
    """Make the campaign store a number as often as it is sent, so that the server's rows
    count every resent row."""
    with httpx.Client(trust_env=False, timeout=10) as client:
        answer = client.patch(
            f"{server.url}/power-dialer/campaigns/{persona.campaign_id}",
            headers=persona.headers,
            json={"duplicate_policy": "keep"},
        )
        answer.raise_for_status()


def _kill9_at_random(proc: subprocess.Popen[str], arrived: Callable[[], int]) -> int:
    """SIGKILL the fill once a random number of its rows have arrived: no clean-up runs,
    so whatever was not yet journaled is lost.  Returns that number (for the message)."""
    point = random.randint(150, ROWS - 800)
    wait_until(lambda: arrived() >= point or proc.poll() is not None, timeout=120)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return point


CONNECTIONS = 8


def test_a_killed_fill_resends_only_what_was_in_flight_at_the_vendor(
    vendor: Vendor, tmp_path: Path
) -> None:
    """At the vendor a resent row may be a second call list entry: a kill -9 at any moment
    costs at most one resent row per connection, counted where the rows arrive."""
    fake = vendor(lambda _i, _b: Answer(delay=0.002))
    source = leads_csv(tmp_path / "leads.csv", ROWS)
    args = ("--concurrency", str(CONNECTIONS))
    proc = start_fill(source, 1, fake.url, 1, fake.key, *args)
    point = _kill9_at_random(proc, lambda: len(fake.received))

    again = run_fill(source, 1, fake.url, 1, fake.key, *args)

    assert again.code == 0, again.stderr
    assert sorted(fake.stored) == sorted(phones(ROWS))  # every row arrived at least once
    resent = sum(n - 1 for n in fake.stored.values())
    assert resent <= CONNECTIONS, f"{resent} rows sent twice after a kill at row ~{point}"
    assert again.summary["sent"] == ROWS - again.summary["already_sent"]


def test_an_adaptive_fill_killed_resends_at_most_what_the_vendor_had_in_flight(
    vendor: Vendor, tmp_path: Path
) -> None:
    """With the adaptive default the bound is the connections it had at the kill, which a
    killed process cannot tell: at most its ceiling.  (The journal gap at every arrival,
    below, checks the tighter bound against the peak the fill reports.)"""
    fake = vendor(lambda _i, _b: Answer(delay=0.01))
    source = leads_csv(tmp_path / "leads.csv", ROWS)
    proc = start_fill(source, 1, fake.url, 1, fake.key)
    point = _kill9_at_random(proc, lambda: len(fake.received))

    again = run_fill(source, 1, fake.url, 1, fake.key)

    assert again.code == 0, again.stderr
    assert sorted(fake.stored) == sorted(phones(ROWS))
    resent = sum(n - 1 for n in fake.stored.values())
    assert resent <= AUTO_MAXIMUM, f"{resent} rows sent twice after a kill at row ~{point}"


@pytest.mark.parametrize("mode", ["single", "bulk"])
def test_a_killed_fill_resends_only_what_was_in_flight_at_our_server(
    live: Server, owner: Persona, tmp_path: Path, mode: str
) -> None:
    """The same against a powerdialer server, counted in the campaign: with duplicates kept
    and no Idempotency-Key, every resent row is a row more.  (Two connections: a bound a
    journal that lags its answers by even a few milliseconds would break.)"""
    _keep_duplicates(live, owner)
    source = leads_csv(tmp_path / "leads.csv", ROWS)
    journal = tmp_path / "leads.csv.fill.sqlite3"
    connections, batch = 2, (5 if mode == "bulk" else 1)
    args = ("--mode", mode, "--concurrency", str(connections), "--idempotency-keys", "never",
            "--batch-size", str(batch))  # fmt: skip
    proc = start_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key, *args)
    point = _kill9_at_random(proc, lambda: acked(journal) if journal.exists() else 0)
    recorded = acked(journal)

    again = run_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key, *args)

    assert again.code == 0, again.stderr
    assert again.summary["sent"] == ROWS - recorded
    stored = [row["phone_e164"] for row in rows_via_cli(live.database_url, owner.campaign_id)]
    assert {p.lstrip("+") for p in stored} == set(phones(ROWS))  # every row, at least once
    resent = len(stored) - ROWS
    assert resent <= connections * batch, f"{resent} rows resent after a kill at ~{point}"


def test_a_changed_file_is_refused_until_restart(
    live: Server, owner: Persona, tmp_path: Path
) -> None:
    source = leads_csv(tmp_path / "leads.csv", 200)
    journal = tmp_path / "leads.csv.fill.sqlite3"
    proc = start_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                      "--mode", "single", "--rate", "50")  # fmt: skip
    wait_until(lambda: journal.exists() and acked(journal) > 10)
    interrupt(proc)
    assert finish(proc).code == 130
    leads_csv(source, 250)  # the CRM export was made again, longer

    refused = run_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key)
    restarted = run_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                         "--restart")  # fmt: skip

    assert refused.code == 2
    assert "--restart" in refused.stderr
    assert restarted.code == 0, restarted.stderr
    assert count_rows(live, owner) == 250


@pytest.mark.parametrize("concurrency", ["8", "auto"])
def test_no_connection_sends_again_before_its_answer_is_journaled(
    vendor: Vendor, tmp_path: Path, concurrency: str
) -> None:
    """Checked at every arrival, without killing anything: the rows that reached the vendor
    but are not in the journal are at most one per connection (each is on the wire, or its
    answer is being written; the connection sends again only once it is)."""
    source = leads_csv(tmp_path / "leads.csv", 1500)
    journal = tmp_path / "leads.csv.fill.sqlite3"
    gaps: list[int] = []
    fake: FakeVendor

    def script(_index: int, _body: object) -> Answer | None:
        gaps.append(len(fake.received) - acked(journal))
        return Answer(delay=0.002)

    fake = vendor(script)
    done = run_fill(source, 1, fake.url, 1, fake.key, "--concurrency", concurrency)

    assert done.code == 0, done.stderr
    connections = done.summary.get("concurrency_peak", done.summary["concurrency"])
    assert max(gaps) <= connections, sorted(gaps)[-10:]


def test_fsync_makes_every_journal_commit_wait_for_the_disk(vendor: Vendor, tmp_path: Path) -> None:
    def synchronous(path: Path, *, fsync: bool = False) -> int:
        journal = Journal(path, fsync=fsync)
        try:
            return int(journal.db.execute("PRAGMA synchronous").fetchone()[0])
        finally:
            journal.close()

    assert synchronous(tmp_path / "a.sqlite3", fsync=True) == 2  # FULL
    assert synchronous(tmp_path / "b.sqlite3") == 1  # NORMAL: survives kill -9
    fake = vendor()
    source = leads_csv(tmp_path / "leads.csv", 200)

    done = run_fill(source, 1, fake.url, 1, fake.key, "--fsync")

    assert done.code == 0, done.stderr
    assert acked(tmp_path / "leads.csv.fill.sqlite3") == 200
    assert sorted(fake.stored) == sorted(phones(200))
