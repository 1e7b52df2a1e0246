"""Hostile uploads, built in the test: small files that ask a reader for far more than they
hold (tests of powerdialer.reader.bounds and powerdialer.importing.sandbox, in process and end
to end)."""

from __future__ import annotations

import io
import zipfile

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row>'
PHONE_ROW = '<row r="2"><c r="A2"><v>380931234567</v></c></row>'


def xlsx(sheet_body: str, *, head: str = "", padding: int = 0) -> bytes:
    """A minimal XLSX whose one sheet holds ``sheet_body`` inside <sheetData>, after ``head``
    (e.g. a <dimension>); ``padding`` bytes of spaces inflate the sheet's XML (a ZIP bomb)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
            f'ContentType="{_CT}.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            f'sheet1.xml" ContentType="{_CT}.worksheet+xml"/></Types>',
        )
        book.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{_REL}/officeDocument"'
            ' Target="xl/workbook.xml"/></Relationships>',
        )
        book.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0"?><workbook {_NS} xmlns:r="{_REL}"><sheets><sheet name="S" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{_REL}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        )
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=padding > 1 << 30) as sheet:
            sheet.write(f'<?xml version="1.0"?><worksheet {_NS}>{head}<sheetData>'.encode())
            sheet.write(sheet_body.encode())
            block = b" " * (1 << 20)
            for start in range(0, padding, len(block)):
                sheet.write(block[: padding - start])
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def sparse_xlsx(far: str = "XFD1048576") -> bytes:
    """A header at A1 and one value at ``far``: to a dense reader, every cell between."""
    row = far.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return xlsx(f'{HEADER_ROW}{PHONE_ROW}<row r="{row}"><c r="{far}"><v>1</v></c></row>')


def huge_dimension_xlsx() -> bytes:
    return xlsx(HEADER_ROW + PHONE_ROW, head='<dimension ref="A1:XFD1048576"/>')


def zip_bomb_xlsx(inflated: int = 64 << 20) -> bytes:
    """A real sheet whose XML inflates to ``inflated`` bytes from a few tens of KB."""
    return xlsx(HEADER_ROW + PHONE_ROW, padding=inflated)


def ods(table_body: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet")
        book.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:'
            'oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/'
            'vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path='
            '"content.xml" manifest:media-type="text/xml"/></manifest:manifest>',
        )
        book.writestr(
            "content.xml",
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office='
            '"urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:'
            'tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:'
            'xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet>'
            f'<table:table table:name="S">{table_body}</table:table></office:spreadsheet>'
            "</office:body></office:document-content>",
        )
    return out.getvalue()


ODS_HEADER = (
    '<table:table-row><table:table-cell office:value-type="string"><text:p>phone</text:p>'
    "</table:table-cell></table:table-row><table:table-row><table:table-cell office:value-"
    'type="float" office:value="380931234567"><text:p>380931234567</text:p></table:table-cell>'
    "</table:table-row>"
)


def repeated_ods(rows: int = 1_048_576, columns: int = 16_384) -> bytes:
    """One value cell repeated ``columns`` times in a row repeated ``rows`` times."""
    return ods(
        ODS_HEADER + f'<table:table-row table:number-rows-repeated="{rows}"><table:table-cell '
        f'table:number-columns-repeated="{columns}" office:value-type="float" office:value="1">'
        "<text:p>1</text:p></table:table-cell></table:table-row>"
    )


def deep_jsonl(depth: int = 100_000) -> bytes:
    """A JSON Lines file whose second line nests ``depth`` arrays."""
    line = '{"phone": "380931234568", "x": ' + "[" * depth + "]" * depth + "}"
    return ('{"phone": "380931234567"}\n' + line + "\n").encode()


HOSTILE = {
    "sparse.xlsx": (sparse_xlsx, "workbook_too_large"),
    "dimension.xlsx": (huge_dimension_xlsx, "workbook_too_large"),
    "bomb.xlsx": (zip_bomb_xlsx, "workbook_too_large"),
    "repeated.ods": (repeated_ods, "workbook_too_large"),
    "repeated-5000.ods": (lambda: repeated_ods(rows=5000), "workbook_too_large"),
}
"""Workbooks refused before they are read: filename → (builder, the error's code)."""


def lying_xlsx() -> bytes:
    """A ZIP bomb whose directory declares its sheet's size a thousand times too small."""
    data = bytearray(zip_bomb_xlsx())
    entry = data.rindex(b"PK\x01\x02", 0, data.rindex(b"xl/worksheets/sheet1.xml"))
    data[entry + 24 : entry + 28] = (64_000).to_bytes(4, "little")  # uncompressed size
    return bytes(data)


def broken_sheet_xlsx() -> bytes:
    """A sheet whose XML does not close its tags."""
    return xlsx('<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></row>')
