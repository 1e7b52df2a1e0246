"""Storage: migrations, the unique rule in the database, and the group-commit writer."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.exc import IntegrityError

from powerdialer.importing import jobs
from powerdialer.storage import Store, migrate, open_store, schema
from powerdialer.storage.payload import Payload, merge_writes
from powerdialer.storage.writer import GroupCommitter, StorageUnavailable
from tests.conftest import Persona, StartApp


def test_the_schema_is_at_the_latest_migration(store: Store) -> None:
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert store.is_migrated()


def test_migrating_twice_changes_nothing(store: Store) -> None:
    store.migrate()
    assert store.is_migrated()


def test_the_migrations_make_exactly_the_tables_the_schema_knows(store: Store) -> None:
    # The PostgreSQL runs empty the schema's tables between tests (conftest.TABLES): a table
    # only a migration knows would keep its rows from one test to the next.
    made = set(inspect(store.engine).get_table_names()) - {"alembic_version"}
    assert made == {table.name for table in schema.metadata.sorted_tables}


def test_every_unique_key_and_index_on_project_data_leads_with_project_id(store: Store) -> None:
    inspector = inspect(store.engine)
    for table in ("api_keys", "campaigns", "campaign_rows"):
        columns = [c["name"] for c in inspector.get_columns(table)]
        assert "project_id" in columns
        for unique in inspector.get_unique_constraints(table):
            assert unique["column_names"][0] == "project_id", (table, unique)
        for index in inspector.get_indexes(table):
            assert index["column_names"][0] == "project_id", (table, index)


def test_the_database_itself_refuses_a_second_row_for_one_number(
    store: Store, owner: Persona
) -> None:
    insert = text(
        "INSERT INTO campaign_rows (project_id, campaign_id, phone_raw, phone_e164, source, "
        "created_at, updated_at) VALUES (:p, :c, 'x', '+380930000000', 'api', :t, :t)"
    )
    params = {"p": owner.project_id, "c": owner.campaign_id, "t": "2026-01-01 00:00:00"}
    store.write(lambda conn: conn.execute(insert, params))
    with pytest.raises(IntegrityError):
        store.write(lambda conn: conn.execute(insert, params))


def test_a_row_cannot_point_at_another_projects_campaign(
    store: Store, owner: Persona, stranger: Persona
) -> None:
    insert = text(
        "INSERT INTO campaign_rows (project_id, campaign_id, phone_raw, phone_e164, source, "
        "created_at, updated_at) VALUES (:p, :c, 'x', '+380930000000', 'api', :t, :t)"
    )
    with pytest.raises(IntegrityError):
        store.write(
            lambda conn: conn.execute(
                insert, {"p": owner.project_id, "c": stranger.campaign_id, "t": "2026-01-01"}
            )
        )


def _pragmas(store: Store) -> tuple[int, int]:
    def read(conn: Connection) -> tuple[int, int]:
        size = conn.exec_driver_sql("PRAGMA page_size").scalar()
        checkpoint = conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        return int(size or 0), int(checkpoint or 0)

    return store.read(read)


def test_a_new_sqlite_database_gets_8_kib_pages_and_an_older_one_keeps_its_own(
    tmp_path: Path,
) -> None:
    fresh = open_store(f"sqlite:///{tmp_path / 'new.db'}")
    # A committing connection checkpoints past 256 MiB of WAL, the backstop behind the
    # server's checkpointer (storage/checkpoint.py).
    assert _pragmas(fresh) == (8192, 32768)
    fresh.dispose()
    older = tmp_path / "older.db"
    with sqlite3.connect(older) as conn:  # made by an earlier release: 4 KiB pages
        conn.execute("PRAGMA page_size=4096")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t (x)")
    store = open_store(f"sqlite:///{older}")
    assert _pragmas(store) == (4096, 65536)
    store.dispose()


@pytest.fixture(autouse=True)
def _no_scratch(store: Store):  # type: ignore[no-untyped-def]
    yield
    store.write(lambda conn: conn.execute(text("DROP TABLE IF EXISTS scratch")))


@dataclass(frozen=True)
class _Value(Payload[int]):
    """A test payload: a number for the scratch table."""

    value: int


def _apply_values(conn: Connection, payloads: Sequence[_Value]) -> list[int | Exception]:
    """Test apply(): store each payload in a scratch table; payload 13 breaks the batch."""
    conn.execute(text("CREATE TABLE IF NOT EXISTS scratch (project_id INTEGER, v INTEGER)"))
    for payload in payloads:
        if payload.value == 13:
            conn.execute(text("SELECT * FROM no_such_table"))
        conn.execute(text("INSERT INTO scratch VALUES (0, :v)"), {"v": payload.value})
    return [payload.value for payload in payloads]


@pytest.mark.anyio
async def test_concurrent_submits_share_transactions(store: Store) -> None:
    commits = 0

    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(store.engine, "commit", count)
    committer = GroupCommitter(store.engine, {_Value: _apply_values})
    committer.start()
    results = await asyncio.gather(*(committer.submit(_Value(i)) for i in range(100, 300)))
    await committer.stop()
    assert results == list(range(100, 300))
    assert commits < 200  # group commit: fewer transactions than requests
    stored = store.read(lambda conn: conn.execute(text("SELECT count(*) FROM scratch")).scalar())
    assert stored == 200


@pytest.mark.anyio
async def test_one_failing_item_does_not_fail_its_batch_neighbours(store: Store) -> None:
    committer = GroupCommitter(store.engine, {_Value: _apply_values})
    committer.start()
    results = await asyncio.gather(
        *(committer.submit(_Value(i)) for i in (11, 12, 13, 14)), return_exceptions=True
    )
    await committer.stop()
    assert results[:2] == [11, 12]
    assert results[3] == 14
    assert isinstance(results[2], StorageUnavailable)
    values = store.read(
        lambda conn: [r[0] for r in conn.execute(text("SELECT v FROM scratch ORDER BY v"))]
    )
    assert values == [11, 12, 14]


@pytest.mark.anyio
async def test_a_stopped_writer_refuses_new_work(store: Store) -> None:
    committer = GroupCommitter(store.engine, {_Value: _apply_values})
    committer.start()
    await committer.stop()
    with pytest.raises(StorageUnavailable):
        await committer.submit(_Value(1))


class _Heavy(_Value):
    """A payload that counts as many rows."""

    weight = 150


def _apply_heavy(conn: Connection, payloads: Sequence[_Value]) -> list[int | Exception]:
    return [len(payloads)] * len(payloads)


@pytest.mark.anyio
async def test_a_transaction_is_bounded_by_rows_not_by_requests(store: Store) -> None:
    committer = GroupCommitter(store.engine, {_Heavy: _apply_heavy}, max_batch=300)
    committer.start()
    sizes = await asyncio.gather(*(committer.submit(_Heavy(i)) for i in range(10)))
    await committer.stop()
    assert max(sizes) <= 2  # 150 rows each: at most two per 300-row transaction


# --- background payloads (an import's rows) ---------------------------------------------------


@dataclass(frozen=True)
class _Live(Payload[tuple[int, str]]):
    """A foreground payload; ``gate``: its apply waits for it (and sets ``started`` first)."""

    name: str
    gate: threading.Event | None = None
    started: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class _Import(_Live):
    background: ClassVar[bool] = True


@dataclass(frozen=True)
class _Progress(_Live):
    """Like an import job's progress update: nobody waits on it, nor on its fsync."""

    patient: ClassVar[bool] = True
    durable: ClassVar[bool] = False


class _Probe:
    """The apply function of both: records the order payloads are applied in, and answers
    ``(commits before this one, the durability setting the transaction runs with)``."""

    def __init__(self, store: Store) -> None:
        self.order: list[str] = []
        self.commits = 0
        event.listen(store.engine, "commit", self._committed)

    def _committed(self, _conn: object) -> None:
        self.commits += 1

    def __call__(self, conn: Connection, payloads: Sequence[_Live]) -> list[tuple[int, str]]:
        answers = []
        for payload in payloads:
            payload.started.set()
            if payload.gate is not None:
                assert payload.gate.wait(10)
            self.order.append(payload.name)
            if conn.dialect.name == "sqlite":
                level = int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())
                mode = {1: "normal", 2: "full"}[level]
            else:
                mode = str(conn.exec_driver_sql("SHOW synchronous_commit").scalar_one())
            answers.append((self.commits, mode))
        return answers


def _probing(store: Store, max_background: int = 50_000) -> tuple[GroupCommitter, _Probe]:
    probe = _Probe(store)
    committer = GroupCommitter(
        store.engine,
        {_Live: probe, _Import: probe, _Progress: probe},
        max_background=max_background,
    )
    return committer, probe


async def _blocked(payload: _Live) -> None:
    """Wait until the writer is applying ``payload`` (and so not taking from its queue)."""
    await asyncio.to_thread(payload.started.wait, 10)


async def _held(
    store: Store, max_background: int = 50_000
) -> tuple[GroupCommitter, _Probe, threading.Event, asyncio.Future[Any]]:
    """A started writer held on its first payload (a live one, ``"first"``) until the gate
    is set: what is queued meanwhile is taken together after it."""
    committer, probe = _probing(store, max_background)
    committer.start()
    gate = threading.Event()
    blocker = _Live("first", gate)
    first = committer.enqueue(blocker)
    await _blocked(blocker)
    return committer, probe, gate, first


@pytest.mark.anyio
async def test_queued_background_writes_share_one_transaction_without_their_own_fsync(
    store: Store,
) -> None:
    committer, probe, gate, first = await _held(store)
    imports = [committer.enqueue(_Import(f"import-{i}")) for i in range(3)]
    gate.set()
    live = await first
    stored = await asyncio.gather(*imports)
    after = await committer.submit(_Live("later"))
    await committer.stop()
    # On SQLite no commit fsyncs by itself: the live ones are answered after the WAL
    # flusher's sync (tests/test_walsync.py); on PostgreSQL live commits flush, imports not.
    relaxed = "normal" if store.engine.dialect.name == "sqlite" else "off"
    strict = "normal" if store.engine.dialect.name == "sqlite" else "on"
    assert live[1] == strict
    assert len({commits for commits, _ in stored}) == 1  # one transaction for the three
    assert stored[0][0] > live[0]
    assert {mode for _, mode in stored} == {relaxed}
    assert after[1] == strict  # PostgreSQL: the connection is back to flushing every commit
    assert probe.order == ["first", "import-0", "import-1", "import-2", "later"]


@pytest.mark.anyio
async def test_a_live_write_waits_for_one_background_write_at_most(store: Store) -> None:
    committer, probe = _probing(store)
    committer.start()
    gate = threading.Event()
    head = _Import("import-0", gate)
    imports = [committer.enqueue(head)]
    await _blocked(head)
    # Queued while import-0 is being applied: two more imports, then a live row.
    imports += [committer.enqueue(_Import(f"import-{i}")) for i in (1, 2)]
    live = committer.enqueue(_Live("live"))
    gate.set()
    answers = await asyncio.gather(*imports, live)
    await committer.stop()
    (zero, one, two, row) = (commits for commits, _ in answers)
    assert zero < row  # import-0 committed alone: the live row was not kept waiting for more
    assert row < one == two  # the live row's transaction carries no import write
    assert probe.order == ["import-0", "live", "import-1", "import-2"]  # files keep their order
    strict = "normal" if store.engine.dialect.name == "sqlite" else "on"  # SQLite: see above
    assert answers[3][1] == strict


@pytest.mark.anyio
async def test_a_live_write_that_arrives_mid_transaction_ends_it(store: Store) -> None:
    committer, probe, gate, first = await _held(store)
    hold = threading.Event()
    slow = _Import("import-0", hold)
    imports = [committer.enqueue(slow)]
    imports += [committer.enqueue(_Import(f"import-{i}")) for i in (1, 2)]
    gate.set()
    await first
    await _blocked(slow)  # the three imports are one transaction now, at the first
    live = committer.enqueue(_Live("live"))
    hold.set()
    answers = await asyncio.gather(*imports, live)
    await committer.stop()
    (zero, one, two, row) = (commits for commits, _ in answers)
    assert zero < row < one == two
    assert probe.order == ["first", "import-0", "live", "import-1", "import-2"]


@pytest.mark.anyio
async def test_a_live_write_queued_behind_many_import_writes_is_not_kept_behind_them(
    store: Store,
) -> None:
    committer, probe, gate, first = await _held(store, max_background=2)  # imports a commit
    imports = [committer.enqueue(_Import(f"import-{i}")) for i in range(6)]
    live = committer.enqueue(_Live("live"))
    gate.set()
    await first
    answers = await asyncio.gather(*imports, live)
    await committer.stop()
    assert answers[-1][0] < answers[0][0]  # the next transaction: the live row alone
    assert probe.order == ["first", "live", *(f"import-{i}" for i in range(6))]
    sizes = Counter(commits for commits, _ in answers[:-1])
    assert sorted(sizes.values()) == [2, 2, 2]  # then the imports, two by two


@pytest.mark.anyio
async def test_a_steady_stream_of_live_writes_does_not_starve_an_import(store: Store) -> None:
    committer, probe, gate, first = await _held(store)
    hold = threading.Event()
    imported = committer.enqueue(_Import("import"))
    slow = _Live("live-a", hold)
    lives = [committer.enqueue(slow)]
    gate.set()
    await first
    await _blocked(slow)  # live-a's transaction, which leaves the import for later...
    lives.append(committer.enqueue(_Live("live-b")))  # ...and live-b is already waiting
    hold.set()
    (a, _), (b, _), (done, _) = await asyncio.gather(*lives, imported)
    await committer.stop()
    assert a < b == done  # the import went along with live-b rather than wait for a lull
    assert probe.order == ["first", "live-a", "live-b", "import"]


@pytest.mark.anyio
async def test_a_progress_update_neither_cuts_an_import_transaction_short_nor_fsyncs_it(
    store: Store,
) -> None:
    committer, probe, gate, first = await _held(store)
    writes = [committer.enqueue(_Import("import-0")), committer.enqueue(_Progress("progress"))]
    writes += [committer.enqueue(_Import(f"import-{i}")) for i in (1, 2)]
    gate.set()
    await first
    answers = await asyncio.gather(*writes)
    await committer.stop()
    assert len({commits for commits, _ in answers}) == 1  # all four in one transaction
    relaxed = "normal" if store.engine.dialect.name == "sqlite" else "off"
    assert {mode for _, mode in answers} == {relaxed}
    assert probe.order == ["first", "progress", "import-0", "import-1", "import-2"]


def test_every_payload_has_its_apply_function_in_the_apps_writer() -> None:
    from powerdialer.web.app import WRITES

    def kinds(base: type[Payload[Any]]) -> set[type[Payload[Any]]]:
        found = set()
        for kind in base.__subclasses__():
            found |= {kind, *kinds(kind)}
        return found

    # As the modules name them: @dataclass(slots=True) leaves the class it replaced behind.
    ours = {
        kind
        for kind in kinds(Payload)
        if kind.__module__.startswith("powerdialer.")
        and getattr(sys.modules[kind.__module__], kind.__qualname__, None) is kind
    }
    assert ours == set(WRITES), "a payload without an apply function, or one not a Payload"


def test_a_payload_class_claimed_by_two_packages_is_refused() -> None:
    with pytest.raises(ValueError, match="_Value has two apply functions"):
        merge_writes({_Value: _apply_values}, {_Value: _apply_heavy})


def test_only_a_change_of_status_makes_an_import_jobs_update_durable() -> None:
    progress = jobs.JobUpdate(1, 2, {"total": 10})
    end = jobs.JobUpdate(1, 2, {"total": 10, "status": "done"})
    assert (progress.durable, end.durable) == (False, True)
    assert progress.patient
    assert end.patient


@pytest.mark.anyio
async def test_the_server_freezes_its_long_lived_objects_and_thaws_them_on_shutdown(
    started_app: StartApp,
) -> None:
    import gc

    async with started_app(freeze_gc=True):
        assert gc.get_freeze_count() > 10_000  # routes, templates, phone metadata…
    assert gc.get_freeze_count() == 0
