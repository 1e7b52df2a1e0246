"""SQL for exporting a campaign's rows (``rows.exporting``): pages of plain values (times as
ISO 8601 text made by the database), and the custom field names, found in the database's own
JSON code.  The filters are the listing's (``rows_read.conditions``)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, String, cast, func, select, true
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError

from powerdialer.rows.models import RowFilter
from powerdialer.storage.engine import CACHE_KIB
from powerdialer.storage.rows_read import conditions, keyset_column
from powerdialer.storage.schema import campaign_rows

_c = campaign_rows.c


def _utc_text(column: Any, dialect: str) -> ColumnElement[str]:
    """A UTC time as ISO 8601 text made by the database (``2026-01-31T09:00:00.000000Z``):
    an export formats millions of them, and Python's datetime round trip would be most of
    its cost."""
    if dialect == "sqlite":
        # SQLAlchemy (and the hot path) store "YYYY-MM-DD HH:MM:SS.ffffff", in UTC.
        return func.substr(column, 1, 10, type_=String) + "T" + func.substr(column, 12) + "Z"
    return func.to_char(func.timezone("UTC", column), 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')


EXPORT_CACHE_KIB = 2048  # SQLite's own default


def export_page(
    conn: Connection,
    project_id: int,
    campaign_id: int,
    f: RowFilter,
    *,
    after_id: int,
    limit: int,
) -> Sequence[Row[Any]]:
    """Like ``rows_read.page`` but as rows of plain values, for an export: id, fio, phone_raw,
    phone_e164, source, status, attempts, external_id, created_at and updated_at (ISO 8601
    text), priority, call_next, tz, consent_basis, consent_at (text), consent_source,
    final_state, next_attempt_at (text), extra (the JSON text)."""
    dialect = conn.dialect.name
    key = keyset_column(conn, f)
    query = (
        select(
            _c.id,
            _c.fio,
            _c.phone_raw,
            _c.phone_e164,
            _c.source,
            _c.status,
            _c.attempts,
            _c.external_id,
            _utc_text(_c.created_at, dialect),
            _utc_text(_c.updated_at, dialect),
            _c.priority,
            _c.call_next,
            _c.tz,
            _c.consent_basis,
            _utc_text(_c.consent_at, dialect),
            _c.consent_source,
            _c.final_state,
            _utc_text(_c.next_attempt_at, dialect),
            _c.extra,
        )
        .where(*conditions(conn, project_id, campaign_id, f), key > after_id)
        .order_by(key)
        .limit(limit)
    )
    with small_cache(conn):
        return conn.execute(query).all()


@contextlib.contextmanager
def small_cache(conn: Connection) -> Iterator[None]:
    """SQLite: a small page cache for one scan of a whole campaign (an export's pages, its
    field names).  With the connection's usual cache (64 MiB) every pooled connection an
    export passes through keeps up to that much of the campaign, and as many exports at
    once as there are connections hold it all in memory (a 60,000-row campaign: ~100 MiB of
    the server's RSS for 30 exports, measured).  The usual size comes back after, without
    refilling."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"PRAGMA cache_size=-{EXPORT_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{CACHE_KIB}")


def field_names(
    conn: Connection, project_id: int, campaign_id: int, f: RowFilter, *, limit: int
) -> list[str] | None:
    """The distinct custom field names of the matching rows (at most ``limit``), scanned in
    the database's own JSON code: one pass over the rows, no row data sent to Python.
    ``None`` when they cannot be told (a malformed ``extra`` on PostgreSQL)."""
    where = [*conditions(conn, project_id, campaign_id, f), _c.extra.is_not(None)]
    if conn.dialect.name == "sqlite":
        each = func.json_each(_c.extra).table_valued("key", joins_implicitly=True)
        # json_valid/json_type guard json_each, which raises on malformed JSON.
        query = (
            select(each.c.key)
            .distinct()
            .select_from(campaign_rows)
            .join(each, true())
            .where(*where, func.json_valid(_c.extra) == 1, func.json_type(_c.extra) == "object")
        )
        with small_cache(conn):
            names = conn.execute(query.limit(limit)).scalars().all()
    else:
        keys = func.jsonb_object_keys(cast(_c.extra, JSONB))
        query = select(keys).distinct().where(*where, func.left(_c.extra, 1) == "{")
        # PostgreSQL 15 has no IS JSON to skip a malformed value, and the cast raises on
        # one; a savepoint keeps the caller's transaction usable.
        try:
            with conn.begin_nested():
                names = conn.execute(query.limit(limit)).scalars().all()
        except DBAPIError:
            return None
    return sorted((str(k) for k in names), key=str.casefold)
