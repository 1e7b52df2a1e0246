"""SQL for many rows at once under a campaign's duplicate policy (``rows.write``): bulk
requests, import chunks, and the compatible endpoint's rows in campaigns whose policy is not
"skip".

Spoken to the DBAPI driver like ``rows_intake.py`` and for the same reason (``dbapi``):
SQLAlchemy Core took ~3x longer for a 10,000-row write, time spent in the writer thread
against the event loop (benchmarks/results/bulk.md).  SQLite gets multi-row VALUES in
1,024-row chunks; PostgreSQL one ``unnest`` of column arrays per write.  Every statement is
safe when several processes share one PostgreSQL database: the duplicate rule is the unique
key ``(project_id, campaign_id, phone_e164, duplicate_no)`` with ``ON CONFLICT``, never a
check-then-insert, and writers of one campaign take turns (``lock_campaigns``).

A row is ``(fio, phone_raw, phone_e164, external_id, fields)`` followed by the dialer's six
(``Dialer``: priority, call_next, tz, consent_basis, consent_at, consent_source); ``fields``
(a dict of strings or ``None``) is stored as a JSON object in ``campaign_rows.extra``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection

from powerdialer.storage.dbapi import PARAM, chunk_sizes, cursor, placeholders, stamp

Dialer = tuple[int, bool, str | None, str | None, dt.datetime | None, str | None]
RowValues = tuple[str | None, str, str, str | None, dict[str, str] | None, Dialer]
NO_DIALER: Dialer = (0, False, None, None, None, None)

_COLUMNS = (
    "project_id",
    "campaign_id",
    "source",
    "duplicate_no",
    "fio",
    "phone_raw",
    "phone_e164",
    "external_id",
    "extra",
    "created_at",
    "updated_at",
    "next_attempt_at",  # due from the moment it is stored (docs/dialer.md)
    "priority",
    "call_next",
    "tz",
    "consent_basis",
    "consent_at",
    "consent_source",
)
_CONFLICT = "ON CONFLICT (project_id, campaign_id, phone_e164, duplicate_no)"
# Under "update" a number's values are merged into its first row: what the new row sends
# replaces, what it leaves out is kept, custom fields are merged key by key.
_MERGE_EXTRA = {
    "sqlite": "json_patch(campaign_rows.extra, excluded.extra)",
    "postgresql": "(campaign_rows.extra::jsonb || excluded.extra::jsonb)::text",
}
# Rows numbered for "keep" can lose a race to another process between reading the highest
# duplicate_no and inserting; each retry sees the winner's committed row.
_KEEP_ATTEMPTS = 20


def extra_json(fields: dict[str, str] | None) -> str | None:
    """Custom fields as ``campaign_rows.extra`` stores them (``rows.validate`` measures the
    same bytes: pinned by tests/test_text.py)."""
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS).decode() if fields else None


@functools.cache
def _insert_sql(dialect: str, count: int, tail: str) -> str:
    one = f"({placeholders(dialect, len(_COLUMNS))})"
    return (
        f"INSERT INTO campaign_rows ({', '.join(_COLUMNS)}) "  # noqa: S608 (placeholders only)
        f"VALUES {', '.join([one] * count)} {tail}"
    )


# PostgreSQL: one array per column, so a statement has 11 parameters whatever its rows (a
# 1,000-row VALUES list of 11,000 untyped parameters costs PostgreSQL 3-6x more to parse and
# plan: benchmarks/results/bulk.md).  WITH ORDINALITY keeps the rows, and so the ids, in order.
_UNNEST_SQL = (
    f"INSERT INTO campaign_rows ({', '.join(_COLUMNS)}) "  # noqa: S608 (no values in it)
    "SELECT %s, %s, %s, t.d, t.f, t.r, t.e, t.x, t.j, %s, %s, %s, "
    "t.p, t.c, t.z, t.b, t.a, t.s FROM unnest("
    "%s::int[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[], "
    "%s::int[], %s::bool[], %s::text[], %s::text[], %s::timestamptz[], %s::text[]"
    ") WITH ORDINALITY AS t(d, f, r, e, x, j, p, c, z, b, a, s, n) ORDER BY t.n "
)


@functools.cache
def _upsert_tail(dialect: str) -> str:
    inserted = "xmax = 0" if dialect == "postgresql" else "NULL"
    return (
        f"{_CONFLICT} DO UPDATE SET "
        "fio = COALESCE(excluded.fio, campaign_rows.fio), "
        "external_id = COALESCE(excluded.external_id, campaign_rows.external_id), "
        "extra = CASE WHEN excluded.extra IS NULL THEN campaign_rows.extra "
        "WHEN campaign_rows.extra IS NULL THEN excluded.extra "
        f"ELSE {_MERGE_EXTRA[dialect]} END, "
        # What the row sends replaces, what it leaves out is kept; priority and call_next
        # always have a value here, so those sent are set afterwards (set_dialer_fields).
        "tz = COALESCE(excluded.tz, campaign_rows.tz), "
        "consent_basis = COALESCE(excluded.consent_basis, campaign_rows.consent_basis), "
        "consent_at = COALESCE(excluded.consent_at, campaign_rows.consent_at), "
        "consent_source = COALESCE(excluded.consent_source, campaign_rows.consent_source), "
        "updated_at = excluded.updated_at "
        f"RETURNING id, phone_e164, {inserted}"
    )


def _insert(
    conn: Connection,
    head: tuple[int, int, str],
    rows: Sequence[tuple[int, RowValues]],
    now: dt.datetime,
    tail: str,
) -> list[tuple[Any, ...]]:
    """Insert ``(duplicate_no, row)`` pairs; what RETURNING gave back."""
    dialect = conn.dialect.name
    when = stamp(dialect, now)
    cur = cursor(conn)
    if dialect == "postgresql":
        columns: list[list[Any]] = [[] for _ in range(12)]
        for number, (fio, raw, e164, external_id, fields, dialer) in rows:
            values = (number, fio, raw, e164, external_id, extra_json(fields), *dialer)
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        cur.execute(_UNNEST_SQL + tail, [*head, when, when, when, *columns])
        return list(cur.fetchall())
    # SQLite: multi-row VALUES in power-of-two chunks (under its 32,766-variable limit, and
    # few statement shapes so the statement cache stays warm).
    found: list[tuple[Any, ...]] = []
    start = 0
    for size in chunk_sizes(len(rows)):
        params: list[Any] = []
        for number, (fio, raw, e164, external_id, fields, dialer) in rows[start : start + size]:
            params.extend(head)
            params.extend(
                (number, fio, raw, e164, external_id, extra_json(fields), when, when, when)
            )
            priority, call_next, tz, basis, consent_at, consent_source = dialer
            consent = None if consent_at is None else stamp(dialect, consent_at)
            params.extend((priority, call_next, tz, basis, consent, consent_source))
        cur.execute(_insert_sql(dialect, size, tail), params)
        found.extend(cur.fetchall())
        start += size
    return found


# The campaign's rows of some numbers: the first row's id, or the highest duplicate_no.
_FIRST_IDS = (
    "SELECT phone_e164, id FROM campaign_rows WHERE project_id = {p} AND campaign_id = {p} "
    "AND duplicate_no = 0 AND phone_e164 IN ({phones})"
)
_TOP_NUMBERS = (
    "SELECT phone_e164, MAX(duplicate_no) FROM campaign_rows WHERE project_id = {p} "
    "AND campaign_id = {p} AND phone_e164 IN ({phones}) GROUP BY phone_e164"
)


@functools.cache
def _by_phones_sql(template: str, dialect: str, count: int) -> str:
    return template.format(p=PARAM[dialect], phones=placeholders(dialect, count))


def _select_by_phones(
    conn: Connection, project_id: int, campaign_id: int, phones: Sequence[str], template: str
) -> dict[str, int]:
    """``{phone_e164: value}`` from ``template``, with the numbers in power-of-two chunks."""
    dialect = conn.dialect.name
    cur = cursor(conn)
    found: dict[str, int] = {}
    unique = sorted(set(phones))
    start = 0
    for size in chunk_sizes(len(unique)):
        cur.execute(
            _by_phones_sql(template, dialect, size),
            [project_id, campaign_id, *unique[start : start + size]],
        )
        found.update(cur.fetchall())
        start += size
    return found


def lock_campaigns(conn: Connection, campaign_ids: set[int]) -> None:
    """Make writers of the same campaign in other processes take turns, until this
    transaction ends.

    On PostgreSQL two transactions inserting overlapping numbers in different orders wait on
    each other's index entries: a deadlock (and "keep" would number the same duplicate
    twice).  Locking the campaigns' rows first, in id order, serialises them instead.  FOR NO
    KEY UPDATE does not conflict with the KEY SHARE lock a plain insert's foreign key check
    takes, so the compatible endpoint's "skip" path never waits on it; an archive or rename
    (an UPDATE) waits for the write to finish.  SQLite: the transaction already holds the
    database's only write lock."""
    if conn.dialect.name != "postgresql" or not campaign_ids:
        return
    ids = sorted(campaign_ids)
    cur = cursor(conn)
    cur.execute(
        "SELECT id FROM campaigns "  # noqa: S608 (placeholders only)
        f"WHERE id IN ({placeholders('postgresql', len(ids))}) ORDER BY id FOR NO KEY UPDATE",
        ids,
    )
    cur.fetchall()


def existing_ids(
    conn: Connection, project_id: int, campaign_id: int, phones: Sequence[str]
) -> dict[str, int]:
    """``{phone_e164: id}`` of the first row (duplicate_no 0) of each number present."""
    return _select_by_phones(conn, project_id, campaign_id, phones, _FIRST_IDS)


def insert_new(
    conn: Connection,
    head: tuple[int, int, str],
    rows: Sequence[RowValues],
    now: dt.datetime,
) -> dict[str, int]:
    """Policy "skip": insert numbers not yet in the campaign (``rows`` hold distinct numbers);
    ``{phone_e164: id}`` of the rows inserted.  ``head`` is ``(project_id, campaign_id,
    source)``."""
    if not rows:
        return {}
    tail = f"{_CONFLICT} DO NOTHING RETURNING phone_e164, id"
    return dict(_insert(conn, head, [(0, row) for row in rows], now, tail))


def upsert(
    conn: Connection,
    head: tuple[int, int, str],
    rows: Sequence[RowValues],
    now: dt.datetime,
) -> dict[str, tuple[int, bool]]:
    """Policy "update": insert, or merge into the number's first row (``rows`` hold distinct
    numbers: PostgreSQL refuses to update one row twice in a statement).  ``{phone_e164:
    (id, inserted)}``."""
    if not rows:
        return {}
    dialect = conn.dialect.name
    before: dict[str, int] = {}
    if dialect != "postgresql":
        # SQLite has one writer at a time and this transaction holds the write lock (BEGIN
        # IMMEDIATE), so what is present now is exactly what the upsert will update.
        before = existing_ids(conn, head[0], head[1], [row[2] for row in rows])
    found = _insert(conn, head, [(0, row) for row in rows], now, _upsert_tail(dialect))
    if dialect == "postgresql":
        return {e164: (row_id, bool(fresh)) for row_id, e164, fresh in found}
    return {e164: (row_id, e164 not in before) for row_id, e164, _ in found}


def insert_kept(
    conn: Connection,
    head: tuple[int, int, str],
    rows: Sequence[RowValues],
    now: dt.datetime,
) -> list[int]:
    """Policy "keep": every row is inserted; a number already present (or repeated in
    ``rows``) gets the next ``duplicate_no``.  The ids, in ``rows``' order."""
    ids: list[int | None] = [None] * len(rows)
    pending = list(range(len(rows)))
    tail = f"{_CONFLICT} DO NOTHING RETURNING phone_e164, duplicate_no, id"
    for _attempt in range(_KEEP_ATTEMPTS):
        phones = [rows[i][2] for i in pending]
        top = _select_by_phones(conn, head[0], head[1], phones, _TOP_NUMBERS)
        numbered: list[tuple[int, RowValues]] = []
        for i in pending:
            number = top.get(rows[i][2], -1) + 1
            top[rows[i][2]] = number
            numbered.append((number, rows[i]))
        returned = {
            (e164, n): row_id for e164, n, row_id in _insert(conn, head, numbered, now, tail)
        }
        still = []
        for i, (number, row) in zip(pending, numbered, strict=True):
            row_id = returned.get((row[2], number))
            if row_id is None:
                still.append(i)  # another process took this number meanwhile
            else:
                ids[i] = row_id
        pending = still
        if not pending:
            return [row_id for row_id in ids if row_id is not None]  # all are set
    raise RuntimeError(f"could not number {len(pending)} duplicate rows: too much contention")
