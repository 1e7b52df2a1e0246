"""``powerdialer fill`` in bulk mode against a real server (many rows a request, one result
per row), and ``--mode auto`` choosing it by ``GET /power-dialer/limits``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.client.conftest import count_rows, phones, run_fill, server_has_bulk, write_csv
from tests.conftest import Persona
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e


@pytest.fixture
def bulk_server(live: Server) -> Server:
    # The server publishes its bulk limits: if it ever stopped, these tests must fail (a skip
    # here once hid exactly that), since `--mode auto` would silently fall back to single rows.
    assert server_has_bulk(live), "GET /power-dialer/limits no longer publishes bulk_max_rows"
    return live


def test_auto_mode_sends_in_bulk_with_per_row_results(
    bulk_server: Server, owner: Persona, tmp_path: Path
) -> None:
    numbers = phones(2500)
    rows = [(f"Клієнт {i}", n, f"crm-{i}", "Київ") for i, n in enumerate(numbers)]
    source = write_csv(tmp_path / "leads.csv", rows, ("ПІБ", "Телефон", "ID", "Місто"))

    done = run_fill(source, owner.campaign_id, bulk_server.url, owner.project_id, owner.key,
                    "--batch-size", "1000")  # fmt: skip

    assert done.code == 0, done.stderr
    summary = done.summary
    assert summary["mode"] == "bulk"
    assert (summary["sent"], summary["inserted"], summary["duplicates"]) == (2500, 2500, 0)
    assert summary["requests"] == 5  # /limits, the campaign, 3 batches
    assert count_rows(bulk_server, owner) == 2500


def test_rows_already_in_the_campaign_count_as_duplicates(
    bulk_server: Server, owner: Persona, tmp_path: Path
) -> None:
    numbers = phones(100)
    write_csv(tmp_path / "first.csv", [("A", n) for n in numbers[:40]])
    write_csv(tmp_path / "second.csv", [("A", n) for n in numbers])
    first = run_fill(tmp_path / "first.csv", owner.campaign_id, bulk_server.url,
                     owner.project_id, owner.key)  # fmt: skip
    assert first.code == 0, first.stderr

    second = run_fill(tmp_path / "second.csv", owner.campaign_id, bulk_server.url,
                      owner.project_id, owner.key, "--mode", "bulk")  # fmt: skip

    assert second.code == 0, second.stderr
    assert (second.summary["inserted"], second.summary["duplicates"]) == (60, 40)
    assert count_rows(bulk_server, owner) == 100


def test_bulk_and_single_reach_the_same_rows(
    bulk_server: Server, owner: Persona, stranger: Persona, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "leads.csv", [(f"K {i}", n) for i, n in enumerate(phones(300))])

    bulk = run_fill(source, owner.campaign_id, bulk_server.url, owner.project_id, owner.key,
                    "--mode", "bulk", "--batch-size", "7")  # fmt: skip
    single = run_fill(source, stranger.campaign_id, bulk_server.url, stranger.project_id,
                      stranger.key, "--mode", "single")  # fmt: skip

    assert (bulk.code, single.code) == (0, 0), bulk.stderr + single.stderr
    assert count_rows(bulk_server, owner) == count_rows(bulk_server, stranger) == 300


def test_forcing_bulk_at_a_server_without_it_is_a_usage_error(
    vendor: object, tmp_path: Path
) -> None:
    fake = vendor()  # type: ignore[operator]
    source = write_csv(tmp_path / "leads.csv", [("A", phones(1)[0])])

    done = run_fill(source, 1, fake.url, 1, fake.key, "--mode", "bulk")

    assert done.code == 2
    assert "--mode single" in done.stderr
    assert not fake.received
