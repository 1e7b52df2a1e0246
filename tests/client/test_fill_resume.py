"""Resuming: after the server is killed, after Ctrl-C, after the fill itself is killed, the
same command sends only what was not acknowledged, and every row is stored exactly once."""

from __future__ import annotations

import signal
import sqlite3
import time
from pathlib import Path

import pytest

from tests.client.conftest import (
    count_rows,
    finish,
    interrupt,
    leads_csv,
    run_fill,
    start_fill,
    wait_until,
)
from tests.conftest import Persona
from tests.e2e.conftest import Server

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


def test_a_killed_fill_resends_at_most_its_unrecorded_answers(
    live: Server, owner: Persona, tmp_path: Path
) -> None:
    source = leads_csv(tmp_path / "leads.csv", ROWS)
    journal = tmp_path / "leads.csv.fill.sqlite3"
    proc = start_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                      "--mode", "single", "--rate", "800")  # fmt: skip
    wait_until(lambda: journal.exists() and acked(journal) > 500)

    proc.send_signal(signal.SIGKILL)  # no clean-up runs: answers not yet journaled are lost
    proc.wait()
    recorded = acked(journal)

    assert count_rows(live, owner) >= recorded
    again = run_fill(source, owner.campaign_id, live.url, owner.project_id, owner.key,
                     "--mode", "single")  # fmt: skip
    assert again.code == 0, again.stderr
    assert again.summary["sent"] == ROWS - recorded  # the unrecorded were resent: deduplicated
    assert count_rows(live, owner) == ROWS


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
