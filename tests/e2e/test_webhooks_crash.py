"""Webhooks lose nothing in a crash: rows arrive while a real ``powerdialer serve`` delivers
their events to a receiver on 127.0.0.1; the server is killed with SIGKILL mid-delivery and
started again on the same database.  Every acknowledged row's event then reaches the
receiver (at least once: each id once after deduplication), and no event names a row that
was not stored."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from powerdialer.outbound import Policy, parse_allow
from powerdialer.storage import Store
from powerdialer.storage.schema import campaign_rows, webhook_events
from powerdialer.webhooks import deliveries, subscriptions
from tests.conftest import COMPAT, Persona
from tests.e2e.conftest import Server
from tests.webhooks.receiver import receiver

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

ROWS = 120
KILL_AFTER = 30  # requests the receiver has had before the kill
DEADLINE = deliveries.LEASE.total_seconds() + 60  # a lease held at the kill runs out first


async def test_a_kill_9_during_deliveries_loses_no_event(
    start_server: Callable[..., Server], store: Store, owner: Persona
) -> None:
    async with receiver() as target:
        await subscriptions.create(
            store,
            owner.project_id,
            target.url,
            ["row.added"],
            per_row=False,
            policy=Policy(allow=parse_allow("127.0.0.1/32")),
        )
        server = start_server(POWERDIALER_OUTBOUND_ALLOW="127.0.0.1/32")
        acknowledged: list[str] = []
        killed = False  # the kill comes while rows are still arriving, or right after
        async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=20) as client:
            for i in range(ROWS):
                number = f"38093{i:07d}"
                try:
                    answer = await client.post(
                        COMPAT, json=owner.row(number), headers=owner.headers
                    )
                except httpx.TransportError:
                    break
                if answer.json() == {"result": True}:
                    acknowledged.append("+" + number)
                if not killed and len(target.got) >= KILL_AFTER:
                    server.kill9()
                    killed = True
                    break
        if not killed:  # every row went in first: kill once deliveries are under way
            started = time.monotonic()
            while len(target.got) < KILL_AFTER:
                assert time.monotonic() - started < DEADLINE, "deliveries did not start"
                await asyncio.sleep(0.01)
            server.kill9()
        server.start()
        stored = store.read(
            lambda conn: dict(
                conn.execute(select(campaign_rows.c.id, campaign_rows.c.phone_e164)).all()
            )
        )
        assert set(acknowledged) <= set(stored.values())
        events = store.read(lambda conn: conn.execute(select(webhook_events.c.id)).scalars().all())
        assert len(events) == len(stored)  # one event a stored row, none for anything else
        started = time.monotonic()
        while len(target.accepted) < len(events):
            assert time.monotonic() - started < DEADLINE, (
                f"{len(target.accepted)} of {len(events)} events delivered"
            )
            await asyncio.sleep(0.2)
        accepted = target.accepted
        assert {r.headers["webhook-id"] for r in accepted} == set(events)
        delivered_rows = {r.json["data"]["row_ids"][0] for r in accepted}
        assert delivered_rows == set(stored)
        assert {stored[i] for i in delivered_rows} >= set(acknowledged)
