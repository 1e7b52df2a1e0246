"""SQL for reading and deleting a campaign's rows (``rows.listing``): filtered keyset pages,
one row, deletion in batches; and the filter's conditions, which an export's SQL
(``rows_export``) shares.

Every statement is scoped by ``(project_id, campaign_id)``, the leading columns of every index
on ``campaign_rows``, so another project's rows can never match and each query is an index
range scan.  Pages are keyset-paginated on ``id`` (never OFFSET): page 10,000 costs what page
1 costs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, delete, func, select

from powerdialer.rows.models import RowDialer, RowFilter, RowRecord
from powerdialer.storage import sqlite_functions
from powerdialer.storage.schema import campaign_rows

MAX_E164 = 16  # '+' and at most 15 digits
_c = campaign_rows.c


_COLUMNS = (
    _c.id,
    _c.campaign_id,
    _c.fio,
    _c.phone_raw,
    _c.phone_e164,
    _c.source,
    _c.status,
    _c.attempts,
    _c.external_id,
    _c.created_at,
    _c.updated_at,
    _c.extra,
    _c.priority,
    _c.call_next,
    _c.tz,
    _c.consent_basis,
    _c.consent_at,
    _c.consent_source,
    _c.final_state,
    _c.next_attempt_at,
)


def stored_fields(extra: str | None) -> dict[str, str]:
    """The ``extra`` column (a JSON object of strings) as a dict; anything else is empty
    rather than an error, so one odd row cannot break a listing or an export."""
    if not extra:
        return {}
    try:
        value = orjson.loads(extra)
    except orjson.JSONDecodeError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}


def _record(r: Any) -> RowRecord:
    return RowRecord(
        id=r.id,
        campaign_id=r.campaign_id,
        fio=r.fio,
        phone_raw=r.phone_raw,
        phone_e164=r.phone_e164,
        source=r.source,
        status=r.status,
        attempts=r.attempts,
        external_id=r.external_id,
        created_at=r.created_at,
        updated_at=r.updated_at,
        fields=stored_fields(r.extra),
        dialer=RowDialer(
            priority=r.priority,
            call_next=bool(r.call_next),
            tz=r.tz,
            consent_basis=r.consent_basis,
            consent_at=r.consent_at,
            consent_source=r.consent_source,
            final_state=r.final_state,
            due_at=r.next_attempt_at,
        ),
    )


def _text_condition(conn: Connection, text: str) -> ColumnElement[bool]:
    if conn.dialect.name == "sqlite":
        # SQLite's lower()/LIKE fold ASCII only: fold both sides with Python's casefold.
        sqlite_functions.ensure(conn)
        folded = getattr(func, sqlite_functions.CASEFOLD)(_c.fio)
        return func.instr(folded, text.casefold()) > 0
    # PostgreSQL's lower() folds by the database's LC_CTYPE (any UTF-8 locale folds
    # Cyrillic; plain "C" folds ASCII only: docs/api-campaigns.md says so).  strpos rather
    # than ILIKE: the needle needs no escaping of % and _.
    return func.strpos(func.lower(_c.fio), func.lower(text)) > 0


def conditions(
    conn: Connection, project_id: int, campaign_id: int, f: RowFilter
) -> list[ColumnElement[bool]]:
    """The filter's conditions; ``or_external_id`` is not among them: ``page`` and
    ``ids_before`` answer it as a second query (see ``_parts``)."""
    where = [_c.project_id == project_id, _c.campaign_id == campaign_id]
    if f.phone_e164 is not None:
        where.append(_c.phone_e164 == f.phone_e164)
    if f.phone_prefix is not None:
        # A range on the (project, campaign, phone_e164, …) unique index, not LIKE: SQLite
        # uses an index for LIKE only with case_sensitive_like, PostgreSQL only in the C
        # collation or with text_pattern_ops.  E.164 is '+' and digits, so every number
        # starting with the prefix lies between it and the prefix padded with 9s; the substr
        # test keeps the answer exact whatever the collation.
        prefix = f.phone_prefix
        where.append(_c.phone_e164 >= prefix)
        where.append(_c.phone_e164 <= prefix + "9" * (MAX_E164 - len(prefix)))
        where.append(func.substr(_c.phone_e164, 1, len(prefix)) == prefix)
    if f.text is not None:
        where.append(_text_condition(conn, f.text))
    if f.external_id is not None:
        where.append(_c.external_id == f.external_id)
    if f.source is not None:
        where.append(_c.source == f.source)
    if f.status is not None:
        where.append(_c.status == f.status)
    if f.created_from is not None:
        where.append(_c.created_at >= f.created_from)
    if f.created_to is not None:
        where.append(_c.created_at < f.created_to)
    return where


def keyset_column(conn: Connection, f: RowFilter) -> ColumnElement[Any]:
    if f.phone_e164 is not None and conn.dialect.name == "sqlite":
        # Without ANALYZE statistics SQLite prefers the (project, campaign, id) index, which
        # saves a sort but scans the whole campaign for one number; "id + 0" keeps that
        # index out of the plan, so the unique phone index finds the number's few rows.
        return _c.id + 0
    return _c.id


def _parts(f: RowFilter) -> list[RowFilter]:
    """The filter as queries whose answers are merged: with ``or_external_id``, the number or
    name search and, apart, the rows with that CRM id (one query with an OR would use
    neither index and scan the whole campaign: 0.3 s instead of 3 ms at a million rows)."""
    if f.or_external_id is None:
        return [f]
    search = replace(f, or_external_id=None)
    by_id = replace(
        search, phone_e164=None, phone_prefix=None, text=None, external_id=f.or_external_id
    )
    return [search, by_id]


PREFIX_PROBE = 2000
"""A number prefix matching at most this many rows is answered from the phone index (its
matches' ids, then the page by id); a broader one walks the rows in id order, where its
matches are dense enough to fill a page soon."""


def _prefix_ids(
    conn: Connection, project_id: int, campaign_id: int, f: RowFilter
) -> list[int] | None:
    """Every matching id when ``f`` is a number prefix with at most ``PREFIX_PROBE`` matches,
    read as a range of the unique phone index; ``None`` otherwise.  Without it, a prefix
    that few rows (or none) have walked the whole campaign in id order for them (0.2 s at a
    million rows on SQLite)."""
    if f.phone_prefix is None or f.phone_e164 is not None:
        return None
    query = (
        select(_c.id)
        .where(*conditions(conn, project_id, campaign_id, f))
        .order_by(_c.phone_e164)  # the unique index's order: read as its range
        .limit(PREFIX_PROBE + 1)
    )
    ids = [int(row_id) for row_id in conn.execute(query).scalars()]
    return ids if len(ids) <= PREFIX_PROBE else None


def _matching_ids(
    conn: Connection,
    project_id: int,
    campaign_id: int,
    f: RowFilter,
    *,
    bound: int,
    forward: bool,
    limit: int,
) -> list[int]:
    """The ids of up to ``limit`` matching rows past ``bound``: ``id > bound`` lowest first
    (``forward``), else ``id <= bound`` highest first."""
    found: set[int] = set()
    for part in _parts(f):
        few = _prefix_ids(conn, project_id, campaign_id, part)
        if few is not None:
            found.update(i for i in few if (i > bound if forward else i <= bound))
            continue
        key = keyset_column(conn, part)
        query = (
            select(_c.id)
            .where(
                *conditions(conn, project_id, campaign_id, part),
                key > bound if forward else key <= bound,
            )
            .order_by(key if forward else key.desc())
            .limit(limit)
        )
        found.update(conn.execute(query).scalars())
    return sorted(found, reverse=not forward)[:limit]


def page(
    conn: Connection,
    project_id: int,
    campaign_id: int,
    f: RowFilter,
    *,
    after_id: int,
    limit: int,
) -> list[RowRecord]:
    """Up to ``limit`` matching rows with ``id > after_id``, in id order."""
    ids = _matching_ids(conn, project_id, campaign_id, f, bound=after_id, forward=True, limit=limit)
    if not ids:
        return []
    query = (
        select(*_COLUMNS)
        .where(_c.project_id == project_id, _c.campaign_id == campaign_id, _c.id.in_(ids))
        .order_by(_c.id)
    )
    return [_record(r) for r in conn.execute(query).all()]


def ids_before(
    conn: Connection,
    project_id: int,
    campaign_id: int,
    f: RowFilter,
    *,
    through_id: int,
    limit: int,
) -> list[int]:
    """The ids of up to ``limit`` matching rows with ``id <= through_id``, highest first: the
    way back to the previous page."""
    return _matching_ids(
        conn, project_id, campaign_id, f, bound=through_id, forward=False, limit=limit
    )


def get_row(conn: Connection, project_id: int, campaign_id: int, row_id: int) -> RowRecord | None:
    query = select(*_COLUMNS).where(
        _c.project_id == project_id, _c.campaign_id == campaign_id, _c.id == row_id
    )
    found = conn.execute(query).first()
    return _record(found) if found else None


def delete_row(conn: Connection, project_id: int, campaign_id: int, row_id: int) -> bool:
    result = conn.execute(
        delete(campaign_rows).where(
            _c.project_id == project_id, _c.campaign_id == campaign_id, _c.id == row_id
        )
    )
    return result.rowcount > 0


def max_row_id(conn: Connection, project_id: int, campaign_id: int) -> int | None:
    query = select(func.max(_c.id)).where(
        _c.project_id == project_id, _c.campaign_id == campaign_id
    )
    value = conn.execute(query).scalar_one_or_none()
    return int(value) if value is not None else None


def delete_batch(
    conn: Connection, project_id: int, campaign_id: int, *, up_to_id: int, batch: int
) -> int:
    """Delete up to ``batch`` of the campaign's rows with ``id <= up_to_id``; how many went."""
    ids = (
        select(_c.id)
        .where(_c.project_id == project_id, _c.campaign_id == campaign_id, _c.id <= up_to_id)
        .order_by(_c.id)
        .limit(batch)
        .scalar_subquery()
    )
    result = conn.execute(
        delete(campaign_rows).where(
            _c.project_id == project_id, _c.campaign_id == campaign_id, _c.id.in_(ids)
        )
    )
    return int(result.rowcount)
