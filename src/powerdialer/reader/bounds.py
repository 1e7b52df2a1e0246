"""A workbook's size, checked before any reader materialises it.

python-calamine reads a sheet into one dense grid: every cell from A1 to the farthest one
that holds a value, 32 bytes each, whether the cells between are empty or not.  A 1.6 KB
XLSX with values at A1 and XFD1048576 asks for 17 billion cells (512 GiB); a ZIP member of
a few KB can inflate to gigabytes; an ODS cell can say "repeat me 16,384 columns" and its row
"repeat me 1,048,576 times".  Nothing of that must reach the reader, so the archive is
inspected first, cheaply:

- the ZIP central directory: the member count, the declared uncompressed sizes (their sum at
  most ``max_bytes``) and each member's compression ratio;
- every XLSX part, streamed through a byte scan of its cell and row references (``r="XFD7"``,
  and cells without one, which the reader places one after the other) and its declared
  ``<dimension ref>``: the farthest column times the farthest row is the grid the reader
  would build, at most ``max_cells``;
- an ODS's ``content.xml``, streamed through expat, adding up ``number-columns-repeated`` and
  ``number-rows-repeated`` up to the last cell that holds a value, in every sheet (the reader
  loads them all).

The scans read what ``zipfile`` inflates, which stops at each member's declared size (and
fails its CRC if the member holds more), so the check itself costs at most ``max_bytes`` of
inflating and a 1 MiB buffer.  XLSB and XLS sheets are binary and are not scanned: their size
is bounded by the ZIP checks (XLSB) or by the format (XLS: 65,536 x 256 cells, 512 MiB at
most), and, like every file, by the memory limit of the child process that reads them
(:mod:`powerdialer.importing.sandbox`).

Past 300 lines on purpose: one pre-scan per container (XLSX/XLSB, ODS, XLS) behind one
check, sharing its limits and its error.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from typing import IO, BinaryIO
from xml.parsers import expat

from powerdialer.reader.errors import FormatError

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_MEMBERS",
    "MAX_RATIO",
    "WorkbookLimits",
    "check_workbook",
]

MAX_MEMBERS = 10_000
"""Parts in one workbook's ZIP: Excel writes a dozen, a workbook of 200 sheets a few hundred."""
MAX_RATIO = 200
"""Uncompressed size over compressed size of one part bigger than ``_RATIO_FLOOR``: sheet XML
compresses 5-30x, a run of zeros 1000x."""
_RATIO_FLOOR = 1 << 20
_BLOCK = 1 << 20
_FIX = "save it as CSV, or delete the empty rows and columns past your data, and try again"


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    """How big a workbook may be before it is read (see the module's docstring)."""

    max_cells: int = 20_000_000
    """Cells of a sheet's grid (farthest row x farthest column), ~640 MiB to the reader."""
    max_bytes: int = 1 << 30
    """Uncompressed bytes of the whole archive."""


DEFAULT_LIMITS = WorkbookLimits()


def _too_large(detail: str) -> FormatError:
    message = f"The workbook is too large to read: {detail}; {_FIX}."
    return FormatError("workbook_too_large", message)


def check_workbook(stream: BinaryIO, fmt: str, limits: WorkbookLimits = DEFAULT_LIMITS) -> None:
    """Raise ``FormatError("workbook_too_large")`` if reading ``stream`` (a seekable workbook of
    format ``fmt``) would build more than the limits allow; leaves the stream at its start.
    A ZIP that cannot be opened is left to the reader, whose error names it better."""
    if fmt not in ("xlsx", "xlsb", "ods"):
        return
    start = stream.tell()
    try:
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, OSError, ValueError):
            return
        with archive:
            members = archive.infolist()
            _check_directory(members, limits)
            for info in members:
                name = info.filename.lower()
                if info.flag_bits & 0x1:  # encrypted: the reader refuses it
                    continue
                if fmt == "xlsx" and name.endswith(".xml"):
                    extent = _xlsx_extent(archive, info)
                elif fmt == "ods" and name == "content.xml":
                    extent = _ods_extent(archive, info)
                else:
                    continue
                if extent > limits.max_cells:
                    raise _too_large(
                        f"its sheets span {extent:,} cells, and at most {limits.max_cells:,} "
                        "are read (POWERDIALER_MAX_WORKBOOK_CELLS)"
                    )
    finally:
        stream.seek(start)


def _check_directory(members: list[zipfile.ZipInfo], limits: WorkbookLimits) -> None:
    if len(members) > MAX_MEMBERS:
        raise _too_large(f"it has {len(members):,} parts, and at most {MAX_MEMBERS:,} are read")
    total = sum(info.file_size for info in members)
    if total > limits.max_bytes:
        raise _too_large(
            f"it unpacks to {total:,} bytes, and at most {limits.max_bytes:,} are read "
            "(POWERDIALER_MAX_WORKBOOK_BYTES)"
        )
    for info in members:
        packed = max(info.compress_size, 1)
        if info.file_size > _RATIO_FLOOR and info.file_size / packed > MAX_RATIO:
            raise _too_large(
                f"its part {info.filename!r} unpacks {info.file_size // packed:,} times its "
                f"size (a ZIP bomb; real sheets unpack at most {MAX_RATIO} times)"
            )


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> IO[bytes]:
    try:
        return archive.open(info)
    except (NotImplementedError, RuntimeError, zipfile.BadZipFile) as exc:
        raise FormatError(
            "corrupt_file", f"The workbook's part {info.filename!r} cannot be read ({exc})."
        ) from exc


def _read(part: IO[bytes], name: str) -> bytes:
    try:
        return part.read(_BLOCK)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise FormatError(
            "corrupt_file", f"The workbook's part {name!r} is damaged ({exc})."
        ) from exc


# --- XLSX: a byte scan of cell and row references -------------------------------------------

_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_REF = re.compile(rb"\$?([A-Za-z]+)\$?(\d+)")


_FAST_CELL_REF = re.compile(rb" r=[\"']\$?([A-Za-z]+)\$?(\d+)")
_SPACES = (b" ", b">", b"/", b"\t", b"\n", b"\r")


@dataclass(frozen=True, slots=True)
class _Tags:
    """The scan's patterns for a part whose elements carry ``prefix`` (``x:`` as .NET's
    OpenXML SDK writes; usually none).  The fast ones are literal searches, which cover the
    way spreadsheet programs write (``<c r="B7"``); a block whose ``r=`` attributes they do
    not all account for is scanned again with the exact patterns (spaces around ``=``,
    tabs: slower, and seen only from hand-made files)."""

    cells: tuple[bytes, ...]
    cell_start: bytes
    rows: tuple[bytes, ...]
    row_end: bytes
    row_ref: re.Pattern[bytes]
    exact_cell_ref: re.Pattern[bytes]
    exact_row_ref: re.Pattern[bytes]
    dimension: re.Pattern[bytes]

    @classmethod
    def of(cls, prefix: bytes) -> _Tags:
        p = re.escape(b"<" + prefix)
        attr = rb"[^>]*?\sr\s*=\s*[\"']"
        return cls(
            cells=tuple(b"<" + prefix + b"c" + s for s in _SPACES),
            cell_start=b"<" + prefix + b"c",
            rows=tuple(b"<" + prefix + b"row" + s for s in _SPACES),
            row_end=b"</" + prefix + b"row>",
            row_ref=re.compile(p + rb"row r=[\"'](\d+)"),
            exact_cell_ref=re.compile(p + rb"c(?=\s)" + attr + rb"\$?([A-Za-z]+)\$?(\d+)"),
            exact_row_ref=re.compile(p + rb"row(?=\s)" + attr + rb"(\d+)"),
            dimension=re.compile(p + rb"dimension(?=\s)[^>]*?\sref\s*=\s*[\"']([^\"']*)"),
        )


_PLAIN = _Tags.of(b"")


def _column(letters: bytes) -> int:
    number = 0
    for byte in letters.upper():
        number = number * 26 + byte - 64
    return number


def _xlsx_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """The grid a dense reader builds for this part: farthest row x farthest column, counting
    cells without a reference at the position after the one before them (as the reader does),
    or the extent the part declares in ``<dimension ref="A1:XFD1048576">`` if that is more."""
    max_col = max_row = 0  # from references
    loose_rows = 0  # rows without a reference: each one below the last
    widest = 0  # the most cells in one row: where unreferenced cells can reach
    open_row = 0  # cells of the row still open at the end of the last block
    declared = 0
    tail = b""
    tags: _Tags | None = None
    with _inflate(archive, info) as part:
        while True:
            block = _read(part, info.filename)
            data, tail = tail + block, b""
            if block:  # never split a tag: keep what follows the last '<' for the next block
                cut = data.rfind(b"<")
                if cut >= 0:
                    data, tail = data[:cut], data[cut:]
                if len(tail) > _BLOCK:  # one tag over 1 MiB: no sheet anyone wrote
                    data, tail = data + tail, b""
            if tags is None and data:
                root = _ROOT.search(data, 0, 1 << 16)
                if root is None:
                    return 0  # not a worksheet (styles, shared strings…)
                tags = _Tags.of(root.group(1)) if root.group(1) else _PLAIN
                if match := tags.dimension.search(data):
                    declared = _dimension_cells(match.group(1))
            if tags is None:
                break
            refs = _FAST_CELL_REF.findall(data)
            rows = tags.row_ref.findall(data)
            if data.count(b"r=") != len(refs) + len(rows):  # not all found: look closer
                refs = tags.exact_cell_ref.findall(data)
                rows = tags.exact_row_ref.findall(data)
            if refs:
                max_col = max(max_col, max(map(_column, {c for c, _ in refs})))
                max_row = max(max_row, max(map(int, {r for _, r in refs})))
            if rows:
                max_row = max(max_row, max(map(int, set(rows))))
            loose_rows += sum(map(data.count, tags.rows)) - len(rows)
            if sum(map(data.count, tags.cells)) > len(refs):
                # Some cells have no reference: the reader puts each one after the cell
                # before it, so a row reaches as far as it has cells.  Counted row by row,
                # the row still open at the block's end carried into the next block.
                counts = [part.count(tags.cell_start) for part in data.split(tags.row_end)]
                counts[0] += open_row
                widest = max(widest, *counts)
                open_row = counts[-1]
            else:
                open_row = 0
            if not block:
                break
    rows_spanned = max_row + loose_rows
    columns = max_col + widest if widest else max_col
    return max(rows_spanned * columns, declared)


def _dimension_cells(ref: bytes) -> int:
    corners = _REF.findall(ref)
    if not corners:
        return 0
    cols = [_column(c) for c, _ in corners]
    rows = [int(r) for _, r in corners]
    return (max(cols) - min(cols) + 1) * (max(rows) - min(rows) + 1)


# --- ODS: repeated rows and columns, added up by expat ---------------------------------------

_TABLE_NS = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TABLE = f"{_TABLE_NS} table"
_ROW_TAG = f"{_TABLE_NS} table-row"
_CELLS = {f"{_TABLE_NS} table-cell", f"{_TABLE_NS} covered-table-cell"}
_ROWS_REPEATED = f"{_TABLE_NS} number-rows-repeated"
_COLS_REPEATED = f"{_TABLE_NS} number-columns-repeated"
_VALUE_TYPE = f"{_OFFICE_NS} value-type"


class _OdsScan:
    """Extent of every sheet of a content.xml: for each, the last row and the last column
    that hold a value, repeats included."""

    def __init__(self) -> None:
        self.total = 0  # cells of the sheets closed so far
        self.rows = 0  # next row's index in the current sheet
        self.last_row = 0
        self.last_col = 0
        self.row_repeat = 1
        self.col = 0
        self.row_last_col = 0
        self.cell_end = 0
        self.cell_valued = False
        self.in_cell = False
        self.depth_in_cell = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.in_cell:
            self.depth_in_cell += 1
            self.cell_valued = True  # text:p or any content: the cell holds something
            return
        if name in _CELLS:
            repeat = _count(attrs.get(_COLS_REPEATED))
            self.col += repeat
            self.cell_end = self.col
            self.cell_valued = _VALUE_TYPE in attrs
            self.in_cell = True
        elif name == _ROW_TAG:
            self.row_repeat = _count(attrs.get(_ROWS_REPEATED))
            self.col = self.row_last_col = 0
        elif name == _TABLE:
            self.rows = self.last_row = self.last_col = 0

    def end(self, name: str) -> None:
        if self.in_cell:
            if self.depth_in_cell:
                self.depth_in_cell -= 1
                return
            self.in_cell = False
            if self.cell_valued:
                self.row_last_col = self.cell_end
        elif name == _ROW_TAG:
            self.rows += self.row_repeat
            if self.row_last_col:
                self.last_row = self.rows
                self.last_col = max(self.last_col, self.row_last_col)
        elif name == _TABLE:
            self.total += self.last_row * self.last_col
            self.last_row = self.last_col = 0

    def extent(self) -> int:
        return self.total + self.last_row * self.last_col


def _count(raw: str | None) -> int:
    if not raw:
        return 1
    try:
        return max(int(raw), 1)
    except ValueError:
        return 1


def _no_dtd(*_args: object) -> None:
    raise FormatError("corrupt_file", "The workbook's content has a DTD, which ODS never has.")


def _ods_extent(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    scan = _OdsScan()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.StartDoctypeDeclHandler = _no_dtd  # no entities, so no entity expansion
    with _inflate(archive, info) as part:
        while True:
            block = _read(part, info.filename)
            try:
                parser.Parse(block, not block)
            except expat.ExpatError as exc:
                raise FormatError(
                    "corrupt_file", f"The workbook's content is not valid XML ({exc})."
                ) from exc
            if not block:
                break
    return scan.extent()
