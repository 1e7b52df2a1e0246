"""Cell values and the per-format row sources: ``(line, cells)``, blank rows included.

Past 300 lines on purpose: the formats' row sources share the cell-value rules at the top;
split, each would import the others' helpers."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from python_calamine import CalamineSheet

from powerdialer.reader.errors import EncodingError, MalformedError
from powerdialer.reader.headers import looks_like_phone

__all__ = [
    "Prefixed",
    "Row",
    "cell_text",
    "csv_rows",
    "decoded",
    "jsonl_rows",
    "plain_text",
    "read_up_to",
    "sheet_rows",
]

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

Row = tuple[int, list[Any] | str]  # (line, cells) or (line, message) for an unreadable line


# --- cell values ---------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE]\+?\d{1,2}")
_EXCEL_FORMULA = re.compile(r'="(.*)"')
_DECIMAL_ZERO = re.compile(r"(\d+)[.,]0+")


def plain_text(value: object) -> str:
    """Text of any cell: integral floats lose their ``.0`` (Excel stores every number as a
    float, so an id typed as ``12345`` arrives as ``12345.0``); dates and the rest via ``str``."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def cell_text(value: object) -> str:
    """Text of a phone cell, undoing what spreadsheets do to long numbers.

    A number typed into Excel becomes a float (``380930000000.0`` → ``"380930000000"``); a CSV
    saved by Excel from such a column may hold it in scientific notation, with a decimal comma
    in Ukrainian locales (``"3,8093E+11"`` → ``"380930000000"``); CRMs that guard leading zeros
    write ``="0930000000"``. Only integral values are converted, and no digit is invented: if
    Excel already rounded the number away, the phone validator will reject what is left.
    """
    if not isinstance(value, str):
        return plain_text(value)
    text = value.strip()
    if text.isdigit():  # the usual case, kept off the regular expressions
        return text
    if match := _EXCEL_FORMULA.fullmatch(text):
        return match.group(1).strip()
    if _SCIENTIFIC.fullmatch(text):
        number = Decimal(text.replace(",", "."))
        return str(int(number)) if number == number.to_integral_value() else text
    if match := _DECIMAL_ZERO.fullmatch(text):
        return match.group(1)
    return text


# --- row sources: (line, cells), blank rows included ----------------------------------------


_TOO_LONG = "the most one cell may hold; shorten it or leave that column out."
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SWALLOWED = 3
"""Lines of one quoted cell that look like rows of the file (the delimiter and a phone number)
from which on the cell is taken for an unclosed quote that ran away with the records after it."""


def csv_rows(text: IO[str], delimiter: str) -> Iterator[Row]:
    """The CSV's rows; a decoding failure deep in the file becomes an error that says where
    (as :func:`decoded` does, without a second generator on the hot path).

    Python's reader never says that a quote was left open: it reads on to the next quote, or
    to the end of the file, as one cell.  So a cell holding line breaks is looked at (rare:
    the loop pays one comparison a row): one that took in lines that look like the file's rows,
    or the last cell of the file still open at its end, is an unclosed quote, reported on the
    line where it opened.  A cell over the reader's size limit on one line is that line's
    error (one rejected row), not the file's."""
    reader = csv.reader(text, delimiter=delimiter)
    start, last = 1, 0
    cells: list[str] = []
    while True:
        try:
            for cells in reader:
                line = reader.line_num
                if line != start:  # a quoted cell holds line breaks
                    _check_quotes(cells, start, delimiter)
                yield start, cells
                last, start = start, line + 1
            break
        except csv.Error as exc:
            if "field larger" in str(exc) and reader.line_num == start:
                limit = csv.field_size_limit()
                yield start, f"Line {start} has a cell over {limit:,} characters, {_TOO_LONG}"
                last, start = start, reader.line_num + 1
                continue
            raise MalformedError(
                "malformed_line",
                f"Line {start} cannot be read as CSV ({exc}), usually a quote opened there and "
                "never closed; close it on that line (or remove it), or re-export the file.",
                line=start,
            ) from exc
        except UnicodeDecodeError as exc:
            raise _undecodable(exc, last) from exc
    if cells and cells[-1].endswith(("\n", "\r")):  # unquoted cells end before a line break
        raise _unclosed(_opened_at(cells, last), "the end of the file")


def _opened_at(cells: list[str], start: int) -> int:
    """Line where the last cell of a record starting on ``start`` opened."""
    return start + sum(len(_LINE_BREAK.findall(cell)) for cell in cells[:-1])


def _unclosed(line: int, until: str) -> MalformedError:
    return MalformedError(
        "malformed_line",
        f"The quote opened on line {line} is never closed: everything up to {until} was read "
        f"as one cell; close the quote on line {line} (or remove it) and upload the file again.",
        line=line,
    )


def _check_quotes(cells: list[str], start: int, delimiter: str) -> None:
    """Raise if a cell of the record starting on ``start`` took in the file's next rows."""
    opened = start
    for cell in cells:
        lines = _LINE_BREAK.split(cell)
        if len(lines) > _SWALLOWED:
            rows = sum(
                1
                for text in lines[1:]
                if delimiter in text
                and any(looks_like_phone(part.strip(' "')) for part in text.split(delimiter))
            )
            if rows >= _SWALLOWED and rows * 2 >= len(lines) - 1:
                raise _unclosed(opened, f"line {opened + len(lines) - 1}")
        opened += len(lines) - 1


def _undecodable(exc: UnicodeDecodeError, line: int) -> EncodingError:
    return EncodingError(
        "undecodable",
        f"After line {line} the file stops being {exc.encoding} text; "
        "re-save the whole file in one encoding (UTF-8).",
        line=line + 1,
    )


def decoded(rows: Iterator[Row]) -> Iterator[Row]:
    """Turn a decoding failure deep in the file into an error that says where."""
    line = 0
    try:
        for line, cells in rows:
            yield line, cells
    except UnicodeDecodeError as exc:
        raise _undecodable(exc, line) from exc


_FIX_LINE = "that is not text: fix or remove that line."
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _storable(value: object) -> bool:
    """No lone surrogate (JSON may escape one, ``"\\ud800"``; no database stores it)."""
    if isinstance(value, str):
        return not _SURROGATE.search(value)
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(map(_storable, value))
    return True


def jsonl_rows(
    lines: Iterable[bytes | str], headers: list[str], codec: str = "utf-8", errors: str = ""
) -> Iterator[Row]:
    """Objects as cells aligned to ``headers``, which grows as new keys appear.

    ``lines`` are the file's lines as bytes, each decoded here (``codec``, ``errors``), so a
    line that is not text in the file's encoding is that line's error, like one that is not
    JSON, nests too deep or is not an object: one rejected row, never the file's end.  (Text
    lines are taken too: UTF-16, whose line breaks are not single bytes.)"""
    index = {key: i for i, key in enumerate(headers)}
    for line, data in enumerate(lines, 1):
        if isinstance(data, str):
            raw = data
        else:
            try:
                raw = data.decode(codec, errors or "strict")
            except UnicodeDecodeError as exc:
                where = f"Line {line} is not {codec} text (byte {exc.start + 1})"
                yield line, f"{where}; re-save the file as UTF-8 or remove that line."
                continue
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            yield line, f"Line {line} is not valid JSON ({exc}); fix or remove it."
            continue
        except RecursionError:
            yield line, f"Line {line} nests JSON too deep to read; write flat objects."
            continue
        if not isinstance(obj, dict):
            kind = type(obj).__name__
            yield line, f"Line {line} holds a JSON {kind}, not an object; write one object a line."
            continue
        if _SURROGATE_ESCAPE.search(raw) and not _storable(obj):
            yield line, f"Line {line} holds a lone surrogate escape (such as \\ud800); {_FIX_LINE}"
            continue
        cells: list[Any] = [None] * len(headers)
        for key, value in obj.items():
            if key not in index:
                index[key] = len(headers)
                headers.append(key)
                cells.append(None)
            if isinstance(value, dict | list):  # kept as its JSON text (plain_text would)
                try:
                    value = json.dumps(value, ensure_ascii=False)
                except RecursionError:
                    break
            cells[index[key]] = value
        else:
            yield line, cells
            continue
        yield line, f"Line {line} nests JSON too deep to read; write flat objects."


def sheet_rows(ws: CalamineSheet) -> Iterator[Row]:
    first_row, first_col = ws.start or (0, 0)
    last_col = ws.end[1] if ws.end else 0
    pad: list[Any] = []
    base = 1
    for number, cells in enumerate(ws.iter_rows()):
        if number == 0:
            # python-calamine 0.9 starts iter_rows at row 1 of the sheet but at the first *used*
            # column. Pad so indexes are sheet columns (A = 0) and, should a version start at
            # the first used row instead, shift so lines stay sheet row numbers.
            if first_col and len(cells) == last_col - first_col + 1:
                pad = [""] * first_col
            if first_row and any(c != "" for c in cells):
                base += first_row
        yield number + base, pad + cells if pad else cells


# --- the byte stream under the text sources -------------------------------------------------


def read_up_to(stream: BinaryIO, size: int) -> bytes:
    chunks: list[bytes] = []
    while size > 0 and (chunk := stream.read(size)):
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class Prefixed(io.RawIOBase):
    """The sniffed head, then the rest of the stream: works for unseekable uploads too, and
    closing it leaves the caller's stream open.  ``newline``, if given, is added at the end
    unless the stream ends with it (or with ``b"\\r"``): so that the last cell of a CSV whose
    quote was never closed ends with a line break whether or not the file did, and says so
    (:func:`csv_rows`); a blank last line is not a row."""

    def __init__(self, head: bytes, rest: BinaryIO, newline: bytes = b"") -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._newline = newline
        self._last = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n], self._head = self._head[:n], self._head[n:]
            self._last = bytes(view[n - len(self._newline) : n]) if self._newline else b""
            return n
        data = self._rest.read(len(view))
        if data:
            if self._newline:
                self._last = (self._last + data)[-len(self._newline) :]
        elif self._newline:
            newline, self._newline = self._newline, b""
            if self._last and self._last != newline and not self._last.endswith(b"\r"):
                data = newline[: len(view)]
        view[: len(data)] = data
        return len(data)
