"""The default concurrency of ``powerdialer fill`` adapts to the far end: it grows while the
throughput rises (a 50 ms round trip is hidden behind dozens of requests in flight), backs
off on 429, and ``--concurrency N`` still pins it.  Against the fake vendor (one row a
request, as the vendor's endpoint takes them), the command run as users run it."""

from __future__ import annotations

import http.client
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.client.conftest import leads_csv, phones, run_fill
from tests.client.fake_vendor import PATH, Answer, FakeVendor

Vendor = Callable[..., FakeVendor]
LATENCY = 0.05


def the_articles_way(fake: FakeVendor, count: int) -> float:
    """What the article's examples do in a loop: one request after another, each on a new
    connection.  Rows a second."""
    address = urlsplit(fake.url)
    started = time.perf_counter()
    for i, phone in enumerate(phones(count, start=900_000)):
        body = json.dumps({"campaignId": 1, "fio": f"Клієнт {i}", "phone_number": phone})
        connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=10)
        connection.request("POST", PATH, body=body.encode(), headers={
            "Content-Type": "application/json", "x-project-id": "1", "Auth-key": fake.key,
        })  # fmt: skip
        answer = connection.getresponse()
        answer.read()
        connection.close()
        assert answer.status == 200
    return count / (time.perf_counter() - started)


def test_the_docs_first_example_is_30_times_the_articles_way_at_50_ms(
    vendor: Vendor, tmp_path: Path
) -> None:
    # 30x at 50 ms needs ~600 rows/s from the fill and the fake vendor together: about a
    # third of a core.  On a machine whose cores are shared many times over that is not
    # there, and a ratio measured then says nothing about the fill (measured at load 14 on 2
    # cores: 6.4x at a peak concurrency of 22, the CPU's knee).
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load > 2 * cores:
        pytest.skip(f"load average {load:.1f} on {cores} cores: too busy to measure throughput")
    fake = vendor(lambda _i, _b: Answer(delay=LATENCY))
    source = leads_csv(tmp_path / "leads.csv", 2500)

    done = run_fill(source, 456, fake.url, 123, fake.key)  # no tuning flags
    sequential = the_articles_way(fake, 40)

    assert done.code == 0, done.stderr
    assert done.summary["adaptive"] is True
    ratio = done.summary["rows_per_second"] / sequential
    assert ratio >= 30, (
        f"{done.summary['rows_per_second']} rows/s against {sequential:.1f} one at a time "
        f"({ratio:.1f}×; peak concurrency {done.summary['concurrency_peak']})"
    )
    assert sorted(fake.stored)[:2500] == sorted(phones(2500))


def test_it_backs_off_on_429_and_settles_around_what_the_far_end_takes(
    vendor: Vendor, tmp_path: Path
) -> None:
    most = 12
    fake: FakeVendor

    def script(_index: int, _body: object) -> Answer | None:
        if fake.in_flight > most:  # this request is one too many
            return Answer(429, b'{"error":"too many requests"}', store=False)
        return Answer(delay=0.03)

    fake = vendor(script)
    source = leads_csv(tmp_path / "leads.csv", 1500)

    done = run_fill(source, 1, fake.url, 1, fake.key)

    assert done.code == 0, done.stderr
    assert sorted(fake.stored) == sorted(phones(1500))  # nothing lost
    assert set(fake.stored.values()) == {1}
    refused = len(fake.received) - 1500
    assert 0 < refused < 0.2 * 1500  # it probed past the limit, and came back under it
    assert most / 2 <= done.summary["concurrency"] <= 2 * most
    assert done.summary["concurrency_peak"] < 128


def test_an_explicit_concurrency_pins_it(vendor: Vendor, tmp_path: Path) -> None:
    fake = vendor(lambda _i, _b: Answer(delay=LATENCY))
    source = leads_csv(tmp_path / "leads.csv", 300)

    done = run_fill(source, 1, fake.url, 1, fake.key, "--concurrency", "12")

    assert done.code == 0, done.stderr
    assert fake.max_in_flight == 12  # never more, and as many as asked
    assert done.summary["concurrency"] == done.summary["concurrency_peak"] == 12
    assert done.summary["adaptive"] is False


def test_concurrency_takes_auto_or_a_number(vendor: Vendor, tmp_path: Path) -> None:
    fake = vendor()
    source = leads_csv(tmp_path / "leads.csv", 5)

    auto = run_fill(source, 1, fake.url, 1, fake.key, "--concurrency", "auto")
    wrong = run_fill(source, 2, fake.url, 1, fake.key, "--concurrency", "0")

    assert auto.code == 0, auto.stderr
    assert auto.summary["adaptive"] is True
    assert wrong.code == 2
    assert "--concurrency" in wrong.stderr
    assert "'auto'" in wrong.stderr
