"""The do-not-call list as CSV: import a column of numbers (with an optional reason column),
export the entries (number, reason, source, added_by, added_at).

An import reads a file of at most ``MAX_IMPORT_BYTES`` (~1.5 million numbers) from disk as a
stream — one batch of numbers and one line in memory, never the whole file — and answers with
what became of every line; each line is read on its own, a bad number is reported with its
line and the others are listed.  The entries go in batches of ``BATCH`` numbers, one
transaction each, so a very long file does not hold the database's write lock for its whole
length.  The file is read through once before anything is listed (its encoding, its records):
a record that cannot be read as CSV, or longer than ``MAX_RECORD_CHARS`` (as a quote that
never closes makes it), refuses the whole file with ``malformed_line`` naming its line.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from sqlalchemy import Connection

from powerdialer import dnc
from powerdialer.errors import ValidationError
from powerdialer.models import DncEntry, utcnow
from powerdialer.reader.header_names import normalize_header, role_of
from powerdialer.rows.exporting import defuse
from powerdialer.storage import Store
from powerdialer.storage import dnc as sql

MAX_IMPORT_BYTES = 32 * 1024 * 1024
BATCH = 5000
MAX_RECORD_CHARS = 64 * 1024  # a number, a reason and a few more columns; longer is not a line
MAX_REJECTS_SHOWN = 1000  # lines listed in an answer; the count is always whole
HEADER = ("number", "reason", "source", "added_by", "added_at")
_REASON_NAMES = frozenset(
    normalize_header(name)
    for name in ("reason", "причина", "comment", "коментар", "комментарий", "note", "примітка")
)


@dataclass(frozen=True, slots=True)
class LineReject:
    line: int  # 1-based, as an editor shows it
    value: str
    error: ValidationError


@dataclass(slots=True)
class ImportReport:
    added: int = 0
    listed: int = 0  # already on the list (the first entry is kept)
    rejected: int = 0
    rejects: list[LineReject] = field(default_factory=list)


def _readable(binary: BinaryIO) -> str:
    """The file's encoding — UTF-8 (with or without a BOM), else cp1251 as Ukrainian Excel
    saves CSV — once every record of the file has been read in it: a file that cannot be
    read is refused before a number of it is listed."""
    for encoding, errors in (("utf-8-sig", "strict"), ("cp1251", "replace")):
        binary.seek(0)
        text = io.TextIOWrapper(binary, encoding=encoding, errors=errors, newline="")
        try:
            for _ in _rows(text):
                pass
        except UnicodeDecodeError:
            continue
        finally:
            text.detach()
        binary.seek(0)
        return encoding
    raise AssertionError("cp1251 with errors='replace' decodes any bytes")


def _size(file: BinaryIO) -> int:
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    return size


def _dialect(first: str) -> str:
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _columns(row: list[str]) -> tuple[int, int | None, bool]:
    """(number column, reason column, whether ``row`` is a header)."""
    phone = next((i for i, cell in enumerate(row) if role_of(cell) == "phone"), None)
    reason = next((i for i, c in enumerate(row) if normalize_header(c) in _REASON_NAMES), None)
    if phone is not None:
        return phone, reason, True
    if reason is not None:
        return (1 if reason == 0 else 0), reason, True
    return 0, (1 if len(row) > 1 else None), False


def import_csv(
    store: Store,
    project_id: int,
    file: BinaryIO | bytes,
    *,
    source: str,
    region: str,
    added_by: str | None = None,
    now: dt.datetime | None = None,
) -> ImportReport:
    """List every number of a CSV file, a seekable binary file or bytes (see the module's
    docstring)."""
    binary: BinaryIO = io.BytesIO(file) if isinstance(file, bytes) else file
    size = _size(binary)
    if size > MAX_IMPORT_BYTES:
        raise ValidationError(
            f"the file is {size} bytes; the limit is {MAX_IMPORT_BYTES}: split it.",
            code="body_too_large",
            field="file",
        )
    when = now or utcnow()
    text = io.TextIOWrapper(binary, encoding=_readable(binary), errors="replace", newline="")
    try:
        return _import_lines(
            store, project_id, text, source=source, region=region, added_by=added_by, now=when
        )
    finally:
        text.detach()  # the caller's file stays open: it is theirs to close


def _import_lines(
    store: Store,
    project_id: int,
    text: io.TextIOWrapper,
    *,
    source: str,
    region: str,
    added_by: str | None,
    now: dt.datetime,
) -> ImportReport:
    report = ImportReport()
    batch: dict[str, str | None] = {}

    def flush() -> None:
        entries = list(batch.items())
        added = store.write(
            lambda conn: dnc.add_entries(
                conn, project_id, entries, source=source, now=now, added_by=added_by
            )
        )
        report.added += len(added)
        report.listed += len(entries) - len(added)
        batch.clear()

    plan: tuple[int, int | None] | None = None
    for line, row in _rows(text):
        if not any(cell.strip() for cell in row):
            continue
        if plan is None:
            phone, reason, header = _columns(row)
            plan = (phone, reason)
            if header:
                continue
        phone, reason = plan
        value = row[phone] if phone < len(row) else ""
        try:
            e164 = dnc.parse_number(value, region)
            cell = row[reason] if reason is not None and reason < len(row) else None
            why = dnc.parse_reason(cell)
        except ValidationError as exc:
            report.rejected += 1
            if len(report.rejects) < MAX_REJECTS_SHOWN:
                report.rejects.append(LineReject(line, value[:64], exc))
            continue
        if e164 in batch:
            report.listed += 1  # twice in the file: the first line's reason is kept
            continue
        batch[e164] = why
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return report


class _Records:
    """The file's lines for ``csv.reader``, counting the characters of the record being
    read: past ``MAX_RECORD_CHARS`` the reading stops, so one record never holds more."""

    def __init__(self, text: io.TextIOWrapper) -> None:
        self.text = text
        self.pending = 0  # characters handed out since the last record ended

    def __iter__(self) -> Iterator[str]:
        while line := self.text.readline(MAX_RECORD_CHARS + 1):
            self.pending += len(line)
            if self.pending > MAX_RECORD_CHARS:
                raise csv.Error(f"a record longer than {MAX_RECORD_CHARS} characters")
            yield line


def _rows(text: io.TextIOWrapper) -> Iterator[tuple[int, list[str]]]:
    """Each record of the file, with the line it began on, its delimiter guessed from the
    first line; one the reader cannot read is refused with ``malformed_line``, naming that
    line."""
    first = text.readline(MAX_RECORD_CHARS)
    text.seek(0)
    records = _Records(text)
    reader = csv.reader(records, delimiter=_dialect(first))
    start = 1
    try:
        for row in reader:
            records.pending = 0
            yield start, row
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ValidationError(
            f"line {start} of the file cannot be read as CSV ({exc}: a quote that never "
            "closes?): fix the line and import the file again; nothing was listed.",
            code="malformed_line",
            field="file",
        ) from None


def _line(entry: DncEntry) -> list[str]:
    return [
        entry.phone_e164,
        defuse(entry.reason or ""),
        entry.source,
        defuse(entry.added_by or ""),
        entry.added_at.isoformat(),
    ]


def export_csv(store: Store, project_id: int, *, page: int = 5000) -> Iterator[bytes]:
    """The project's entries in number order, as UTF-8 CSV with a BOM (Excel opens it right),
    read a page at a time."""
    yield b"\xef\xbb\xbf" + _csv([list(HEADER)])
    after: str | None = None
    while True:
        found = store.read(functools.partial(_page, project_id=project_id, after=after, limit=page))
        if not found:
            return
        yield _csv([_line(entry) for entry in found])
        after = found[-1].phone_e164


def _page(conn: Connection, *, project_id: int, after: str | None, limit: int) -> list[DncEntry]:
    return sql.list_entries(conn, project_id, after=after, limit=limit)


def _csv(lines: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(lines)
    return buffer.getvalue().encode()
