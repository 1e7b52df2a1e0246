"""Campaign duplicate policies (skip, update, keep) on the bulk endpoint and the compatible one,
including under concurrency and with two service instances sharing one database."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select, update

from powerdialer import campaigns, keys
from powerdialer.rows.intake import apply_intakes, prepare_intake
from powerdialer.storage import Store
from powerdialer.storage.schema import campaign_rows
from powerdialer.storage.schema import campaigns as campaigns_table
from tests.conftest import COMPAT, Persona, StartApp, client_of

pytestmark = pytest.mark.anyio


def bulk_path(campaign_id: int) -> str:
    return f"/power-dialer/campaigns/{campaign_id}/rows"


def set_policy(store: Store, campaign_id: int, policy: str) -> None:
    query = (
        update(campaigns_table)
        .where(campaigns_table.c.id == campaign_id)
        .values(duplicate_policy=policy)
    )
    store.write(lambda conn: conn.execute(query))


def rows_of(store: Store, campaign_id: int) -> list[dict[str, Any]]:
    query = (
        select(campaign_rows)
        .where(campaign_rows.c.campaign_id == campaign_id)
        .order_by(campaign_rows.c.id)
    )
    found = [dict(r._mapping) for r in store.read(lambda conn: conn.execute(query).all())]
    for row in found:
        row["extra"] = orjson.loads(row["extra"]) if row["extra"] else None
    return found


async def bulk(
    client: httpx.AsyncClient, persona: Persona, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    response = await client.post(
        bulk_path(persona.campaign_id), json={"rows": rows}, headers=persona.headers
    )
    assert response.status_code == 200, response.text[:500]
    return response.json()  # type: ignore[no-any-return]


def statuses(answer: dict[str, Any]) -> list[str]:
    return [r["status"] for r in answer["results"]]


# --- bulk ---------------------------------------------------------------------------------


async def test_skip_is_the_default_and_leaves_the_existing_row_untouched(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    first = await bulk(client, owner, [{"phone_number": "380930000001", "fio": "Old"}])
    again = await bulk(client, owner, [{"phone_number": "380930000001", "fio": "New"}])
    assert statuses(again) == ["duplicate"]
    assert again["results"][0]["id"] == first["results"][0]["id"]
    assert [r["fio"] for r in rows_of(store, owner.campaign_id)] == ["Old"]


async def test_update_merges_the_new_values_into_the_existing_row(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    set_policy(store, owner.campaign_id, "update")
    first = await bulk(
        client,
        owner,
        [
            {
                "phone_number": "380930000001",
                "fio": "Old",
                "external_id": "crm-1",
                "fields": {"city": "Київ", "deal": "1"},
            },
            {"phone_number": "380930000002", "fio": "Keeps its name"},
        ],
    )
    assert statuses(first) == ["inserted", "inserted"]
    again = await bulk(
        client,
        owner,
        [
            {"phone_number": "+380 93 000 00 01", "fio": "New", "fields": {"deal": "2", "x": "y"}},
            {"phone_number": "380930000002", "external_id": "crm-2"},
            {"phone_number": "380930000003"},
        ],
    )
    assert statuses(again) == ["updated", "updated", "inserted"]
    assert [r["id"] for r in again["results"][:2]] == [r["id"] for r in first["results"]]
    assert (again["inserted"], again["updated"], again["duplicates"]) == (1, 2, 0)
    stored = rows_of(store, owner.campaign_id)
    assert [(r["fio"], r["external_id"], r["extra"], r["phone_raw"]) for r in stored] == [
        ("New", "crm-1", {"city": "Київ", "deal": "2", "x": "y"}, "380930000001"),
        ("Keeps its name", "crm-2", None, "380930000002"),
        (None, None, None, "380930000003"),
    ]
    assert stored[0]["updated_at"] > stored[0]["created_at"]


async def test_update_applies_repeats_within_one_request_in_order(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    set_policy(store, owner.campaign_id, "update")
    answer = await bulk(
        client,
        owner,
        [
            {"phone_number": "380930000001", "fio": "First", "fields": {"a": "1"}},
            {"phone_number": "380930000001", "fio": "Second", "fields": {"b": "2"}},
            {"phone_number": "380930000001", "fields": {"a": "3"}},
        ],
    )
    assert statuses(answer) == ["inserted", "updated", "updated"]
    assert len({r["id"] for r in answer["results"]}) == 1
    [row] = rows_of(store, owner.campaign_id)
    assert (row["fio"], row["extra"]) == ("Second", {"a": "3", "b": "2"})


async def test_keep_stores_every_row_with_the_next_duplicate_number(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    set_policy(store, owner.campaign_id, "keep")
    first = await bulk(client, owner, [{"phone_number": "380930000001", "fio": "A"}])
    again = await bulk(
        client,
        owner,
        [
            {"phone_number": "380930000001", "fio": "B"},
            {"phone_number": "380930000002"},
            {"phone_number": "0930000001", "fio": "C"},
        ],
    )
    assert statuses(again) == ["inserted"] * 3
    stored = rows_of(store, owner.campaign_id)
    assert [(r["phone_e164"], r["duplicate_no"], r["fio"]) for r in stored] == [
        ("+380930000001", 0, "A"),
        ("+380930000001", 1, "B"),
        ("+380930000002", 0, None),
        ("+380930000001", 2, "C"),
    ]
    assert [r["id"] for r in first["results"] + again["results"]] == [r["id"] for r in stored]


async def test_skip_after_keep_reports_the_first_row_of_the_number(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    set_policy(store, owner.campaign_id, "keep")
    kept = await bulk(client, owner, [{"phone_number": "380930000001"}] * 2)
    set_policy(store, owner.campaign_id, "skip")
    answer = await bulk(client, owner, [{"phone_number": "380930000001"}])
    assert answer["results"][0] == {
        "index": 0,
        "status": "duplicate",
        "id": kept["results"][0]["id"],
        "error": None,
    }


# --- the compatible endpoint -----------------------------------------------------------------


async def compat(client: httpx.AsyncClient, persona: Persona, fio: str | None) -> None:
    response = await client.post(COMPAT, json=persona.row(fio=fio), headers=persona.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"result": True}


async def test_the_compatible_endpoint_updates_under_update(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    set_policy(store, owner.campaign_id, "update")
    await compat(client, owner, fio="Old")
    await compat(client, owner, fio="New")
    await compat(client, owner, fio=None)  # no name sent: the stored one stays
    assert [(r["fio"], r["duplicate_no"]) for r in rows_of(store, owner.campaign_id)] == [
        ("New", 0)
    ]


async def test_the_compatible_endpoint_keeps_both_under_keep(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    set_policy(store, owner.campaign_id, "keep")
    await compat(client, owner, fio="A")
    await compat(client, owner, fio="B")
    stored = rows_of(store, owner.campaign_id)
    assert [(r["fio"], r["duplicate_no"]) for r in stored] == [("A", 0), ("B", 1)]


async def test_the_compatible_endpoint_still_skips_by_default(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    await compat(client, owner, fio="A")
    await compat(client, owner, fio="B")
    assert [r["fio"] for r in rows_of(store, owner.campaign_id)] == ["A"]


def test_one_writer_batch_applies_each_campaigns_own_policy(
    store: Store, owner: Persona, stranger: Persona
) -> None:
    keep = campaigns.create_campaign(store, owner.project_id, "keep both")
    set_policy(store, keep.id, "keep")
    update_ = campaigns.create_campaign(store, owner.project_id, "update")
    set_policy(store, update_.id, "update")
    key_id, secret = keys.split_key(owner.key) or ("", "")
    intakes = [
        prepare_intake(owner.project_id, key_id, secret, body, "UA")
        for body in [
            owner.row(fio="skip 1"),
            owner.row(fio="skip 2"),
            owner.row(campaignId=keep.id, fio="keep 1"),
            owner.row(campaignId=keep.id, fio="keep 2"),
            owner.row(campaignId=update_.id, fio="update 1"),
            owner.row(campaignId=update_.id, fio="update 2"),
            owner.row(campaignId=stranger.campaign_id),
        ]
    ]
    results = store.write(lambda conn: apply_intakes(conn, intakes))
    assert results[:6] == [True] * 6
    assert getattr(results[6], "code", None) == "campaign_not_found"
    assert [r["fio"] for r in rows_of(store, owner.campaign_id)] == ["skip 1"]
    assert [r["fio"] for r in rows_of(store, keep.id)] == ["keep 1", "keep 2"]
    assert [r["fio"] for r in rows_of(store, update_.id)] == ["update 2"]
    assert rows_of(store, stranger.campaign_id) == []


# --- concurrency --------------------------------------------------------------------------


def numbers(count: int) -> list[dict[str, Any]]:
    return [{"phone_number": f"38093{n:07d}"} for n in range(count)]


@pytest.mark.parametrize("policy", ["skip", "update", "keep"])
async def test_32_concurrent_requests_with_the_same_numbers_obey_the_policy(
    client: httpx.AsyncClient, owner: Persona, store: Store, policy: str
) -> None:
    set_policy(store, owner.campaign_id, policy)
    answers = await asyncio.gather(*(bulk(client, owner, numbers(20)) for _ in range(32)))
    stored = rows_of(store, owner.campaign_id)
    per_number = Counter(r["phone_e164"] for r in stored)
    expected = 32 if policy == "keep" else 1
    assert set(per_number.values()) == {expected}
    assert len(per_number) == 20
    by_number: dict[str, set[int]] = {}
    for r in stored:
        by_number.setdefault(r["phone_e164"], set()).add(r["duplicate_no"])
    assert all(found == set(range(expected)) for found in by_number.values())
    reported = Counter(s for answer in answers for s in statuses(answer))
    assert reported["inserted"] == len(stored)


@pytest.mark.parametrize("policy", ["skip", "keep"])
async def test_the_compatible_endpoint_obeys_the_policy_under_concurrency(
    client: httpx.AsyncClient, owner: Persona, store: Store, policy: str
) -> None:
    set_policy(store, owner.campaign_id, policy)
    await asyncio.gather(*(compat(client, owner, fio=str(i)) for i in range(32)))
    stored = rows_of(store, owner.campaign_id)
    expected = 32 if policy == "keep" else 1
    assert sorted(r["duplicate_no"] for r in stored) == list(range(expected))


@pytest.mark.parametrize("policy", ["skip", "update", "keep"])
async def test_two_instances_sharing_the_database_obey_the_policy(
    started_app: StartApp, owner: Persona, store: Store, policy: str
) -> None:
    """Two apps = two writer threads on two connections: on PostgreSQL their transactions
    really overlap (what several processes behind a load balancer do)."""
    set_policy(store, owner.campaign_id, policy)
    async with (
        started_app() as one,
        started_app() as two,
        client_of(one) as first,
        client_of(two) as second,
    ):
        clients = [first, second]
        # Overlapping windows of numbers, in different orders, alternately on each instance.
        batches = [numbers(30)[k : k + 20] for k in range(0, 10)]
        batches = [b if i % 2 else list(reversed(b)) for i, b in enumerate(batches * 3)]
        answers = await asyncio.gather(
            *(bulk(clients[i % 2], owner, b) for i, b in enumerate(batches))
        )
    stored = rows_of(store, owner.campaign_id)
    pairs = Counter((r["phone_e164"], r["duplicate_no"]) for r in stored)
    assert set(pairs.values()) == {1}  # the unique key held
    sent = Counter(row["phone_number"] for b in batches for row in b)
    per_number = Counter(r["phone_e164"] for r in stored)
    for number, times in sent.items():
        assert per_number[f"+{number}"] == (times if policy == "keep" else 1)
    reported = Counter(s for answer in answers for s in statuses(answer))
    assert reported["inserted"] == len(stored)
