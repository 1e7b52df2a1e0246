"""What ``powerdialer fill`` settles before sending, from what the far end tells about itself:
the pure half of a fill, checked without a server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from powerdialer.client import Campaign, Limits
from powerdialer.fill import FillOptions
from powerdialer.fill._negotiate import negotiate

SERVER = Limits(
    bulk_max_rows=500,
    bulk_max_bytes=1 << 20,
    body_max_bytes=2 << 20,
    rate_limit_per_second=50.0,
    rate_limit_burst=100,
)


def options(**changes: Any) -> FillOptions:
    values: dict[str, Any] = {
        "path": Path("leads.csv"),
        "campaign_id": 456,
        "base_url": "http://127.0.0.1:8000",
        "project_id": "123",
        "key": None,
    }
    return FillOptions(**{**values, **changes})


def campaign(policy: str) -> Campaign:
    return Campaign(id=456, name="Leads", state="active", duplicate_policy=policy)


def test_the_vendor_gets_single_rows_its_way_at_the_rate_asked() -> None:
    send, rate = negotiate(options(rate=5.0), "run", None, None)
    assert (send.mode, send.with_plus, send.idempotency, send.fresh_keys) == (
        "single",
        False,
        False,
        False,
    )
    assert (send.batch_size, send.batch_max_bytes, rate) == (1000, 0, 5.0)


def test_a_powerdialer_server_gets_bulk_within_its_published_limits() -> None:
    send, rate = negotiate(options(), "run", SERVER, campaign("skip"))
    assert (send.mode, send.batch_size, send.batch_max_bytes) == ("bulk", 500, 1 << 20)
    assert (send.with_plus, send.idempotency, send.fresh_keys) == (True, True, True)
    assert rate == 50.0  # never faster than the server allows
    assert negotiate(options(rate=10.0), "run", SERVER, None)[1] == 10.0


@pytest.mark.parametrize(
    ("policy", "keys", "expected"),
    [
        ("skip", "auto", False),  # a resent row is harmless where the campaign dedupes
        ("update", "auto", False),
        ("keep", "auto", True),
        ("keep", "never", False),
        ("skip", "always", True),
    ],
)
def test_single_rows_carry_idempotency_keys_where_a_resend_would_duplicate(
    policy: str, keys: str, expected: bool
) -> None:
    chosen = options(mode="single", idempotency_keys=keys)
    send, _ = negotiate(chosen, "run", SERVER, campaign(policy))
    assert (send.mode, send.idempotency) == ("single", expected)
