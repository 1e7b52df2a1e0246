"""The telephony settings through the API: choose a method and fill its fields, secrets
encrypted at rest and never answered back, every refusal naming its field, the members'
extensions, the API twin of the screen's call, and one project never seeing another's."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.storage.schema import telephony_settings
from powerdialer.telephony import settings as telephony
from powerdialer.telephony.base import Method
from powerdialer.web.app import PowerDialerApp
from tests.clock import Clock
from tests.conftest import Persona, StartApp, client_of
from tests.dialer.helpers import WEDNESDAY_10_KYIV, add_rows, due_at, next_for, operator
from tests.test_telephony_http import provider

pytestmark = pytest.mark.anyio
KEY = "a-test-secret-key-that-is-long-enough-0123456789"
URL = "/power-dialer/telephony"
VENDOR = {
    "method": "http",
    "http_shape": "vendor",
    "http_url": "https://api.ringostat.net/callback/outward_call",
    "http_secret": "provider-key-1",
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # 10.0.0.0/8: the LAN the tests' PBX (10.0.0.5) is on, allowed as its operator would.
    allow = ("127.0.0.1/32", "10.0.0.0/8")
    return dataclasses.replace(settings, secret_key=KEY, outbound_allow=allow)


async def put(client: httpx.AsyncClient, persona: Persona, body: dict[str, Any]) -> httpx.Response:
    return await client.put(URL, json=body, headers=persona.headers)


async def test_a_new_project_dials_by_tel_link(client: httpx.AsyncClient, owner: Persona) -> None:
    answer = await client.get(URL, headers=owner.headers)
    assert answer.status_code == 200
    found = answer.json()
    assert (found["method"], found["link_template"]) == ("link", "tel:{e164}")
    assert found["http_secret_set"] is False


async def test_the_secret_is_stored_encrypted_and_never_answered(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    answer = await put(client, owner, VENDOR)
    assert answer.status_code == 200, answer.text
    assert "provider-key-1" not in answer.text
    assert answer.json()["http_secret_set"] is True
    stored = store.read(lambda c: c.execute(select(telephony_settings.c.http_secret)).scalar_one())
    assert "provider-key-1" not in stored
    assert telephony.secrets_of(store, telephony.SecretBox(KEY), owner.project_id).http_secret == (
        "provider-key-1"
    )
    again = await client.get(URL, headers=owner.headers)
    assert "provider-key-1" not in again.text


async def test_a_save_without_the_secret_keeps_it_and_an_empty_one_clears_it(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    await put(client, owner, VENDOR)
    kept = await put(client, owner, {**VENDOR, "http_secret": None, "timeout_seconds": 20})
    assert kept.json()["http_secret_set"] is True
    assert kept.json()["timeout_seconds"] == 20
    cleared = await put(client, owner, {**VENDOR, "http_secret": ""})
    assert cleared.status_code == 422
    assert cleared.json()["error"]["field"] == "http_secret"  # the vendor's shape needs it
    link = await put(
        client,
        owner,
        {"method": "link", "link_template": "sip:{e164}@pbx.example", "http_secret": ""},
    )
    assert link.json()["http_secret_set"] is False
    assert telephony.screen_settings(store, owner.project_id).link_template == (
        "sip:{e164}@pbx.example"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "link", "link_template": "javascript:alert({e164})"}, "link_template"),
        ({**VENDOR, "http_url": "ftp://pbx.example/x"}, "http_url"),
        ({**VENDOR, "http_shape": "generic", "http_body": "to={destination}"}, "http_body"),
        (
            {
                **VENDOR,
                "http_shape": "generic",
                "http_content_type": "json",
                "http_body": "{extension} {destination}",
            },
            "http_body",
        ),
        (
            {
                **VENDOR,
                "http_shape": "generic",
                "http_body": "{extension}{destination}",
                "http_headers": {"Bad Header": "x"},
            },
            "http_headers",
        ),
        (
            {
                "method": "ami",
                "pbx_host": "10.0.0.5",
                "pbx_username": "pd",
                "pbx_context": "from internal",
                "pbx_secret": "s",
            },
            "pbx_context",
        ),
        (
            {
                "method": "ami",
                "pbx_host": "10.0.0.5",
                "pbx_username": "pd",
                "pbx_context": "from-internal",
            },
            "pbx_secret",
        ),
        ({"method": "esl", "pbx_host": "pbx one", "pbx_secret": "s"}, "pbx_host"),
        (
            {"method": "esl", "pbx_host": "10.0.0.5", "pbx_secret": "s", "pbx_channel": "user/101"},
            "pbx_channel",
        ),
        ({"method": "softphone", "softphone_ws_url": "http://pbx.example"}, "softphone_ws_url"),
        ({**VENDOR, "caller_id": "ACME"}, "caller_id"),
        ({**VENDOR, "http_secret": "two\nlines"}, "http_secret"),
    ],
)
async def test_a_bad_field_is_refused_by_name_and_nothing_is_stored(
    client: httpx.AsyncClient, owner: Persona, store: Store, body: dict[str, Any], field: str
) -> None:
    answer = await put(client, owner, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert store.read(lambda c: c.execute(select(telephony_settings)).first()) is None


async def test_without_a_server_key_a_secret_cannot_be_saved(
    started_app: StartApp, owner: Persona
) -> None:
    async with started_app(secret_key="") as app, client_of(app) as client:
        answer = await put(client, owner, VENDOR)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("secret_key_missing", "http_secret")
    assert "POWERDIALER_SECRET_KEY" in error["message"]


async def test_a_rotated_key_still_opens_and_a_lost_key_says_to_enter_it_again(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    await put(client, owner, VENDOR)
    rotated = telephony.SecretBox("a-brand-new-key-that-is-long-enough-9876543210," + KEY)
    assert telephony.secrets_of(store, rotated, owner.project_id).http_secret == "provider-key-1"
    lost = telephony.SecretBox("a-brand-new-key-that-is-long-enough-9876543210")
    with pytest.raises(telephony.PowerDialerError) as refused:
        telephony.secrets_of(store, lost, owner.project_id)
    assert refused.value.code == "secret_unreadable"


async def test_ami_and_esl_take_their_defaults(client: httpx.AsyncClient, owner: Persona) -> None:
    ami = await put(
        client,
        owner,
        {
            "method": "ami",
            "pbx_host": "10.0.0.5",
            "pbx_username": "pd",
            "pbx_context": "from-internal",
            "pbx_secret": "s",
        },
    )
    assert (ami.json()["pbx_port"], ami.json()["pbx_channel"]) == (5038, "PJSIP/{extension}")
    esl = await put(client, owner, {"method": "esl", "pbx_host": "10.0.0.5", "pbx_secret": "s"})
    found = esl.json()
    assert (found["pbx_port"], found["pbx_channel"], found["pbx_context"]) == (
        8021,
        "user/{extension}",
        "default",
    )
    assert found["pbx_username"] is None


AMI = {"method": "ami", "pbx_username": "pd", "pbx_context": "from-internal", "pbx_secret": "s"}


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({**AMI, "pbx_host": "192.168.1.5"}, "192.168.1.5 is a private address"),
        ({**AMI, "pbx_host": "169.254.169.254"}, "cloud metadata address"),
        ({"method": "esl", "pbx_host": "127.0.0.2", "pbx_secret": "s"}, "loopback"),
        ({"method": "esl", "pbx_host": "pbx.invalid", "pbx_secret": "s"}, "does not resolve"),
    ],
)
async def test_a_pbx_host_outside_the_allowed_networks_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, owner: Persona, store: Store, body: dict[str, Any], why: str
) -> None:
    answer = await put(client, owner, body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["code"], error["field"]) == ("host_refused", "pbx_host")
    assert why in error["message"]
    assert store.read(lambda c: c.execute(select(telephony_settings)).first()) is None


async def test_a_lan_pbx_is_refused_until_its_network_is_allowed(
    started_app: StartApp, owner: Persona
) -> None:
    body = {**AMI, "pbx_host": "10.0.0.5"}
    async with started_app(secret_key=KEY, outbound_allow=()) as app, client_of(app) as client:
        refused = await put(client, owner, body)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "host_refused"
    allowed = ("10.0.0.0/8",)
    async with started_app(secret_key=KEY, outbound_allow=allowed) as app, client_of(app) as client:
        saved = await put(client, owner, body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["pbx_host"] == "10.0.0.5"


async def test_extensions_are_per_member_and_per_project(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    oleh = operator(store, owner, "oleh")
    answer = await client.put(
        f"{URL}/operators/{oleh}", json={"extension": "sip:101@pbx.example"}, headers=owner.headers
    )
    assert answer.json() == {"extension": "sip:101@pbx.example"}
    listed = (await client.get(f"{URL}/operators", headers=owner.headers)).json()["items"]
    assert [m["extension"] for m in listed if m["user_id"] == oleh] == ["sip:101@pbx.example"]
    bad = await client.put(
        f"{URL}/operators/{oleh}",
        json={"extension": "101\r\nAction: Logoff"},
        headers=owner.headers,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "extension"
    theirs = await client.put(
        f"{URL}/operators/{oleh}", json={"extension": "666"}, headers=stranger.headers
    )
    assert theirs.status_code == 404
    assert (await client.get(f"{URL}/operators", headers=stranger.headers)).json()["items"] == []
    assert telephony.extension_of(store, owner.project_id, oleh) == "sip:101@pbx.example"


async def test_one_projects_settings_are_not_anothers(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona
) -> None:
    await put(client, owner, VENDOR)
    theirs = (await client.get(URL, headers=stranger.headers)).json()
    assert theirs["method"] == "link"
    assert theirs["http_url"] is None


async def test_the_api_twin_places_the_call_for_a_keys_operator(
    app: PowerDialerApp, client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    clock = Clock(start=WEDNESDAY_10_KYIV)
    app.services.clock = clock.now
    oleh = operator(store, owner, "oleh")
    telephony.set_extension(store, owner.project_id, oleh, "101", clock.now())
    await add_rows(client, owner, "380931234567")
    due_at(store, clock.now())
    lease = (await next_for(client, owner, oleh))["lease"]["lease_id"]
    async with provider() as fake:
        await put(client, owner, {**VENDOR, "http_url": f"{fake.url}/callback/outward_call"})
        theirs = await client.post(
            f"/power-dialer/leases/{lease}/call",
            json={"operator_id": oleh},
            headers=stranger.headers,
        )
        answer = await client.post(
            f"/power-dialer/leases/{lease}/call", json={"operator_id": oleh}, headers=owner.headers
        )
    assert theirs.status_code == 404
    assert theirs.json()["error"]["code"] == "lease_not_found"
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True, "error": None, "released": False}
    assert len(fake.requests) == 1
    assert telephony.screen_settings(store, owner.project_id).method is Method.HTTP
