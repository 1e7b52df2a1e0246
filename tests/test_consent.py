"""A campaign that requires consent: set through the API, shown in its JSON, and on every
surface a row without consent_basis and consent_at is refused with ``consent_required``
naming the missing field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from powerdialer.storage import Store
from tests.conftest import COMPAT, Persona, stored_rows

pytestmark = pytest.mark.anyio

CONSENT = {"consent_basis": "opt-in form", "consent_at": "2026-11-20T10:15:00+02:00"}


async def require_consent(client: httpx.AsyncClient, persona: Persona, value: bool) -> Any:
    answer = await client.patch(
        f"/power-dialer/campaigns/{persona.campaign_id}",
        json={"require_consent": value},
        headers=persona.headers,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_setting_is_created_changed_and_shown(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    created = await client.post(
        "/power-dialer/campaigns",
        json={"name": "Opt-ins", "require_consent": True},
        headers=owner.headers,
    )
    assert created.status_code == 201
    assert created.json()["require_consent"] is True
    plain = await client.get(f"/power-dialer/campaigns/{owner.campaign_id}", headers=owner.headers)
    assert plain.json()["require_consent"] is False
    assert (await require_consent(client, owner, True))["require_consent"] is True
    null = await client.patch(
        f"/power-dialer/campaigns/{owner.campaign_id}",
        json={"require_consent": None},
        headers=owner.headers,
    )
    assert null.status_code == 422


async def test_a_stranger_cannot_change_the_setting(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona
) -> None:
    answer = await client.patch(
        f"/power-dialer/campaigns/{owner.campaign_id}",
        json={"require_consent": True},
        headers=stranger.headers,
    )
    assert answer.status_code == 404
    mine = await client.get(f"/power-dialer/campaigns/{owner.campaign_id}", headers=owner.headers)
    assert mine.json()["require_consent"] is False


async def test_bulk_rejects_rows_without_consent_naming_the_missing_field(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    await require_consent(client, owner, True)
    rows = [
        {"phone_number": "380930000001", **CONSENT},
        {"phone_number": "380930000002"},
        {"phone_number": "380930000003", "consent_basis": "opt-in form"},
    ]
    answer = await client.post(
        f"/power-dialer/campaigns/{owner.campaign_id}/rows",
        json={"rows": rows},
        headers=owner.headers,
    )
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["inserted", "rejected", "rejected"]
    assert [(r["error"]["code"], r["error"]["field"]) for r in results[1:]] == [
        ("consent_required", "consent_basis"),
        ("consent_required", "consent_at"),
    ]
    assert [e164 for _, _, e164 in stored_rows(store, owner)] == ["+380930000001"]


async def test_the_compatible_endpoint_refuses_every_row_of_such_a_campaign(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    await require_consent(client, owner, True)
    answer = await client.post(COMPAT, json=owner.row("380930000010"), headers=owner.headers)
    assert answer.status_code == 422
    body = answer.json()
    assert body["result"] is False
    assert body["error"]["code"] == "consent_required"
    assert body["error"]["field"] == "consent_basis"
    assert "requires consent" in body["error"]["message"]
    assert stored_rows(store, owner) == []
    # Another project's campaign without the rule still takes rows.
    theirs = await client.post(COMPAT, json=stranger.row("380930000010"), headers=stranger.headers)
    assert theirs.json() == {"result": True}
    # The rule off again: the same row is stored.
    await require_consent(client, owner, False)
    again = await client.post(COMPAT, json=owner.row("380930000010"), headers=owner.headers)
    assert again.json() == {"result": True}


async def test_an_import_into_such_a_campaign_rejects_its_rows(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    from tests.test_import_jobs import rejected_rows, run_import

    await require_consent(client, owner, True)
    job = await run_import(client, owner, b"phone\n380930000020\n")
    assert (job["inserted"], job["rejected"]) == (0, 1)
    [reject] = await rejected_rows(client, owner, job["id"])
    assert (reject["line"], reject["code"]) == ("2", "consent_required")
    assert stored_rows(store, owner) == []


async def test_an_import_with_consent_columns_is_taken(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    from tests.test_import_jobs import rejected_rows, run_import

    await require_consent(client, owner, True)
    content = "phone;consent_basis;consent_at\n380930000030;opt-in;2026-11-20T08:00:00Z\n"
    content += "380930000031;opt-in;\n"
    job = await run_import(client, owner, content.encode())
    assert (job["inserted"], job["rejected"]) == (1, 1)
    [reject] = await rejected_rows(client, owner, job["id"])
    assert (reject["line"], reject["code"]) == ("3", "consent_required")
    assert [e164 for _, _, e164 in stored_rows(store, owner)] == ["+380930000030"]
