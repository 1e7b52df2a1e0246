"""Account → Softphone on this browser: every member has one, in every language; the SIP
account's fields can never reach the server; only this page (and what calls
``allow_softphone``) may open a WebSocket to a SIP server and use the microphone."""

from __future__ import annotations

import re

import httpx
import pytest

from powerdialer.accounts.users import LOCALES
from powerdialer.web.ui.routes.softphone import allow_softphone, softphone_scope

pytestmark = pytest.mark.anyio
PAGE = "/account/softphone"


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_operator_has_the_page_in_every_language(
    as_oleh: httpx.AsyncClient, locale: str
) -> None:
    page = await as_oleh.get(f"{PAGE}?lang={locale}")

    assert page.status_code == 200
    assert f'<html lang="{locale}">' in page.text
    words = {"uk": "Софтфон у цьому браузері", "en": "Softphone on this browser"}
    words["ru"] = "Софтфон в этом браузере"
    assert f"<h1>{words[locale]}</h1>" in page.text
    for script in ("vendor/jssip.min.js", "softphone.js", "softphone-setup.js"):
        assert f'src="/static/{script}?v=' in page.text


async def test_the_sip_account_fields_have_no_name_so_no_form_can_send_them(
    as_oleh: httpx.AsyncClient,
) -> None:
    page = await as_oleh.get(PAGE)
    form = re.search(r'<form[^>]*id="softphone-form".*?</form>', page.text, re.S)

    assert form is not None
    assert 'action="' not in form.group(0).split(">")[0]
    inputs = re.findall(r"<input[^>]*>", form.group(0))
    assert len(inputs) == 4
    assert [i for i in inputs if " name=" in i] == []


async def test_only_the_softphone_page_may_reach_a_sip_server_and_the_microphone(
    as_oleh: httpx.AsyncClient,
) -> None:
    softphone = await as_oleh.get(PAGE)
    account = await as_oleh.get("/account")

    assert "connect-src 'self' ws: wss:" in softphone.headers["content-security-policy"]
    assert "microphone=(self)" in softphone.headers["permissions-policy"]
    assert "script-src 'self';" in softphone.headers["content-security-policy"]  # no inline
    assert "connect-src 'self';" in account.headers["content-security-policy"]
    assert "microphone=()" in account.headers["permissions-policy"]
    assert 'href="/account/softphone"' in account.text


async def test_each_user_files_their_account_under_their_own_scope(
    as_oleh: httpx.AsyncClient, as_mallory: httpx.AsyncClient
) -> None:
    scopes = set()
    for client in (as_oleh, as_mallory):
        page = await client.get(PAGE)
        found = re.search(r'data-softphone-scope="([^"]+)"', page.text)
        assert found is not None
        scopes.add(found.group(1))

    assert len(scopes) == 2
    assert softphone_scope(7) == "user-7"


async def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(
    anonymous: httpx.AsyncClient,
) -> None:
    page = await anonymous.get(PAGE)

    assert page.status_code == 303
    assert page.headers["location"].startswith("/login")


def test_allow_softphone_overrides_the_defaults_it_names() -> None:
    from starlette.responses import Response

    response = allow_softphone(Response("x"))

    assert response.headers["permissions-policy"].startswith("camera=(), microphone=(self)")
