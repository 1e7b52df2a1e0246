"""The campaign's duplicate policies, as ``write_rows`` applies them to validated rows in the
caller's transaction (``rows.write`` for bulk requests, the UI and imports; ``rows.intake``
for the compatible endpoint's campaigns whose policy is not "skip").  Its SQL is
``storage/rows_write.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from sqlalchemy import Connection

from powerdialer.errors import PowerDialerError
from powerdialer.models import utcnow
from powerdialer.rows.models import NewRow
from powerdialer.storage import rows_edit
from powerdialer.storage import rows_write as sql


@dataclass(frozen=True, slots=True)
class RowOutcome:
    """What became of one row: stored (``id``), or ``rejected`` in the writer's transaction
    with its ``error`` (``do_not_call``, ``consent_required``; ``id`` is then 0)."""

    status: Literal["inserted", "duplicate", "updated", "rejected"]
    id: int
    error: PowerDialerError | None = None


def _dialer(row: NewRow) -> sql.Dialer:
    return (
        0 if row.priority is None else row.priority,
        bool(row.call_next),
        row.tz,
        row.consent_basis,
        row.consent_at,
        row.consent_source,
    )


def _values(row: NewRow) -> sql.RowValues:
    return (
        row.fio,
        row.phone_raw,
        row.phone_e164,
        row.external_id,
        row.fields or None,
        _dialer(row),
    )


def _skip(
    head: tuple[int, int, str], rows: Sequence[NewRow], conn: Connection, now: dt.datetime
) -> list[RowOutcome]:
    first: dict[str, int] = {}  # number -> position of its first row
    for index, row in enumerate(rows):
        first.setdefault(row.phone_e164, index)
    unique = [_values(rows[index]) for index in first.values()]
    inserted = sql.insert_new(conn, head, unique, now)
    missing = [e164 for e164 in first if e164 not in inserted]
    present = sql.existing_ids(conn, head[0], head[1], missing) if missing else {}
    outcomes = []
    for index, row in enumerate(rows):
        e164 = row.phone_e164
        if e164 in inserted and first[e164] == index:
            outcomes.append(RowOutcome("inserted", inserted[e164]))
        elif e164 in inserted or e164 in present:
            outcomes.append(RowOutcome("duplicate", inserted.get(e164) or present[e164]))
        else:  # deleted by another request between the two statements: the batch is retried
            raise RuntimeError(f"the row of {e164} vanished while being stored")
    return outcomes


T = TypeVar("T")


def pick(mine: T | None, theirs: T | None) -> T | None:
    """The value sent later, unless it was not sent."""
    return theirs if theirs is not None else mine


def _merge(old: NewRow, new: NewRow) -> NewRow:
    return NewRow(
        phone_raw=old.phone_raw,
        phone_e164=old.phone_e164,
        fio=new.fio or old.fio,
        external_id=new.external_id or old.external_id,
        fields={**old.fields, **new.fields},
        priority=pick(old.priority, new.priority),
        call_next=pick(old.call_next, new.call_next),
        tz=pick(old.tz, new.tz),
        consent_basis=pick(old.consent_basis, new.consent_basis),
        consent_at=pick(old.consent_at, new.consent_at),
        consent_source=pick(old.consent_source, new.consent_source),
    )


def _update(
    head: tuple[int, int, str], rows: Sequence[NewRow], conn: Connection, now: dt.datetime
) -> list[RowOutcome]:
    merged: dict[str, NewRow] = {}
    for row in rows:
        old = merged.get(row.phone_e164)
        merged[row.phone_e164] = row if old is None else _merge(old, row)
    stored = sql.upsert(conn, head, [_values(r) for r in merged.values()], now)
    # An existing row takes the priority and call_next sent (the upsert cannot tell "sent"
    # from the defaults a new row gets).
    changed = [
        (stored[e164][0], row.priority, row.call_next)
        for e164, row in merged.items()
        if not stored[e164][1] and (row.priority is not None or row.call_next is not None)
    ]
    rows_edit.set_dialer_fields(conn, head[0], changed, now)
    outcomes = []
    seen: set[str] = set()
    for row in rows:
        row_id, fresh = stored[row.phone_e164]
        first = row.phone_e164 not in seen
        seen.add(row.phone_e164)
        outcomes.append(RowOutcome("inserted" if fresh and first else "updated", row_id))
    return outcomes


def _keep(
    head: tuple[int, int, str], rows: Sequence[NewRow], conn: Connection, now: dt.datetime
) -> list[RowOutcome]:
    ids = sql.insert_kept(conn, head, [_values(r) for r in rows], now)
    return [RowOutcome("inserted", row_id) for row_id in ids]


_WRITERS = {"skip": _skip, "update": _update, "keep": _keep}


def write_rows(
    conn: Connection,
    project_id: int,
    campaign_id: int,
    policy: str,
    rows: Sequence[NewRow],
    *,
    source: str = "api",
    now: dt.datetime | None = None,
) -> list[RowOutcome]:
    """Store ``rows`` in a campaign already checked to be the project's and active, in the
    caller's transaction, under ``policy``: one outcome per row in order.  The caller has
    locked the campaign (``storage.rows_write.lock_campaigns``, all of a transaction's at once).

    - skip: a number already in the campaign (or earlier in ``rows``) is not stored again;
      its outcome is ``duplicate`` with the existing row's id.
    - update: the existing row takes the new fio and external_id where sent, and the new
      fields merged into its own: ``updated``.
    - keep: another row with the next ``duplicate_no``: ``inserted``.
    """
    if not rows:
        return []
    writer = _WRITERS.get(policy, _skip)  # an unknown value is treated as the safe default
    return writer((project_id, campaign_id, source), rows, conn, now or utcnow())
