"""Cell values and the per-format row sources: ``(line, cells)``, blank rows included."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from python_calamine import CalamineSheet

from powerdialer.importing.errors import EncodingError, MalformedError

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


def csv_rows(text: IO[str], delimiter: str) -> Iterator[Row]:
    """The CSV's rows; a decoding failure deep in the file becomes an error that says where
    (as :func:`decoded` does, without a second generator on the hot path)."""
    reader = csv.reader(text, delimiter=delimiter)
    start, last = 1, 0
    try:
        for cells in reader:
            yield start, cells
            last, start = start, reader.line_num + 1
    except csv.Error as exc:
        raise MalformedError(
            "malformed_line",
            f"Line {start} cannot be read as CSV ({exc}), usually an unclosed quote; "
            "fix that line or re-export the file.",
            line=start,
        ) from exc
    except UnicodeDecodeError as exc:
        raise _undecodable(exc, last) from exc


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


def jsonl_rows(text: IO[str], headers: list[str]) -> Iterator[Row]:
    """Objects as cells aligned to ``headers``, which grows as new keys appear."""
    index = {key: i for i, key in enumerate(headers)}
    for line, raw in enumerate(text, 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except ValueError as exc:
            yield line, f"Line {line} is not valid JSON ({exc}); fix or remove it."
            continue
        if not isinstance(obj, dict):
            kind = type(obj).__name__
            yield line, f"Line {line} holds a JSON {kind}, not an object; write one object a line."
            continue
        cells: list[Any] = [None] * len(headers)
        for key, value in obj.items():
            if key not in index:
                index[key] = len(headers)
                headers.append(key)
                cells.append(None)
            cells[index[key]] = value
        yield line, cells


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
    closing it leaves the caller's stream open."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n], self._head = self._head[:n], self._head[n:]
            return n
        data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)
