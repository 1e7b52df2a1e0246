"""The reader's errors: ``code`` is stable and meant for machines, ``str()`` is one sentence
saying how to fix::

    ReaderError
     ├── FormatError     unsupported_format, corrupt_file, encrypted, empty_file, sheet_not_found,
     │                   workbook_too_large (see powerdialer.reader.bounds)
     ├── EncodingError   undecodable
     ├── ColumnError     no_phone_column, unknown_column
     └── MalformedError  malformed_line

A problem that spoils the whole file raises, lazily if it is only met while iterating (a bad
byte on line 900,000). A problem confined to one line (a JSON Lines line that is not UTF-8,
not JSON, nested too deep, not an object or holding a lone surrogate; a CSV line with a cell
over the size limit) is not raised: that line comes out as a
:class:`~powerdialer.reader.table.Record` with ``error`` set and the import goes on,
because one bad line of a million should cost one row, not the import.
"""

from __future__ import annotations

__all__ = [
    "FIX",
    "ColumnError",
    "EncodingError",
    "FormatError",
    "MalformedError",
    "ReaderError",
]

FIX = "export the list from your CRM as CSV (UTF-8) or save it from Excel as .xlsx"
"""The usual way out, appended to messages about files this reader cannot use."""


class ReaderError(Exception):
    """Base of the reader's errors: ``code`` for machines, ``str()`` for people, ``line``."""

    def __init__(self, code: str, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.line = line


class FormatError(ReaderError):
    """The file is not a table this reader understands, or cannot be opened as one."""


class EncodingError(ReaderError):
    """The text is not in UTF-8, UTF-16 or a single-byte encoding such as cp1251."""


class ColumnError(ReaderError):
    """The phone column (or a column named in a :class:`Mapping`) is not in the file."""


class MalformedError(ReaderError):
    """The file breaks its own format at ``line`` (e.g. an unclosed CSV quote)."""
