"""Exporting a campaign's rows as CSV or XLSX, streamed: memory stays flat however many rows.

Rows are read in keyset pages, each page on a fresh connection and in its own short read
transaction (so a long download never pins SQLite's WAL or a pooled connection for minutes).
Pages follow the ids, so no row is written twice or skipped; rows added or deleted while the
export runs may or may not appear.

Columns: the row's own (``BASE_COLUMNS``), then one column per custom field.  The field names
are found first by one query in the database's own JSON code (``storage.rows_export
.field_names``), so the header is known before the first row is streamed and the file can be
imported again as it is.  A field named like a base column is headed ``field:<name>``; with
more than ``MAX_FIELD_COLUMNS`` distinct names (or names PostgreSQL cannot read: a malformed
stored value) all fields go in one ``fields`` column as JSON.

CSV: UTF-8 with a byte-order mark (without it Excel reads UTF-8 as the ANSI code page and
Cyrillic turns to mojibake), comma-separated, CRLF line ends (RFC 4180).  A text cell that
Excel would run as a formula is prefixed with an apostrophe.  XLSX: streamed as it is read
too (:mod:`powerdialer.rows.xlsx`), every value a string or a number (never a formula); past
Excel's 1,048,576 rows a sheet continues on the next one.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import orjson
from sqlalchemy import Connection

from powerdialer.campaigns import get_campaign
from powerdialer.rows import xlsx
from powerdialer.rows.models import RowFilter
from powerdialer.storage import Store
from powerdialer.storage import rows_export as sql
from powerdialer.storage.rows_read import stored_fields

BASE_COLUMNS = (
    "id",
    "fio",
    "phone_number",
    "phone_e164",
    "source",
    "status",
    "attempts",
    "external_id",
    "created_at",
    "updated_at",
    # What the row brings for the dialer, and the dialer's state of it (due_at: when it is
    # next due, ``next_attempt_at``).
    "priority",
    "call_next",
    "tz",
    "consent_basis",
    "consent_at",
    "consent_source",
    "final_state",
    "due_at",
)
MAX_FIELD_COLUMNS = 200
PAGE = 5000
XLSX_MAX_ROWS = 1_048_576  # per sheet, the header included
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | int


@dataclass(frozen=True, slots=True)
class ExportPlan:
    project_id: int
    campaign_id: int
    campaign_name: str
    filter: RowFilter
    field_names: tuple[str, ...] | None  # None: every field in one JSON "fields" column

    @property
    def header(self) -> list[str]:
        if self.field_names is None:
            return [*BASE_COLUMNS, "fields"]
        taken = set(BASE_COLUMNS)
        return [*BASE_COLUMNS, *(f"field:{n}" if n in taken else n for n in self.field_names)]


def plan_export(store: Store, project_id: int, campaign_id: int, f: RowFilter) -> ExportPlan:
    """Check the campaign (404 before any byte is streamed) and find the field columns."""

    def run(conn: Connection) -> ExportPlan:
        campaign = get_campaign(conn, project_id, campaign_id)
        names = sql.field_names(conn, project_id, campaign_id, f, limit=MAX_FIELD_COLUMNS + 1)
        fields = tuple(names) if names is not None and len(names) <= MAX_FIELD_COLUMNS else None
        return ExportPlan(project_id, campaign_id, campaign.name, f, fields)

    return store.read(run)


def _read_lines(
    conn: Connection, *, plan: ExportPlan, after_id: int, limit: int
) -> tuple[list[list[Cell]], int]:
    """One page as lines, and the id it ends at: the database's rows are dropped here."""
    found = sql.export_page(
        conn, plan.project_id, plan.campaign_id, plan.filter, after_id=after_id, limit=limit
    )
    names = plan.field_names
    blank = [""] * (1 if names is None else len(names))  # a row without fields
    return [_cells(names, blank, row) for row in found], (found[-1][0] if found else after_id)


class _Pages:
    """The export's pages, read one at a time as they are asked for.  An iterator object
    rather than a generator so that it keeps no reference to a page it has handed over: an
    export waiting on a slow (or absent) reader holds only the bytes already made."""

    def __init__(self, store: Store, plan: ExportPlan, page: int) -> None:
        self.store, self.plan, self.page = store, plan, page
        self.after_id: int | None = 0  # None: the last page was read

    def __iter__(self) -> _Pages:
        return self

    def __next__(self) -> list[list[Cell]]:
        if self.after_id is None:
            raise StopIteration
        read = partial(_read_lines, plan=self.plan, after_id=self.after_id, limit=self.page)
        lines, last_id = self.store.read(read)
        self.after_id = last_id if len(lines) == self.page else None
        if not lines:
            raise StopIteration
        return lines


def iter_lines(
    store: Store, plan: ExportPlan, page: int | None = None
) -> Iterator[list[list[Cell]]]:
    """The export's lines (cells in ``plan.header`` order), ``PAGE`` rows at a time, each
    page read from the database only when the one before has been taken."""
    return _Pages(store, plan, page or PAGE)  # PAGE read when called: a test can shrink it


def _cells(names: tuple[str, ...] | None, blank: list[str], row: Sequence[Any]) -> list[Cell]:
    row_id, fio, raw, e164, source, status, attempts, external_id, created, updated = row[:10]
    priority, call_next, tz, basis, consent_at, consent_source, final, due, extra = row[10:]
    line: list[Cell] = [
        row_id, fio or "", raw, e164, source, status, attempts, external_id or "", created, updated,
        priority, "true" if call_next else "false", tz or "", basis or "", consent_at or "",
        consent_source or "", final or "", due or "",
    ]  # fmt: skip
    if not extra:  # most rows: no custom fields
        line.extend(blank)
        return line
    fields = stored_fields(extra)
    if names is None:
        line.append(orjson.dumps(fields).decode() if fields else "")
    else:
        line.extend([fields.get(name, "") for name in names])
    return line


# Only a cell that could call a function or reference a cell needs defusing; a number such
# as "+380 (93) 000-00-00" cannot, and must stay as it is.
_FORMULA_START = frozenset("=+-@\t\r")
_HARMLESS = re.compile(r"[0-9 ()+\-.,]*")
# fio, phone_number, external_id, consent_basis, consent_source; then the fields from
# len(BASE_COLUMNS).
_FREE_TEXT = (1, 2, 7, 13, 15)


def defuse(cell: str) -> str:
    """Prefix a text cell that a spreadsheet would run as a formula (CSV injection)."""
    if cell and cell[0] in _FORMULA_START and not _HARMLESS.fullmatch(cell):
        return "'" + cell
    return cell


def _defuse_line(line: list[Cell]) -> list[Cell]:
    for index in (*_FREE_TEXT, *range(len(BASE_COLUMNS), len(line))):
        cell = line[index]
        # The first test is the cheap one that nearly every cell fails.
        if isinstance(cell, str) and cell[:1] in _FORMULA_START:
            line[index] = defuse(cell)
    return line


def csv_chunks(store: Store, plan: ExportPlan) -> Iterator[bytes]:
    """The CSV file in chunks of one page of rows each, BOM and header first.  Between
    chunks only the bytes handed on are alive (no page, no text buffer): see ``_Pages``."""
    yield b"\xef\xbb\xbf" + _csv_text([[defuse(h) for h in plan.header]]).encode()
    for lines in iter_lines(store, plan):
        data = _csv_text(_defuse_line(line) for line in lines).encode()
        del lines
        yield data


def _csv_text(lines: Iterable[Sequence[Cell]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue()


def xlsx_chunks(store: Store, plan: ExportPlan) -> Iterator[bytes]:
    """The XLSX file, streamed: a page of rows at a time (see :mod:`powerdialer.rows.xlsx`)."""
    widths = [10, 24, 24, 24, *[14] * (len(plan.header) - 4)]
    lines = iter_lines(store, plan)
    return xlsx.stream(plan.header, lines, sheet_name="rows", widths=widths, max_rows=XLSX_MAX_ROWS)


def file_names(plan: ExportPlan, extension: str) -> tuple[str, str]:
    """(ASCII fallback, full Unicode name) of the download: ``campaign-456-<name>.csv``."""
    stem = f"campaign-{plan.campaign_id}"
    name = re.sub(
        r"[\\/:*?\"<>|\x00-\x1f\x7f]+", " ", unicodedata.normalize("NFC", plan.campaign_name)
    )
    slug = "-".join(name.split())[:80]
    ascii_slug = re.sub(r"[^A-Za-z0-9._-]+", "-", slug).strip("-._")
    fallback = f"{stem}-{ascii_slug}.{extension}" if ascii_slug else f"{stem}.{extension}"
    full = f"{stem}-{slug}.{extension}" if slug else f"{stem}.{extension}"
    return fallback, full
