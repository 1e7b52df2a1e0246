"""``powerdialer fill`` against a stand-in for the vendor (see fake_vendor.py): bursts of 429
and 503, slowness, undocumented error bodies, and the rate limit measured where it matters,
at the receiving end."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.client.conftest import leads_csv, phones, run_fill
from tests.client.fake_vendor import Answer, FakeVendor

Vendor = Callable[..., FakeVendor]


def test_it_talks_to_the_vendor_as_the_article_does(vendor: Vendor, tmp_path: Path) -> None:
    fake = vendor()
    source = leads_csv(tmp_path / "leads.csv", 30)

    done = run_fill(source, 456, fake.url, 123, fake.key)

    assert done.code == 0, done.stderr
    assert done.summary["mode"] == "single"  # the vendor publishes no /limits
    assert fake.limits_requests == 1
    first = fake.received[0]
    assert first.body == {"campaignId": 456, "fio": "Клієнт 0", "phone_number": phones(1)[0]}
    assert first.headers["x-project-id"] == "123"
    assert first.headers["Auth-key"] == fake.key
    assert "Idempotency-Key" not in first.headers  # unknown to the vendor
    assert sorted(fake.stored) == sorted(phones(30))


def test_bursts_of_429_and_503_are_waited_out_and_every_row_arrives_once(
    vendor: Vendor, tmp_path: Path
) -> None:
    def script(index: int, _body: object) -> Answer | None:
        if 20 <= index < 40:
            return Answer(429, b'{"error":"too many"}', {"Retry-After": "1"}, store=False)
        if 80 <= index < 100:
            return Answer(503, b"<html>Service Unavailable</html>", {"Retry-After": "1"},
                          store=False)  # fmt: skip
        if 150 <= index < 160:
            return Answer(502, b"<html>Bad Gateway</html>", store=False)
        return None

    fake = vendor(script)
    source = leads_csv(tmp_path / "leads.csv", 300)

    done = run_fill(source, 1, fake.url, 1, fake.key, "--concurrency", "8")

    assert done.code == 0, done.stderr
    assert done.summary["retried"] >= 50
    assert sorted(fake.stored) == sorted(phones(300))
    assert set(fake.stored.values()) == {1}


def test_retry_after_pauses_every_connection(vendor: Vendor, tmp_path: Path) -> None:
    refused_at: list[float] = []

    def script(index: int, _body: object) -> Answer | None:
        if index == 10:
            refused_at.append(time.monotonic())
            return Answer(429, b"{}", {"Retry-After": "2"}, store=False)
        return None

    fake = vendor(script)
    done = run_fill(leads_csv(tmp_path / "leads.csv", 200), 1, fake.url, 1, fake.key,
                    "--rate", "100")  # fmt: skip

    assert done.code == 0, done.stderr
    after = [r.at for r in fake.received[11:] if r.at > refused_at[0]]
    gap = min(after) - refused_at[0]
    assert gap >= 1.9  # nobody sent during the 2 s the vendor asked for


def test_a_slow_vendor_is_filled_concurrently(vendor: Vendor, tmp_path: Path) -> None:
    fake = vendor(lambda index, body: Answer(delay=0.3) if index else None)
    source = leads_csv(tmp_path / "leads.csv", 80)

    done = run_fill(source, 1, fake.url, 1, fake.key, "--concurrency", "16")
    # Timed at the vendor, first request to last: the CLI's start-up is not the vendor's
    # wait, and a loaded box can take seconds to start a Python process.
    arrivals = [r.at for r in fake.received]
    span = max(arrivals) - min(arrivals)

    assert done.code == 0, done.stderr
    assert fake.max_in_flight == 16
    assert span < 80 * 0.3 / 3  # one after another would take 24 s
    assert len(fake.stored) == 80


def test_a_vendor_slower_than_the_timeout_is_given_up_on_and_resumed(
    vendor: Vendor, tmp_path: Path
) -> None:
    fake = vendor(lambda index, body: Answer(delay=2.0) if index >= 5 else None)
    source = leads_csv(tmp_path / "leads.csv", 10)

    done = run_fill(source, 1, fake.url, 1, fake.key, "--timeout", "0.3", "--retries", "1",
                    "--concurrency", "1")  # fmt: skip

    assert done.code == 4, done.stderr
    assert "timeout" in done.stderr
    assert done.summary["sent"] == 5
    fake.script = None
    again = run_fill(source, 1, fake.url, 1, fake.key)
    assert again.code == 0
    assert again.summary["sent"] == 5


@pytest.mark.parametrize("rate", [40.0, 150.0])
def test_the_rate_limit_holds_over_every_window_at_the_receiver(
    vendor: Vendor, tmp_path: Path, rate: float
) -> None:
    fake = vendor()
    count, burst = int(rate * 2.5), 3
    source = leads_csv(tmp_path / "leads.csv", count)

    done = run_fill(source, 1, fake.url, 1, fake.key, "--rate", str(rate),
                    "--burst", str(burst), "--concurrency", "32")  # fmt: skip

    assert done.code == 0, done.stderr
    times = sorted(r.at for r in fake.received)
    # Requests let go on time may arrive closer together: the receiver's thread can be held
    # off the CPU for tens of ms on a busy 2-core machine, then reads a backlog at once.  The
    # moments the client lets requests go obey the bound exactly (test_sdk_policy.py).
    jitter = 0.05
    for i in range(len(times)):
        for j in range(i + 1, len(times)):
            window = times[j] - times[i]
            assert j - i + 1 <= rate * (window + jitter) + burst, (i, j, window)
    span = times[-1] - times[0]
    assert span >= (count - burst) / rate - 0.05
    assert span <= count / rate * 1.5  # and it did not crawl


def test_a_wrong_key_at_the_vendor_aborts_after_one_request(vendor: Vendor, tmp_path: Path) -> None:
    fake = vendor()
    done = run_fill(leads_csv(tmp_path / "leads.csv", 50), 1, fake.url, 1, "wrong-key")

    assert done.code == 5
    assert "credentials" in done.stderr
    assert len(fake.received) == 1


def test_unknown_error_bodies_reject_the_row_with_the_status(
    vendor: Vendor, tmp_path: Path
) -> None:
    def script(index: int, body: dict[str, object]) -> Answer | None:
        if body.get("phone_number") == phones(1, 3)[0]:
            return Answer(422, b"<html>Unprocessable</html>", store=False)
        if body.get("phone_number") == phones(1, 4)[0]:
            return Answer(200, b'{"result": false, "message": "number is blocked"}', store=False)
        return None

    fake = vendor(script)
    source = leads_csv(tmp_path / "leads.csv", 10)

    done = run_fill(source, 1, fake.url, 1, fake.key, "--concurrency", "1")

    assert done.code == 3, done.stderr
    assert done.summary["rejected_by_server"] == 2
    report = (tmp_path / "leads.rejected.csv").read_text(encoding="utf-8-sig")
    assert "http_422,,Unprocessable" in report.replace("<html>", "").replace("</html>", "")
    assert "number is blocked" in report
    assert len(fake.received) == 10  # neither was retried


def _stuck_key(times: int) -> Callable[[int, dict[str, object]], Answer | None]:
    """The first ``times`` requests for one number answer 409 idempotency_in_progress, as a
    powerdialer server does for a key whose first request died with the server."""
    stuck = phones(1, 2)[0]
    seen: list[int] = []

    def script(index: int, body: dict[str, object]) -> Answer | None:
        if body.get("phone_number") == "+" + stuck and len(seen) < times:
            seen.append(index)
            body_409 = b'{"result":false,"error":{"code":"idempotency_in_progress","message":"x"}}'
            return Answer(409, body_409, {"Retry-After": "1"}, store=False)
        return None

    return script


def test_a_key_stuck_in_progress_is_replaced_where_the_campaign_dedupes(
    vendor: Vendor, tmp_path: Path
) -> None:
    fake = vendor(_stuck_key(1), policy="skip")
    source = leads_csv(tmp_path / "leads.csv", 5)

    done = run_fill(source, 1, fake.url, 1, fake.key, "--mode", "single",
                    "--idempotency-keys", "always")  # fmt: skip

    assert done.code == 0, done.stderr
    keys = [r.headers["Idempotency-Key"] for r in fake.received
            if r.body.get("phone_number") == "+" + phones(1, 2)[0]]  # fmt: skip
    assert len(keys) == 2
    assert keys[1] == keys[0] + "-1"  # a new key at once, no waiting on the old one


def test_a_key_stuck_in_progress_is_waited_for_where_duplicates_are_kept(
    vendor: Vendor, tmp_path: Path
) -> None:
    fake = vendor(_stuck_key(3), policy="keep")
    source = leads_csv(tmp_path / "leads.csv", 5)

    done = run_fill(source, 1, fake.url, 1, fake.key, "--mode", "single", "--retries", "1")

    assert done.code == 0, done.stderr
    keys = {r.headers["Idempotency-Key"] for r in fake.received
            if r.body.get("phone_number") == "+" + phones(1, 2)[0]}  # fmt: skip
    assert len(keys) == 1  # only ever the same key: a new one could add the row twice
    assert len(fake.stored) == 5


def test_single_rows_carry_no_key_where_the_campaign_dedupes_by_number(
    vendor: Vendor, tmp_path: Path
) -> None:
    fake = vendor(policy="skip")
    done = run_fill(leads_csv(tmp_path / "leads.csv", 5), 1, fake.url, 1, fake.key,
                    "--mode", "single")  # fmt: skip

    assert done.code == 0, done.stderr
    assert all("Idempotency-Key" not in r.headers for r in fake.received)
