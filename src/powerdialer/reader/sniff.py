"""Format, encoding and delimiter detection from the first bytes of a CRM export."""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections import Counter
from itertools import islice

import charset_normalizer

from powerdialer.reader.errors import FIX, EncodingError, FormatError

__all__ = [
    "SAMPLE_SIZE",
    "SEP_LINE",
    "WORKBOOKS",
    "detect_delimiter",
    "detect_encoding",
    "sniff_format",
]

SAMPLE_SIZE = 64 * 1024
"""Bytes looked at to choose the format, the encoding and the delimiter."""

_EXTENSIONS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "csv", ".tab": "csv", ".xlsx": "xlsx",
    ".xlsm": "xlsx", ".xlsb": "xlsb", ".xls": "xls", ".ods": "ods", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".json": "jsonl",
}  # fmt: skip
WORKBOOKS = {"xlsx", "xlsb", "xls", "ods"}
_ZIP, _OLE2 = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff_format(head: bytes, filename: str | None) -> str:
    """The extension decides, but magic bytes overrule it: users rename files, and many CRMs
    and 1C write tab-separated text or HTML under an ``.xls`` name."""
    by_name = _EXTENSIONS.get(os.path.splitext(filename or "")[1].lower())
    if not head:
        raise FormatError("empty_file", f"The file is empty; {FIX}.")
    if head.startswith(_ZIP):
        return by_name if by_name in {"xlsx", "xlsb", "ods"} else "xlsx"
    if head.startswith(_OLE2):
        return "xls"
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        raise FormatError("unsupported_format", f"The file is an HTML or XML page; {FIX}.")
    if by_name in {"xlsx", "xlsb", "ods"}:
        raise FormatError("unsupported_format", f"The {by_name} file is not a ZIP archive; {FIX}.")
    if by_name == "jsonl" or (by_name is None and head.lstrip()[:1] == b"{"):
        return "jsonl"
    return "csv"


def _cp1251_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("cp1251", "replace"), error.end


# An ASCII-only sample proves nothing about what follows it: when the first 64 KiB are all
# Latin and digits, a later cp1251 name must not abort the import, so stray bytes in an
# otherwise UTF-8 file are read as cp1251 (a single-byte code, so byte by byte is exact).
codecs.register_error("powerdialer.cp1251", _cp1251_fallback)


def detect_encoding(head: bytes, complete: bool) -> tuple[str, str]:
    """(codec, error handler): a BOM, else UTF-8 whenever the sample is valid UTF-8, else cp1251
    if it reads as Cyrillic words (what Ukrainian Excel and 1C write), else charset-normalizer,
    which alone misjudges short samples (a two-line cp1251 file comes out as Shift JIS)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "strict"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "strict"  # Excel's "Unicode text" export: UTF-16, tab-separated
    if b"\x00" not in head:  # NULs: UTF-16 without a BOM, or binary, never UTF-8 text
        try:
            codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
        except UnicodeDecodeError:
            pass
        else:
            return "utf-8", "powerdialer.cp1251" if head.isascii() else "strict"
        if _reads_as_cyrillic(head.decode("cp1251", "replace")):
            return "cp1251", "strict"
    matches = charset_normalizer.from_bytes(head)
    best = matches.best()
    if best is None:
        raise EncodingError("undecodable", f"The file is not text in a known encoding; {FIX}.")
    return best.encoding, "strict"


_CYRILLIC = re.compile(r"[А-яЁёЄєІіЇїҐґ]")
_FOREIGN = re.compile(r"[^\x00-\x7fА-яЁёЄєІіЇїҐґ№«»–—‘’“”„…\xa0]|[\x00-\x08\x0b\x0c\x0e-\x1f]")
_MIXED = re.compile(r"(?<=[A-Za-z])[А-яЁёЄєІіЇїҐґ]|[А-яЁёЄєІіЇїҐґ](?=[A-Za-z])")
_SCRIPTS = (_CYRILLIC, _FOREIGN, _MIXED)  # counted by deleting matches: no list of matches


def _reads_as_cyrillic(text: str) -> bool:
    """Whether cp1251 turned the bytes into Cyrillic words, not into "Mьller" (cp1252's
    "Müller") or a spray of Ђ‰ђ (cp866, binary): few other non-ASCII characters, and Cyrillic
    letters seldom glued to Latin ones (Latin "i" typed for "і" does happen, hence 5%)."""
    letters, foreign, mixed = (len(text) - len(rx.sub("", text)) for rx in _SCRIPTS)
    return letters > 0 and max(foreign, mixed) <= letters * 0.05


_DELIMITERS = ";\t,"  # tie order: ';' is Excel's separator where ',' is the decimal comma
SEP_LINE = re.compile(r"sep=(.)\r?\n")  # Excel's own hint line: "sep=;"


def detect_delimiter(sample: str, complete: bool) -> str:
    """The candidate that splits the first records (quotes respected) into the most consistent
    number of fields; csv.Sniffer is not used because a comma inside "Петренко, Іван" or a
    decimal comma fools it."""
    best: tuple[float, int, int] | None = None
    chosen = next((d for d in _DELIMITERS if d not in sample), ";")  # one-column file
    for rank, delimiter in enumerate(_DELIMITERS):
        rows = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        widths = [len(r) for r in islice(rows, 201) if r]
        if not complete or len(widths) > 200:
            widths = widths[:-1]  # the last record may be cut by the sample's end
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        score = (count / len(widths), width, -rank)
        if width > 1 and (best is None or score > best):
            best, chosen = score, delimiter
    return chosen
