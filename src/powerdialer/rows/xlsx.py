"""A streamed XLSX writer: the workbook's bytes come out while its rows go in.

An export of a million rows must start downloading at once and keep memory flat.  xlsxwriter
(and openpyxl's write-only mode) build the file on disk and can send it only when it is
finished, after ~10 µs of Python per cell: two minutes of silence for a million rows, longer
than many proxies wait.  An XLSX is a ZIP of XML parts, and the standard library's
``zipfile`` writes a ZIP to a stream that cannot seek (each part followed by a data
descriptor, as Java's ``ZipOutputStream`` and so Apache POI do), so the sheets are written as
they are read and each page of rows leaves as compressed bytes.

What is written: text as inline strings (never formulas: a cell starting with ``=`` stays
text), integers as numbers, ``None``/``""`` as empty cells; a bold, frozen header row on
every sheet; a new sheet after ``max_rows`` rows (Excel's limit is 1,048,576 with the header)
or before a sheet's XML reaches ZIP's 2 GiB limit for a part without ZIP64 (which some Excel
versions open with a repair prompt).  Characters XML 1.0 cannot carry (control characters
other than tab and line feeds) are written as Excel's ``_xHHHH_`` escapes.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from xml.sax.saxutils import escape, quoteattr

Cell = str | int | None

MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header included
# A sheet's XML in characters: at most 4 bytes each in UTF-8, so a part stays under ZIP's
# 2 GiB limit without ZIP64.
MAX_SHEET_CHARS = 500_000_000
_LEVEL = 1  # zlib: a third of level 6's time for a file ~15 % larger

_NEEDS_ESCAPE = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_x[0-9A-Fa-f]{4}_")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Text that already reads like an escape keeps its underscore escaped (_x005F_), or Excel
# would turn "_x0041_" into "A".
_LOOKS_ESCAPED = re.compile(r"_(x[0-9A-Fa-f]{4}_)")

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-"
_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    f'<Default Extension="rels" ContentType="{_CT}package.relationships+xml"/>'
    # Every other .xml part is a worksheet: their number is known only at the end.
    f'<Default Extension="xml" ContentType="{_CT}officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    f'ContentType="{_CT}officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    f'ContentType="{_CT}officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
# Style 0: plain; style 1: bold (the header).
_STYLES = (
    f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet {_NS}>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)  # fmt: skip


def text_cell(value: str, style: str = "") -> str:
    """An inline-string cell; spaces at either end kept, unwritable characters escaped."""
    if _NEEDS_ESCAPE.search(value):
        value = _LOOKS_ESCAPED.sub(r"_x005F_\1", escape(value))
        value = _NOT_XML.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return f'<c t="inlineStr"{style}><is><t{space}>{value}</t></is></c>'


def _row(number: int, cells: Sequence[Cell]) -> str:
    parts = [f'<row r="{number}">']
    for cell in cells:
        if type(cell) is int:
            parts.append(f"<c><v>{cell}</v></c>")
        elif isinstance(cell, str) and cell:
            parts.append(text_cell(cell))
        else:
            parts.append("<c/>")
    parts.append("</row>")
    return "".join(parts)


def _sheet_head(header: Sequence[str], widths: Sequence[float]) -> str:
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1)
    )
    frozen = (
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
    )
    cells = "".join(text_cell(name, ' s="1"') for name in header)
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}>'
        f"{frozen}{'<cols>' + cols + '</cols>' if cols else ''}"
        f'<sheetData><row r="1">{cells}</row>'
    )


def _workbook(names: Sequence[str]) -> str:
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, 1)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<workbook {_NS} xmlns:r="{_REL_NS}"><sheets>{sheets}</sheets></workbook>'
    )


def _workbook_rels(count: int) -> str:
    links = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, count + 1)
    )
    styles = f'<Relationship Id="rId{count + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f"{links}{styles}</Relationships>"
    )


class _Sink:
    """What ``zipfile`` writes to: the bytes wait here until the generator hands them on.
    It has no ``tell``/``seek``, so ``zipfile`` streams (data descriptors)."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def stream(
    header: Sequence[str],
    pages: Iterable[Sequence[Sequence[Cell]]],
    *,
    sheet_name: str = "rows",
    widths: Sequence[float] = (),
    max_rows: int = MAX_ROWS,
) -> Iterator[bytes]:
    """The workbook's bytes, a page of rows at a time: sheets ``<sheet_name> 1``, ``2`` …"""
    sink = _Sink()
    head = _sheet_head(header, widths)
    tail = "</sheetData></worksheet>"
    count = 0
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_LEVEL) as zf:
        zf.writestr("[Content_Types].xml", _TYPES)
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("xl/styles.xml", _STYLES)
        sheet = None
        rows = size = 0
        for page in pages:
            batch: list[str] = []
            for cells in page:
                if sheet is None or rows >= max_rows or size >= MAX_SHEET_CHARS:
                    if sheet is not None:
                        batch.append(tail)
                        sheet.write("".join(batch).encode())
                        sheet.close()
                    count += 1
                    sheet = zf.open(f"xl/worksheets/sheet{count}.xml", "w")
                    batch, rows, size = [head], 1, len(head)
                rows += 1
                line = _row(rows, cells)
                size += len(line)
                batch.append(line)
            if sheet is not None and batch:
                sheet.write("".join(batch).encode())  # one compressor call a page
            # Nothing of the page outlives its compressed bytes: a reader that stalls holds
            # those alone (and the compressor's window).
            del page, batch
            if data := sink.take():  # the compressor may hold a small page back
                yield data
            del data
        if sheet is None:  # no rows at all: the header alone
            count = 1
            zf.writestr("xl/worksheets/sheet1.xml", head + tail)
        else:
            sheet.write(tail.encode())
            sheet.close()
        names = [f"{sheet_name} {i}"[:31] for i in range(1, count + 1)]
        zf.writestr("xl/workbook.xml", _workbook(names))
        zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(count))
    yield sink.take()
