"""The primary's loss (issue 15, item 6): a real ``powerdialer serve`` on a multi-host URL over a
PostgreSQL primary and its synchronous standby (tests/failover/pair.py), 16 clients filling a
campaign through the compatible endpoint, one more sending each row with an Idempotency-Key
and resending it on a 503, and one reading the campaign and /healthz through the API; the
primary is killed (SIGKILL, all its processes), the standby promoted.

Meanwhile every answer is a 200 ``{"result": true}`` or a 503 ``storage_unavailable`` with
``Retry-After`` (never a 500, never a dropped connection); the service finds the new primary by
itself (no restart, no configuration change); every acknowledged row is on it.

It starts its own pair of servers, so it runs once, in the PostgreSQL pass of the suite (with
POWERDIALER_TEST_DATABASE_URL set); without Debian's PostgreSQL binaries it skips, and fails
instead under CI=true."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from powerdialer.storage import open_store
from tests.conftest import COMPAT, PG_URL, Persona, make_persona
from tests.e2e.conftest import Server, child_env
from tests.failover import pair as pg

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

CLIENTS = 16
BEFORE_KILL = 200  # rows acknowledged before the primary dies
OUTAGE_SECONDS = 0.5  # at least: the primary gone, the standby not yet promoted
AFTER_PROMOTION = 200  # rows acknowledged by the new primary before the clients stop


@pytest.fixture
def pair() -> Iterator[pg.Pair]:
    if not PG_URL:
        pytest.skip("runs once, in the PostgreSQL pass (POWERDIALER_TEST_DATABASE_URL set)")
    pg.require()
    started = pg.start_pair()
    try:
        yield started
    finally:
        print(started.logs())
        started.stop()
        shutil.rmtree(started.root, ignore_errors=True)


@dataclass
class Record:
    """What the clients were answered, and when the switch happened."""

    acknowledged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # 503 storage_unavailable
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    stuck: list[str] = field(default_factory=list)  # Idempotency-Keys answered 409 in progress
    wrong: list[str] = field(default_factory=list)  # anything else, described
    promoted: bool = False
    after_promotion: int = 0
    stop: bool = False


def stuck(answer: httpx.Response) -> bool:
    """A key whose first try met the switch: its claim could not be released while the
    database was gone, so it answers 409 with Retry-After until the claim is taken over
    (docs/deployment.md, "The switch")."""
    return (
        answer.status_code == 409
        and answer.json()["error"]["code"] == "idempotency_in_progress"
        and "retry-after" in answer.headers
    )


def check_refusal(answer: httpx.Response) -> str | None:
    """Why a non-200 answer is not the promised 503, or ``None``."""
    if answer.status_code != 503:
        return f"{answer.status_code} {answer.text[:300]}"
    if answer.headers.get("retry-after") != "1":
        return f"503 without Retry-After: {answer.headers}"
    body = answer.json()
    if answer.url.path == "/healthz":  # the probe's own shape, naming the database
        return None if body["database"] == "unavailable" else f"503 {answer.text[:300]}"
    if body.get("error", {}).get("code") != "storage_unavailable":
        return f"503 {answer.text[:300]}"
    return None


async def fill(client: httpx.AsyncClient, persona: Persona, worker: int, record: Record) -> None:
    n = 0
    while not record.stop:
        number = f"38093{worker:02d}{n:05d}"
        n += 1
        try:
            answer = await client.post(COMPAT, json=persona.row(number), headers=persona.headers)
        except httpx.TransportError as exc:
            record.wrong.append(f"POST {number}: no answer ({exc!r})")
            continue
        record.statuses["compat", answer.status_code] += 1
        if answer.status_code == 200 and answer.json() == {"result": True}:
            record.acknowledged.append(number)
            if record.promoted:
                record.after_promotion += 1
        elif (why := check_refusal(answer)) is None:
            record.refused.append(number)
            await asyncio.sleep(0.01)  # a client honouring Retry-After would wait 1 s
        else:
            record.wrong.append(f"POST {number}: {why}")


async def resend(client: httpx.AsyncClient, persona: Persona, record: Record) -> None:
    """A client that sends each row with an ``Idempotency-Key`` and resends it, same key, on a
    503 until it is answered 200 (or the key is ``stuck``): every key's row is stored once,
    whatever the switch did."""
    n = 0
    while not record.stop:
        number, key = f"38094{n:07d}", f"failover-{n}"
        headers = {**persona.headers, "Idempotency-Key": key}
        while True:
            answer = await client.post(COMPAT, json=persona.row(number), headers=headers)
            record.statuses["keyed", answer.status_code] += 1
            if answer.status_code == 200 and answer.json() == {"result": True}:
                record.acknowledged.append(number)
                break
            if stuck(answer):
                record.stuck.append(key)
                break
            if (why := check_refusal(answer)) is not None:
                record.wrong.append(f"POST {number} ({key}): {why}")
                break
            await asyncio.sleep(0.05)
        n += 1


async def read(client: httpx.AsyncClient, persona: Persona, record: Record) -> None:
    """The API (FastAPI, its own reads of the pool) during the switch: 200 or the 503."""
    while not record.stop:
        for path in (f"/power-dialer/campaigns/{persona.campaign_id}", "/healthz"):
            answer = await client.get(path, headers=persona.headers)
            record.statuses[path.split("/")[1], answer.status_code] += 1
            if answer.status_code != 200 and (why := check_refusal(answer)) is not None:
                record.wrong.append(f"GET {path}: {why}")
        await asyncio.sleep(0.02)


async def switch(pair: pg.Pair, record: Record) -> None:
    while len(record.acknowledged) < BEFORE_KILL:
        await asyncio.sleep(0.01)
    await asyncio.to_thread(pair.kill_primary)
    await asyncio.sleep(OUTAGE_SECONDS)
    # Until the clients and the balancer's probe have met the outage (the probe's answer is
    # cached for a second): the switch must have been seen to be tested.
    deadline = time.monotonic() + 10
    while not (record.refused and record.statuses["healthz", 503]):
        assert time.monotonic() < deadline, f"no request met the outage: {record.statuses}"
        await asyncio.sleep(0.05)
    await asyncio.to_thread(pair.promote)
    record.promoted = True
    deadline = time.monotonic() + 30
    while record.after_promotion < AFTER_PROMOTION and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    record.stop = True


def rows_on(node: pg.Node, persona: Persona) -> Counter[str]:
    query = "SELECT phone_raw FROM campaign_rows WHERE project_id = %s AND campaign_id = %s"
    with psycopg.connect(node.conninfo()) as conn:
        found = conn.execute(query, (persona.project_id, persona.campaign_id)).fetchall()
    return Counter(raw for (raw,) in found)


async def test_the_service_survives_the_primarys_loss_and_keeps_every_acknowledged_row(
    pair: pg.Pair, tmp_path: Path
) -> None:
    store = open_store(pair.url)  # the migrations, through the multi-host URL
    owner = make_persona(store, "Owner")
    store.dispose()
    env = child_env(POWERDIALER_RATE_LIMIT="0", POWERDIALER_DATA_DIR=str(tmp_path / "data"))
    server = Server(pair.url, tmp_path / "server.log", env)
    server.start()
    record = Record()
    try:
        # Idle connections closed by the client well before the server's 5 s keep-alive
        # (httpx's default is also 5 s): else one may be reused just as the server closes it.
        limits = httpx.Limits(max_connections=CLIENTS + 2, keepalive_expiry=1.0)
        async with httpx.AsyncClient(
            base_url=server.url, trust_env=False, timeout=30, limits=limits
        ) as client:
            await asyncio.gather(
                *(fill(client, owner, worker, record) for worker in range(CLIENTS)),
                read(client, owner, record),
                resend(client, owner, record),
                switch(pair, record),
            )
            assert server.proc is not None
            assert server.proc.poll() is None  # the same process throughout: never restarted
            # The probe's answer is kept a second (health.py): one begun just before the
            # promotion can still say "read-only" that long after it; a balancer asks again.
            deadline = time.monotonic() + 10
            health = await client.get("/healthz")
            while health.status_code != 200 and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                health = await client.get("/healthz")
    finally:
        server.stop()
        print(f"answers: {dict(record.statuses)}\n--- server ---\n{server.output()}")

    assert record.wrong == []
    assert record.refused, "no request met the outage: the test did not test the switch"
    assert record.statuses["healthz", 503] >= 1  # the balancer's probe saw it, too
    assert record.after_promotion >= AFTER_PROMOTION  # it found the new primary by itself
    assert health.status_code == 200, health.text
    on_new_primary = rows_on(pair.standby, owner)
    lost = set(record.acknowledged) - set(on_new_primary)
    assert not lost, f"{len(lost)} acknowledged rows are not on the new primary: {sorted(lost)[:5]}"
    assert max(on_new_primary.values()) == 1  # and none twice
