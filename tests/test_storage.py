"""Storage: migrations, the unique rule in the database, and the group-commit writer."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest
from sqlalchemy import Connection, event, inspect, text
from sqlalchemy.exc import IntegrityError

from powerdialer.settings import Settings
from powerdialer.storage import Store, migrate
from powerdialer.storage.writer import GroupCommitter, StorageUnavailable
from tests.conftest import Persona


def test_the_schema_is_at_the_latest_migration(store: Store) -> None:
    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert store.is_migrated()


def test_migrating_twice_changes_nothing(store: Store) -> None:
    store.migrate()
    assert store.is_migrated()


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


@pytest.fixture(autouse=True)
def _no_scratch(store: Store):  # type: ignore[no-untyped-def]
    yield
    store.write(lambda conn: conn.execute(text("DROP TABLE IF EXISTS scratch")))


def _apply_values(conn: Connection, payloads: Sequence[int]) -> list[int | Exception]:
    """Test apply(): store each payload in a scratch table; payload 13 breaks the batch."""
    conn.execute(text("CREATE TABLE IF NOT EXISTS scratch (project_id INTEGER, v INTEGER)"))
    for value in payloads:
        if value == 13:
            conn.execute(text("SELECT * FROM no_such_table"))
        conn.execute(text("INSERT INTO scratch VALUES (0, :v)"), {"v": value})
    return list(payloads)


@pytest.mark.anyio
async def test_concurrent_submits_share_transactions(store: Store) -> None:
    commits = 0

    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(store.engine, "commit", count)
    committer: GroupCommitter[int, int] = GroupCommitter(store.engine, {int: _apply_values})
    committer.start()
    results = await asyncio.gather(*(committer.submit(i) for i in range(100, 300)))
    await committer.stop()
    assert results == list(range(100, 300))
    assert commits < 200  # group commit: fewer transactions than requests
    stored = store.read(lambda conn: conn.execute(text("SELECT count(*) FROM scratch")).scalar())
    assert stored == 200


@pytest.mark.anyio
async def test_one_failing_item_does_not_fail_its_batch_neighbours(store: Store) -> None:
    committer: GroupCommitter[int, int] = GroupCommitter(store.engine, {int: _apply_values})
    committer.start()
    results = await asyncio.gather(
        *(committer.submit(i) for i in (11, 12, 13, 14)), return_exceptions=True
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
    committer: GroupCommitter[int, int] = GroupCommitter(store.engine, {int: _apply_values})
    committer.start()
    await committer.stop()
    with pytest.raises(StorageUnavailable):
        await committer.submit(1)


class _Heavy(int):
    """A payload that counts as many rows."""

    weight = 150


def _apply_heavy(conn: Connection, payloads: Sequence[int]) -> list[int | Exception]:
    return [len(payloads)] * len(payloads)


@pytest.mark.anyio
async def test_a_transaction_is_bounded_by_rows_not_by_requests(store: Store) -> None:
    committer: GroupCommitter[int, int] = GroupCommitter(
        store.engine, {_Heavy: _apply_heavy}, max_batch=300
    )
    committer.start()
    sizes = await asyncio.gather(*(committer.submit(_Heavy(i)) for i in range(10)))
    await committer.stop()
    assert max(sizes) <= 2  # 150 rows each: at most two per 300-row transaction


@pytest.mark.anyio
async def test_the_server_freezes_its_long_lived_objects_and_thaws_them_on_shutdown(
    settings: Settings,
) -> None:
    import gc

    from powerdialer.web.app import create_app

    app = create_app(settings, freeze_gc=True)
    await app.startup()
    try:
        assert gc.get_freeze_count() > 10_000  # routes, templates, phone metadata…
    finally:
        await app.shutdown()
    assert gc.get_freeze_count() == 0
