"""What an open export yields: :class:`Table`, iterating into :class:`Record` objects.

Opened by :func:`powerdialer.reader.open.open_table`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from types import TracebackType
from typing import Any, Self

from powerdialer.reader.errors import FIX, FormatError
from powerdialer.reader.fields import LeftOut, plan_fields
from powerdialer.reader.headers import Mapping, ResolvedMapping, resolve_columns
from powerdialer.reader.sources import Row, cell_text, plain_text

__all__ = ["HEADER_SCAN", "Record", "Table", "start_rows"]

HEADER_SCAN = 10
"""Rows searched for the header: reports from CRMs often start with a title row or two."""


@dataclass(slots=True)  # not frozen: a frozen __init__ costs 6 calls, and a file has millions
class Record:
    """One contact as found in the file.

    ``line`` is the 1-based physical line (or sheet row) where the record starts, header and
    blank lines included, so users can find it in their editor. ``phone`` is the cell's raw text
    through :func:`cell_text`, ``""`` when the cell is empty (the caller reports that row);
    ``fio`` and ``external_id`` are None when absent or empty; ``extra`` holds the other
    non-empty cells by header name (``column_N`` for blank or repeated headers).
    """

    line: int
    phone: str
    fio: str | None = None
    external_id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    """Set (and ``phone`` empty) when this one line could not be read at all."""


def start_rows(
    rows: Iterator[Row], mapping: Mapping, keys: list[str] | None
) -> tuple[ResolvedMapping, Iterator[Row]]:
    """Buffer the first non-blank rows, resolve the columns, and hand back the data rows."""
    seen: list[Row] = []
    texts: list[tuple[int, list[str]]] = []
    for row in rows:
        seen.append(row)
        line, cells = row
        if not isinstance(cells, str) and any(text := [cell_text(c) for c in cells]):
            texts.append((line, text))
            if len(texts) == HEADER_SCAN:
                break
    if not texts:
        raise FormatError("empty_file", f"The file has no rows; {FIX}.")
    resolved = resolve_columns(texts, mapping, keys)
    skip = resolved.header_line or 0  # the header and any title rows above it
    return resolved, chain((row for row in seen if row[0] > skip), rows)


class Table:
    """An open export: what was detected as attributes, the records by iterating (once).

    Close it (or use ``with``): it closes what it opened, never a stream handed in by the caller.
    """

    def __init__(
        self,
        *,
        format: str,
        mapping: ResolvedMapping,
        rows: Iterator[Row],
        closers: list[Any],
        encoding: str | None = None,
        delimiter: str | None = None,
        sheet: str | None = None,
        sheets: tuple[str, ...] = (),
        live_headers: list[str] | None = None,
    ) -> None:
        self.format = format
        """``csv``, ``xlsx``, ``xlsb``, ``xls``, ``ods`` or ``jsonl``."""
        self.encoding = encoding
        self.delimiter = delimiter
        self.sheet = sheet
        self.sheets = sheets
        self.mapping = mapping
        self._rows = rows
        self._closers = closers
        self._headers = live_headers if live_headers is not None else list(mapping.headers)
        self._width = 0  # the widest row met

    @property
    def headers(self) -> list[str]:
        """The header row's cells (JSON Lines: the keys seen so far; header-less: empty)."""
        return list(self._headers)

    @property
    def left_out(self) -> list[LeftOut]:
        """The columns seen so far that do not become custom fields for want of room or of a
        short enough name (JSON Lines: keys met later may add to them)."""
        return self._plan()[1]

    @property
    def field_columns(self) -> list[int]:
        """The columns (indexes) that become custom fields, of those seen so far."""
        return self._plan()[0]

    def _plan(self) -> tuple[list[int], list[LeftOut]]:
        keys = _extra_keys(self._headers, max(len(self._headers), self._width))
        return plan_fields(keys, self._mapped(), self.mapping.fields)

    def _mapped(self) -> set[int | None]:
        """The columns that are not custom fields (the other phone columns still are)."""
        m = self.mapping
        return {m.phone, m.fio, m.external_id, *m.names}

    def __iter__(self) -> Iterator[Record]:
        phone, fio, ident = self.mapping.phone, self.mapping.fio, self.mapping.external_id
        phones, mapped, chosen = self.mapping.phones, self._mapped(), self.mapping.fields
        names = self.mapping.names
        keys: list[str] = []
        others: list[int] = []
        for line, cells in self._rows:
            if isinstance(cells, str):
                yield Record(line, "", error=cells)
                continue
            width = len(cells)
            if width > len(keys):  # rows wider than the header, or new JSON keys
                self._width = max(self._width, width)
                keys = _extra_keys(self._headers, width)
                others = plan_fields(keys, mapped, chosen)[0]
            extra = {}
            for i in others:
                if i < width:
                    value = cells[i]  # the str test inlined: this loop is the hot path
                    if text := value.strip() if type(value) is str else plain_text(value):
                        extra[keys[i]] = text
            number = cell_text(cells[phone]) if phone < width else ""
            if not number and phones:
                number = next((t for i in phones if i < width and (t := cell_text(cells[i]))), "")
            if names:
                name = " ".join(t for i in names if i < width and (t := plain_text(cells[i])))
            else:
                name = plain_text(cells[fio]) if fio is not None and fio < width else ""
            code = plain_text(cells[ident]) if ident is not None and ident < width else ""
            if number or name or code or extra:  # rows of empty cells (";;;;") are not records
                yield Record(line, number, name or None, code or None, extra)

    def close(self) -> None:
        while self._closers:
            self._closers.pop()()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _extra_keys(headers: list[str], width: int) -> list[str]:
    """Names for custom-field columns: the header, or ``column_N`` when blank or repeated."""
    keys: list[str] = []
    for i in range(width):
        key = headers[i].strip() if i < len(headers) else ""
        keys.append(key if key and key not in keys else f"column_{i + 1}")
    return keys
