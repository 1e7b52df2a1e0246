"""Reading contact lists out of CRM exports; see :mod:`powerdialer.importing.reader`."""

from powerdialer.importing.headers import AUTO, Mapping, ResolvedMapping
from powerdialer.importing.reader import (
    ColumnError,
    EncodingError,
    FormatError,
    MalformedError,
    Preview,
    ReaderError,
    Record,
    Table,
    cell_text,
    open_table,
    preview,
)

__all__ = [
    "AUTO",
    "ColumnError",
    "EncodingError",
    "FormatError",
    "MalformedError",
    "Mapping",
    "Preview",
    "ReaderError",
    "Record",
    "ResolvedMapping",
    "Table",
    "cell_text",
    "open_table",
    "preview",
]
