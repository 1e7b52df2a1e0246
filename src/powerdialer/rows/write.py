"""Many rows at once under the campaign's duplicate policy: bulk requests, the UI's add-row,
import chunks, and the compatible endpoint's rows in campaigns whose policy is not "skip".

- ``add_rows(writer, project_id, campaign_id, rows)`` is the door the edges call: the rows go
  to the group-commit writer as one ``BulkWrite``, stored in one transaction or not at all,
  and the answer is one ``RowOutcome`` per row in order, or the request's error
  (``campaign_not_found``, ``campaign_archived``) raised for the whole write.
- ``write_rows(conn, project_id, campaign_id, policy, rows)`` stores rows under a duplicate
  policy in the caller's transaction (after ``storage.rows_write.lock_campaigns``): what
  ``apply_bulk`` and the compatible endpoint's non-"skip" campaigns use.
- ``ImportChunk`` is an import job's write: rows as tuples, answered with counts only
  (``ImportCounts``), which lets a "skip" campaign take one plain ``INSERT … ON CONFLICT DO
  NOTHING`` (``apply_imports``; storage/rows_import.py).

The rows come validated (``rows.validate``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import orjson
from sqlalchemy import Connection

from powerdialer.campaigns import refusal
from powerdialer.errors import PowerDialerError
from powerdialer.models import utcnow
from powerdialer.rows.models import ImportRow, NewRow
from powerdialer.storage import imports as jobs_sql
from powerdialer.storage import rows_import
from powerdialer.storage import rows_write as sql
from powerdialer.storage.campaigns import WriteTarget, write_targets
from powerdialer.storage.imports import RejectValues
from powerdialer.storage.payload import Payload, Writes
from powerdialer.storage.writer import GroupCommitter


@dataclass(frozen=True, slots=True)
class BulkWrite(Payload["list[RowOutcome]"]):
    project_id: int
    campaign_id: int
    rows: list[NewRow]
    source: str = "api"  # api | import | ui

    @property
    def weight(self) -> int:
        """Rows this write adds to a group-commit transaction (see storage.writer)."""
        return max(1, len(self.rows))


@dataclass(frozen=True, slots=True)
class ImportChunk(Payload["ImportCounts"]):
    """Rows of an import job for the group-commit writer, as the worker child sent them: a
    background write (several share a transaction; the live API's rows go first).

    With a ``job_id``, the job's counters move in the very transaction that stores the rows:
    ``read`` records handled (``rows`` plus ``rejects``), what became of the rows, and the
    rejected records themselves.  So a poll, or a job a crash interrupted, never counts a row
    that is not stored nor misses one that is."""

    background: ClassVar[bool] = True
    project_id: int
    campaign_id: int
    rows: list[ImportRow]
    source: str = "import"
    job_id: int | None = None
    read: int = 0
    rejects: list[RejectValues] = field(default_factory=list)

    @property
    def weight(self) -> int:
        return max(1, len(self.rows))


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What became of an ``ImportChunk``'s rows."""

    inserted: int = 0
    duplicates: int = 0
    updated: int = 0


@dataclass(frozen=True, slots=True)
class RowOutcome:
    status: Literal["inserted", "duplicate", "updated"]
    id: int


def _values(row: NewRow) -> sql.RowValues:
    return (row.fio, row.phone_raw, row.phone_e164, row.external_id, row.fields or None)


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


def _merge(old: NewRow, new: NewRow) -> NewRow:
    return NewRow(
        phone_raw=old.phone_raw,
        phone_e164=old.phone_e164,
        fio=new.fio or old.fio,
        external_id=new.external_id or old.external_id,
        fields={**old.fields, **new.fields},
    )


def _update(
    head: tuple[int, int, str], rows: Sequence[NewRow], conn: Connection, now: dt.datetime
) -> list[RowOutcome]:
    merged: dict[str, NewRow] = {}
    for row in rows:
        old = merged.get(row.phone_e164)
        merged[row.phone_e164] = row if old is None else _merge(old, row)
    stored = sql.upsert(conn, head, [_values(r) for r in merged.values()], now)
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


def _checked(
    conn: Connection, items: Sequence[BulkWrite] | Sequence[ImportChunk]
) -> list[WriteTarget | PowerDialerError]:
    """Per item, its campaign as the writer reads it, or why it takes no rows
    (``campaigns.refusal``): checked here, serially, so an archive or a policy change takes
    effect at once.  The campaigns are locked (``storage.rows_write.lock_campaigns``) only
    once ownership is known, so a stranger cannot make the owner's writes wait."""
    targets = write_targets(conn, {item.campaign_id for item in items})
    owned = {
        i.campaign_id
        for i in items
        if (target := targets.get(i.campaign_id)) is not None and target.project_id == i.project_id
    }
    sql.lock_campaigns(conn, owned)
    checked: list[WriteTarget | PowerDialerError] = []
    for item in items:
        target = targets.get(item.campaign_id)
        refused = refusal(item.project_id, item.campaign_id, target)
        if refused is not None:
            checked.append(refused)
        else:
            assert target is not None  # refusal() refuses a campaign that is not there
            checked.append(target)
    return checked


def apply_bulk(
    conn: Connection, items: Sequence[BulkWrite]
) -> list[list[RowOutcome] | PowerDialerError]:
    """The group-commit apply function for ``BulkWrite``: each request's rows under its
    campaign's policy, all in the writer's one transaction (so a request is stored whole or
    not at all)."""
    now = utcnow()
    results: list[list[RowOutcome] | PowerDialerError] = []
    for item, target in zip(items, _checked(conn, items), strict=True):
        if isinstance(target, PowerDialerError):
            results.append(target)
            continue
        project_id, campaign_id, policy = item.project_id, item.campaign_id, target.duplicate_policy
        rows = write_rows(
            conn, project_id, campaign_id, policy, item.rows, source=item.source, now=now
        )
        results.append(rows)
    return results


async def add_rows(
    writer: GroupCommitter,
    project_id: int,
    campaign_id: int,
    rows: list[NewRow],
    *,
    source: str = "api",
) -> list[RowOutcome]:
    """Store validated rows in a campaign through the group-commit writer, in one transaction
    (all or none), under the campaign's duplicate policy: one outcome per row, in order.
    Raises ``campaign_not_found`` / ``campaign_archived`` for the whole write, and
    ``storage.writer.StorageUnavailable`` when the database could not commit (nothing is
    stored: the caller may retry)."""
    outcomes: list[RowOutcome] = await writer.submit(
        BulkWrite(project_id, campaign_id, rows, source=source)
    )
    return outcomes


def _new_row(values: ImportRow) -> NewRow:
    fio, raw, e164, external_id, extra = values
    return NewRow(raw, e164, fio, external_id, orjson.loads(extra) if extra else {})


def _import(conn: Connection, item: ImportChunk, policy: str, now: dt.datetime) -> ImportCounts:
    if policy not in ("update", "keep"):  # "skip", and an unknown value as write_rows does
        head = (item.project_id, item.campaign_id, item.source)
        inserted = rows_import.insert_skipping(conn, head, item.rows, now)
        return ImportCounts(inserted=inserted, duplicates=len(item.rows) - inserted)
    rows = [_new_row(values) for values in item.rows]
    outcomes = write_rows(
        conn, item.project_id, item.campaign_id, policy, rows, source=item.source, now=now
    )
    counted = Counter(outcome.status for outcome in outcomes)
    return ImportCounts(counted["inserted"], counted["duplicate"], counted["updated"])


def apply_imports(
    conn: Connection, items: Sequence[ImportChunk]
) -> list[ImportCounts | PowerDialerError]:
    """The group-commit apply function for ``ImportChunk``: like ``apply_bulk`` (the campaign
    checked once per chunk, so an archive or a policy change takes effect at the next chunk),
    but answered with counts, so "skip" needs no row ids.  A chunk of a job adds its counts
    and rejects to the job in the same transaction."""
    now = utcnow()
    results: list[ImportCounts | PowerDialerError] = []
    for item, target in zip(items, _checked(conn, items), strict=True):
        if isinstance(target, PowerDialerError):
            results.append(target)
            continue
        counts = _import(conn, item, target.duplicate_policy, now)
        if item.job_id is not None:
            jobs_sql.count_progress(
                conn, item.project_id, item.job_id, item.read, counts, item.rejects
            )
        results.append(counts)
    return results


WRITES: Writes = {BulkWrite: apply_bulk, ImportChunk: apply_imports}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""
