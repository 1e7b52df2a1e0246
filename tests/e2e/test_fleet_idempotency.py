"""Two real server processes on one PostgreSQL: requests with one ``Idempotency-Key``, sent
at once and split across both, store one row (or one bulk request's rows) and all get the
first answer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import func, select

from powerdialer.storage import Store
from powerdialer.storage.schema import campaign_rows
from tests.conftest import COMPAT, Persona
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]


def rows_of(store: Store, persona: Persona) -> int:
    query = select(func.count()).where(campaign_rows.c.campaign_id == persona.campaign_id)
    return int(store.read(lambda conn: conn.execute(query).scalar_one()))


async def test_one_key_split_across_two_instances_stores_once(
    database_url: str, start_server: Callable[..., Server], owner: Persona, store: Store
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("two instances share a database on PostgreSQL only")
    servers = [start_server(), start_server()]
    bulk = {"rows": [{"phone_number": f"38093{n:07d}"} for n in range(50)]}
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:

        async def send(server: Server, path: str, key: str, body: object) -> httpx.Response:
            headers = {**owner.headers, "Idempotency-Key": key}
            return await client.post(server.url + path, json=body, headers=headers)

        for round_ in range(5):
            row = owner.row(f"38067{round_:07d}")
            answers = await asyncio.gather(
                *(send(servers[i % 2], COMPAT, f"row-{round_}", row) for i in range(16))
            )
            assert [a.status_code for a in answers] == [200] * 16, [a.text for a in answers]
            assert {a.content for a in answers} == {b'{"result":true}'}
            assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
        assert rows_of(store, owner) == 5

        path = f"/power-dialer/campaigns/{owner.campaign_id}/rows"
        answers = await asyncio.gather(
            *(send(servers[i % 2], path, "bulk", bulk) for i in range(8))
        )
        assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
        assert {a.json()["inserted"] for a in answers} == {50}
        assert sum("idempotent-replayed" not in a.headers for a in answers) == 1
        assert rows_of(store, owner) == 55
