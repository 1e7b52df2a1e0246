"""Import jobs any instance can finish, with real server processes: kill -9 the instance
running an import mid-way, and the job is finished by another instance on the same
PostgreSQL (or, on SQLite, by the one instance restarted) once its lease lapses: every row
of the file present exactly once, the counters those of the file, the progress the same
from every instance.  The campaign keeps repeated numbers (policy ``keep``), so a record
stored twice would show as a second row."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy

from tests.conftest import Persona
from tests.e2e.conftest import Server

pytestmark = [pytest.mark.e2e, pytest.mark.anyio]

LEASE = {"POWERDIALER_IMPORT_LEASE_SECONDS": "2"}
TOTAL = 100_000


def content() -> tuple[bytes, int]:
    """The file, and how many of its records are invalid (every 17th)."""
    lines = [f"38067{i:07d};Клієнт {i}" if i % 17 else f"{i};погано" for i in range(TOTAL)]
    bad = sum(1 for i in range(TOTAL) if not i % 17)
    return ("Телефон;ПІБ\n" + "\n".join(lines) + "\n").encode(), bad


def sql(database_url: str, query: str, **params: Any) -> Any:
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.begin() as conn:
            result = conn.execute(sqlalchemy.text(query), params)
            return result.all() if result.returns_rows else None
    finally:
        engine.dispose()


def snapshot(database_url: str, job_id: int) -> tuple[Any, ...]:
    """``(status, supplied, inserted, duplicates, rejected, stored, distinct numbers,
    owner)`` in one statement, from outside the servers."""
    [row] = sql(
        database_url,
        "SELECT status, supplied, inserted, duplicates, rejected, "
        "(SELECT count(*) FROM campaign_rows r WHERE r.project_id = j.project_id "
        "AND r.campaign_id = j.campaign_id), "
        "(SELECT count(DISTINCT phone_e164) FROM campaign_rows r WHERE r.project_id = "
        "j.project_id AND r.campaign_id = j.campaign_id), owner "
        "FROM import_jobs j WHERE j.id = :id",
        id=job_id,
    )
    return tuple(row)


async def upload(server: Server, persona: Persona, body: bytes) -> int:
    async with httpx.AsyncClient(base_url=server.url, trust_env=False, timeout=60) as client:
        answer = await client.post(
            f"/power-dialer/campaigns/{persona.campaign_id}/imports",
            headers=persona.headers,
            files={"file": ("leads.csv", body)},
        )
    assert answer.status_code == 202, answer.text
    return int(answer.json()["id"])


async def until_stored(database_url: str, job_id: int) -> None:
    deadline = time.monotonic() + 60
    while snapshot(database_url, job_id)[5] == 0:
        assert time.monotonic() < deadline, "the import stored nothing in 60 s"
        await asyncio.sleep(0.005)


async def until_done(database_url: str, job_id: int) -> tuple[Any, ...]:
    deadline = time.monotonic() + 180
    while (found := snapshot(database_url, job_id))[0] not in ("done", "failed"):
        assert time.monotonic() < deadline, f"the import did not end: {found}"
        await asyncio.sleep(0.2)
    return found


def assert_finished_once(found: tuple[Any, ...], bad: int) -> None:
    status, supplied, inserted, duplicates, rejected, stored, distinct, _owner = found
    assert status == "done", found
    assert (supplied, rejected, duplicates) == (TOTAL, bad, 0), found
    assert inserted == stored == distinct == TOTAL - bad, found  # every row once


def keep_repeats(database_url: str, persona: Persona) -> None:
    sql(
        database_url,
        "UPDATE campaigns SET duplicate_policy = 'keep' WHERE id = :id",
        id=persona.campaign_id,
    )


async def test_a_restarted_instance_finishes_the_import_its_killed_process_left(
    database_url: str, start_server: Callable[..., Server], owner: Persona
) -> None:
    keep_repeats(database_url, owner)
    server = start_server(**LEASE)
    body, bad = content()
    job_id = await upload(server, owner, body)
    await until_stored(database_url, job_id)
    server.kill9()
    killed = snapshot(database_url, job_id)
    assert killed[0] == "running", "the kill should come mid-import"
    assert 0 < killed[5] < TOTAL - bad, "the kill should come mid-import"
    assert killed[1] >= killed[2] + killed[3] + killed[4]
    assert killed[2] == killed[5]
    server.restart()
    assert_finished_once(await until_done(database_url, job_id), bad)


async def test_another_instance_finishes_the_import_of_a_killed_one(
    database_url: str, start_server: Callable[..., Server], owner: Persona
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("two instances share a database on PostgreSQL only")
    keep_repeats(database_url, owner)
    first, second = start_server(**LEASE), start_server(**LEASE)
    body, bad = content()
    job_id = await upload(first, owner, body)
    await until_stored(database_url, job_id)
    async with httpx.AsyncClient(trust_env=False, timeout=30) as client:

        async def progress(server: Server) -> dict[str, Any]:
            answer = await client.get(
                f"{server.url}/power-dialer/imports/{job_id}", headers=owner.headers
            )
            assert answer.status_code == 200, answer.text
            found: dict[str, Any] = answer.json()
            return found

        seen_first, seen_second = await progress(first), await progress(second)
        assert seen_second["id"] == seen_first["id"] == job_id
        first.kill9()
        killed = snapshot(database_url, job_id)
        assert killed[0] == "running", "the kill should come mid-import"
        assert 0 < killed[5] < TOTAL - bad, "the kill should come mid-import"
        found = await until_done(database_url, job_id)
        assert_finished_once(found, bad)
        done = await progress(second)
        assert done["status"] == "done"
        assert done["inserted"] == TOTAL - bad
    [[attempts]] = sql(database_url, "SELECT attempts FROM import_jobs WHERE id = :id", id=job_id)
    assert attempts == 2  # the first instance's claim, then the second's takeover
