"""Signing in and out, sessions, CSRF, throttling and roles."""

from __future__ import annotations

import datetime as dt
import hashlib

import httpx
import pytest
from sqlalchemy import select

from powerdialer.accounts import sessions, throttling, users
from powerdialer.accounts.models import Role
from powerdialer.models import utcnow
from powerdialer.storage import Store, schema
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.ui.conftest import (
    API_PAGE,
    LIST,
    PASSWORD,
    User,
    browser_for,
    csrf_of,
    form_post,
    sign_in,
    text_of,
)

pytestmark = pytest.mark.anyio


async def test_a_page_without_a_session_redirects_to_sign_in_and_back(
    anonymous: httpx.AsyncClient, anna: User
) -> None:
    answer = await anonymous.get(f"{LIST}?dialog=new")
    assert answer.status_code == 303
    assert (
        answer.headers["location"]
        == "/login?next=%2Fsettings%2Fsoftphone%2Fpower-dialer%3Fdialog%3Dnew"
    )
    page = await anonymous.get(answer.headers["location"])
    signed = await anonymous.post(
        "/login",
        data={
            "email": anna.email,
            "password": anna.password,
            "csrf_token": csrf_of(page.text),
            "next": f"{LIST}?dialog=new",
        },
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == f"{LIST}?dialog=new"


async def test_sign_in_sets_an_http_only_lax_cookie_and_stores_only_its_hash(
    anonymous: httpx.AsyncClient, anna: User, store: Store
) -> None:
    answer = await sign_in(anonymous, anna.email, anna.password)
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("pd_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http (a browser would drop a Secure cookie here)
    token = cookie.split(";")[0].split("=", 1)[1]
    stored = store.read(
        lambda conn: conn.execute(select(schema.sessions.c.token_hash)).scalars().all()
    )
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in stored


async def test_over_https_the_session_cookie_is_secure(app: PowerDialerApp, anna: User) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        answer = await sign_in(client, anna.email, anna.password)
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("pd_session="))
    assert "Secure" in cookie


async def test_passwords_are_stored_as_argon2id(anna: User, store: Store) -> None:
    stored = store.read(
        lambda conn: conn.execute(select(schema.users.c.password_hash)).scalar_one()
    )
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    anonymous: httpx.AsyncClient, anna: User
) -> None:
    wrong = await sign_in(anonymous, anna.email, "not the password")
    unknown = await sign_in(anonymous, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert "Неправильна електронна пошта або пароль." in wrong.text
    assert text_of(wrong.text).replace(anna.email, "E") == text_of(unknown.text).replace(
        "nobody@example.com", "E"
    )
    assert "pd_session" not in wrong.headers.get("set-cookie", "")


async def test_five_wrong_passwords_lock_the_email_even_for_the_right_one(
    anonymous: httpx.AsyncClient, anna: User
) -> None:
    for _ in range(throttling.EMAIL_FREE_FAILURES):
        assert (await sign_in(anonymous, anna.email, "wrong")).status_code == 401
    locked = await sign_in(anonymous, anna.email, anna.password)
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "Забагато невдалих спроб" in locked.text
    assert "pd_session" not in locked.headers.get("set-cookie", "")


async def test_a_locked_unknown_email_looks_like_a_locked_real_one(
    anonymous: httpx.AsyncClient, anna: User
) -> None:
    for email in (anna.email, "ghost@example.com"):
        for _ in range(throttling.EMAIL_FREE_FAILURES):
            await sign_in(anonymous, email, "wrong")
    real = await sign_in(anonymous, anna.email, "wrong")
    ghost = await sign_in(anonymous, "ghost@example.com", "wrong")
    assert real.status_code == ghost.status_code == 429
    assert real.headers["retry-after"] == ghost.headers["retry-after"]
    assert text_of(real.text).replace(anna.email, "E") == text_of(ghost.text).replace(
        "ghost@example.com", "E"
    )


def test_the_lock_grows_with_each_further_failure_and_ends(store: Store, anna: User) -> None:
    now = utcnow()
    for _ in range(throttling.EMAIL_FREE_FAILURES):
        with pytest.raises(sessions.SignInRefused):
            sessions.sign_in(store, anna.email, "wrong", "10.0.0.1", now=now)
    first = _locked_until(store, f"email:{anna.email}")
    assert first is not None
    assert first - now == throttling.FIRST_LOCK
    with pytest.raises(sessions.SignInRefused) as refused:
        sessions.sign_in(store, anna.email, anna.password, "10.0.0.1", now=now)
    assert refused.value.retry_after == 30
    later = first + dt.timedelta(seconds=1)
    with pytest.raises(sessions.SignInRefused):
        sessions.sign_in(store, anna.email, "wrong", "10.0.0.1", now=later)
    second = _locked_until(store, f"email:{anna.email}")
    assert second is not None
    assert second - later == 2 * throttling.FIRST_LOCK
    # After the lock, the right password works and clears the email's counter.
    after = second + dt.timedelta(seconds=1)
    signed = sessions.sign_in(store, anna.email, anna.password, "10.0.0.1", now=after)
    assert signed.session.user.email == anna.email
    assert _locked_until(store, f"email:{anna.email}") is None


def test_a_session_ends_when_its_lifetime_is_over(store: Store, anna: User, clock: Clock) -> None:
    signed = sessions.sign_in(store, anna.email, anna.password, "10.0.0.1", now=clock.now())
    clock.advance(seconds=sessions.SESSION_LIFETIME.total_seconds() - 1)
    assert sessions.load_session(store, signed.token, now=clock.now()) is not None
    clock.advance(seconds=1)
    assert sessions.load_session(store, signed.token, now=clock.now()) is None


def test_many_failures_from_one_address_lock_the_address(store: Store, anna: User) -> None:
    now = utcnow()
    for index in range(throttling.IP_FREE_FAILURES):
        with pytest.raises(sessions.SignInRefused):
            sessions.sign_in(store, f"user{index}@example.com", "wrong", "192.0.2.7", now=now)
    with pytest.raises(sessions.SignInRefused) as refused:
        sessions.sign_in(store, anna.email, anna.password, "192.0.2.7", now=now)
    assert refused.value.retry_after is not None
    # Another address is not affected.
    assert sessions.sign_in(store, anna.email, anna.password, "192.0.2.8", now=now)


def _locked_until(store: Store, key: str) -> dt.datetime | None:
    row = store.read(
        lambda conn: conn.execute(
            select(schema.login_throttle.c.locked_until).where(schema.login_throttle.c.key == key)
        ).first()
    )
    return row[0] if row else None


async def test_sign_out_ends_the_session(as_anna: httpx.AsyncClient) -> None:
    answer = await form_post(as_anna, LIST, "/logout")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?notice=signed_out"
    assert (await as_anna.get(LIST)).status_code == 303


async def test_a_stolen_cookie_stops_working_after_sign_out(
    app: PowerDialerApp, as_anna: httpx.AsyncClient
) -> None:
    token = as_anna.cookies["pd_session"]
    await form_post(as_anna, LIST, "/logout")
    async with browser_for(app, None) as thief:
        thief.cookies.set("pd_session", token)
        assert (await thief.get(LIST)).status_code == 303


async def test_a_password_change_signs_out_the_other_sessions_only(
    app: PowerDialerApp, anna: User, as_anna: httpx.AsyncClient
) -> None:
    async with browser_for(app, anna) as other_device:
        changed = await form_post(
            as_anna,
            "/account",
            "/account/password",
            {
                "current_password": PASSWORD,
                "new_password": "a much newer password",
                "repeat_password": "a much newer password",
            },
        )
        assert changed.status_code == 303
        assert (await as_anna.get(LIST)).status_code == 200
        assert (await other_device.get(LIST)).status_code == 303
    async with browser_for(app, None) as fresh:
        assert (await sign_in(fresh, anna.email, PASSWORD)).status_code == 401
        assert (await sign_in(fresh, anna.email, "a much newer password")).status_code == 303


async def test_a_password_change_needs_the_current_password(as_anna: httpx.AsyncClient) -> None:
    answer = await form_post(
        as_anna,
        "/account",
        "/account/password",
        {"current_password": "wrong", "new_password": "x" * 12, "repeat_password": "x" * 12},
    )
    assert answer.status_code == 422
    assert "Поточний пароль неправильний." in answer.text


async def test_a_short_new_password_is_refused(as_anna: httpx.AsyncClient) -> None:
    answer = await form_post(
        as_anna,
        "/account",
        "/account/password",
        {"current_password": PASSWORD, "new_password": "short", "repeat_password": "short"},
    )
    assert answer.status_code == 422
    assert "щонайменше 10 символів" in answer.text


@pytest.mark.parametrize(
    ("action", "data"),
    [
        (f"{LIST}/campaigns", {"name": "Forged"}),
        (f"{API_PAGE}/keys", {"name": "forged"}),
        ("/logout", {}),
        ("/account/password", {"current_password": PASSWORD, "new_password": "x" * 12}),
    ],
)
async def test_a_form_without_the_sessions_csrf_token_is_refused(
    as_anna: httpx.AsyncClient, as_mallory: httpx.AsyncClient, action: str, data: dict[str, str]
) -> None:
    missing = await as_anna.post(action, data=data)
    wrong = await as_anna.post(action, data={**data, "csrf_token": "x" * 43})
    # A real token, but of another session (the attacker's own).
    theirs = csrf_of((await as_mallory.get(LIST)).text)
    foreign = await as_anna.post(action, data={**data, "csrf_token": theirs})
    for answer in (missing, wrong, foreign):
        assert answer.status_code == 403
        assert "Форма застаріла" in answer.text
    assert "Forged" not in (await as_anna.get(LIST)).text


async def test_fetch_requests_may_send_the_csrf_token_in_a_header(
    as_anna: httpx.AsyncClient,
) -> None:
    token = csrf_of((await as_anna.get(LIST)).text)
    created = await as_anna.post(
        f"{LIST}/campaigns", data={"name": "By fetch"}, headers={"X-CSRF-Token": token}
    )
    assert created.status_code == 303
    refused = await as_anna.post(
        f"{LIST}/campaigns",
        data={"name": "No header"},
        headers={"X-CSRF-Token": "nope", "Accept": "application/json"},
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "csrf"


async def test_the_sign_in_form_needs_its_own_token(
    anonymous: httpx.AsyncClient, anna: User
) -> None:
    await anonymous.get("/login")
    answer = await anonymous.post(
        "/login", data={"email": anna.email, "password": anna.password, "csrf_token": "forged"}
    )
    assert answer.status_code == 403
    assert "pd_session" not in anonymous.cookies


@pytest.mark.parametrize(
    "target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:x"]
)
async def test_sign_in_never_redirects_off_site(
    anonymous: httpx.AsyncClient, anna: User, target: str
) -> None:
    page = await anonymous.get("/login")
    answer = await anonymous.post(
        "/login",
        data={
            "email": anna.email,
            "password": anna.password,
            "csrf_token": csrf_of(page.text),
            "next": target,
        },
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


async def test_an_operator_cannot_manage_keys_or_delete_campaigns(
    as_oleh: httpx.AsyncClient, oleh: User, store: Store
) -> None:
    from powerdialer import campaigns, projects

    page = await as_oleh.get(API_PAGE)
    assert page.status_code == 200
    assert 'id="create-key"' not in page.text
    assert (await form_post(as_oleh, API_PAGE, f"{API_PAGE}/keys")).status_code == 403
    key = projects.list_keys(store, oleh.project_id)[0]
    revoke = await form_post(as_oleh, API_PAGE, f"{API_PAGE}/keys/{key.key_id}/revoke")
    assert revoke.status_code == 403
    assert projects.list_keys(store, oleh.project_id)[0].revoked_at is None
    listing = await as_oleh.get(LIST)
    assert "dialog-delete-" not in listing.text
    delete = await form_post(as_oleh, LIST, f"{LIST}/campaigns/{oleh.campaign_id}/delete")
    assert delete.status_code == 403
    assert campaigns.list_campaigns(store, oleh.project_id)
    # What operators may do: work the campaign's rows.
    renamed = await form_post(
        as_oleh, LIST, f"{LIST}/campaigns/{oleh.campaign_id}/rename", {"name": "Renamed"}
    )
    assert renamed.status_code == 303


async def test_the_project_switcher_offers_only_the_users_projects(
    app: PowerDialerApp, store: Store, anna: User, mallory: User
) -> None:
    users.grant(store, anna.email, mallory.project_id, Role.OPERATOR)
    async with browser_for(app, anna) as client:
        listing = await client.get(LIST)
        assert f'<option value="{mallory.project_id}"' in listing.text
        switched = await form_post(
            client, LIST, "/session/project", {"project_id": str(mallory.project_id)}
        )
        assert switched.status_code == 303
        page = await client.get(LIST)
        assert "Stranger leads" in page.text
        assert "Owner leads" not in page.text
    async with browser_for(app, mallory) as client:
        refused = await form_post(
            client, LIST, "/session/project", {"project_id": str(anna.project_id)}
        )
        assert refused.status_code == 404
        assert "Owner leads" not in (await client.get(LIST)).text
