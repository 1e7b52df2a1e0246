"""``GET /healthz`` says unhealthy (503, with a reason) when the database or the data directory
cannot be written, healthy again once fixed, and answers frequent probes from a one-second
cache."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from powerdialer.health import CACHE_SECONDS, HealthCheck
from powerdialer.settings import Settings
from powerdialer.web.app import PowerDialerApp
from tests.conftest import PG_URL, StartApp
from tests.failures import BrokenDatabase
from tests.mounts import fill, tmpfs

pytestmark = pytest.mark.anyio


def health_of(app: PowerDialerApp) -> HealthCheck:
    check: HealthCheck = app.services.health
    return check


async def test_a_healthy_instance_says_so(client: httpx.AsyncClient) -> None:
    answer = await client.get("/healthz")
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"version": "?"} == {
        "status": "ok",
        "database": "ok",
        "data_dir": "ok",
        "version": "?",
    }


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "small", "2m") as mount:
        yield mount


@pytest.fixture
def settings(database_url: str, small_disk: Path) -> Settings:
    return Settings(
        database_url=database_url, rate_limit_per_second=0, data_dir=str(small_disk / "data")
    )


async def test_a_full_data_directory_is_unhealthy_until_space_is_freed(
    client: httpx.AsyncClient, app: PowerDialerApp, small_disk: Path
) -> None:
    assert (await client.get("/healthz")).status_code == 200
    filler = fill(small_disk)
    check = health_of(app)
    down = await check.check(now=1_000.0)
    assert not down.ok
    assert (down.database, down.data_dir) == ("ok", "unavailable")
    assert "No space left on device" in str(down.reason)
    answer = await client.get("/healthz")
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"  # when a probe gets a fresh answer
    assert answer.json()["status"] == "unavailable"
    assert "No space left on device" in answer.json()["reason"]
    filler.unlink()
    assert (await check.check(now=1_000.0 + CACHE_SECONDS)).ok
    assert not list(small_disk.rglob(".healthz-*")), "the probe file was left behind"


async def test_a_removed_data_directory_is_unhealthy_until_it_can_be_made_again(
    client: httpx.AsyncClient, app: PowerDialerApp, small_disk: Path
) -> None:
    data = small_disk / "data"
    assert (await client.get("/healthz")).status_code == 200
    shutil.rmtree(data)
    data.write_text("a file where the folder should be")
    check = health_of(app)
    assert (await check.check(now=5_000.0)).data_dir == "unavailable"
    data.unlink()
    assert (await check.check(now=5_000.0 + CACHE_SECONDS)).ok


async def test_probes_within_a_second_share_one_check(
    app: PowerDialerApp, small_disk: Path
) -> None:
    check = health_of(app)
    assert (await check.check(now=100.0)).ok
    filler = fill(small_disk)
    try:
        # Within the second: the cached answer, no new write (so the full disk is not seen).
        assert (await check.check(now=100.0 + CACHE_SECONDS / 2)).ok
        assert not (await check.check(now=100.0 + CACHE_SECONDS)).ok
    finally:
        filler.unlink()


# --- the database -------------------------------------------------------------------------


@pytest.fixture
async def app_on_small_disk(
    started_app: StartApp, database_url: str, small_disk: Path, tmp_path: Path
) -> AsyncIterator[PowerDialerApp]:
    """SQLite: the database file on its own tmpfs (the data directory elsewhere)."""
    if PG_URL:
        pytest.skip("the SQLite variant; PostgreSQL has its own below")
    db = small_disk / "powerdialer.db"
    shutil.copy(database_url.removeprefix("sqlite:///"), db)
    async with started_app(database_url=f"sqlite:///{db}", data_dir=str(tmp_path / "d")) as app:
        yield app


async def test_a_sqlite_database_on_a_full_disk_is_unhealthy_until_space_is_freed(
    app_on_small_disk: PowerDialerApp, small_disk: Path
) -> None:
    check = health_of(app_on_small_disk)
    assert (await check.check(now=10.0)).ok
    filler = fill(small_disk)
    down = await check.check(now=10.0 + CACHE_SECONDS)
    assert (down.database, down.data_dir) == ("unavailable", "ok"), down
    assert "database cannot be written" in str(down.reason)
    filler.unlink()
    assert (await check.check(now=10.0 + 2 * CACHE_SECONDS)).ok


async def test_a_read_only_postgresql_is_unhealthy_until_writable_again(
    app: PowerDialerApp, database_url: str
) -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL only (POWERDIALER_TEST_DATABASE_URL)")
    broken = BrokenDatabase(database_url)
    check = health_of(app)
    assert (await check.check(now=10.0)).ok
    try:
        broken.break_()
        down = await check.check(now=10.0 + CACHE_SECONDS)
        assert (down.database, down.data_dir) == ("unavailable", "ok"), down
        assert "read-only" in str(down.reason)
    finally:
        broken.fix()
    assert (await check.check(now=10.0 + 2 * CACHE_SECONDS)).ok
