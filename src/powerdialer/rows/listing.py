"""Reading a campaign's rows back: filters, opaque keyset cursors, one row, deletion.

A cursor is ``base64url("1:<campaign>:<after id>:<filter digest>:<check>")``.  It is opaque
to clients and bound to the listing it came from: used with another campaign or other
filters, or edited by hand, it is refused with 422 ``invalid_cursor`` (never a 5xx).  It is
not a secret and needs none: every query is scoped by the caller's project anyway, so a forged
cursor can at most skip rows the caller may read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import astuple, dataclass

from sqlalchemy import Connection

from powerdialer.campaigns import delete_rows_in_batches, get_campaign
from powerdialer.errors import NotFound, ValidationError, invalid
from powerdialer.models import MAX_ID, RowSource
from powerdialer.phones import normalize_phone
from powerdialer.rows.models import RowFilter, RowRecord
from powerdialer.rows.validate import MAX_EXTERNAL_ID
from powerdialer.storage import Store
from powerdialer.storage import rows_read as sql
from powerdialer.text import one_line

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_QUERY_TEXT = 255
_MAX_CURSOR = 200
_STATUS = re.compile(r"[a-z_]{1,16}")
_PREFIX_JUNK = re.compile(r"[\s().-]")
_SPACE_BEFORE_OFFSET = re.compile(r" (\d\d(?::?\d\d)?)$")


def row_not_found(row_id: object) -> NotFound:
    return NotFound(
        f"row {row_id} is not a row of this campaign: take the id from the campaign's "
        "row list (GET …/rows).",
        code="row_not_found",
        field="row_id",
    )


def _parse_time(value: str | None, field: str) -> dt.datetime | None:
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        # An unencoded '+' in a query string arrives as a space: "…T10:00:00 02:00".
        try:
            parsed = dt.datetime.fromisoformat(_SPACE_BEFORE_OFFSET.sub(r"+\1", text))
        except ValueError:
            raise invalid(
                field,
                "not_a_date",
                f"{field} must be an ISO 8601 date or time such as 2026-01-31 or "
                f"2026-01-31T09:00:00+02:00, got {text!r:.40}.",
            ) from None
    # A time without an offset is UTC, like every time the API answers with.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


def _parse_prefix(value: str) -> str:
    digits = _PREFIX_JUNK.sub("", value).removeprefix("+")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 15 or digits[0] == "0":
        raise invalid(
            "phone_prefix",
            "not_a_prefix",
            "phone_prefix is the start of the international number, country code first "
            f"(digits, optionally after '+'), e.g. 38093; got {value!r:.40}.",
        )
    return "+" + digits


def build_filter(
    *,
    phone: str | None = None,
    phone_prefix: str | None = None,
    q: str | None = None,
    external_id: str | None = None,
    source: str | None = None,
    status: str | None = None,
    created_from: str | None = None,
    created_to: str | None = None,
    region: str = "UA",
) -> RowFilter:
    """Validate a listing's query parameters; each error names its parameter."""
    e164 = None
    if phone is not None and phone.strip():
        try:
            e164 = normalize_phone(phone, region).e164
        except ValidationError as exc:
            raise invalid(
                "phone",
                exc.reason or "invalid_number",
                exc.message.replace("phone_number", "phone", 1)
                + " For the first digits of numbers use phone_prefix.",
            ) from None
    prefix = _parse_prefix(phone_prefix) if phone_prefix and phone_prefix.strip() else None
    text = " ".join(q.split()) if q else None
    if text is not None and len(text) > MAX_QUERY_TEXT:
        raise invalid("q", "too_long", f"q is longer than {MAX_QUERY_TEXT} characters.")
    crm_id = one_line(external_id) if external_id else None  # as rows store it
    if crm_id is not None and len(crm_id) > MAX_EXTERNAL_ID:
        raise invalid(
            "external_id",
            "too_long",
            f"external_id is longer than {MAX_EXTERNAL_ID} characters, so no row has it.",
        )
    if source is not None and source not in {s.value for s in RowSource}:
        allowed = ", ".join(s.value for s in RowSource)
        raise invalid("source", "not_allowed", f"source must be one of {allowed}.")
    if status is not None and not _STATUS.fullmatch(status):
        raise invalid("status", "not_allowed", "status is a word such as pending.")
    start = _parse_time(created_from, "created_from")
    end = _parse_time(created_to, "created_to")
    if start is not None and end is not None and start >= end:
        raise invalid("created_to", "before_start", "created_to must be later than created_from.")
    return RowFilter(
        phone_e164=e164,
        phone_prefix=prefix,
        text=text or None,
        external_id=crm_id or None,
        source=source,
        status=status,
        created_from=start,
        created_to=end,
    )


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _filter_digest(f: RowFilter) -> str:
    return _digest(repr(astuple(f)))


def encode_cursor(campaign_id: int, after_id: int, f: RowFilter) -> str:
    body = f"1:{campaign_id}:{after_id}:{_filter_digest(f)}"
    token = f"{body}:{_digest(body)}".encode()
    return base64.urlsafe_b64encode(token).decode().rstrip("=")


def _invalid_cursor(message: str) -> ValidationError:
    return ValidationError(
        f"cursor {message}: pass the next_cursor of the previous page unchanged, with the "
        "same filters, or leave cursor out to start from the first page.",
        code="invalid_cursor",
        field="cursor",
    )


def decode_cursor(cursor: str, campaign_id: int, f: RowFilter) -> int:
    """The id to continue after, or 422 ``invalid_cursor``."""
    if len(cursor) > _MAX_CURSOR:
        raise _invalid_cursor("is too long")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise _invalid_cursor("is not one this server issued") from None
    parts = text.split(":")
    if len(parts) != 5 or parts[0] != "1" or _digest(":".join(parts[:4])) != parts[4]:
        raise _invalid_cursor("is not one this server issued")
    if not (parts[1].isdigit() and parts[2].isdigit()) or int(parts[2]) > MAX_ID:
        raise _invalid_cursor("is not one this server issued")
    if int(parts[1]) != campaign_id or parts[3] != _filter_digest(f):
        raise _invalid_cursor("belongs to another listing (other campaign or filters)")
    return int(parts[2])


@dataclass(frozen=True, slots=True)
class RowPage:
    items: list[RowRecord]
    next_cursor: str | None
    prev_cursor: str | None = None  # None on the first page


def list_rows(
    store: Store,
    project_id: int,
    campaign_id: int,
    f: RowFilter,
    *,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> RowPage:
    """One page of matching rows, oldest first, and the cursors of the next page (``None``
    on the last one) and of the previous one (``None`` on the first)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid("limit", "out_of_range", f"limit must be between 1 and {MAX_LIMIT}.")
    after_id = decode_cursor(cursor, campaign_id, f) if cursor else 0

    def run(conn: Connection) -> tuple[list[RowRecord], list[int]]:
        get_campaign(conn, project_id, campaign_id)
        found = sql.page(conn, project_id, campaign_id, f, after_id=after_id, limit=limit + 1)
        before: list[int] = []
        if after_id:  # the previous page: the rows before this one, highest first
            before = sql.ids_before(
                conn, project_id, campaign_id, f, through_id=after_id, limit=limit + 1
            )
        return found, before

    found, before = store.read(run)
    # The previous page starts after the row just before its first: after none (0) when
    # it is the first page.
    prev_cursor = None
    if before:
        start = before[limit] if len(before) > limit else 0
        prev_cursor = encode_cursor(campaign_id, start, f)
    if len(found) <= limit:
        return RowPage(found, None, prev_cursor)
    items = found[:limit]
    return RowPage(items, encode_cursor(campaign_id, items[-1].id, f), prev_cursor)


def rows_after(
    store: Store, project_id: int, campaign_id: int, *, after_id: int = 0, limit: int
) -> list[RowRecord]:
    """Up to ``limit`` of the campaign's rows after the row ``after_id``, oldest first: a
    listing without cursors or a page bound, for the CLI and tests."""

    def run(conn: Connection) -> list[RowRecord]:
        get_campaign(conn, project_id, campaign_id)
        return sql.page(conn, project_id, campaign_id, RowFilter(), after_id=after_id, limit=limit)

    return store.read(run)


def get_row(store: Store, project_id: int, campaign_id: int, row_id: int) -> RowRecord:
    def run(conn: Connection) -> RowRecord:
        get_campaign(conn, project_id, campaign_id)
        found = sql.get_row(conn, project_id, campaign_id, row_id)
        if found is None:
            raise row_not_found(row_id)
        return found

    return store.read(run)


def delete_row(store: Store, project_id: int, campaign_id: int, row_id: int) -> None:
    def run(conn: Connection) -> None:
        get_campaign(conn, project_id, campaign_id)
        if not sql.delete_row(conn, project_id, campaign_id, row_id):
            raise row_not_found(row_id)

    store.write(run)


def delete_rows(store: Store, project_id: int, campaign_id: int, row_ids: Iterable[int]) -> int:
    """Delete the campaign's rows among ``row_ids`` in one transaction; an id already gone is
    skipped (a second click deletes nothing more).  Returns how many went."""

    def run(conn: Connection) -> int:
        get_campaign(conn, project_id, campaign_id)
        return sum(bool(sql.delete_row(conn, project_id, campaign_id, i)) for i in row_ids)

    return store.write(run)


def clear_rows(store: Store, project_id: int, campaign_id: int, confirm: str | None) -> int:
    """Delete every row of the campaign (the campaign stays); ``confirm`` must repeat the
    campaign id, so a stray request cannot empty a campaign.  Returns how many went."""
    if (confirm or "").strip() != str(campaign_id):
        raise ValidationError(
            f"emptying a campaign needs confirm={campaign_id} (the campaign's id) in the query "
            "string: the rows cannot be brought back.",
            code="confirmation_required",
            field="confirm",
        )
    store.read(lambda conn: get_campaign(conn, project_id, campaign_id))
    return delete_rows_in_batches(store, project_id, campaign_id)


__all__ = [
    "RowPage",
    "build_filter",
    "clear_rows",
    "decode_cursor",
    "delete_row",
    "encode_cursor",
    "get_row",
    "list_rows",
    "row_not_found",
    "rows_after",
]
