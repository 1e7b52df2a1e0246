"""Settings → Softphone settings → Calls in the web UI: owners choose how calls are placed
(secrets masked, never shown back), every member's extension is editable by owners and each
operator edits only their own; nothing crosses projects; CSRF holds; three languages."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from powerdialer.accounts.models import Role
from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.telephony import settings as telephony
from powerdialer.telephony.base import Method
from powerdialer.web.app import PowerDialerApp
from tests.conftest import Persona
from tests.telephony_people import KEY, user_id
from tests.telephony_people import _cheap_password_hashing as _cheap_password_hashing
from tests.ui.conftest import User, browser_for, csrf_of, make_user, text_of

pytestmark = pytest.mark.anyio


@pytest.fixture
def anna(store: Store, owner: Persona) -> User:
    return make_user(store, owner, "anna@example.com")


@pytest.fixture
def oleh(store: Store, owner: Persona) -> User:
    return make_user(store, owner, "oleh@example.com", Role.OPERATOR)


@pytest.fixture
def mallory(store: Store, stranger: Persona) -> User:
    return make_user(store, stranger, "mallory@example.com")


PAGE = "/settings/softphone/calls"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, secret_key=KEY)


@pytest.fixture
async def as_anna(app: PowerDialerApp, anna: User) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_for(app, anna) as client:
        yield client


@pytest.fixture
async def as_oleh(app: PowerDialerApp, oleh: User) -> AsyncIterator[httpx.AsyncClient]:
    async with browser_for(app, oleh) as client:
        yield client


async def post(client: httpx.AsyncClient, action: str, data: dict[str, str]) -> httpx.Response:
    page = await client.get(PAGE)
    assert page.status_code == 200, page.text
    return await client.post(action, data={"csrf_token": csrf_of(page.text), **data})


VENDOR = {
    "method": "http",
    "http_shape": "vendor",
    "http_url": "https://api.ringostat.net/callback/outward_call",
    "http_secret": "provider-key-1",
}


async def test_an_owner_chooses_click_to_call_and_the_secret_is_never_shown(
    as_anna: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    saved = await post(as_anna, PAGE, VENDOR)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PAGE}?notice=telephony_saved"
    found = telephony.load(store, owner.project_id)
    assert found.method is Method.HTTP
    assert found.http_secret_set
    page = await as_anna.get(PAGE)
    assert "provider-key-1" not in page.text
    assert "https://api.ringostat.net/callback/outward_call" in page.text
    # A save with the secret field blank keeps it.
    again = await post(as_anna, PAGE, {**VENDOR, "http_secret": "", "timeout_seconds": "15"})
    assert again.status_code == 303
    assert telephony.load(store, owner.project_id).http_secret_set
    assert telephony.load(store, owner.project_id).timeout_seconds == 15


async def test_a_bad_field_is_shown_with_what_was_typed_and_nothing_is_saved(
    as_anna: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    answer = await post(as_anna, PAGE, {**VENDOR, "http_url": "ftp://x", "http_secret": "k2"})
    assert answer.status_code == 422
    assert "http_url" in text_of(answer.text)
    assert 'value="ftp://x"' in answer.text
    assert "k2" not in answer.text  # a typed secret is not echoed back either
    assert telephony.load(store, owner.project_id).method is Method.LINK


async def test_an_operator_sees_only_their_own_extension_and_cannot_change_the_method(
    as_oleh: httpx.AsyncClient, anna: User, oleh: User, store: Store, owner: Persona
) -> None:
    page = await as_oleh.get(PAGE)
    assert page.status_code == 200
    assert 'id="calls-form"' not in page.text
    assert "oleh@example.com" in page.text
    assert "anna@example.com" not in page.text
    refused = await post(as_oleh, PAGE, {"method": "link"})
    assert refused.status_code == 403
    mine = await post(as_oleh, f"{PAGE}/extensions/{user_id(store, oleh)}", {"extension": "102"})
    assert mine.status_code == 303
    assert telephony.extension_of(store, owner.project_id, user_id(store, oleh)) == "102"
    theirs = await post(as_oleh, f"{PAGE}/extensions/{user_id(store, anna)}", {"extension": "1"})
    assert theirs.status_code == 403
    assert telephony.extension_of(store, owner.project_id, user_id(store, anna)) is None


async def test_an_owner_sets_an_operators_extension_and_a_bad_one_is_refused(
    as_anna: httpx.AsyncClient, oleh: User, store: Store, owner: Persona
) -> None:
    target = f"{PAGE}/extensions/{user_id(store, oleh)}"
    assert (await post(as_anna, target, {"extension": "sip:101@pbx.example"})).status_code == 303
    bad = await post(as_anna, target, {"extension": "101 Action: Logoff"})
    assert bad.status_code == 422
    assert telephony.extension_of(store, owner.project_id, user_id(store, oleh)) == (
        "sip:101@pbx.example"
    )


async def test_another_projects_owner_cannot_touch_this_projects_members(
    app: PowerDialerApp, mallory: User, oleh: User, store: Store, owner: Persona
) -> None:
    async with browser_for(app, mallory) as browser:
        page = await browser.get(PAGE)
        assert "oleh@example.com" not in page.text
        answer = await post(
            browser, f"{PAGE}/extensions/{user_id(store, oleh)}", {"extension": "6"}
        )
    assert answer.status_code == 404
    assert telephony.extension_of(store, owner.project_id, user_id(store, oleh)) is None


async def test_without_the_csrf_token_nothing_is_saved(
    as_anna: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    answer = await as_anna.post(PAGE, data=VENDOR)
    assert answer.status_code == 403
    assert telephony.load(store, owner.project_id).method is Method.LINK


@pytest.mark.parametrize(("lang", "title"), [("uk", "Дзвінки"), ("en", "Calls"), ("ru", "Звонки")])
async def test_the_page_speaks_three_languages(
    as_anna: httpx.AsyncClient, lang: str, title: str
) -> None:
    page = await as_anna.get(f"{PAGE}?lang={lang}")
    assert page.status_code == 200
    assert f"<h1>{title}</h1>" in page.text


async def test_a_lan_pbx_not_allowed_is_refused_in_words_that_say_what_to_allow(
    as_anna: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    ami = {"method": "ami", "pbx_host": "10.0.0.5", "pbx_username": "pd", "pbx_secret": "s"}
    answer = await post(as_anna, PAGE, {**ami, "pbx_context": "from-internal"})
    assert answer.status_code == 422
    assert "POWERDIALER_OUTBOUND_ALLOW" in text_of(answer.text)
    assert 'value="10.0.0.5"' in answer.text
    assert telephony.load(store, owner.project_id).method is Method.LINK
