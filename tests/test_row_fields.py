"""What rows bring for the dialer (priority, call_next, tz, consent): accepted by the bulk
endpoint and shown by the row API and exports, refused naming the field when bad, changed by
``PATCH`` of a row and by the duplicate policy "update"."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from powerdialer.errors import ValidationError
from powerdialer.rows.dialer_fields import (
    parse_call_next,
    parse_consent_at,
    parse_priority,
    parse_tz,
)
from powerdialer.storage import Store
from tests.conftest import Persona, stored_rows

pytestmark = pytest.mark.anyio

FULL = {
    "phone_number": "380930000001",
    "priority": 7,
    "call_next": True,
    "tz": "America/New_York",
    "consent_basis": "opt-in form",
    "consent_at": "2026-11-20T10:15:00+02:00",
    "consent_source": "https://example.com/form",
}


def rows_path(persona: Persona) -> str:
    return f"/power-dialer/campaigns/{persona.campaign_id}/rows"


async def post_rows(client: httpx.AsyncClient, persona: Persona, rows: list[Any]) -> Any:
    response = await client.post(rows_path(persona), json={"rows": rows}, headers=persona.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def get_row(client: httpx.AsyncClient, persona: Persona, row_id: int) -> Any:
    response = await client.get(f"{rows_path(persona)}/{row_id}", headers=persona.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_bulk_rows_keep_their_dialer_fields_and_the_api_shows_them(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    body = await post_rows(client, owner, [FULL, {"phone_number": "380930000002"}])
    row, plain = [await get_row(client, owner, r["id"]) for r in body["results"]]
    assert row["priority"] == 7
    assert row["call_next"] is True
    assert row["tz"] == "America/New_York"
    assert row["consent_basis"] == "opt-in form"
    assert row["consent_at"] == "2026-11-20T08:15:00Z"  # stored in UTC
    assert row["consent_source"] == "https://example.com/form"
    assert row["final_state"] is None
    assert row["due_at"] == row["created_at"]
    assert (plain["priority"], plain["call_next"], plain["tz"], plain["consent_at"]) == (
        0,
        False,
        None,
        None,
    )


async def test_the_export_has_the_dialer_columns(client: httpx.AsyncClient, owner: Persona) -> None:
    await post_rows(client, owner, [FULL])
    answer = await client.get(
        f"/power-dialer/campaigns/{owner.campaign_id}/export", headers=owner.headers
    )
    header, line = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    cells = dict(zip(header, line, strict=True))
    assert cells["priority"] == "7"
    assert cells["call_next"] == "true"
    assert cells["tz"] == "America/New_York"
    assert cells["consent_basis"] == "opt-in form"
    assert cells["consent_at"] == "2026-11-20T08:15:00.000000Z"
    assert cells["consent_source"] == "https://example.com/form"
    assert cells["status"] == "pending"
    assert cells["attempts"] == "0"
    assert cells["final_state"] == ""
    assert cells["due_at"] == cells["created_at"]


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("priority", 1001, "out_of_range"),
        ("priority", "high", "wrong_type"),
        ("priority", True, "wrong_type"),
        ("call_next", "maybe", "wrong_type"),
        ("tz", "+02:00", "unknown_zone"),
        ("tz", "Europe/Kiev-ish", "unknown_zone"),
        ("consent_basis", "x" * 65, "too_long"),
        ("consent_at", "2026-11-20T10:15:00", "no_zone"),
        ("consent_at", "yesterday", "wrong_type"),
        ("consent_source", "x" * 256, "too_long"),
    ],
)
async def test_a_bad_value_rejects_its_row_naming_the_field(
    client: httpx.AsyncClient, owner: Persona, key: str, value: object, reason: str
) -> None:
    body = await post_rows(client, owner, [{"phone_number": "380930000003", key: value}])
    [result] = body["results"]
    assert result["status"] == "rejected"
    assert result["error"]["field"] == key
    assert result["error"]["code"] == f"invalid_{key}"
    assert result["error"]["reason"] == reason
    assert key in result["error"]["message"]
    assert body["inserted"] == 0


def test_imports_spell_booleans_and_numbers_as_text() -> None:
    assert [parse_call_next(v) for v in ("так", "Ні", "yes", "FALSE", "1", "0", "")] == [
        True,
        False,
        True,
        False,
        True,
        False,
        None,
    ]
    assert parse_priority(" -5 ") == -5
    assert parse_priority("") is None
    assert parse_tz("Europe/Kyiv") == "Europe/Kyiv"
    at = parse_consent_at("2026-11-20T08:15:00Z")
    assert at is not None
    assert at.isoformat() == "2026-11-20T08:15:00+00:00"
    with pytest.raises(ValidationError):
        parse_priority("5.5")


async def test_patch_changes_priority_and_call_next(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    body = await post_rows(client, owner, [{"phone_number": "380930000004", "priority": 3}])
    row_id = body["results"][0]["id"]
    path = f"{rows_path(owner)}/{row_id}"
    answer = await client.patch(path, json={"call_next": True}, headers=owner.headers)
    assert answer.status_code == 200, answer.text
    assert (answer.json()["priority"], answer.json()["call_next"]) == (3, True)
    answer = await client.patch(path, json={"priority": -20}, headers=owner.headers)
    assert (answer.json()["priority"], answer.json()["call_next"]) == (-20, True)
    bad = await client.patch(path, json={"priority": 5000}, headers=owner.headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "priority"
    empty = await client.patch(path, json={}, headers=owner.headers)
    assert empty.status_code == 422
    assert (await get_row(client, owner, row_id))["priority"] == -20


async def test_a_stranger_cannot_patch_the_owners_row(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona
) -> None:
    body = await post_rows(client, owner, [{"phone_number": "380930000005"}])
    row_id = body["results"][0]["id"]
    theirs = f"/power-dialer/campaigns/{stranger.campaign_id}/rows/{row_id}"
    answer = await client.patch(theirs, json={"priority": 9}, headers=stranger.headers)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "row_not_found"
    mine = f"{rows_path(owner)}/{row_id}"
    answer = await client.patch(mine, json={"priority": 9}, headers=stranger.headers)
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "campaign_not_found"
    assert (await get_row(client, owner, row_id))["priority"] == 0


async def test_the_update_policy_takes_the_fields_sent_and_keeps_the_others(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    await client.patch(
        f"/power-dialer/campaigns/{owner.campaign_id}",
        json={"duplicate_policy": "update"},
        headers=owner.headers,
    )
    body = await post_rows(client, owner, [FULL])
    row_id = body["results"][0]["id"]
    again = await post_rows(
        client, owner, [{"phone_number": "380930000001", "priority": -1, "tz": "Europe/Kyiv"}]
    )
    assert again["results"][0]["status"] == "updated"
    row = await get_row(client, owner, row_id)
    assert (row["priority"], row["call_next"], row["tz"]) == (-1, True, "Europe/Kyiv")
    assert row["consent_basis"] == "opt-in form"
    # A row that sends neither keeps both.
    await post_rows(client, owner, [{"phone_number": "380930000001", "fio": "Іван"}])
    row = await get_row(client, owner, row_id)
    assert (row["priority"], row["call_next"], row["fio"]) == (-1, True, "Іван")
    assert len(stored_rows(store, owner)) == 1


async def test_an_import_reads_the_dialer_columns_by_their_names(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    from tests.test_import_jobs import rejected_rows, run_import

    content = (
        "Телефон;Пріоритет;Терміново;Часовий пояс;Згода;Дата згоди;Джерело згоди;Місто\n"
        "380930000011;5;так;Europe/Kyiv;opt-in;2026-11-20T10:15:00+02:00;site;Київ\n"
        "380930000012;;;;;;;Львів\n"
        "380930000013;high;;;;;;Одеса\n"
    )
    job = await run_import(client, owner, content.encode())
    assert (job["inserted"], job["rejected"]) == (2, 1)
    [reject] = await rejected_rows(client, owner, job["id"])
    assert (reject["line"], reject["code"]) == ("4", "invalid_priority")
    page = await client.get(rows_path(owner), headers=owner.headers)
    first, second = page.json()["items"]
    assert (first["priority"], first["call_next"], first["tz"]) == (5, True, "Europe/Kyiv")
    assert (first["consent_basis"], first["consent_source"]) == ("opt-in", "site")
    assert first["consent_at"] == "2026-11-20T08:15:00Z"
    assert first["fields"] == {"Місто": "Київ"}  # the dialer columns are not custom fields
    assert (second["priority"], second["call_next"], second["tz"]) == (0, False, None)


async def test_our_export_imports_back_with_its_dialer_fields(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona
) -> None:
    from tests.test_import_jobs import run_import

    await post_rows(client, owner, [FULL])
    export = await client.get(
        f"/power-dialer/campaigns/{owner.campaign_id}/export", headers=owner.headers
    )
    job = await run_import(client, stranger, export.content)
    assert job["inserted"] == 1
    [row] = (await client.get(rows_path(stranger), headers=stranger.headers)).json()["items"]
    for key in ("priority", "call_next", "tz", "consent_basis", "consent_at", "consent_source"):
        assert row[key] == (FULL[key] if key != "consent_at" else "2026-11-20T08:15:00Z"), key
