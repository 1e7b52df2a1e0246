"""Many rows at once under the campaign's duplicate policy: bulk requests, the UI's add-row,
import chunks, and the compatible endpoint's rows in campaigns whose policy is not "skip".

- ``add_rows(writer, project_id, campaign_id, rows)`` is the door the edges call: the rows go
  to the group-commit writer as one ``BulkWrite``, stored in one transaction or not at all,
  and the answer is one ``RowOutcome`` per row in order, or the request's error
  (``campaign_not_found``, ``campaign_archived``) raised for the whole write.
- ``write_rows(conn, project_id, campaign_id, policy, rows)`` (``rows.policies``) stores rows
  under a duplicate policy in the caller's transaction (after
  ``storage.rows_write.lock_campaigns``): what ``apply_bulk`` and the compatible endpoint's
  non-"skip" campaigns use.
- ``screen`` refuses rows by the project's state, in the same transaction: a number on the
  do-not-call list (``do_not_call``), a row without consent in a campaign that requires it
  (``consent_required``).
- ``ImportChunk`` is an import job's write: rows as tuples, answered with counts only
  (``ImportCounts``), which lets a "skip" campaign take one plain ``INSERT … ON CONFLICT DO
  NOTHING`` (``apply_imports``; storage/rows_import.py).

The rows come validated (``rows.validate``).

Past 300 lines on purpose: bulk and import writes share the campaign check (``_checked``),
the screen and the policies, and an import chunk's per-row webhook events need the ids its
insert reads back (``_import``); split, the import half would import the bulk half's
privates.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

import orjson
from sqlalchemy import Connection

from powerdialer.campaigns import refusal
from powerdialer.dnc import do_not_call
from powerdialer.errors import PowerDialerError, job_lost
from powerdialer.models import utcnow
from powerdialer.rows.dialer_fields import ImportDialer, consent_refusal
from powerdialer.rows.models import ImportRow, NewRow
from powerdialer.rows.policies import RowOutcome, write_rows
from powerdialer.rows.webhook_events import rows_added
from powerdialer.storage import dnc as dnc_sql
from powerdialer.storage import imports as jobs_sql
from powerdialer.storage import rows_import
from powerdialer.storage import rows_write as sql
from powerdialer.storage.campaigns import WriteTarget, write_targets
from powerdialer.storage.imports import RejectValues
from powerdialer.storage.payload import Payload, Writes
from powerdialer.storage.writer import GroupCommitter
from powerdialer.telemetry import hooks
from powerdialer.webhooks import events, outbox


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
    rejected records themselves: a poll, or a crash, never sees a row counted and not stored."""

    background: ClassVar[bool] = True
    project_id: int
    campaign_id: int
    rows: list[ImportRow]
    source: str = "import"
    job_id: int | None = None
    read: int = 0
    rejects: list[RejectValues] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # each row's line in the file
    # Each row's dialer fields, when the file has such columns (then the rows are stored
    # the way bulk rows are: ``write_rows``); ``None``: the plain INSERT of ``rows_import``.
    dialer: list[ImportDialer] | None = None
    # The job's owner and its records accounted for before this write: stored only if both
    # still hold (``storage.imports.fence``: a job taken over stores each record once).
    owner: str | None = None
    offset: int = 0

    @property
    def weight(self) -> int:
        return max(1, len(self.rows))


@dataclass(frozen=True, slots=True)
class ImportCounts:
    """What became of an ``ImportChunk``'s rows."""

    inserted: int = 0
    duplicates: int = 0
    updated: int = 0


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


def screen(
    conn: Connection, project_id: int, rows: Sequence[NewRow], target: WriteTarget
) -> list[RowOutcome | None]:
    """Per row, its refusal by the project's state (``None``: it may be stored): a number on
    the do-not-call list (``do_not_call``: one query for all the rows), or a row without
    consent in a campaign that requires it (``consent_required``)."""
    listed = dnc_sql.listed(conn, project_id, (row.phone_e164 for row in rows))
    screened: list[RowOutcome | None] = []
    for row in rows:
        error: PowerDialerError | None = None
        if row.phone_e164 in listed:
            error = do_not_call("phone_number", row.phone_e164)
        elif target.require_consent:
            error = consent_refusal(row.consent_basis, row.consent_at)
        screened.append(None if error is None else RowOutcome("rejected", 0, error))
    return screened


def apply_bulk(
    conn: Connection, items: Sequence[BulkWrite]
) -> list[list[RowOutcome] | PowerDialerError]:
    """The group-commit apply function for ``BulkWrite``: each request's rows under its
    campaign's policy, all in the writer's one transaction (so a request is stored whole or
    not at all), less the rows ``screen`` refuses (answered ``rejected``)."""
    now = utcnow()
    results: list[list[RowOutcome] | PowerDialerError] = []
    for item, target in zip(items, _checked(conn, items), strict=True):
        if isinstance(target, PowerDialerError):
            results.append(target)
            continue
        project_id, campaign_id, policy = item.project_id, item.campaign_id, target.duplicate_policy
        screened = screen(conn, project_id, item.rows, target)
        kept = [row for row, refused in zip(item.rows, screened, strict=True) if refused is None]
        stored = iter(
            write_rows(conn, project_id, campaign_id, policy, kept, source=item.source, now=now)
        )
        answer = [next(stored) if refused is None else refused for refused in screened]
        results.append(answer)
        if outbox.wants(conn, project_id, events.ROW_ADDED):
            outbox.emit(conn, rows_added(project_id, campaign_id, item.source, answer), now)
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
    if (m := hooks.active) is not None:  # metrics
        m.stored(source, sum(o.status in ("inserted", "updated") for o in outcomes))
    return outcomes


def _new_row(values: ImportRow, dialer: ImportDialer | None = None) -> NewRow:
    fio, raw, e164, external_id, extra = values
    fields = orjson.loads(extra) if extra else {}
    if dialer is None:
        return NewRow(raw, e164, fio, external_id, fields)
    return NewRow(raw, e164, fio, external_id, fields, *dialer)


def _import(
    conn: Connection,
    item: ImportChunk,
    policy: str,
    now: dt.datetime,
    stored: list[tuple[int, bool]] | None,
) -> ImportCounts:
    """Store the chunk's rows; ``stored``, when given (a per-row webhook wants them), gets
    ``(row_id, inserted)`` of each row inserted or updated."""
    if item.dialer is None and policy not in ("update", "keep"):  # "skip", or unknown
        head = (item.project_id, item.campaign_id, item.source)
        if stored is None:
            inserted = rows_import.insert_skipping(conn, head, item.rows, now)
        else:
            stored.extend((i, True) for i in rows_import.inserted_ids(conn, head, item.rows, now))
            inserted = len(stored)
        return ImportCounts(inserted=inserted, duplicates=len(item.rows) - inserted)
    dialers: Sequence[ImportDialer | None] = item.dialer or [None] * len(item.rows)
    rows = [_new_row(v, d) for v, d in zip(item.rows, dialers, strict=True)]
    outcomes = write_rows(
        conn, item.project_id, item.campaign_id, policy, rows, source=item.source, now=now
    )
    if stored is not None:
        kept = [o for o in outcomes if o.status in ("inserted", "updated")]
        stored.extend((o.id, o.status == "inserted") for o in kept)
    counted = Counter(outcome.status for outcome in outcomes)
    return ImportCounts(counted["inserted"], counted["duplicate"], counted["updated"])


def _screen_import(conn: Connection, item: ImportChunk, target: WriteTarget) -> ImportChunk:
    """The chunk less its rows of numbers on the do-not-call list (one query) and, in a
    campaign that requires consent, its rows without consent (an import carries none yet):
    those become rejects of the job (``do_not_call``, ``consent_required``) with their line."""
    listed = dnc_sql.listed(conn, item.project_id, (row[2] for row in item.rows))
    if not listed and not target.require_consent:
        return item
    kept: list[ImportRow] = []
    kept_dialer: list[ImportDialer] = []
    rejects = list(item.rejects)
    for index, row in enumerate(item.rows):
        fio, raw, e164 = row[0], row[1], row[2]
        dialer = item.dialer[index] if item.dialer is not None else None
        error: PowerDialerError | None = None
        if e164 in listed:
            error = do_not_call("phone_number", e164)
        elif target.require_consent:
            basis, at = (dialer[3], dialer[4]) if dialer is not None else (None, None)
            error = consent_refusal(basis, at)
        if error is None:
            kept.append(row)
            if dialer is not None:
                kept_dialer.append(dialer)
            continue
        line = item.lines[index] if index < len(item.lines) else 0
        rejects.append((line, raw, fio, error.code, error.reason, error.message))
    dialers = kept_dialer if item.dialer is not None else None
    return replace(item, rows=kept, rejects=rejects, dialer=dialers)


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
        item = _screen_import(conn, item, target)
        if item.job_id is not None and item.owner is not None:
            fenced = jobs_sql.fence(
                conn,
                item.project_id,
                item.job_id,
                item.owner,
                item.offset,
                item.read,
                len(item.rejects),
            )
            if not fenced:
                results.append(job_lost(item.job_id))
                continue
        # One row.added per stored row for per-row webhooks, in this transaction: a chunk
        # is stored once (the fence), so each of its rows' events is written once too.
        per_row = outbox.wants(conn, item.project_id, events.ROW_ADDED, per_row=True)
        stored: list[tuple[int, bool]] | None = [] if per_row else None
        counts = _import(conn, item, target.duplicate_policy, now, stored)
        if stored:
            head = (item.project_id, item.campaign_id, item.source, item.job_id)
            outbox.emit_rows(conn, *head, stored, now)
        if item.job_id is not None and item.owner is not None:
            jobs_sql.count_stored(conn, item.project_id, item.job_id, counts, item.rejects)
        elif item.job_id is not None:
            jobs_sql.count_progress(
                conn, item.project_id, item.job_id, item.read, counts, item.rejects
            )
        results.append(counts)
    return results


WRITES: Writes = {BulkWrite: apply_bulk, ImportChunk: apply_imports}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""

__all__ = [
    "WRITES",
    "BulkWrite",
    "ImportChunk",
    "ImportCounts",
    "RowOutcome",
    "add_rows",
    "apply_bulk",
    "apply_imports",
    "screen",
    "write_rows",
]
