"""Fixtures for the web UI: users (an owner and an operator of the owner persona's project, and
a stranger who owns the stranger persona's project), in-process browsers signed in as each, and
helpers to read what the pages say.

Passwords are hashed with cheap argon2 parameters here: the production parameters are slow on
purpose, and the tests sign in hundreds of times.  The browser tests run a real server process
with the real parameters."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher

from powerdialer.accounts import passwords, users
from powerdialer.accounts.models import Role
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.web.app import PowerDialerApp
from tests.conftest import Persona
from tests.e2e.conftest import start_server  # noqa: F401 (a fixture: a real server process)

PASSWORD = "correct horse battery staple"
LIST = "/settings/softphone/power-dialer"
API_PAGE = "/settings/integration/api"


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=256))
    passwords.dummy_hash.cache_clear()
    yield
    passwords.dummy_hash.cache_clear()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url, rate_limit_per_second=0, data_dir=str(tmp_path / "data")
    )


@dataclass(frozen=True)
class User:
    email: str
    password: str
    persona: Persona

    @property
    def project_id(self) -> int:
        return self.persona.project_id

    @property
    def campaign_id(self) -> int:
        return self.persona.campaign_id


def make_user(store: Store, persona: Persona, email: str, role: Role = Role.OWNER) -> User:
    users.create_user(store, email, PASSWORD, project_id=persona.project_id, role=role)
    return User(email, PASSWORD, persona)


@pytest.fixture
def anna(store: Store, owner: Persona) -> User:
    """Owner of the owner persona's project."""
    return make_user(store, owner, "anna@example.com")


@pytest.fixture
def oleh(store: Store, owner: Persona) -> User:
    """Operator in the owner persona's project."""
    return make_user(store, owner, "oleh@example.com", Role.OPERATOR)


@pytest.fixture
def mallory(store: Store, stranger: Persona) -> User:
    """Owner of the stranger's project only: must never see the owner's data."""
    return make_user(store, stranger, "mallory@example.com")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return unescape(found.group(1))


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(page.text)},
    )


@asynccontextmanager
async def browser_for(app: PowerDialerApp, user: User | None) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process browser (cookies kept), signed in as ``user`` unless it is ``None``."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        if user is not None:
            answer = await sign_in(client, user.email, user.password)
            assert answer.status_code == 303, answer.text
        yield client


@pytest.fixture
async def as_anna(app: PowerDialerApp, anna: User) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_for(app, anna) as client:
        yield client


@pytest.fixture
async def as_oleh(app: PowerDialerApp, oleh: User) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_for(app, oleh) as client:
        yield client


@pytest.fixture
async def as_mallory(app: PowerDialerApp, mallory: User) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_for(app, mallory) as client:
        yield client


@pytest.fixture
async def anonymous(app: PowerDialerApp) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_for(app, None) as client:
        yield client


async def form_post(
    client: httpx.AsyncClient, page_url: str, action: str, data: dict[str, str] | None = None
) -> httpx.Response:
    """Submit a form the way a browser does: load the page, take its CSRF token, post."""
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"csrf_token": csrf_of(page.text), **(data or {})})


def edit_url(user: User, campaign_id: int | None = None) -> str:
    return (
        f"/campaign/edit?projectId={user.project_id}"
        f"&editCampaign={campaign_id or user.campaign_id}&campaignName=x"
    )


def text_of(html: str) -> str:
    """The page's visible-ish text: tags dropped, entities decoded, spaces collapsed."""
    without_scripts = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", without_scripts)).split())
