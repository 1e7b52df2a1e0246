"""Shared fixtures: a fresh real database per test (SQLite file, or PostgreSQL when
POWERDIALER_TEST_DATABASE_URL is set), the app in process, and the personas: ``owner`` and a
``stranger`` project that must never see or touch the owner's data."""

from __future__ import annotations

import dataclasses
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from powerdialer import campaigns, projects
from powerdialer.settings import Settings
from powerdialer.storage import Store, open_store, schema
from powerdialer.storage.engine import make_engine, normalize_url
from powerdialer.web.app import PowerDialerApp, create_app
from tests.clock import Clock

PG_URL = os.environ.get("POWERDIALER_TEST_DATABASE_URL", "").strip()
COMPAT = "/power-dialer/campaigns/campaign-rows"
# Emptied before each PostgreSQL test: every table of the schema, so a new table cannot leak
# rows from one test into the next (tests/test_storage.py pins that the migrations make no
# table the schema does not know).
TABLES = tuple(table.name for table in reversed(schema.metadata.sorted_tables))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> Clock:
    """Time for ``now=`` arguments that stands still until the test moves it (tests/clock.py)."""
    return Clock()


@pytest.fixture(scope="session")
def _pg_database() -> Iterator[str | None]:
    """One throw-away PostgreSQL database per test session, migrated once."""
    if not PG_URL:
        yield None
        return
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"powerdialer_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalize_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    open_store(url).dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    open_store(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture
def database_url(_pg_database: str | None, _sqlite_template: Path, tmp_path: Path) -> str:
    if _pg_database is not None:
        engine = make_engine(_pg_database)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return _pg_database
    path = tmp_path / "powerdialer.db"
    shutil.copy(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = open_store(database_url, migrate=False)
    yield store
    store.dispose()


@dataclass(frozen=True)
class Persona:
    project_id: int
    key: str
    campaign_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"x-project-id": str(self.project_id), "Auth-key": self.key}

    def row(self, phone: str = "380930000000", **extra: object) -> dict[str, object]:
        return {
            "campaignId": self.campaign_id,
            "fio": "Іван Петренко",
            "phone_number": phone,
            **extra,
        }


def make_persona(store: Store, name: str) -> Persona:
    project = projects.create_project(store, name)
    key = projects.create_key(store, project.id, f"{name} key")
    campaign = campaigns.create_campaign(store, project.id, f"{name} leads")
    return Persona(project.id, key.plaintext, campaign.id)


@pytest.fixture
def owner(store: Store) -> Persona:
    return make_persona(store, "Owner")


@pytest.fixture
def stranger(store: Store) -> Persona:
    return make_persona(store, "Stranger")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        rate_limit_per_second=0,
        data_dir=str(tmp_path / "data"),
        # The import heartbeat never comes by itself in a test (every 20 minutes): a test
        # beats with a set clock (``ImportRunner.beat(now)``).
        import_lease_seconds=3600.0,
    )


StartApp = Callable[..., AbstractAsyncContextManager[PowerDialerApp]]


@pytest.fixture
def started_app(settings: Settings) -> StartApp:
    """Start the app on this test's ``settings`` with some of them changed, and shut it down
    when the block ends: ``async with started_app(max_bulk_rows=3) as app: ...``.
    ``freeze_gc=True`` builds it as the server process does."""

    @asynccontextmanager
    async def start(*, freeze_gc: bool = False, **changes: Any) -> AsyncIterator[PowerDialerApp]:
        application = create_app(dataclasses.replace(settings, **changes), freeze_gc=freeze_gc)
        await application.startup()
        try:
            yield application
        finally:
            await application.shutdown()

    return start


@asynccontextmanager
async def client_of(app: PowerDialerApp) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client that calls ``app`` in process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def app(started_app: StartApp) -> AsyncIterator[PowerDialerApp]:
    async with started_app() as application:
        yield application


@pytest.fixture
async def client(app: PowerDialerApp) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(app) as client:
        yield client


def stored_rows(store: Store, persona: Persona) -> list[tuple[str | None, str, str]]:
    """(fio, phone_raw, phone_e164) of every row in the persona's campaign."""
    from powerdialer.rows import listing

    found = listing.rows_after(store, persona.project_id, persona.campaign_id, limit=10_000)
    return [(r.fio, r.phone_raw, r.phone_e164) for r in found]
