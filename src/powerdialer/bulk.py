"""Many rows in one request (the bulk endpoint, import jobs, the UI): validation of one row
with its CRM extras, and the group-commit apply function that stores a batch of them under the
campaign's duplicate policy.

The contract (shared by the bulk API, import jobs and the fill client):

- ``parse_new_row(obj, region)`` turns one JSON object ``{"phone_number", "fio"?,
  "external_id"?, "fields"?}`` into a ``NewRow`` or raises ``ValidationError`` with the same
  codes as the compatible endpoint (plus ``invalid_external_id`` / ``invalid_fields``).
  ``parse_rows(items, region)`` does a list, answering the error in place of a bad row.
- ``BulkWrite`` is submitted to the app's ``GroupCommitter``; its result (``apply_bulk``) is
  one ``RowOutcome`` per row in order, or the request's error (``campaign_not_found``,
  ``campaign_archived``) raised for the whole write.
- ``write_rows(conn, project_id, campaign_id, policy, rows)`` stores rows under a duplicate
  policy in the caller's transaction (after ``storage.bulk.lock_campaigns``): what
  ``apply_bulk`` and the compatible endpoint's non-"skip" campaigns use.
- ``ImportChunk`` is an import job's write: rows as tuples, answered with counts only
  (``ImportCounts``), which lets a "skip" campaign take one plain ``INSERT … ON CONFLICT DO
  NOTHING`` (``apply_imports``; storage/import_rows.py).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal

import orjson
from sqlalchemy import Connection

from powerdialer.errors import PowerDialerError, ValidationError
from powerdialer.importing.fields import MAX_FIELD_NAME as MAX_FIELD_NAME
from powerdialer.importing.fields import MAX_FIELDS as MAX_FIELDS
from powerdialer.models import CampaignState, utcnow
from powerdialer.phones import normalize_phone
from powerdialer.rows import campaign_archived, campaign_not_found, parse_fio
from powerdialer.storage import bulk as sql
from powerdialer.storage import hotpath, import_rows
from powerdialer.storage import imports as jobs_sql
from powerdialer.storage.import_rows import ImportRow
from powerdialer.storage.imports import RejectValues
from powerdialer.storage.payload import Payload, Writes
from powerdialer.text import one_line

MAX_EXTERNAL_ID = 128
# MAX_FIELDS (custom fields per row) and MAX_FIELD_NAME live with the import's column plan,
# which applies them per column (importing/fields.py).
MAX_FIELD_VALUE = 1024
MAX_FIELDS_BYTES = 8 * 1024  # the JSON of a row's fields

DuplicatePolicy = Literal["skip", "update", "keep"]
DUPLICATE_POLICIES: tuple[DuplicatePolicy, ...] = ("skip", "update", "keep")


@dataclass(frozen=True, slots=True)
class NewRow:
    phone_raw: str
    phone_e164: str
    fio: str | None = None
    external_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


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


# --- validation ------------------------------------------------------------------------------


def _invalid(field: str, reason: str, message: str) -> ValidationError:
    return ValidationError(message, code=f"invalid_{field}", field=field, reason=reason)


def parse_external_id(value: object) -> str | None:
    """The row's id in the client's CRM: a string (or an integer), at most 128 characters."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise _invalid(
            "external_id",
            "wrong_type",
            'external_id must be a string such as "crm-1042" (your CRM\'s id) or be left out.',
        )
    text = one_line(value)
    if len(text) > MAX_EXTERNAL_ID:
        raise _invalid(
            "external_id",
            "too_long",
            f"external_id is {len(text)} characters long; the limit is {MAX_EXTERNAL_ID}.",
        )
    return text or None


def _field_value(name: str, value: object) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)  # CRM exports carry numbers; we keep their text
    else:
        raise _invalid(
            "fields",
            "wrong_type",
            f"fields.{name:.{MAX_FIELD_NAME}} must be a string (or a number), "
            f"got {type(value).__name__}.",
        )
    text = text.replace("\x00", "")  # PostgreSQL refuses NUL; a value may keep its newlines
    if len(text) > MAX_FIELD_VALUE:
        raise _invalid(
            "fields",
            "too_long",
            f"fields.{name} is {len(text)} characters long; the limit is {MAX_FIELD_VALUE}.",
        )
    return text


def _clean_fields(value: object) -> dict[str, str]:
    """Custom fields checked and cleaned, all but their size as JSON."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _invalid(
            "fields",
            "wrong_type",
            'fields must be a JSON object of names to strings, e.g. {"city": "Київ"}.',
        )
    if len(value) > MAX_FIELDS:
        raise _invalid(
            "fields",
            "too_many",
            f"fields has {len(value)} entries; the limit is {MAX_FIELDS}: drop the ones "
            "the operators do not need.",
        )
    fields: dict[str, str] = {}
    for name, raw in value.items():
        clean = _checked_names.get(name) or _field_name(name)
        if type(raw) is str and len(raw) <= MAX_FIELD_VALUE and "\x00" not in raw:
            fields[clean] = raw  # the usual value, as _field_value would leave it
        else:
            fields[clean] = _field_value(clean, raw)
    return fields


_checked_names: dict[str, str] = {}
"""Field names already checked, to their cleaned form: an import's rows repeat the same few
(its header) a million times."""


def _field_name(name: str) -> str:
    clean = one_line(name)
    if not clean or len(clean) > MAX_FIELD_NAME:
        raise _invalid(
            "fields",
            "invalid_name",
            f"field names must be 1 to {MAX_FIELD_NAME} characters long, "
            f"got {name!r:.{MAX_FIELD_NAME + 2}}.",
        )
    if len(_checked_names) >= 1024:  # bounded: names sent by clients are not all a header's
        _checked_names.clear()
    _checked_names[name] = clean
    return clean


def _too_large() -> ValidationError:
    return _invalid(
        "fields",
        "too_large",
        f"fields take more than {MAX_FIELDS_BYTES} bytes as JSON: shorten the values.",
    )


def parse_fields(value: object) -> dict[str, str]:
    """Custom fields: a JSON object of at most 50 names (1-64 characters) to strings."""
    fields = _clean_fields(value)
    if fields and len(sql.extra_bytes(fields)) > MAX_FIELDS_BYTES:
        raise _too_large()
    return fields


def parse_fields_json(value: object) -> str | None:
    """``parse_fields``, answered as ``campaign_rows.extra`` stores it (``None`` for none):
    the JSON made once, for both the size check and the row."""
    fields = _clean_fields(value)
    if not fields:
        return None
    data = sql.extra_bytes(fields)
    if len(data) > MAX_FIELDS_BYTES:
        raise _too_large()
    return data.decode()


def parse_new_row(obj: object, region: str) -> NewRow:
    """One row of a bulk request or an import: ``{"phone_number", "fio"?, "external_id"?,
    "fields"?}``.  The number and the name are checked exactly as on the compatible endpoint
    (same codes and reasons); unknown keys are ignored."""
    if not isinstance(obj, dict):
        raise ValidationError(
            'each row must be a JSON object such as {"phone_number": "380930000000"}.',
            code="invalid_row",
            reason="wrong_type",
        )
    fio = parse_fio(obj.get("fio"))
    phone = normalize_phone(obj.get("phone_number"), region)
    return NewRow(
        phone_raw=phone.raw,
        phone_e164=phone.e164,
        fio=fio,
        external_id=parse_external_id(obj.get("external_id")),
        fields=parse_fields(obj.get("fields")),
    )


def parse_import_row(
    phone: object, fio: object, external_id: object, fields: object, region: str
) -> ImportRow:
    """``parse_new_row`` for an import's record, straight to the tuple an ``ImportChunk``
    carries (no dict, no ``NewRow``: a million of each cost the worker ~1 s).  Same checks in
    the same order, so the same error for the same record."""
    clean_fio = parse_fio(fio)
    number = normalize_phone(phone, region)
    return (
        clean_fio,
        number.raw,
        number.e164,
        parse_external_id(external_id),
        parse_fields_json(fields),
    )


def parse_rows(items: Sequence[object], region: str) -> list[NewRow | ValidationError]:
    """Each item parsed, or the error that rejects it; never raises for a bad row."""
    parsed: list[NewRow | ValidationError] = []
    for obj in items:
        try:
            parsed.append(parse_new_row(obj, region))
        except ValidationError as exc:
            parsed.append(exc)
    return parsed


# --- storing ----------------------------------------------------------------------------------


def import_row(row: NewRow) -> ImportRow:
    """``row`` as an ``ImportChunk`` carries it: its fields already JSON."""
    return (row.fio, row.phone_raw, row.phone_e164, row.external_id, sql.extra_json(row.fields))


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
    locked the campaign (``storage.bulk.lock_campaigns``, all of a transaction's at once).

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


def apply_bulk(
    conn: Connection, items: Sequence[BulkWrite]
) -> list[list[RowOutcome] | PowerDialerError]:
    """The group-commit apply function for ``BulkWrite``: each request's rows under its
    campaign's policy, all in the writer's one transaction (so a request is stored whole or
    not at all); the campaign is checked here, serially, so an archive takes effect at once."""
    targets = hotpath.campaign_targets(conn, {item.campaign_id for item in items})
    # Locked only once ownership is known: a stranger cannot make the owner's writes wait.
    sql.lock_campaigns(
        conn,
        {i.campaign_id for i in items if targets.get(i.campaign_id, (0,))[0] == i.project_id},
    )
    now = utcnow()
    results: list[list[RowOutcome] | PowerDialerError] = []
    for item in items:
        target = targets.get(item.campaign_id)
        if target is None or target[0] != item.project_id:
            results.append(campaign_not_found(item.campaign_id))
        elif target[1] != CampaignState.ACTIVE:
            results.append(campaign_archived(item.campaign_id))
        else:
            results.append(
                write_rows(
                    conn,
                    item.project_id,
                    item.campaign_id,
                    target[2],
                    item.rows,
                    source=item.source,
                    now=now,
                )
            )
    return results


def _new_row(values: ImportRow) -> NewRow:
    fio, raw, e164, external_id, extra = values
    return NewRow(raw, e164, fio, external_id, orjson.loads(extra) if extra else {})


def _import(conn: Connection, item: ImportChunk, policy: str, now: dt.datetime) -> ImportCounts:
    if policy not in ("update", "keep"):  # "skip", and an unknown value as write_rows does
        head = (item.project_id, item.campaign_id, item.source)
        inserted = import_rows.insert_skipping(conn, head, item.rows, now)
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
    checked once per chunk, here, so an archive or a policy change takes effect at the next
    chunk), but answered with counts, so "skip" needs no row ids.  A chunk of a job adds its
    counts and rejects to the job in the same transaction."""
    targets = hotpath.campaign_targets(conn, {item.campaign_id for item in items})
    sql.lock_campaigns(
        conn,
        {i.campaign_id for i in items if targets.get(i.campaign_id, (0,))[0] == i.project_id},
    )
    now = utcnow()
    results: list[ImportCounts | PowerDialerError] = []
    for item in items:
        target = targets.get(item.campaign_id)
        if target is None or target[0] != item.project_id:
            results.append(campaign_not_found(item.campaign_id))
        elif target[1] != CampaignState.ACTIVE:
            results.append(campaign_archived(item.campaign_id))
        else:
            counts = _import(conn, item, target[2], now)
            if item.job_id is not None:
                jobs_sql.count_progress(
                    conn, item.project_id, item.job_id, item.read, counts, item.rejects
                )
            results.append(counts)
    return results


WRITES: Writes = {BulkWrite: apply_bulk, ImportChunk: apply_imports}
"""This module's writes, for the app's group-commit writer (``storage/payload.py``)."""
