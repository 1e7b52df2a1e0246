"""A NUL (or another control character) in any text a client sends is never a 5xx: PostgreSQL
refuses NUL in text, so every surface either cleans it or refuses it with a 4xx."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Persona

pytestmark = pytest.mark.anyio

NUL = "\x00"


async def test_a_campaign_name_with_nul_is_stored_cleaned(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    created = await client.post(
        "/power-dialer/campaigns", json={"name": f"Spring{NUL}leads"}, headers=owner.headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Spring leads"
    renamed = await client.patch(
        f"/power-dialer/campaigns/{created.json()['id']}",
        json={"name": f"{NUL}Autumn\tleads\n"},
        headers=owner.headers,
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Autumn leads"


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "phone=%00",
        "phone_prefix=%00",
        "source=%00",
        "status=%00",
        "created_from=%00",
        "cursor=%00",
    ],
)
async def test_a_nul_in_a_row_filter_is_a_4xx(
    client: httpx.AsyncClient, owner: Persona, query: str
) -> None:
    answer = await client.get(
        f"/power-dialer/campaigns/{owner.campaign_id}/rows?{query}", headers=owner.headers
    )
    assert 200 <= answer.status_code < 500, answer.text


async def test_bulk_rows_with_nul_in_every_field_are_never_a_5xx(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    rows = [
        {
            "phone_number": f"380930000001{NUL}",
            "fio": f"Іван{NUL}Петренко",
            "external_id": f"crm{NUL}1",
            "fields": {f"na{NUL}me": f"va{NUL}lue"},
        }
    ]
    answer = await client.post(
        f"/power-dialer/campaigns/{owner.campaign_id}/rows",
        json={"rows": rows},
        headers=owner.headers,
    )
    assert answer.status_code < 500, answer.text
    listed = await client.get(
        f"/power-dialer/campaigns/{owner.campaign_id}/rows", headers=owner.headers
    )
    for row in listed.json()["items"]:
        assert NUL not in str(row)


async def test_signing_in_with_nul_in_the_email_is_refused_not_a_5xx(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/login")
    assert page.status_code == 200
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = await client.post(
        "/login",
        data={"email": f"anna{NUL}@example.com", "password": "x", "csrf_token": token},
    )
    assert answer.status_code < 500, answer.text
