"""The dialer's writer payloads without HTTP: what a lease and an outcome cost in the writer.

Run: ``.venv/bin/python benchmarks/bench_dialer_writer.py [--database-url URL] [--rows 20000]``.
A script, not a test.  A fresh database (SQLite in a temporary folder, or the PostgreSQL
database given, which must be empty) gets a campaign of ``--rows`` rows, always-open calling
hours and 200 operators (on PostgreSQL then ``ANALYZE``, as autovacuum would); then:

1. **apply**: 200 leases and their outcomes (``answered``) for one operator, applied in one
   transaction by the apply functions themselves: milliseconds a call, no commit, no writer;
2. **writer**: the same through the group-commit writer (durable commits) with 1, 50 and 200
   concurrent callers, each looping lease → outcome with no think time: payloads a second
   and p50/p99 of a call.

``BENCHMARKS.md`` "The dialer" has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time

from sqlalchemy import Connection, insert

from powerdialer import campaigns, projects
from powerdialer.dialer.queue import Lease, Leased, apply_leases
from powerdialer.dialer.rules import dump_rules, parse_rules
from powerdialer.dialer.wrapup import Record, apply_records
from powerdialer.storage import open_store
from powerdialer.storage.dialer_admin import set_rules
from powerdialer.storage.schema import campaign_rows, memberships, users
from powerdialer.storage.writer import GroupCommitter
from powerdialer.web.app import WRITES

NOW = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = {"profile": "custom", "days": {day: ["00:00-24:00"] for day in DAYS}}


def _setup(conn: Connection, project_id: int, campaign_id: int, rows: int) -> list[int]:
    set_rules(conn, project_id, campaign_id, dump_rules(parse_rules({"hours": ALWAYS})), NOW)
    conn.execute(
        insert(campaign_rows),
        [
            {
                "project_id": project_id,
                "campaign_id": campaign_id,
                "phone_raw": str(n),
                "phone_e164": f"+38093{n:07d}",
                "source": "api",
                "created_at": NOW,
                "updated_at": NOW,
                "next_attempt_at": NOW,
            }
            for n in range(rows)
        ],
    )
    operators = []
    for n in range(200):
        user_id = conn.execute(
            insert(users)
            .values(
                email=f"op{n}@example.com",
                password_hash="!",
                created_at=NOW,
                password_changed_at=NOW,
            )
            .returning(users.c.id)
        ).scalar_one()
        conn.execute(
            insert(memberships).values(
                project_id=project_id, user_id=user_id, role="operator", created_at=NOW
            )
        )
        operators.append(int(user_id))
    return operators


def _in_one_transaction(conn: Connection, project_id: int, campaign_id: int, op: int) -> float:
    started = time.perf_counter()
    for _ in range(200):
        got = apply_leases(conn, [Lease(project_id, campaign_id, op, NOW)])[0]
        assert isinstance(got, Leased), got
        apply_records(conn, [Record(project_id, got.lease_id, op, "answered", NOW)])
    return (time.perf_counter() - started) / 400 * 1000


async def _through_writer(
    writer: GroupCommitter, project_id: int, campaign_id: int, operators: list[int], callers: int
) -> None:
    waits: list[float] = []
    rounds = 300 if callers == 1 else max(2, 400 // callers)

    async def caller(op: int) -> None:
        for _ in range(rounds):
            asked = time.perf_counter()
            got = await writer.submit(Lease(project_id, campaign_id, op, NOW))
            waits.append(time.perf_counter() - asked)
            assert isinstance(got, Leased), got
            asked = time.perf_counter()
            await writer.submit(Record(project_id, got.lease_id, op, "answered", NOW))
            waits.append(time.perf_counter() - asked)

    started = time.perf_counter()
    await asyncio.gather(*(caller(op) for op in operators[:callers]))
    elapsed = time.perf_counter() - started
    waits.sort()
    p50, p99 = waits[len(waits) // 2] * 1000, waits[int(len(waits) * 0.99)] * 1000
    print(
        f"writer, {callers} callers: {len(waits) / elapsed:,.0f} payloads/s, "
        f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    store = open_store(url, migrate=True)
    project = projects.create_project(store, "bench")
    campaign = campaigns.create_campaign(store, project.id, "bench")
    operators = store.write(lambda conn: _setup(conn, project.id, campaign.id, args.rows))
    if store.engine.dialect.name == "postgresql":
        # What autovacuum does to a table that has just grown by 20,000 rows: without
        # statistics the planner takes the campaign for empty and picks other indexes.
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    per_call = store.write(
        lambda conn: _in_one_transaction(conn, project.id, campaign.id, operators[0])
    )
    print(f"apply, one transaction: {per_call:.3f} ms a call (a lease or an outcome)")

    async def run() -> None:
        writer = GroupCommitter(store.engine, WRITES)
        writer.start()
        try:
            for callers in (1, 50, 200):
                await _through_writer(writer, project.id, campaign.id, operators, callers)
        finally:
            await writer.stop()

    asyncio.run(run())
    store.dispose()


if __name__ == "__main__":
    main()
