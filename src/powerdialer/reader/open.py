"""Opening a CRM export: CSV/TSV, XLSX/XLS/ODS and JSON Lines, streamed.

Shared by the server's background import job and the client's ``powerdialer fill``, so the
reader is a pure library: no web framework, no CLI, no database, and memory that does not grow
with the file (rows are read one at a time; only the first 64 KiB and the first few rows are
buffered to detect the encoding, delimiter and columns). It yields the raw text of the phone
cell; parsing numbers is another module's job.

Workbooks are the exception to streaming: python-calamine 0.9 parses the whole sheet into its
own (Rust) memory when the sheet is opened and only hands rows to Python one at a time; about
90 MB for 200,000 rows of four columns. So a workbook's grid, its uncompressed size and its
ZIP are bounded before calamine sees it (:mod:`~powerdialer.reader.bounds`). CSV and JSON
Lines stay flat at a few hundred KiB whatever their size.

This module opens files (:func:`open_table`, :func:`preview`); the work is done in
:mod:`~powerdialer.reader.sniff` (format, encoding, delimiter),
:mod:`~powerdialer.reader.sources` (rows and cell text), :mod:`~powerdialer.reader.headers`
(columns) and :mod:`~powerdialer.reader.table` (what an open file yields). Errors, and which
ones are raised rather than reported per row, are described in
:mod:`~powerdialer.reader.errors`.
"""

from __future__ import annotations

import codecs
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, islice
from typing import Any, BinaryIO

from python_calamine import CalamineError, CalamineWorkbook, PasswordError, WorksheetNotFound

from powerdialer.reader.bounds import DEFAULT_LIMITS, WorkbookLimits, check_workbook
from powerdialer.reader.errors import FIX, FormatError, MalformedError
from powerdialer.reader.fields import LeftOut
from powerdialer.reader.headers import Mapping, ResolvedMapping
from powerdialer.reader.sniff import (
    SAMPLE_SIZE,
    SEP_LINE,
    WORKBOOKS,
    detect_delimiter,
    detect_encoding,
    sniff_format,
)
from powerdialer.reader.sources import (
    Prefixed,
    csv_rows,
    decoded,
    jsonl_rows,
    read_up_to,
    sheet_rows,
)
from powerdialer.reader.table import HEADER_SCAN, Record, Table, start_rows


@dataclass(frozen=True)
class Preview:
    """The first records and what was detected, for a "check your columns" screen."""

    format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None
    sheets: tuple[str, ...]
    mapping: ResolvedMapping
    records: list[Record]
    left_out: tuple[LeftOut, ...] = ()
    """Columns that do not become custom fields (see :mod:`~powerdialer.reader.fields`)."""
    fields: tuple[int, ...] = ()
    """The columns (indexes) that become custom fields."""


Source = str | os.PathLike[str] | BinaryIO


def open_table(
    source: Source,
    *,
    filename: str | None = None,
    mapping: Mapping | None = None,
    sheet: str | int | None = None,
    limits: WorkbookLimits = DEFAULT_LIMITS,
) -> Table:
    """Open a CRM export and detect its format, encoding, delimiter, header row and columns.

    ``source`` is a path or a binary stream (an upload; it need not be seekable, though a
    workbook from an unseekable stream is read into memory). ``filename`` names the stream's
    file so its extension can help; ``sheet`` picks a workbook sheet by name or index (first by
    default). A workbook bigger than ``limits`` is refused (``workbook_too_large``) before it
    is read (:mod:`~powerdialer.reader.bounds`). Raises :class:`ReaderError` subclasses,
    here or later while iterating.
    """
    closers: list[Any] = []
    if isinstance(source, str | os.PathLike):
        filename = filename or os.fspath(source)
        stream: BinaryIO = open(source, "rb")  # noqa: SIM115 - closed by Table.close
        closers.append(stream.close)
    else:
        name = getattr(source, "name", None)
        filename = filename or (name if isinstance(name, str) else None)
        stream = source
    try:
        return _open(stream, filename, mapping or Mapping(), sheet, closers, limits)
    except BaseException:
        for close in reversed(closers):
            close()
        raise


def _open(
    stream: BinaryIO,
    filename: str | None,
    mapping: Mapping,
    sheet: str | int | None,
    closers: list[Any],
    limits: WorkbookLimits,
) -> Table:
    start = stream.tell() if stream.seekable() else 0
    head = read_up_to(stream, SAMPLE_SIZE)
    fmt = sniff_format(head, filename)
    if fmt in WORKBOOKS:
        data: BinaryIO = stream
        if stream.seekable():
            stream.seek(start)
        else:
            data = io.BytesIO(head + stream.read())
        check_workbook(data, fmt, limits)
        return _open_workbook(data, fmt, mapping, sheet, closers)
    complete = len(head) < SAMPLE_SIZE
    codec, errors = detect_encoding(head, complete)
    if fmt == "jsonl" and codec != "utf-8" and _mostly_utf8(head, complete):
        codec, errors = "utf-8", "strict"  # JSON is UTF-8; a line that is not is its own error
    # CSV in an ASCII-compatible encoding ends with a line break (see Prefixed); UTF-16's
    # would take two bytes in the file's byte order, and such exports are rare: left as is.
    newline = b"\n" if fmt == "csv" and not codec.startswith("utf-16") else b""
    raw = io.BufferedReader(Prefixed(head, stream, newline), buffer_size=1 << 16)
    ends = "" if fmt == "csv" else None  # csv wants line ends untouched inside quotes
    text = io.TextIOWrapper(raw, encoding=codec, errors=errors, newline=ends)
    closers.append(text.close)
    sample = codecs.getincrementaldecoder(codec)("replace").decode(head, final=complete)
    if fmt == "jsonl":
        return _open_jsonl(raw, text, sample, codec, errors, mapping, closers)
    return _open_csv(text, fmt, sample, codec, complete, mapping, closers)


def _open_workbook(
    data: BinaryIO, fmt: str, mapping: Mapping, sheet: str | int | None, closers: list[Any]
) -> Table:
    """An XLSX, XLS or ODS workbook whose size ``check_workbook`` has already vouched for."""
    try:
        book = CalamineWorkbook.from_filelike(data)
    except PasswordError as exc:
        raise FormatError(
            "encrypted", "The workbook is password-protected; remove the password and retry."
        ) from exc
    except CalamineError as exc:
        raise FormatError(
            "corrupt_file", f"The {fmt} workbook cannot be read ({exc}); {FIX}."
        ) from exc
    closers.append(book.close)
    sheet = 0 if sheet is None else sheet
    try:
        ws = (
            book.get_sheet_by_name(sheet)
            if isinstance(sheet, str)
            else book.get_sheet_by_index(sheet)
        )
    except (WorksheetNotFound, IndexError, OverflowError) as exc:
        names = ", ".join(book.sheet_names)
        raise FormatError(
            "sheet_not_found", f"No sheet {sheet!r}; the workbook has: {names}."
        ) from exc
    except CalamineError as exc:  # the sheet's XML is broken, or its part in the ZIP
        raise FormatError(
            "corrupt_file",
            f"The {fmt} workbook's sheet cannot be read ({type(exc).__name__}: {exc}); {FIX}.",
        ) from exc
    resolved, rows = start_rows(sheet_rows(ws), mapping, None)
    return Table(
        format=fmt,
        mapping=resolved,
        rows=rows,
        closers=closers,
        sheet=ws.name,
        sheets=tuple(book.sheet_names),
    )


def _open_jsonl(
    raw: Iterable[bytes],
    text: io.TextIOWrapper,
    sample: str,
    codec: str,
    errors: str,
    mapping: Mapping,
    closers: list[Any],
) -> Table:
    keys: list[str] = []
    if codec.startswith("utf-16"):
        rows = decoded(jsonl_rows(text, keys))
    else:  # bytes: each line decoded on its own, so a bad one is that line's error
        rows = jsonl_rows(raw, keys, codec, errors)
    # A broken line before the first object is that line's error, like any other; a file
    # with no object among its first lines is not JSON Lines at all.
    leading = list(islice(rows, HEADER_SCAN))
    objects = [row for row in leading if not isinstance(row[1], str)]
    if not leading:
        raise FormatError("empty_file", f"The file has no rows; {FIX}.")
    if isinstance(leading[0][1], str) and sample.lstrip("\ufeff \t\r\n").startswith("["):
        raise FormatError(
            "unsupported_format",
            "The file is one JSON array; write one JSON object a line (JSON Lines).",
        )
    if not objects:
        line, message = leading[0]
        raise MalformedError("malformed_line", str(message), line=line)
    resolved, started = start_rows(chain(leading, rows), mapping, keys)
    return Table(
        format="jsonl",
        mapping=resolved,
        rows=started,
        closers=closers,
        encoding=codec,
        live_headers=keys,
    )


def _open_csv(
    text: io.TextIOWrapper,
    fmt: str,
    sample: str,
    codec: str,
    complete: bool,
    mapping: Mapping,
    closers: list[Any],
) -> Table:
    if match := SEP_LINE.match(sample):
        delimiter = match.group(1)
    else:
        delimiter = detect_delimiter(sample, complete)
    rows = csv_rows(text, delimiter)
    if match:
        next(rows, None)  # Excel's "sep=;" hint is not data; lines keep counting it
    resolved, started = start_rows(rows, mapping, None)
    return Table(
        format=fmt,
        mapping=resolved,
        rows=started,
        closers=closers,
        encoding=codec,
        delimiter=delimiter,
    )


def _mostly_utf8(head: bytes, complete: bool) -> bool:
    """Whether most of the sample's non-ASCII lines are UTF-8 (a few broken ones do not make
    a JSON Lines file cp1251)."""
    lines = head.split(b"\n")
    if not complete:
        lines = lines[:-1]  # may be cut mid-character
    verdicts = []
    for line in lines:
        if not line.isascii():
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                verdicts.append(False)
            else:
                verdicts.append(True)
    return sum(verdicts) * 2 > len(verdicts)


def preview(
    source: Source,
    *,
    filename: str | None = None,
    mapping: Mapping | None = None,
    sheet: str | int | None = None,
    limit: int = 20,
    limits: WorkbookLimits = DEFAULT_LIMITS,
) -> Preview:
    """Detection results and the first ``limit`` records, reading no further into the file."""
    with open_table(
        source, filename=filename, mapping=mapping, sheet=sheet, limits=limits
    ) as table:
        records = list(islice(table, limit))
        return Preview(
            table.format, table.encoding, table.delimiter, table.sheet, table.sheets,
            table.mapping, records, tuple(table.left_out), tuple(table.field_columns),
        )  # fmt: skip
