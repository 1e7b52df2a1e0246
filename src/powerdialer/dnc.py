"""A project's do-not-call list: add (one or many, with who and why), remove, check, list by
number prefix, CSV import and export (issue 12, item 5).

A number on the list is refused when a row of it is added, on every surface, with code
``do_not_call`` (``do_not_call``; the check runs in the writer's transaction that stores the
rows: ``rows.intake``, ``rows.write``); the dialer also checks it at lease time, so a number
listed after its row was queued is not called either (``dialer.queue``).  Numbers are kept in
E.164, read with ``phones.normalize_phone`` under the server's region.  Its SQL is in
``storage/dnc.py``, its routes in ``web/api/dnc.py``, its CLI in ``cli/dnc.py``; CSV in and
out is ``dnc_csv``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Connection

from powerdialer.errors import Conflict, NotFound, ValidationError, invalid
from powerdialer.models import DNC_SOURCES, DncEntry, utcnow
from powerdialer.phones import normalize_phone
from powerdialer.storage import Store
from powerdialer.storage import dnc as sql
from powerdialer.text import one_line
from powerdialer.webhooks import events, outbox

MAX_REASON = 500
MAX_ADD = 10_000  # numbers in one add request
MAX_LIMIT = 1000  # entries in one page of the list
DEFAULT_LIMIT = 100
_PREFIX = re.compile(r"\+?[0-9]{1,15}")
_CURSOR = re.compile(r"\+[0-9]{1,15}")


def do_not_call(field: str = "phone_number", e164: str | None = None) -> Conflict:
    """The refusal of a row whose number is listed: valid as sent, refused by the project's
    state, so a 409-class ``Conflict`` (the compatible endpoint answers it with 409)."""
    number = f"{e164} " if e164 else "the number "
    return Conflict(
        f"{field} {number}is on the project's do-not-call list: remove it from the list "
        "to call it.",
        code="do_not_call",
        field=field,
        reason="listed",
    )


def dnc_not_found(e164: str) -> NotFound:
    return NotFound(
        f"number {e164} is not on the project's do-not-call list: check the number "
        "(GET /power-dialer/dnc lists the entries).",
        code="dnc_not_found",
        field="number",
    )


def parse_reason(value: object, field: str = "reason") -> str | None:
    """Why a number is listed: optional text of at most 500 characters, on one line."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(field, "wrong_type", f"{field} must be a string (why not to call) or null.")
    text = one_line(value)
    if len(text) > MAX_REASON:
        raise invalid(
            field,
            "too_long",
            f"{field} is {len(text)} characters long; the limit is {MAX_REASON}: shorten it.",
        )
    return text or None


def parse_number(value: object, region: str, field: str = "number") -> str:
    """A number in any usual spelling, as E.164; the phone error names ``field``."""
    try:
        return normalize_phone(value, region).e164
    except ValidationError as exc:
        message = exc.message.replace("phone_number", field, 1)
        raise ValidationError(message, code=exc.code, field=field, reason=exc.reason) from None


def _source(source: str) -> str:
    if source not in DNC_SOURCES:
        raise ValueError(f"unknown do-not-call source {source!r}")
    return source


@dataclass(frozen=True, slots=True)
class AddOutcome:
    """What became of one number of an add: ``added``, ``listed`` (it was on the list already:
    the first entry is kept) or ``rejected`` with its ``error``."""

    index: int
    status: Literal["added", "listed", "rejected"]
    phone_e164: str | None = None
    error: ValidationError | None = None


def add_entries(
    conn: Connection,
    project_id: int,
    entries: list[tuple[str, str | None]],
    *,
    source: str,
    now: dt.datetime,
    added_by: str | None = None,
) -> set[str]:
    """``storage.dnc.add_entries`` with its webhook event (``dnc.added``, the numbers newly
    listed) in the same transaction."""
    added = sql.add_entries(conn, project_id, entries, source=source, now=now, added_by=added_by)
    if added:
        data = {"numbers": sorted(added), "source": source, "attempt_id": None}
        outbox.emit(conn, [outbox.Event(project_id, events.DNC_ADDED, data)], now)
    return added


def add_numbers(
    store: Store,
    project_id: int,
    items: Sequence[tuple[object, object]],
    *,
    source: str,
    region: str,
    added_by: str | None = None,
    now: dt.datetime | None = None,
) -> list[AddOutcome]:
    """List ``(number, reason)`` pairs: each number is read on its own (a bad one is rejected,
    the others are listed), all in one transaction.  One outcome per item, in order."""
    _source(source)
    parsed: list[tuple[str, str | None] | ValidationError] = []
    for number, reason in items:
        try:
            parsed.append((parse_number(number, region, "number"), parse_reason(reason)))
        except ValidationError as exc:
            parsed.append(exc)
    first: dict[str, str | None] = {}
    for item in parsed:
        if not isinstance(item, ValidationError):
            first.setdefault(item[0], item[1])
    when = now or utcnow()
    added = store.write(
        lambda conn: add_entries(
            conn, project_id, list(first.items()), source=source, now=when, added_by=added_by
        )
    )
    outcomes: list[AddOutcome] = []
    for index, item in enumerate(parsed):
        if isinstance(item, ValidationError):
            outcomes.append(AddOutcome(index, "rejected", error=item))
            continue
        e164 = item[0]
        fresh = e164 in added
        added.discard(e164)  # a number twice in one request: added once, then "listed"
        outcomes.append(AddOutcome(index, "added" if fresh else "listed", e164))
    return outcomes


def remove_number(store: Store, project_id: int, number: object, *, region: str) -> str:
    """Take a number off the list (it may be called again); raises ``dnc_not_found``."""
    e164 = parse_number(number, region)
    if not store.write(lambda conn: sql.remove_entry(conn, project_id, e164)):
        raise dnc_not_found(e164)
    return e164


def check_number(
    store: Store, project_id: int, number: object, *, region: str
) -> tuple[str, DncEntry | None]:
    """The number in E.164 and its entry (who, when, why), or ``None`` if it is not listed."""
    e164 = parse_number(number, region)
    return e164, store.read(lambda conn: sql.get_entry(conn, project_id, e164))


@dataclass(frozen=True, slots=True)
class DncPage:
    items: list[DncEntry]
    next_cursor: str | None


def parse_prefix(value: str | None) -> str | None:
    """A number prefix ('+' optional, then digits) as the E.164 start it selects."""
    if value is None or not value.strip():
        return None
    text = value.strip().replace(" ", "")
    if not _PREFIX.fullmatch(text):
        raise invalid(
            "prefix",
            "not_a_number",
            f"prefix must be the first digits of the international number, e.g. 38093, got "
            f"{value!r:.40}.",
        )
    return "+" + text.lstrip("+")


def list_numbers(
    store: Store,
    project_id: int,
    *,
    prefix: str | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> DncPage:
    """One page of the list in number order; pass ``next_cursor`` back for the next."""
    start = parse_prefix(prefix)
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        raise invalid("cursor", "malformed", "cursor must be the next_cursor of the previous page.")
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", "out_of_range", f"limit must be 1 to {MAX_LIMIT}, got {limit}.")
    found = store.read(
        lambda conn: sql.list_entries(conn, project_id, prefix=start, after=cursor, limit=limit + 1)
    )
    more = len(found) > limit
    items = found[:limit]
    return DncPage(items, items[-1].phone_e164 if more and items else None)
