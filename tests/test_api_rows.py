"""A campaign's rows over the API: listing with filters and cursors, one row, deleting one,
emptying a campaign; every failure path, and a stranger's key on every endpoint."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from powerdialer import campaigns
from powerdialer.storage import Store
from powerdialer.storage.schema import campaign_rows
from tests.conftest import COMPAT, Persona
from tests.test_api_campaigns import BASE, assert_error, row_count

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def insert_row(
    store: Store,
    persona: Persona,
    phone: str,
    *,
    fio: str | None = "Іван Петренко",
    campaign_id: int | None = None,
    source: str = "api",
    status: str = "pending",
    created_at: dt.datetime = T0,
    external_id: str | None = None,
    fields: dict[str, str] | None = None,
    extra: str | None = None,
) -> int:
    """Store a row as the bulk and import paths do (with the columns they fill)."""
    values = {
        "project_id": persona.project_id,
        "campaign_id": campaign_id or persona.campaign_id,
        "fio": fio,
        "phone_raw": phone,
        "phone_e164": phone if phone.startswith("+") else "+" + phone,
        "source": source,
        "status": status,
        "external_id": external_id,
        "extra": json.dumps(fields, ensure_ascii=False) if fields is not None else extra,
        "created_at": created_at,
        "updated_at": created_at,
    }
    statement = insert(campaign_rows).values(**values).returning(campaign_rows.c.id)
    return int(store.write(lambda conn: conn.execute(statement).scalar_one()))


def rows_url(persona: Persona, campaign_id: int | None = None) -> str:
    return f"{BASE}/{campaign_id or persona.campaign_id}/rows"


async def list_all(
    client: httpx.AsyncClient, persona: Persona, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """Follow next_cursor to the end; (rows, pages)."""
    found: list[dict[str, Any]] = []
    pages = 0
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await client.get(rows_url(persona), params=query, headers=persona.headers)
        assert answer.status_code == 200, answer.text
        pages += 1
        found.extend(answer.json()["items"])
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return found, pages


# -- listing -----------------------------------------------------------------------------


async def test_it_lists_rows_in_the_documented_shape(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    await client.post(COMPAT, json=owner.row("+380 93 000 00 00"), headers=owner.headers)
    insert_row(
        store, owner, "+380501234567", fio=None, source="import", external_id="crm-7",
        fields={"city": "Київ", "manager": "Олена"},
    )  # fmt: skip
    answer = await client.get(rows_url(owner), headers=owner.headers)
    assert answer.status_code == 200
    body = answer.json()
    assert body["next_cursor"] is None
    first, second = body["items"]
    assert set(first) == {
        "id", "campaign_id", "fio", "phone_number", "phone_e164", "source", "status",
        "attempts", "external_id", "fields", "created_at", "updated_at",
        "priority", "call_next", "tz", "consent_basis", "consent_at", "consent_source",
        "final_state", "due_at",
    }  # fmt: skip
    assert first["campaign_id"] == owner.campaign_id
    assert first["fio"] == "Іван Петренко"
    assert first["phone_number"] == "+380 93 000 00 00"
    assert first["phone_e164"] == "+380930000000"
    assert (first["source"], first["status"], first["attempts"]) == ("api", "pending", 0)
    assert first["external_id"] is None
    assert first["fields"] == {}
    assert dt.datetime.fromisoformat(first["created_at"]).tzinfo is not None
    assert second["fio"] is None
    assert second["external_id"] == "crm-7"
    assert second["fields"] == {"city": "Київ", "manager": "Олена"}
    assert second["source"] == "import"
    assert second["created_at"].startswith("2026-03-01T12:00:00")


async def test_an_unreadable_fields_column_lists_as_no_fields(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    insert_row(store, owner, "+380930000001", extra="{not json")
    insert_row(store, owner, "+380930000002", extra='["a"]')
    answer = await client.get(rows_url(owner), headers=owner.headers)
    assert [r["fields"] for r in answer.json()["items"]] == [{}, {}]


async def test_it_pages_through_filtered_rows_with_cursors(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    wanted = []
    for n in range(23):
        status = "pending" if n % 2 else "done"
        row_id = insert_row(store, owner, f"+3809300000{n:02d}", status=status)
        if status == "done":
            wanted.append(row_id)
    other = campaigns.create_campaign(store, owner.project_id, "Other")
    insert_row(store, owner, "+380930000099", campaign_id=other.id, status="done")
    found, pages = await list_all(client, owner, status="done", limit=5)
    assert [r["id"] for r in found] == wanted  # 12 rows, in id order, none twice
    assert pages == 3
    everything, pages = await list_all(client, owner, limit=10)
    assert len(everything) == 23
    assert pages == 3


async def test_prev_cursor_walks_back_page_by_page_to_the_first(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    done = []
    for n in range(17):
        status = "done" if n % 3 else "pending"  # the filter skips every third row
        row_id = insert_row(store, owner, f"+3809300000{n:02d}", status=status)
        if status == "done":
            done.append(row_id)
    params: dict[str, Any] = {"status": "done", "limit": 4}

    async def page(cursor: str | None) -> dict[str, Any]:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = await client.get(rows_url(owner), params=query, headers=owner.headers)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    forward = [await page(None)]
    assert forward[0]["prev_cursor"] is None  # the first page has none
    while forward[-1]["next_cursor"]:
        forward.append(await page(forward[-1]["next_cursor"]))
    assert [[r["id"] for r in p["items"]] for p in forward] == [
        done[i : i + 4] for i in range(0, len(done), 4)
    ]
    # From the last page back: each prev_cursor gives exactly the page before.
    back = forward[-1]
    for expected in reversed(forward[:-1]):
        back = await page(back["prev_cursor"])
        assert [r["id"] for r in back["items"]] == [r["id"] for r in expected["items"]]
    assert back["prev_cursor"] is None
    # A prev_cursor belongs to its listing like any cursor.
    other = await client.get(
        rows_url(owner),
        params={"limit": 4, "cursor": forward[1]["prev_cursor"]},
        headers=owner.headers,
    )
    assert_error(other, 422, "invalid_cursor", "cursor")


async def test_an_exactly_full_last_page_says_there_is_no_more(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    for n in range(4):
        insert_row(store, owner, f"+38093000000{n}")
    answer = await client.get(rows_url(owner), params={"limit": 4}, headers=owner.headers)
    assert len(answer.json()["items"]) == 4
    assert answer.json()["next_cursor"] is None


async def test_an_empty_campaign_lists_no_rows(client: httpx.AsyncClient, owner: Persona) -> None:
    answer = await client.get(rows_url(owner), headers=owner.headers)
    assert answer.json() == {"items": [], "next_cursor": None, "prev_cursor": None}


@pytest.mark.parametrize("limit", ["0", "1001", "-1", "many"])
async def test_it_refuses_a_limit_out_of_range(
    client: httpx.AsyncClient, owner: Persona, limit: str
) -> None:
    answer = await client.get(rows_url(owner), params={"limit": limit}, headers=owner.headers)
    assert_error(answer, 422, "invalid_field", "limit")


async def first_cursor(client: httpx.AsyncClient, owner: Persona, store: Store) -> str:
    for n in range(3):
        insert_row(store, owner, f"+38093000000{n}", status="done")
    answer = await client.get(
        rows_url(owner), params={"limit": 1, "status": "done"}, headers=owner.headers
    )
    cursor: str = answer.json()["next_cursor"]
    assert cursor
    return cursor


def forge(cursor: str, after: str, *, resign: bool = False) -> str:
    """Edit the id a cursor continues after; ``resign`` recomputes its check digits too
    (anyone can: a cursor is not a secret)."""
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    parts = text.split(":")
    parts[2] = after
    if resign:
        parts[4] = hashlib.sha256(":".join(parts[:4]).encode()).hexdigest()[:12]
    return base64.urlsafe_b64encode(":".join(parts).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda c: "not-a-cursor",
        lambda c: "%%%",
        lambda c: c[:-2],
        lambda c: c + "A",
        lambda c: "x" * 500,
        lambda c: base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        lambda c: forge(c, "2"),
        lambda c: forge(c, str(2**63), resign=True),
        lambda c: forge(c, "-1", resign=True),
    ],
)
async def test_it_refuses_a_cursor_it_did_not_issue(
    client: httpx.AsyncClient, owner: Persona, store: Store, mangle: Any
) -> None:
    cursor = mangle(await first_cursor(client, owner, store))
    answer = await client.get(
        rows_url(owner), params={"cursor": cursor, "status": "done"}, headers=owner.headers
    )
    assert_error(answer, 422, "invalid_cursor", "cursor")


async def test_it_refuses_a_cursor_with_other_filters_or_another_campaign(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    cursor = await first_cursor(client, owner, store)
    other = campaigns.create_campaign(store, owner.project_id, "Other")
    refused = [
        await client.get(rows_url(owner), params={"cursor": cursor}, headers=owner.headers),
        await client.get(
            rows_url(owner, other.id),
            params={"cursor": cursor, "status": "done"},
            headers=owner.headers,
        ),
    ]
    for answer in refused:
        error = assert_error(answer, 422, "invalid_cursor", "cursor")
        assert "another listing" in error["message"]


# -- filters -----------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["380930000000", "+380 93 000 00 00", "093-000-00-00"])
async def test_it_finds_a_number_in_any_spelling(
    client: httpx.AsyncClient, owner: Persona, store: Store, spelling: str
) -> None:
    wanted = insert_row(store, owner, "+380930000000")
    insert_row(store, owner, "+380930000001")
    answer = await client.get(rows_url(owner), params={"phone": spelling}, headers=owner.headers)
    assert [r["id"] for r in answer.json()["items"]] == [wanted]


async def test_it_refuses_a_phone_filter_that_is_no_number(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.get(rows_url(owner), params={"phone": "38093"}, headers=owner.headers)
    error = assert_error(answer, 422, "invalid_phone", "phone")
    assert "phone_prefix" in error["message"]


@pytest.mark.parametrize("prefix", ["38093", "+380 93", "+38093"])
async def test_it_finds_numbers_by_their_first_digits(
    client: httpx.AsyncClient, owner: Persona, store: Store, prefix: str
) -> None:
    a = insert_row(store, owner, "+380930000000")
    b = insert_row(store, owner, "+380939999999")
    insert_row(store, owner, "+380501234567")
    insert_row(store, owner, "+380920000000")
    answer = await client.get(
        rows_url(owner), params={"phone_prefix": prefix}, headers=owner.headers
    )
    assert [r["id"] for r in answer.json()["items"]] == [a, b]


@pytest.mark.parametrize("probe", [0, 4, 5, 2000])  # 5 rows match: 4 walks, 5 reads
async def test_a_prefix_pages_the_same_whether_few_or_many_rows_match(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    probe: int,
) -> None:
    """Few matches are read from the phone index, many by walking the ids: the same pages
    either way, forward and back, with the other filters applied."""
    from powerdialer.storage import rows_read as sql

    monkeypatch.setattr(sql, "PREFIX_PROBE", probe)
    wanted = []
    for n in range(14):
        phone = f"+38093{n:07d}" if n % 2 else f"+38050{n:07d}"
        status = "done" if n % 3 else "pending"
        row_id = insert_row(store, owner, phone, status=status)
        if n % 2 and status == "done":
            wanted.append(row_id)
    params = {"phone_prefix": "38093", "status": "done", "limit": 2}
    pages = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        body = (await client.get(rows_url(owner), params=query, headers=owner.headers)).json()
        pages.append(body)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert [r["id"] for p in pages for r in p["items"]] == wanted
    back = await client.get(
        rows_url(owner),
        params={**params, "cursor": pages[-1]["prev_cursor"]},
        headers=owner.headers,
    )
    assert back.json()["items"] == pages[-2]["items"]


@pytest.mark.parametrize("prefix", ["093", "abc", "+", "3" * 16, "٣٨٠"])
async def test_it_refuses_a_prefix_that_is_not_international_digits(
    client: httpx.AsyncClient, owner: Persona, prefix: str
) -> None:
    answer = await client.get(
        rows_url(owner), params={"phone_prefix": prefix}, headers=owner.headers
    )
    assert_error(answer, 422, "invalid_phone_prefix", "phone_prefix")


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("петренко", ["Іван Петренко"]),
        ("ІВАН", ["Іван Петренко"]),
        ("олена", ["ОЛЕНА КОВАЛЬ"]),
        ("ґанна", ["Ґанна Їжак"]),
        ("ЇЖАК", ["Ґанна Їжак"]),
        ("john", ["John Smith"]),
        ("  іван   петренко ", ["Іван Петренко"]),
        ("%", ["50% Знижка"]),
        ("_", []),
        ("о", ["Іван Петренко", "ОЛЕНА КОВАЛЬ"]),
    ],
)
async def test_it_searches_names_case_insensitively_in_cyrillic_too(
    client: httpx.AsyncClient, owner: Persona, store: Store, q: str, expected: list[str]
) -> None:
    names = ["Іван Петренко", "ОЛЕНА КОВАЛЬ", "Ґанна Їжак", "John Smith", "50% Знижка", None]
    for n, name in enumerate(names):
        insert_row(store, owner, f"+38093000000{n}", fio=name)
    answer = await client.get(rows_url(owner), params={"q": q}, headers=owner.headers)
    assert [r["fio"] for r in answer.json()["items"]] == expected


async def test_it_filters_by_source_and_status(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    insert_row(store, owner, "+380930000001", source="api", status="pending")
    wanted = insert_row(store, owner, "+380930000002", source="import", status="pending")
    insert_row(store, owner, "+380930000003", source="import", status="done")
    answer = await client.get(
        rows_url(owner), params={"source": "import", "status": "pending"}, headers=owner.headers
    )
    assert [r["id"] for r in answer.json()["items"]] == [wanted]


async def test_it_finds_rows_by_their_crm_id_exactly(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    wanted = insert_row(store, owner, "+380930000001", external_id="crm-1042")
    insert_row(store, owner, "+380930000002", external_id="crm-10420")
    insert_row(store, owner, "+380930000003", external_id=None, fio="crm-1042")
    also = insert_row(store, owner, "+380930000004", external_id="crm-1042", status="done")
    for value, expected in (
        ("crm-1042", [wanted, also]),
        ("  crm-1042 ", [wanted, also]),  # stored ids are trimmed, so is the filter
        ("CRM-1042", []),  # an id is exact, letter case included
        ("crm-104", []),
    ):
        answer = await client.get(
            rows_url(owner), params={"external_id": value}, headers=owner.headers
        )
        assert [r["id"] for r in answer.json()["items"]] == expected, value
    both = await client.get(
        rows_url(owner), params={"external_id": "crm-1042", "status": "done"}, headers=owner.headers
    )
    assert [r["id"] for r in both.json()["items"]] == [also]
    export = await client.get(
        f"{BASE}/{owner.campaign_id}/export",
        params={"external_id": "crm-1042", "format": "csv"},
        headers=owner.headers,
    )
    assert export.status_code == 200, export.text
    assert [line.split(",")[0] for line in export.text.splitlines()[1:]] == [
        str(wanted),
        str(also),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"source": "crm"}, "source"),
        ({"status": "DROP TABLE"}, "status"),
        ({"q": "x" * 256}, "q"),
        ({"external_id": "x" * 129}, "external_id"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"created_to": "2026-13-01"}, "created_to"),
        ({"created_from": "2026-03-02", "created_to": "2026-03-01"}, "created_to"),
    ],
)
async def test_it_refuses_an_invalid_filter_naming_it(
    client: httpx.AsyncClient, owner: Persona, params: dict[str, str], field: str
) -> None:
    answer = await client.get(rows_url(owner), params=params, headers=owner.headers)
    assert_error(answer, 422, f"invalid_{field}", field)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"created_from": "2026-03-02"}, [2, 3]),
        ({"created_to": "2026-03-02"}, [0, 1]),
        ({"created_from": "2026-03-01T12:00:00Z", "created_to": "2026-03-02T12:00:00Z"}, [1, 2]),
        ({"created_from": "2026-03-01T14:00:00+02:00", "created_to": "2026-03-02"}, [1]),
        ({"created_from": "2026-03-01T14:00:00 02:00"}, [1, 2, 3]),  # '+' sent unencoded
        ({"created_from": "2026-03-01 12:00"}, [1, 2, 3]),  # no offset: UTC
    ],
)
async def test_it_filters_by_creation_time_from_inclusive_to_exclusive(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    params: dict[str, str],
    expected: list[int],
) -> None:
    times = [
        T0 - dt.timedelta(hours=1),  # 2026-03-01 11:00
        T0,  # 2026-03-01 12:00
        T0 + dt.timedelta(hours=12),  # 2026-03-02 00:00
        T0 + dt.timedelta(days=1),  # 2026-03-02 12:00
    ]
    ids = [insert_row(store, owner, f"+38093000000{n}", created_at=t) for n, t in enumerate(times)]
    answer = await client.get(rows_url(owner), params=params, headers=owner.headers)
    assert [r["id"] for r in answer.json()["items"]] == [ids[n] for n in expected]


# -- one row -----------------------------------------------------------------------------


async def test_it_reads_one_row(client: httpx.AsyncClient, owner: Persona, store: Store) -> None:
    row_id = insert_row(store, owner, "+380930000000", fields={"city": "Львів"})
    answer = await client.get(f"{rows_url(owner)}/{row_id}", headers=owner.headers)
    assert answer.status_code == 200
    assert answer.json()["id"] == row_id
    assert answer.json()["fields"] == {"city": "Львів"}


async def test_a_row_of_another_campaign_is_not_found(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    other = campaigns.create_campaign(store, owner.project_id, "Other")
    row_id = insert_row(store, owner, "+380930000000", campaign_id=other.id)
    url = f"{rows_url(owner)}/{row_id}"
    assert_error(await client.get(url, headers=owner.headers), 404, "row_not_found", "row_id")
    assert_error(await client.delete(url, headers=owner.headers), 404, "row_not_found")
    assert row_count(store, other.id) == 1


async def test_a_missing_row_is_not_found(client: httpx.AsyncClient, owner: Persona) -> None:
    answer = await client.get(f"{rows_url(owner)}/12345", headers=owner.headers)
    assert_error(answer, 404, "row_not_found")
    invalid = await client.get(f"{rows_url(owner)}/x", headers=owner.headers)
    assert_error(invalid, 422, "invalid_field", "row_id")


async def test_it_deletes_one_row_and_the_number_can_come_back(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    row_id = insert_row(store, owner, "+380930000000")
    kept = insert_row(store, owner, "+380930000001")
    answer = await client.delete(f"{rows_url(owner)}/{row_id}", headers=owner.headers)
    assert answer.status_code == 204
    assert answer.content == b""
    gone = await client.get(f"{rows_url(owner)}/{row_id}", headers=owner.headers)
    assert_error(gone, 404, "row_not_found")
    assert [r["id"] for r in (await list_all(client, owner))[0]] == [kept]
    again = await client.post(COMPAT, json=owner.row("380930000000"), headers=owner.headers)
    assert again.json() == {"result": True}
    assert row_count(store, owner.campaign_id) == 2


# -- emptying a campaign -----------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"confirm": ""}, {"confirm": "yes"}, {"confirm": "999999"}])
async def test_emptying_a_campaign_needs_its_id_as_confirmation(
    client: httpx.AsyncClient, owner: Persona, store: Store, params: dict[str, str]
) -> None:
    insert_row(store, owner, "+380930000000")
    answer = await client.delete(rows_url(owner), params=params, headers=owner.headers)
    error = assert_error(answer, 422, "confirmation_required", "confirm")
    assert f"confirm={owner.campaign_id}" in error["message"]
    assert row_count(store, owner.campaign_id) == 1


async def test_it_empties_a_campaign_and_keeps_the_campaign(
    client: httpx.AsyncClient, owner: Persona, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaigns, "DELETE_BATCH", 4)  # several batches
    for n in range(10):
        insert_row(store, owner, f"+38093000000{n}")
    other = campaigns.create_campaign(store, owner.project_id, "Other")
    insert_row(store, owner, "+380930000000", campaign_id=other.id)
    answer = await client.delete(
        rows_url(owner), params={"confirm": str(owner.campaign_id)}, headers=owner.headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"deleted": 10}
    assert row_count(store, owner.campaign_id) == 0
    assert row_count(store, other.id) == 1
    campaign = await client.get(f"{BASE}/{owner.campaign_id}", headers=owner.headers)
    assert campaign.json()["counts"] == {"rows": 0, "by_status": {}}
    empty = await client.delete(
        rows_url(owner), params={"confirm": str(owner.campaign_id)}, headers=owner.headers
    )
    assert empty.json() == {"deleted": 0}


async def test_emptying_a_missing_campaign_is_not_found(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.delete(rows_url(owner, 999999), params={"confirm": "999999"})
    assert_error(answer, 401, "missing_project_id")
    answer = await client.delete(
        rows_url(owner, 999999), params={"confirm": "999999"}, headers=owner.headers
    )
    assert_error(answer, 404, "campaign_not_found")


# -- authentication and other projects ---------------------------------------------------


def row_calls(persona: Persona, row_id: int) -> list[tuple[str, str, dict[str, str]]]:
    rows = rows_url(persona)
    return [
        ("GET", rows, {}),
        ("GET", rows, {"phone": "380930000000"}),
        ("GET", f"{rows}/{row_id}", {}),
        ("DELETE", f"{rows}/{row_id}", {}),
        ("DELETE", rows, {"confirm": str(persona.campaign_id)}),
        ("GET", f"{BASE}/{persona.campaign_id}/export", {"format": "csv"}),
        ("GET", f"{BASE}/{persona.campaign_id}/export", {"format": "xlsx"}),
    ]


@pytest.mark.parametrize("call", range(7))
async def test_a_strangers_key_cannot_see_or_change_the_owners_rows(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store, call: int
) -> None:
    row_id = insert_row(store, owner, "+380930000000")
    method, url, params = row_calls(owner, row_id)[call]
    answer = await client.request(method, url, params=params, headers=stranger.headers)
    assert_error(answer, 404, "campaign_not_found", "campaignId")
    assert row_count(store, owner.campaign_id) == 1
    # The stranger's own campaign id with the owner's row id: the row is not found.
    own = f"{rows_url(stranger)}/{row_id}"
    for method in ("GET", "DELETE"):
        answer = await client.request(method, own, headers=stranger.headers)
        assert_error(answer, 404, "row_not_found")
    assert row_count(store, owner.campaign_id) == 1


@pytest.mark.parametrize("call", range(7))
async def test_every_row_endpoint_needs_a_valid_key(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store, call: int
) -> None:
    row_id = insert_row(store, owner, "+380930000000")
    method, url, params = row_calls(owner, row_id)[call]
    answer = await client.request(method, url, params=params)
    assert_error(answer, 401, "missing_project_id")
    wrong = {"x-project-id": str(owner.project_id), "Auth-key": stranger.key}
    answer = await client.request(method, url, params=params, headers=wrong)
    assert_error(answer, 401, "invalid_auth_key")
    assert row_count(store, owner.campaign_id) == 1


def test_the_sqlite_connection_hook_folds_case_in_every_alphabet() -> None:
    import sqlite3

    from powerdialer.storage import sqlite_functions

    conn = sqlite3.connect(":memory:")
    sqlite_functions.register(conn)
    folded = conn.execute("SELECT pd_casefold(?), pd_casefold(NULL)", ("ҐАННА Straße",)).fetchone()
    assert folded == ("ґанна strasse", None)


def test_a_crm_id_and_a_number_are_found_through_their_indexes(store: Store) -> None:
    """The UI's search for a number also asks for that CRM id: as two indexed lookups, never
    one OR that would scan the campaign (SQLite; PostgreSQL plans by its statistics)."""
    if not store.is_sqlite:
        pytest.skip("SQLite's plans: PostgreSQL chooses by its statistics")
    from sqlalchemy import event

    from powerdialer.rows.models import RowFilter
    from powerdialer.storage import rows_read as sql

    plans: list[str] = []

    def capture(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any
    ) -> None:
        # The searches select ids (the page's rows are then read by primary key).
        if statement.lstrip().startswith("SELECT campaign_rows.id \nFROM campaign_rows"):
            plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            plans.append(" ".join(str(step[-1]) for step in plan))

    filters = RowFilter(phone_e164="+380930000001", or_external_id="380930000001")
    with store.engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", capture)
        try:
            sql.page(conn, 1, 1, filters, after_id=0, limit=51)
        finally:
            event.remove(conn, "before_cursor_execute", capture)
    assert len(plans) == 2, plans
    by_number, by_crm_id = plans
    assert "INDEX sqlite_autoindex_campaign_rows_1 (" in by_number, by_number  # covering or not
    assert "phone_e164=?" in by_number, by_number
    assert "ix_campaign_rows_project_id_campaign_id_external_id" in by_crm_id, by_crm_id
