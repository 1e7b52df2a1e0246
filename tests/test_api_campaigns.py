"""Campaigns over the API: list, create, read, update, delete; every failure path, and a
stranger's key on the owner's campaign for every endpoint (404, nothing changed)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select, text

from powerdialer import campaigns
from powerdialer.storage import Store
from powerdialer.storage import campaigns as campaign_sql
from powerdialer.storage.schema import campaign_rows
from powerdialer.web.app import PowerDialerApp
from tests.conftest import COMPAT, Persona

pytestmark = pytest.mark.anyio

BASE = "/power-dialer/campaigns"


def assert_error(
    response: httpx.Response, status: int, code: str, field: str | None = None
) -> dict[str, Any]:
    """The one error shape, with the expected status, code and (if given) field."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"result", "error"}
    assert body["result"] is False
    error: dict[str, Any] = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert set(error) <= {"code", "message", "field", "reason"}
    if field is not None:
        assert error.get("field") == field, error
    return error


async def add_numbers(client: httpx.AsyncClient, persona: Persona, *phones: str) -> None:
    for phone in phones:
        answer = await client.post(COMPAT, json=persona.row(phone), headers=persona.headers)
        assert answer.json() == {"result": True}, answer.text


def row_count(store: Store, campaign_id: int) -> int:
    query = select(func.count()).where(campaign_rows.c.campaign_id == campaign_id)
    return int(store.read(lambda conn: conn.execute(query).scalar_one()))


def campaign_of(store: Store, persona: Persona) -> Any:
    return store.read(
        lambda conn: campaign_sql.get_campaign(conn, persona.project_id, persona.campaign_id)
    )


# -- list --------------------------------------------------------------------------------


async def test_it_lists_the_projects_campaigns_with_their_row_counts(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    await add_numbers(client, owner, "380930000001", "380930000002")
    second = campaigns.create_campaign(store, owner.project_id, "Second")
    answer = await client.get(BASE, headers=owner.headers)
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert [c["id"] for c in items] == [owner.campaign_id, second.id]
    first = items[0]
    assert set(first) == {
        "id",
        "name",
        "state",
        "require_consent",
        "duplicate_policy",
        "created_at",
        "updated_at",
        "counts",
        "dialer_state",
        "completed_at",
    }
    assert first["name"] == "Owner leads"
    assert first["state"] == "active"
    assert first["duplicate_policy"] == "skip"
    assert first["counts"] == {"rows": 2, "by_status": {"pending": 2}}
    assert items[1]["counts"] == {"rows": 0, "by_status": {}}


async def test_it_filters_the_list_by_state(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    archived = campaigns.create_campaign(store, owner.project_id, "Old")
    await client.patch(f"{BASE}/{archived.id}", json={"state": "archived"}, headers=owner.headers)
    active = await client.get(BASE, params={"state": "active"}, headers=owner.headers)
    old = await client.get(BASE, params={"state": "archived"}, headers=owner.headers)
    assert [c["id"] for c in active.json()["items"]] == [owner.campaign_id]
    assert [c["id"] for c in old.json()["items"]] == [archived.id]


async def test_it_rejects_an_unknown_state_filter(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.get(BASE, params={"state": "deleted"}, headers=owner.headers)
    assert_error(answer, 422, "invalid_field", "state")


async def test_it_never_lists_another_projects_campaigns(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona
) -> None:
    await add_numbers(client, owner, "380930000001")
    answer = await client.get(BASE, headers=stranger.headers)
    assert [c["id"] for c in answer.json()["items"]] == [stranger.campaign_id]
    assert answer.json()["items"][0]["counts"]["rows"] == 0


async def test_it_counts_rows_of_all_campaigns_in_one_grouped_query(
    client: httpx.AsyncClient, owner: Persona, store: Store, app: PowerDialerApp
) -> None:
    for n in range(5):
        campaigns.create_campaign(store, owner.project_id, f"List {n}")
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(app.services.store.engine, "before_cursor_execute", record)
    try:
        answer = await client.get(BASE, headers=owner.headers)
    finally:
        event.remove(app.services.store.engine, "before_cursor_execute", record)
    assert len(answer.json()["items"]) == 6
    assert len([s for s in statements if "campaign_rows" in s]) == 1


# -- create ------------------------------------------------------------------------------


async def test_it_creates_a_campaign_that_takes_rows_at_once(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    answer = await client.post(BASE, json={"name": "  Autumn   leads "}, headers=owner.headers)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["name"] == "Autumn leads"
    assert created["state"] == "active"
    assert created["duplicate_policy"] == "skip"
    assert created["counts"] == {"rows": 0, "by_status": {}}
    assert created["created_at"] == created["updated_at"]
    assert answer.headers["location"] == f"{BASE}/{created['id']}"
    row = {"campaignId": created["id"], "phone_number": "380930000000"}
    stored = await client.post(COMPAT, json=row, headers=owner.headers)
    assert stored.json() == {"result": True}
    assert row_count(store, created["id"]) == 1


@pytest.mark.parametrize("policy", ["skip", "update", "keep"])
async def test_it_creates_a_campaign_with_a_duplicate_policy(
    client: httpx.AsyncClient, owner: Persona, policy: str
) -> None:
    answer = await client.post(
        BASE, json={"name": "Leads", "duplicate_policy": policy}, headers=owner.headers
    )
    assert answer.status_code == 201
    assert answer.json()["duplicate_policy"] == policy


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({}, "invalid_field", "name"),
        ({"name": "   "}, "invalid_name", "name"),
        ({"name": "x" * 201}, "invalid_name", "name"),
        ({"name": 5}, "invalid_field", "name"),
        ({"name": "Leads", "duplicate_policy": "merge"}, "invalid_field", "duplicate_policy"),
        ({"name": "Leads", "colour": "red"}, "invalid_field", "colour"),
    ],
)
async def test_it_refuses_to_create_a_campaign_from_an_invalid_body(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    body: dict[str, Any],
    code: str,
    field: str,
) -> None:
    answer = await client.post(BASE, json=body, headers=owner.headers)
    assert_error(answer, 422, code, field)
    assert len(campaigns.list_campaigns(store, owner.project_id)) == 1


async def test_it_answers_400_to_malformed_json(client: httpx.AsyncClient, owner: Persona) -> None:
    answer = await client.post(
        BASE, content=b'{"name": ', headers={**owner.headers, "content-type": "application/json"}
    )
    assert_error(answer, 400, "malformed_json")


# -- read --------------------------------------------------------------------------------


async def test_it_reads_one_campaign_with_its_counts(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    await add_numbers(client, owner, "380930000001", "380930000002", "380930000003")
    answer = await client.get(f"{BASE}/{owner.campaign_id}", headers=owner.headers)
    assert answer.status_code == 200
    assert answer.json()["id"] == owner.campaign_id
    assert answer.json()["counts"] == {"rows": 3, "by_status": {"pending": 3}}


async def test_it_answers_404_for_a_missing_campaign(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.get(f"{BASE}/999999", headers=owner.headers)
    assert_error(answer, 404, "campaign_not_found", "campaignId")


@pytest.mark.parametrize("campaign_id", ["abc", "0", "-4", str(2**63), "1.5"])
async def test_it_answers_422_for_an_impossible_campaign_id(
    client: httpx.AsyncClient, owner: Persona, campaign_id: str
) -> None:
    answer = await client.get(f"{BASE}/{campaign_id}", headers=owner.headers)
    assert_error(answer, 422, "invalid_field", "campaign_id")


# -- update ------------------------------------------------------------------------------


async def test_it_renames_a_campaign(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    before = campaign_of(store, owner)
    answer = await client.patch(
        f"{BASE}/{owner.campaign_id}", json={"name": "Renamed"}, headers=owner.headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "Renamed"
    assert answer.json()["state"] == "active"
    after = campaign_of(store, owner)
    assert after.name == "Renamed"
    assert after.updated_at > before.updated_at


async def test_an_archived_campaign_refuses_rows_until_it_is_unarchived(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    url = f"{BASE}/{owner.campaign_id}"
    archived = await client.patch(url, json={"state": "archived"}, headers=owner.headers)
    assert archived.json()["state"] == "archived"
    refused = await client.post(COMPAT, json=owner.row(), headers=owner.headers)
    assert_error(refused, 409, "campaign_archived")
    active = await client.patch(url, json={"state": "active"}, headers=owner.headers)
    assert active.json()["state"] == "active"
    stored = await client.post(COMPAT, json=owner.row(), headers=owner.headers)
    assert stored.json() == {"result": True}


async def test_it_sets_the_duplicate_policy(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    answer = await client.patch(
        f"{BASE}/{owner.campaign_id}", json={"duplicate_policy": "keep"}, headers=owner.headers
    )
    assert answer.json()["duplicate_policy"] == "keep"
    assert campaign_of(store, owner).duplicate_policy == "keep"


async def test_an_empty_update_changes_nothing(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    before = campaign_of(store, owner)
    answer = await client.patch(f"{BASE}/{owner.campaign_id}", json={}, headers=owner.headers)
    assert answer.status_code == 200
    assert campaign_of(store, owner) == before


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"name": None}, "invalid_field", "name"),
        ({"name": ""}, "invalid_name", "name"),
        ({"state": "deleted"}, "invalid_field", "state"),
        ({"duplicate_policy": "merge"}, "invalid_field", "duplicate_policy"),
        ({"stat": "archived"}, "invalid_field", "stat"),
    ],
)
async def test_it_refuses_an_invalid_update_and_changes_nothing(
    client: httpx.AsyncClient,
    owner: Persona,
    store: Store,
    body: dict[str, Any],
    code: str,
    field: str,
) -> None:
    before = campaign_of(store, owner)
    answer = await client.patch(f"{BASE}/{owner.campaign_id}", json=body, headers=owner.headers)
    assert_error(answer, 422, code, field)
    assert campaign_of(store, owner) == before


async def test_it_answers_404_when_updating_a_missing_campaign(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    answer = await client.patch(f"{BASE}/999999", json={"name": "x"}, headers=owner.headers)
    assert_error(answer, 404, "campaign_not_found")


# -- delete ------------------------------------------------------------------------------


async def test_it_deletes_a_campaign_with_its_rows(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    await add_numbers(client, owner, "380930000001", "380930000002")
    kept = campaigns.create_campaign(store, owner.project_id, "Kept")
    await client.post(COMPAT, json={**owner.row(), "campaignId": kept.id}, headers=owner.headers)
    answer = await client.delete(f"{BASE}/{owner.campaign_id}", headers=owner.headers)
    assert answer.status_code == 204
    assert answer.content == b""
    gone = await client.get(f"{BASE}/{owner.campaign_id}", headers=owner.headers)
    assert_error(gone, 404, "campaign_not_found")
    assert row_count(store, owner.campaign_id) == 0
    assert row_count(store, kept.id) == 1
    again = await client.delete(f"{BASE}/{owner.campaign_id}", headers=owner.headers)
    assert_error(again, 404, "campaign_not_found")


async def test_it_deletes_a_large_campaign_in_batches(
    client: httpx.AsyncClient, owner: Persona, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(campaigns, "DELETE_BATCH", 3)
    await add_numbers(client, owner, *(f"3809300000{n:02d}" for n in range(10)))
    answer = await client.delete(f"{BASE}/{owner.campaign_id}", headers=owner.headers)
    assert answer.status_code == 204
    assert row_count(store, owner.campaign_id) == 0


async def test_deleting_a_campaign_row_by_row_is_not_needed_the_foreign_key_cascades(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    """The storage delete alone removes the rows: ON DELETE CASCADE is in force (on SQLite
    only with PRAGMA foreign_keys=ON on the connection)."""
    await add_numbers(client, owner, "380930000001", "380930000002")
    store.write(
        lambda conn: campaign_sql.delete_campaign(conn, owner.project_id, owner.campaign_id)
    )
    assert row_count(store, owner.campaign_id) == 0


async def test_sqlite_connections_enforce_foreign_keys(store: Store) -> None:
    if not store.is_sqlite:
        pytest.skip("PostgreSQL always enforces foreign keys")
    assert store.read(lambda conn: conn.execute(text("PRAGMA foreign_keys")).scalar_one()) == 1


# -- authentication and other projects ---------------------------------------------------


def campaign_calls(persona: Persona) -> list[tuple[str, str, dict[str, Any] | None]]:
    url = f"{BASE}/{persona.campaign_id}"
    return [
        ("GET", url, None),
        ("PATCH", url, {"name": "Taken over"}),
        ("PATCH", url, {"state": "archived"}),
        ("DELETE", url, None),
    ]


@pytest.mark.parametrize("call", range(4))
async def test_a_strangers_key_cannot_see_or_change_the_owners_campaign(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store, call: int
) -> None:
    await add_numbers(client, owner, "380930000001")
    before = campaign_of(store, owner)
    method, url, body = campaign_calls(owner)[call]
    answer = await client.request(method, url, json=body, headers=stranger.headers)
    missing = await client.request(method, f"{BASE}/999999", json=body, headers=stranger.headers)
    error = assert_error(answer, 404, "campaign_not_found", "campaignId")
    # Exactly like a campaign that does not exist, but for the id in the message.
    assert error == {
        **assert_error(missing, 404, "campaign_not_found"),
        "message": error["message"],
    }
    assert campaign_of(store, owner) == before
    assert row_count(store, owner.campaign_id) == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "", None),
        ("POST", "", {"name": "x"}),
        ("GET", "/{id}", None),
        ("PATCH", "/{id}", {"name": "x"}),
        ("DELETE", "/{id}", None),
    ],
)
async def test_every_campaign_endpoint_needs_a_valid_key(
    client: httpx.AsyncClient,
    owner: Persona,
    stranger: Persona,
    store: Store,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    url = BASE + path.format(id=owner.campaign_id)
    no_key = await client.request(method, url, json=body)
    assert_error(no_key, 401, "missing_project_id")
    wrong = {"x-project-id": str(owner.project_id), "Auth-key": stranger.key}
    mixed = await client.request(method, url, json=body, headers=wrong)
    assert_error(mixed, 401, "invalid_auth_key")
    assert campaign_of(store, owner).name == "Owner leads"
    assert len(campaigns.list_campaigns(store, owner.project_id)) == 1


async def test_the_openapi_document_describes_every_route_with_its_errors(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    expected = {
        BASE: {"get", "post"},
        f"{BASE}/{{campaign_id}}": {"get", "patch", "delete"},
        f"{BASE}/{{campaign_id}}/rows": {"get", "delete"},
        f"{BASE}/{{campaign_id}}/rows/{{row_id}}": {"get", "delete"},
        f"{BASE}/{{campaign_id}}/export": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) >= methods, path
        for method in methods:
            operation = paths[path][method]
            assert operation["summary"]
            assert operation["description"]
            assert "401" in operation["responses"]
            example = operation["responses"]["401"]["content"]["application/json"]["examples"]
            assert example["invalid_auth_key"]["value"]["result"] is False
    assert "404" in paths[f"{BASE}/{{campaign_id}}"]["get"]["responses"]
    row_schema = document["components"]["schemas"]["RowPublic"]
    assert row_schema["examples"][0]["phone_e164"] == "+380930000000"
