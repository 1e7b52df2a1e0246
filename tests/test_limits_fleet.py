"""A key's rate limit shared by several instances through Redis (POWERDIALER_RATE_LIMIT_STORAGE):
two real server processes spend one burst; Redis down → each instance falls back to its own
bucket and says so in the log, at most once a minute.

Redis is the one at 127.0.0.1:6379 (``.ci/run`` starts it); each test uses its own key prefix
and deletes only its own keys.  Without a Redis these tests skip, saying why."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest

from powerdialer.settings import Settings, SettingsError
from powerdialer.web.middleware.ratelimit import RateLimiter
from powerdialer.web.middleware.ratelimit_shared import SharedRateLimiter
from powerdialer.web.services import limiter_for
from tests.conftest import COMPAT, Persona, StartApp, client_of
from tests.e2e.conftest import Server, free_port, start_server  # noqa: F401 (a fixture)

REDIS = "redis://127.0.0.1:6379/0"
# A burst of 3 at 0.1/s: "3 per 30 seconds", so nothing comes back while a test runs.
SLOW = {"POWERDIALER_RATE_LIMIT": "0.1", "POWERDIALER_RATE_LIMIT_BURST": "3"}


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key prefix of this test's own in the shared Redis; its keys are deleted afterwards."""
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS} ({exc}): start one with redis-server to run these")
    name = f"pdtest-{uuid.uuid4().hex}"
    yield name
    keys = list(client.scan_iter(match=f"{name}*"))
    if keys:
        client.delete(*keys)
    client.close()


def closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


def test_two_server_processes_share_one_burst(
    start_server: Callable[..., Server],  # noqa: F811
    owner: Persona,
    stranger: Persona,
    prefix: str,
) -> None:
    env = {
        **SLOW,
        "POWERDIALER_RATE_LIMIT_STORAGE": REDIS,
        "POWERDIALER_RATE_LIMIT_PREFIX": prefix,
    }
    first, second = start_server(**env), start_server(**env)
    with httpx.Client(trust_env=False, timeout=10) as client:

        def post(server: Server, persona: Persona, phone: str) -> httpx.Response:
            return client.post(server.compat_url, json=persona.row(phone), headers=persona.headers)

        answers = [
            post(first, owner, "380930000001"),
            post(second, owner, "380930000002"),
            post(first, owner, "380930000003"),
        ]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0"]
        assert {a.headers["ratelimit-limit"] for a in answers} == {"3"}
        assert {a.headers["ratelimit-reset"] for a in answers} == {"30"}  # the window, W = B / r

        refused = post(second, owner, "380930000004")  # the fourth, on the other instance
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited"
        assert refused.headers["ratelimit-limit"] == "3"
        assert refused.headers["ratelimit-remaining"] == "0"
        assert 1 <= int(refused.headers["retry-after"]) <= 30
        assert refused.headers["ratelimit-reset"] == refused.headers["retry-after"]
        assert post(first, owner, "380930000005").status_code == 429

        # The API spends the same shared budget; another key has its own.
        api = client.get(
            f"{second.url}/power-dialer/campaigns/{owner.campaign_id}", headers=owner.headers
        )
        assert api.status_code == 429
        assert post(second, stranger, "380930000006").status_code == 200


@pytest.mark.anyio
async def test_two_app_instances_share_the_budget_of_the_api_and_the_endpoint(
    started_app: StartApp, owner: Persona, prefix: str
) -> None:
    shared = {
        "rate_limit_per_second": 0.1,
        "rate_limit_burst": 2,
        "rate_limit_storage": REDIS,
        "rate_limit_prefix": prefix,
    }
    async with started_app(**shared) as one, started_app(**shared) as two:
        assert isinstance(one.services.limiter, SharedRateLimiter)
        async with client_of(one) as a, client_of(two) as b:
            first = await a.get(
                f"/power-dialer/campaigns/{owner.campaign_id}", headers=owner.headers
            )
            second = await b.post(COMPAT, json=owner.row(), headers=owner.headers)
            third = await a.post(COMPAT, json=owner.row("380930000009"), headers=owner.headers)
    assert (first.status_code, second.status_code, third.status_code) == (200, 200, 429)
    assert first.headers["ratelimit-remaining"] == "1"
    assert second.headers["ratelimit-remaining"] == "0"
    assert int(third.headers["retry-after"]) >= 1


@pytest.mark.anyio
async def test_redis_down_fails_open_to_each_instances_own_bucket(
    started_app: StartApp, owner: Persona, caplog: pytest.LogCaptureFixture
) -> None:
    down = f"redis://127.0.0.1:{closed_port()}/0"
    limited = {"rate_limit_per_second": 0.1, "rate_limit_burst": 2, "rate_limit_storage": down}
    with caplog.at_level(logging.WARNING, logger="powerdialer.web.middleware.ratelimit_shared"):
        async with started_app(**limited) as app, client_of(app) as client:
            answers = [
                await client.post(COMPAT, json=owner.row(f"38093000000{i}"), headers=owner.headers)
                for i in range(3)
            ]
    # Served, and still limited: by this process's token bucket, headers and all.
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["1", "0", "0"]
    assert int(answers[2].headers["retry-after"]) >= 1
    warnings = [r for r in caplog.records if "rate limit storage unreachable" in r.message]
    assert len(warnings) == 1  # not one per request


@pytest.mark.anyio
async def test_the_warning_comes_at_most_once_a_minute_and_redis_is_tried_again() -> None:
    limiter = SharedRateLimiter(10, 100, f"redis://127.0.0.1:{closed_port()}/0")
    logged: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = logged.append  # type: ignore[method-assign]
    logger = logging.getLogger("powerdialer.web.middleware.ratelimit_shared")
    logger.addHandler(handler)
    try:
        assert (await limiter.hit("k", now=0.0)).allowed
        assert limiter._down_at == 0.0
        assert (await limiter.hit("k", now=0.5)).allowed  # within a second: Redis not asked
        assert limiter._down_at == 0.0
        assert (await limiter.hit("k", now=30.0)).allowed  # asked again, still down: no warning
        assert limiter._down_at == 30.0
        assert len(logged) == 1
        await limiter.hit("k", now=61.0)
        assert len(logged) == 2
    finally:
        logger.removeHandler(handler)
    # The fallback bucket counted every one of those hits.
    assert (await limiter.hit("k", now=61.1)).remaining < 100


def test_the_memory_backend_is_the_default_and_a_bad_storage_is_refused() -> None:
    assert isinstance(limiter_for(Settings()), RateLimiter)
    env = {"POWERDIALER_RATE_LIMIT_STORAGE": "redis://cache.internal:6379/2"}
    assert Settings.from_env(env).rate_limit_storage == "redis://cache.internal:6379/2"
    assert Settings.from_env({}).rate_limit_storage == "memory"
    with pytest.raises(SettingsError, match=r"POWERDIALER_RATE_LIMIT_STORAGE.*redis://"):
        Settings.from_env({"POWERDIALER_RATE_LIMIT_STORAGE": "memcached://x"})


def test_the_limit_string_is_burst_per_burst_over_rate_seconds() -> None:
    assert SharedRateLimiter(2000, 4000, REDIS).item.amount == 4000
    assert SharedRateLimiter(2000, 4000, REDIS).window_seconds == 2
    assert SharedRateLimiter(1, 3, REDIS).window_seconds == 3
    assert SharedRateLimiter(2, 3, REDIS).window_seconds == 2  # ceil(1.5): a bit under 2/s
    assert SharedRateLimiter(5000, 100, REDIS).window_seconds == 1
