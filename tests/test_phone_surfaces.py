"""Numbers written with a trunk prefix, on every surface: the compatible endpoint and the bulk
endpoint read them by the same rules (powerdialer.phones) and refuse the same spellings with
the surface's own error shape; nothing is stored for a refused number."""

from __future__ import annotations

import httpx
import pytest

from powerdialer.storage import Store
from tests.conftest import COMPAT, Persona, stored_rows
from tests.test_api_bulk import post_rows

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("spelling", ["84951234567", "8 (495) 123-45-67", 84951234567])
async def test_the_compatible_endpoint_refuses_a_foreign_trunk_prefix_naming_the_fix(
    client: httpx.AsyncClient, owner: Persona, store: Store, spelling: object
) -> None:
    # Before: 84951234567 was stored as +84951234567, a Vietnamese number.
    body = {**owner.row(), "phone_number": spelling}
    answer = await client.post(COMPAT, json=body, headers=owner.headers)
    assert answer.status_code == 422
    assert answer.json()["result"] is False
    error = answer.json()["error"]
    assert (error["code"], error["field"], error["reason"]) == (
        "ambiguous_phone_number",
        "phone_number",
        "trunk_prefix",
    )
    assert "+74951234567 (RU) or +84951234567 (VN)" in error["message"]
    assert "write it with + and the country code" in error["message"]
    assert stored_rows(store, owner) == []


async def test_the_compatible_endpoint_reads_ukraine_s_former_8_0_spelling(
    client: httpx.AsyncClient, owner: Persona, store: Store
) -> None:
    for spelling in ("8 044 123 45 67", "80931234567", "0 44 123 45 67"):
        answer = await client.post(COMPAT, json=owner.row(spelling), headers=owner.headers)
        assert answer.json() == {"result": True}, spelling
    # The third is the first one again, written today's way: a duplicate, not stored twice.
    assert sorted(e164 for _, _, e164 in stored_rows(store, owner)) == [
        "+380441234567",
        "+380931234567",
    ]


async def test_the_bulk_endpoint_rejects_the_same_rows_and_stores_the_rest(
    client: httpx.AsyncClient, owner: Persona
) -> None:
    rows = [
        {"phone_number": "84951234567"},
        {"phone_number": "8 044 123 45 67"},
        {"phone_number": "+7 495 123-45-67"},
        {"phone_number": "80291234567"},
    ]
    answer = await post_rows(client, owner, rows)
    assert answer.status_code == 200
    results = answer.json()["results"]
    got = [(r["status"], r["error"] and r["error"]["code"]) for r in results]
    assert got == [
        ("rejected", "ambiguous_phone_number"),
        ("inserted", None),
        ("inserted", None),
        ("rejected", "ambiguous_phone_number"),
    ]
    assert "+375291234567 (BY)" in results[3]["error"]["message"]
