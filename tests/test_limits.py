"""Rate limits on the compatible endpoint: RateLimit-* headers, 429 with Retry-After."""

from __future__ import annotations

import pytest

from powerdialer.web.middleware.ratelimit import RateLimiter
from tests.clock import Clock
from tests.conftest import COMPAT, Persona, StartApp, client_of

pytestmark = pytest.mark.anyio


async def test_it_answers_429_with_retry_after_once_a_key_exceeds_its_burst(
    started_app: StartApp, owner: Persona, stranger: Persona, clock: Clock
) -> None:
    async with started_app(rate_limit_per_second=1, rate_limit_burst=3) as app:
        app.services.limiter.clock = clock.monotonic  # no refill while the test runs, however slow
        async with client_of(app) as client:
            answers = [
                await client.post(COMPAT, json=owner.row(f"38093000000{i}"), headers=owner.headers)
                for i in range(4)
            ]
            assert [a.status_code for a in answers] == [200, 200, 200, 429]
            assert [a.headers["ratelimit-remaining"] for a in answers[:3]] == ["2", "1", "0"]
            assert answers[0].headers["ratelimit-limit"] == "3"
            refused = answers[3]
            assert int(refused.headers["retry-after"]) >= 1
            assert refused.json()["result"] is False
            assert refused.json()["error"]["code"] == "rate_limited"
            # Another key has its own bucket.
            other = await client.post(COMPAT, json=stranger.row(), headers=stranger.headers)
            assert other.status_code == 200


def test_a_bucket_refills_at_the_configured_rate() -> None:
    limiter = RateLimiter(rate=2, burst=2)
    assert limiter.hit("k", now=0.0).allowed
    assert limiter.hit("k", now=0.0).allowed
    refused = limiter.hit("k", now=0.0)
    assert not refused.allowed
    assert refused.reset_seconds == 1
    assert limiter.hit("k", now=0.5).allowed  # one token back after 1/rate seconds
    assert not limiter.hit("k", now=0.5).allowed


def test_the_limiter_forgets_the_oldest_keys_beyond_its_bound() -> None:
    limiter = RateLimiter(rate=1, burst=1, max_keys=2)
    limiter.hit("a", now=0.0)
    limiter.hit("b", now=0.0)
    limiter.hit("c", now=0.0)  # evicts "a"
    assert limiter.hit("a", now=0.0).allowed  # a fresh bucket
    assert not limiter.hit("c", now=0.0).allowed
