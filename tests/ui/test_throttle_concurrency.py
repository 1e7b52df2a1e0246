"""Sign-in throttling under concurrency: an attempt is reserved atomically before its password
hash is checked, so the documented 5 failures hold for 60 attempts at once, spread over two app
instances sharing one database (SQLite here, PostgreSQL with POWERDIALER_TEST_DATABASE_URL);
the current-password check of a password change is throttled too."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher

from powerdialer.accounts import passwords, sessions, throttling
from powerdialer.errors import ValidationError
from powerdialer.models import utcnow
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.storage import accounts as sql
from powerdialer.web.app import PowerDialerApp
from tests.conftest import Persona, StartApp
from tests.ui.conftest import PASSWORD, User, csrf_of, form_post, make_user

pytestmark = pytest.mark.anyio

ATTEMPTS = 60


@pytest.fixture
def slow_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hash that takes a while to check, as in production, so that attempts overlap."""
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=2, memory_cost=16384))
    passwords.dummy_hash.cache_clear()


@pytest.fixture
async def two_instances(started_app: StartApp) -> AsyncIterator[list[PowerDialerApp]]:
    """Two app instances, each with its own engine and pool, on one database."""
    async with started_app() as one, started_app() as two:
        yield [one, two]


async def _login_form(app: PowerDialerApp) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    page = await client.get("/login")
    return client, csrf_of(page.text)


async def test_sixty_concurrent_wrong_passwords_get_five_checks_on_two_instances(
    slow_hashing: None, two_instances: list[PowerDialerApp], store: Store, owner: Persona
) -> None:
    user = make_user(store, owner, "target@example.com")
    forms = [await _login_form(two_instances[i % 2]) for i in range(ATTEMPTS)]

    async def attempt(client: httpx.AsyncClient, token: str, n: int) -> int:
        data = {"email": user.email, "password": f"guess {n}", "csrf_token": token}
        return (await client.post("/login", data=data)).status_code

    try:
        statuses = await asyncio.gather(
            *(attempt(client, token, n) for n, (client, token) in enumerate(forms))
        )
    finally:
        for client, _ in forms:
            await client.aclose()
    assert statuses.count(401) == throttling.EMAIL_FREE_FAILURES  # "the password is wrong"
    assert statuses.count(429) == ATTEMPTS - throttling.EMAIL_FREE_FAILURES  # locked
    # And the right password is locked out too, on either instance.
    client, token = await _login_form(two_instances[1])
    try:
        data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
        assert (await client.post("/login", data=data)).status_code == 429
    finally:
        await client.aclose()


def test_sixty_concurrent_attempts_in_threads_reserve_exactly_five(
    slow_hashing: None, store: Store, settings: Settings, owner: Persona
) -> None:
    """The domain function on its own, from 60 threads over two stores (engines)."""
    from concurrent.futures import ThreadPoolExecutor

    from powerdialer.storage import open_store

    user = make_user(store, owner, "threads@example.com")
    other = open_store(settings.database_url, migrate=False)
    now = utcnow()

    def attempt(n: int) -> str:
        try:
            sessions.sign_in(
                (store, other)[n % 2], user.email, f"guess {n}", f"10.0.0.{n}", now=now
            )
        except sessions.SignInRefused as refused:
            return "locked" if refused.retry_after is not None else "wrong"
        return "signed in"

    try:
        with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
            outcomes = list(pool.map(attempt, range(ATTEMPTS)))
    finally:
        other.dispose()
    assert outcomes.count("wrong") == throttling.EMAIL_FREE_FAILURES
    assert outcomes.count("locked") == ATTEMPTS - throttling.EMAIL_FREE_FAILURES


def test_a_successful_sign_in_gives_its_address_reservation_back(store: Store, anna: User) -> None:
    """Twenty-five colleagues behind one address sign in: the address is never locked."""
    now = utcnow()
    for minute in range(throttling.IP_FREE_FAILURES + 5):
        sessions.sign_in(
            store, anna.email, anna.password, "192.0.2.1", now=now + dt.timedelta(minutes=minute)
        )
    rows = store.read(lambda conn: sql.throttle_rows(conn, ["ip:192.0.2.1"]))
    assert rows["ip:192.0.2.1"].failures == 0
    assert rows["ip:192.0.2.1"].locked_until is None


def test_the_address_lock_its_own_attempt_set_is_lifted_when_that_attempt_succeeds(
    store: Store, anna: User, owner: Persona
) -> None:
    now = utcnow()
    for n in range(throttling.IP_FREE_FAILURES - 1):  # other emails, wrong, one address
        with pytest.raises(sessions.SignInRefused):
            sessions.sign_in(store, f"user{n}@example.com", "wrong", "192.0.2.9", now=now)
    # The 20th attempt from the address reaches its threshold (and locks it) before its
    # password is checked; the password is right, so the lock goes.
    sessions.sign_in(store, anna.email, anna.password, "192.0.2.9", now=now)
    rows = store.read(lambda conn: sql.throttle_rows(conn, ["ip:192.0.2.9"]))
    assert rows["ip:192.0.2.9"].failures == throttling.IP_FREE_FAILURES - 1
    assert rows["ip:192.0.2.9"].locked_until is None


# --- the password change -----------------------------------------------------------------


def _change(current: str) -> dict[str, str]:
    return {"current_password": current, "new_password": "x" * 12, "repeat_password": "x" * 12}


async def test_a_password_change_with_wrong_current_passwords_is_throttled_after_five(
    as_anna: httpx.AsyncClient, anna: User, store: Store
) -> None:
    for _ in range(throttling.EMAIL_FREE_FAILURES):
        answer = await form_post(as_anna, "/account", "/account/password", _change("wrong"))
        assert answer.status_code == 422
    locked = await form_post(as_anna, "/account", "/account/password", _change(anna.password))
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "Забагато невдалих спроб" in locked.text
    found = store.read(lambda conn: sql.user_by_email(conn, anna.email))
    assert found is not None
    assert passwords.password_matches(found[1], anna.password)  # unchanged


async def test_concurrent_wrong_current_passwords_get_five_checks(
    slow_hashing: None, app: PowerDialerApp, store: Store, owner: Persona
) -> None:
    from tests.ui.conftest import browser_for

    user = make_user(store, owner, "changer@example.com")
    async with browser_for(app, user) as browser:
        page = await browser.get("/account")
        token = csrf_of(page.text)

        async def attempt(n: int) -> int:
            data = {"csrf_token": token, **_change(f"guess {n}")}
            return (await browser.post("/account/password", data=data)).status_code

        statuses = await asyncio.gather(*(attempt(n) for n in range(30)))
    assert statuses.count(422) == throttling.EMAIL_FREE_FAILURES
    assert statuses.count(429) == 30 - throttling.EMAIL_FREE_FAILURES


def test_a_right_current_password_clears_the_count(store: Store, anna: User) -> None:
    session = sessions.sign_in(store, anna.email, anna.password, "192.0.2.5").session
    now = utcnow()
    for _ in range(throttling.EMAIL_FREE_FAILURES - 1):
        with pytest.raises(ValidationError):
            sessions.change_password(store, session, "wrong", "y" * 12, "192.0.2.5", now=now)
    sessions.change_password(store, session, anna.password, "y" * 12, "192.0.2.5", now=now)
    rows = store.read(lambda conn: sql.throttle_rows(conn, [f"email:{anna.email}"]))
    assert rows == {}
