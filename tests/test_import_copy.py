"""An import's "skip" rows as stored by ``storage.rows_import`` (on PostgreSQL through COPY into a
staging table and one merge), and the writer's lane for background writes on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import pytest
from sqlalchemy import Connection, text

from powerdialer.rows.models import ImportRow
from powerdialer.storage import Store, rows_import
from powerdialer.storage.payload import Payload
from powerdialer.storage.writer import GroupCommitter
from tests.conftest import Persona, StartApp

NOW = dt.datetime(2026, 12, 2, 9, 30, tzinfo=dt.UTC)

# Text that COPY's format must escape: tab, newline, carriage return, backslash, quotes, the
# \N that means NULL, and Cyrillic; an empty string stays an empty string, None stays NULL.
_ODD = 'Петренко\tІван\n"О\'Брайен"\\N \\ кінець\r'


def _stored(conn: Connection, persona: Persona) -> list[tuple[object, ...]]:
    return [
        tuple(r)
        for r in conn.execute(
            text(
                "SELECT fio, phone_raw, phone_e164, external_id, extra, source, duplicate_no, "
                "status, next_attempt_at IS NOT NULL FROM campaign_rows "
                "WHERE project_id = :p AND campaign_id = :c ORDER BY id"
            ),
            {"p": persona.project_id, "c": persona.campaign_id},
        )
    ]


def test_skipping_insert_keeps_the_files_first_row_of_a_number_and_its_text_exactly(
    store: Store, owner: Persona
) -> None:
    head = (owner.project_id, owner.campaign_id, "import")
    first: list[ImportRow] = [
        (_ODD, "0931111111", "+380931111111", None, '{"note": "a\\tb\\\\c"}'),
        ("Друга", "0932222222", "+380932222222", "", None),
        ("Повтор", "380931111111", "+380931111111", "x-1", None),  # the same number: skipped
    ]
    second: list[ImportRow] = [
        ("Третя", "0933333333", "+380933333333", "crm\\7", '{"city": "Київ"}'),
        ("Вже є", "0932222222", "+380932222222", None, None),  # stored by the first write
    ]
    with store.engine.connect() as conn, conn.begin():
        # Two writes in one transaction, as the writer puts several chunks in one.
        assert rows_import.insert_skipping(conn, head, first, NOW) == 2
        assert rows_import.insert_skipping(conn, head, second, NOW) == 1
        assert rows_import.insert_skipping(conn, head, [], NOW) == 0
    with store.engine.connect() as conn:
        rows = _stored(conn, owner)
    assert [r[:5] for r in rows] == [
        (_ODD, "0931111111", "+380931111111", None, '{"note": "a\\tb\\\\c"}'),
        ("Друга", "0932222222", "+380932222222", "", None),
        ("Третя", "0933333333", "+380933333333", "crm\\7", '{"city": "Київ"}'),
    ]
    assert {r[5:] for r in rows} == {("import", 0, "pending", True)}


def test_a_rolled_back_write_leaves_nothing_behind_for_the_next(
    store: Store, owner: Persona
) -> None:
    head = (owner.project_id, owner.campaign_id, "import")
    with store.engine.connect() as conn:
        transaction = conn.begin()
        rows_import.insert_skipping(conn, head, [("A", "1", "+380931", None, None)], NOW)
        transaction.rollback()  # the writer's transaction failed
        with conn.begin():
            row: ImportRow = ("B", "2", "+380932", None, None)
            assert rows_import.insert_skipping(conn, head, [row], NOW) == 1
        assert [r[2] for r in _stored(conn, owner)] == ["+380932"]


@dataclass(frozen=True)
class _Live(Payload[str]):
    name: str
    gate: threading.Event | None = None
    started: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class _Import(_Live):
    background: ClassVar[bool] = True


@dataclass(frozen=True)
class _Progress(_Live):
    patient: ClassVar[bool] = True


class _Order:
    def __init__(self) -> None:
        self.applied: list[str] = []

    def __call__(self, conn: Connection, payloads: Sequence[_Live]) -> list[str]:
        for payload in payloads:
            payload.started.set()
            if payload.gate is not None:
                assert payload.gate.wait(10)
            self.applied.append(payload.name)
        return [thread_name() for _ in payloads]


def thread_name() -> str:
    return threading.current_thread().name


@pytest.mark.anyio
async def test_with_a_background_lane_a_live_write_never_waits_for_an_import_write(
    store: Store,
) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("the lane is PostgreSQL's: SQLite has one write lock, so one writer")
    order = _Order()
    committer = GroupCommitter(
        store.engine, {_Live: order, _Import: order, _Progress: order}, background_lane=True
    )
    committer.start()
    gate = threading.Event()
    held = _Import("import-0", gate)
    imports = [committer.enqueue(held)]
    await asyncio.to_thread(held.started.wait, 10)
    imports += [committer.enqueue(_Import("import-1")), committer.enqueue(_Progress("progress"))]
    # import-0 is still being applied: the live row is stored and answered meanwhile.
    live = await asyncio.wait_for(committer.submit(_Live("live")), 10)
    assert order.applied == ["live"]
    gate.set()
    lane = await asyncio.gather(*imports)
    await committer.stop()
    # The lane keeps the imports' order (a progress update rides along, as in one writer).
    assert [name for name in order.applied if name.startswith("import")] == ["import-0", "import-1"]
    assert order.applied[:2] == ["live", "import-0"]
    assert len(set(lane)) == 1
    assert live not in lane  # each lane has its own thread (and connection)


@pytest.mark.anyio
async def test_the_app_writes_imports_in_their_own_lane_on_postgresql_only(
    started_app: StartApp, store: Store
) -> None:
    async with started_app() as app:
        has_lane = app.services.writer._lane is not None
    assert has_lane == (store.engine.dialect.name == "postgresql")
