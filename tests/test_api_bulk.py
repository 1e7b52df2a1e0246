"""The bulk endpoint ``POST /power-dialer/campaigns/{id}/rows`` and ``GET /power-dialer/limits``:
per-row results with ids, whole-request errors, atomicity, concurrency, and a property test."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select, update

from powerdialer.settings import Settings
from powerdialer.storage import Store
from powerdialer.storage import rows_write as bulk_sql
from powerdialer.storage.schema import campaign_rows, campaigns
from powerdialer.web.app import create_app
from tests.conftest import Persona, StartApp, client_of

pytestmark = pytest.mark.anyio


def bulk_path(campaign_id: int) -> str:
    return f"/power-dialer/campaigns/{campaign_id}/rows"


async def post_rows(
    client: httpx.AsyncClient, persona: Persona, rows: object, campaign_id: int | None = None
) -> httpx.Response:
    body = rows if isinstance(rows, dict) else {"rows": rows}
    return await client.post(
        bulk_path(campaign_id or persona.campaign_id), json=body, headers=persona.headers
    )


def stored(store: Store, persona: Persona) -> list[dict[str, Any]]:
    query = (
        select(campaign_rows)
        .where(
            campaign_rows.c.project_id == persona.project_id,
            campaign_rows.c.campaign_id == persona.campaign_id,
        )
        .order_by(campaign_rows.c.id)
    )
    return [dict(r._mapping) for r in store.read(lambda conn: conn.execute(query).all())]


def set_campaign(store: Store, campaign_id: int, **values: str) -> None:
    store.write(
        lambda conn: conn.execute(update(campaigns).where(campaigns.c.id == campaign_id), values)
    )


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text[:500]
    body = response.json()
    assert body["result"] is False
    assert set(body) == {"result", "error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]  # type: ignore[no-any-return]


def phone(n: int) -> str:
    return f"38093{n:07d}"


# --- success ----------------------------------------------------------------------------------


async def test_it_stores_rows_and_answers_each_rows_id_in_order(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    rows = [{"phone_number": phone(i), "fio": f"Contact {i}"} for i in range(5)]
    response = await post_rows(client, owner, rows)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert (body["inserted"], body["duplicates"], body["updated"], body["rejected"]) == (5, 0, 0, 0)
    in_db = stored(store, owner)
    assert [r["index"] for r in body["results"]] == list(range(5))
    assert [r["id"] for r in body["results"]] == [r["id"] for r in in_db]
    assert {r["status"] for r in body["results"]} == {"inserted"}
    assert all(r["error"] is None for r in body["results"])
    assert [(r["phone_e164"], r["fio"], r["source"]) for r in in_db] == [
        (f"+{phone(i)}", f"Contact {i}", "api") for i in range(5)
    ]


async def test_it_keeps_external_id_and_fields_with_the_row(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    rows = [
        {"phone_number": "380930000001", "external_id": "crm-1", "fields": {"city": "Київ"}},
        {"phone_number": 380930000002, "external_id": 42, "fields": {"deal": 4512, "x": 1.5}},
        {"phone_number": "+380 93 000 00 03"},
    ]
    response = await post_rows(client, owner, rows)
    assert response.json()["inserted"] == 3
    in_db = stored(store, owner)
    assert [r["external_id"] for r in in_db] == ["crm-1", "42", None]
    assert [orjson.loads(r["extra"]) if r["extra"] else None for r in in_db] == [
        {"city": "Київ"},
        {"deal": "4512", "x": "1.5"},
        None,
    ]
    assert [r["phone_raw"] for r in in_db] == ["380930000001", "380930000002", "+380 93 000 00 03"]


async def test_it_reports_numbers_already_there_as_duplicates_with_the_existing_id(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    first = (await post_rows(client, owner, [{"phone_number": phone(1)}])).json()
    existing = first["results"][0]["id"]
    rows = [
        {"phone_number": phone(2)},
        {"phone_number": f"0{phone(1)[3:]}"},  # the same number written nationally
        {"phone_number": phone(2)},  # a duplicate of row 0 of this very request
    ]
    body = (await post_rows(client, owner, rows)).json()
    results = body["results"]
    assert [r["status"] for r in results] == ["inserted", "duplicate", "duplicate"]
    assert results[1]["id"] == existing
    assert results[2]["id"] == results[0]["id"]
    assert (body["inserted"], body["duplicates"]) == (1, 2)
    assert len(stored(store, owner)) == 2


async def test_it_rejects_bad_rows_one_by_one_with_the_compatible_codes(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    rows: list[object] = [
        {"phone_number": phone(1)},
        {"phone_number": "12"},
        {"fio": "no number"},
        {"phone_number": phone(2), "fio": 5},
        {"phone_number": phone(3), "fio": "x" * 256},
        {"phone_number": phone(4), "external_id": "e" * 129},
        {"phone_number": phone(5), "external_id": ["a"]},
        {"phone_number": phone(6), "fields": ["a"]},
        {"phone_number": phone(7), "fields": {"a": {"b": 1}}},
        {"phone_number": phone(8), "fields": {f"f{i}": "v" for i in range(51)}},
        {"phone_number": phone(9), "fields": {"": "v"}},
        {"phone_number": phone(10), "fields": {"a": "v" * 1025}},
        {"phone_number": phone(11), "fields": {f"f{i}": "v" * 1000 for i in range(9)}},
        "380930000012",
        None,
        {"phone_number": True},
        {"phone_number": phone(13), "unknown": {"ignored": True}},
    ]
    response = await post_rows(client, owner, rows)
    assert response.status_code == 200
    body = response.json()
    got = [
        (r["status"], r["error"] and (r["error"]["code"], r["error"]["reason"]))
        for r in body["results"]
    ]
    assert got == [
        ("inserted", None),
        ("rejected", ("invalid_phone_number", "too_short")),
        ("rejected", ("invalid_phone_number", "missing")),
        ("rejected", ("invalid_fio", "wrong_type")),
        ("rejected", ("invalid_fio", "too_long")),
        ("rejected", ("invalid_external_id", "too_long")),
        ("rejected", ("invalid_external_id", "wrong_type")),
        ("rejected", ("invalid_fields", "wrong_type")),
        ("rejected", ("invalid_fields", "wrong_type")),
        ("rejected", ("invalid_fields", "too_many")),
        ("rejected", ("invalid_fields", "invalid_name")),
        ("rejected", ("invalid_fields", "too_long")),
        ("rejected", ("invalid_fields", "too_large")),
        ("rejected", ("invalid_row", "wrong_type")),
        ("rejected", ("invalid_row", "wrong_type")),
        ("rejected", ("invalid_phone_number", "wrong_type")),
        ("inserted", None),
    ]
    rejected = [r for r in body["results"] if r["status"] == "rejected"]
    assert all(r["id"] is None for r in rejected)
    assert all(set(r["error"]) == {"code", "message", "field", "reason"} for r in rejected)
    assert rejected[0]["error"]["field"] == "phone_number"
    assert "'12'" in rejected[0]["error"]["message"]
    assert (body["inserted"], body["rejected"]) == (2, 15)
    assert [r["phone_e164"] for r in stored(store, owner)] == [f"+{phone(1)}", f"+{phone(13)}"]


async def test_a_request_of_only_rejected_rows_answers_200_and_stores_nothing(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    response = await post_rows(client, owner, [{"phone_number": "x"}])
    assert response.status_code == 200
    assert response.json()["rejected"] == 1
    assert stored(store, owner) == []


async def test_it_takes_the_most_rows_allowed_in_one_request(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    rows = [{"phone_number": phone(i), "external_id": str(i)} for i in range(10_000)]
    response = await post_rows(client, owner, rows)
    assert response.status_code == 200
    assert response.json()["inserted"] == 10_000
    assert len(stored(store, owner)) == 10_000


# --- whole-request errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_project_id"),
        ({"x-project-id": "1"}, "missing_auth_key"),
        ({"x-project-id": "1", "Auth-key": "pd_000000000000_nope"}, "invalid_auth_key"),
    ],
)
async def test_it_answers_401_without_a_valid_key(
    client: httpx.AsyncClient, owner: Persona, store: Store, headers: dict[str, str], code: str
) -> None:
    response = await client.post(
        bulk_path(owner.campaign_id), json={"rows": [{"phone_number": phone(1)}]}, headers=headers
    )
    assert_error(response, 401, code)
    assert stored(store, owner) == []


async def test_another_projects_key_gets_401_for_the_owners_project(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    headers = {"x-project-id": str(owner.project_id), "Auth-key": stranger.key}
    response = await client.post(
        bulk_path(owner.campaign_id), json={"rows": [{"phone_number": phone(1)}]}, headers=headers
    )
    assert_error(response, 401, "invalid_auth_key")
    assert stored(store, owner) == []


async def test_another_projects_campaign_is_not_found_exactly_like_a_missing_one(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona, store: Store
) -> None:
    rows = [{"phone_number": phone(1)}]
    theirs = await post_rows(client, stranger, rows, campaign_id=owner.campaign_id)
    missing_id = owner.campaign_id + stranger.campaign_id + 1000
    missing = await post_rows(client, stranger, rows, campaign_id=missing_id)
    assert_error(theirs, 404, "campaign_not_found")
    assert_error(missing, 404, "campaign_not_found")
    assert theirs.text.replace(str(owner.campaign_id), "N") == missing.text.replace(
        str(missing_id), "N"
    )
    assert stored(store, owner) == []


async def test_an_archived_campaign_answers_409_and_stores_nothing(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    set_campaign(store, owner.campaign_id, state="archived")
    response = await post_rows(client, owner, [{"phone_number": phone(1)}])
    assert_error(response, 409, "campaign_archived")
    assert stored(store, owner) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([{"phone_number": "380930000001"}], "wrong_type"),
        ({"row": []}, "missing"),
        ({"rows": {"phone_number": "380930000001"}}, "wrong_type"),
        ({"rows": "380930000001"}, "wrong_type"),
        ("rows", "wrong_type"),
        ({"rows": []}, "empty"),
    ],
)
async def test_a_body_that_is_not_a_list_of_rows_answers_422_invalid_rows(
    client: httpx.AsyncClient, owner: Persona, body: object, reason: str
) -> None:
    response = await client.post(bulk_path(owner.campaign_id), json=body, headers=owner.headers)
    error = assert_error(response, 422, "invalid_rows")
    assert (error["field"], error["reason"]) == ("rows", reason)


async def test_more_rows_than_the_limit_answer_422_and_store_nothing(
    started_app: StartApp, owner: Persona, store: Store
) -> None:
    async with started_app(max_bulk_rows=3) as app, client_of(app) as client:
        rows = [{"phone_number": phone(i)} for i in range(4)]
        error = assert_error(await post_rows(client, owner, rows), 422, "invalid_rows")
        assert error["reason"] == "too_many"
        assert "3" in error["message"]
        ok = await post_rows(client, owner, rows[:3])
        assert ok.json()["inserted"] == 3


async def test_malformed_json_answers_400(client: httpx.AsyncClient, owner: Persona) -> None:
    response = await client.post(
        bulk_path(owner.campaign_id),
        content=b'{"rows": [',
        headers={**owner.headers, "content-type": "application/json"},
    )
    assert_error(response, 400, "malformed_json")


async def test_a_body_over_the_bulk_byte_limit_answers_413(
    started_app: StartApp, owner: Persona, store: Store
) -> None:
    async with started_app(max_bulk_bytes=2048) as app, client_of(app) as client:
        rows = [{"phone_number": phone(i), "fio": "x" * 40} for i in range(60)]
        assert_error(await post_rows(client, owner, rows), 413, "body_too_large")
        assert stored(store, owner) == []


@pytest.mark.parametrize("campaign", ["abc", "0", "-1", str(2**63)])
async def test_a_campaign_id_that_is_not_a_positive_integer_answers_422(
    client: httpx.AsyncClient, owner: Persona, campaign: str
) -> None:
    response = await client.post(
        f"/power-dialer/campaigns/{campaign}/rows",
        json={"rows": [{"phone_number": phone(1)}]},
        headers=owner.headers,
    )
    assert_error(response, 422, "invalid_field")


async def test_nothing_is_stored_when_the_database_fails_midway(
    client: httpx.AsyncClient, owner: Persona, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await post_rows(client, owner, [{"phone_number": phone(0)}])

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    # The new rows are inserted first; looking up the duplicate's id then fails.
    monkeypatch.setattr(bulk_sql, "existing_ids", broken)
    rows = [{"phone_number": phone(i)} for i in range(1500)]
    response = await post_rows(client, owner, rows)
    assert_error(response, 503, "storage_unavailable")
    assert response.headers["retry-after"] == "1"
    assert [r["phone_e164"] for r in stored(store, owner)] == [f"+{phone(0)}"]


# --- concurrency ------------------------------------------------------------------------------


async def test_concurrent_overlapping_requests_store_each_number_once(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    # 32 requests of 100 numbers, each overlapping its neighbour by half.
    requests = [[{"phone_number": phone(k * 50 + i)} for i in range(100)] for k in range(32)]
    answers = await asyncio.gather(*(post_rows(client, owner, rows) for rows in requests))
    assert [a.status_code for a in answers] == [200] * 32
    in_db = stored(store, owner)
    numbers = {f"+{phone(n)}" for n in range(31 * 50 + 100)}
    assert sorted(r["phone_e164"] for r in in_db) == sorted(numbers)
    ids = {r["phone_e164"]: r["id"] for r in in_db}
    inserted = 0
    for rows, answer in zip(requests, answers, strict=True):
        for row, result in zip(rows, answer.json()["results"], strict=True):
            assert result["id"] == ids[f"+{row['phone_number']}"]
            inserted += result["status"] == "inserted"
    assert inserted == len(numbers)


# --- limits -----------------------------------------------------------------------------------


async def test_limits_are_published_without_credentials(
    started_app: StartApp, owner: Persona
) -> None:
    async with (
        started_app(max_bulk_rows=500, max_bulk_bytes=4096, rate_limit_per_second=5) as app,
        client_of(app) as client,
    ):
        response = await client.get("/power-dialer/limits")
    custom = app.settings
    assert response.status_code == 200
    assert response.json() == {
        "bulk_max_rows": 500,
        "bulk_max_bytes": 4096,
        "body_max_bytes": custom.max_body_bytes,
        "api_body_max_bytes": 1024 * 1024,
        "upload_max_bytes": custom.max_upload_bytes,
        "rate_limit_per_second": 5.0,
        "rate_limit_burst": custom.rate_limit_burst,
        "idempotency_ttl_hours": 24,
        "idempotency_replay_max_bytes": 8 * 1024 * 1024,
        "duplicate_policies": ["skip", "update", "keep"],
    }


async def test_limits_tell_a_stranger_nothing_about_projects(
    client: httpx.AsyncClient, owner: Persona, stranger: Persona
) -> None:
    plain = await client.get("/power-dialer/limits")
    as_stranger = await client.get("/power-dialer/limits", headers=stranger.headers)
    assert plain.json() == as_stranger.json()
    assert str(owner.campaign_id) not in plain.text or "campaign" not in plain.text


async def test_the_openapi_document_describes_bulk_and_limits(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/power-dialer/campaigns/{campaign_id}/rows"]["post"]
    assert operation["summary"]
    body = operation["requestBody"]["content"]["application/json"]
    assert body["example"]["rows"]
    assert body["schema"]["properties"]["rows"]["items"]["properties"]["phone_number"]
    for status in ("200", "400", "404", "409", "413", "422"):
        media = operation["responses"][status]["content"]["application/json"]
        assert media.get("example") or media["examples"]  # several causes: named examples
    assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"])
    limits = schema["paths"]["/power-dialer/limits"]["get"]
    assert limits["responses"]["200"]["content"]["application/json"]["example"]


# --- property ---------------------------------------------------------------------------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
_phones = st.one_of(
    st.integers(380_930_000_000, 380_930_000_030).map(str),
    st.integers(380_930_000_000, 380_930_000_030),
    st.sampled_from(["+380 93 000 00 01", "093-000-00-02", "12", "", "+1 202 555 0100"]),
    st.text(max_size=70),
    _json,
)
_rows = st.fixed_dictionaries(
    {"phone_number": _phones},
    optional={
        "fio": st.one_of(st.text(max_size=300), _json),
        "external_id": st.one_of(st.text(max_size=140), st.integers(), _json),
        "fields": st.one_of(st.dictionaries(st.text(max_size=70), st.text(max_size=30)), _json),
    },
)
_bodies = st.one_of(
    st.fixed_dictionaries({"rows": st.lists(st.one_of(_rows, _json), max_size=25)}),
    _json,
)


@given(body=_bodies)
@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_random_bodies_never_give_a_5xx_and_store_exactly_what_is_reported_inserted(
    settings: Settings, owner: Persona, store: Store, body: object
) -> None:
    loop = asyncio.new_event_loop()
    app = create_app(settings)
    loop.run_until_complete(app.startup())
    try:

        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                return await client.post(
                    bulk_path(owner.campaign_id), json=body, headers=owner.headers
                )

        before = {r["id"] for r in stored(store, owner)}
        response = loop.run_until_complete(send())
        after = {r["id"] for r in stored(store, owner)}
    finally:
        loop.run_until_complete(app.shutdown())
        loop.close()
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        assert response.json()["result"] is False
        assert after == before
        return
    answer = response.json()
    reported = {r["id"] for r in answer["results"] if r["status"] == "inserted"}
    assert after - before == reported
    assert len(answer["results"]) == len(body["rows"])  # type: ignore[index]
    for result in answer["results"]:
        assert (result["status"] == "rejected") == (result["id"] is None)
        if result["status"] in ("duplicate", "updated"):
            assert result["id"] in before | reported
