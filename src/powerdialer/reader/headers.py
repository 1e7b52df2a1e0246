"""Which column holds the phone, the contact's name and the CRM id.

Header names are recognized by :mod:`~powerdialer.reader.header_names` (Ukrainian, Russian
and English spellings, normalized), so that a user uploading a file almost never has to map
columns by hand; this module applies them to a file's first rows, together with the user's
explicit :class:`Mapping`.

When a file has no header row at all (a plain list of numbers saved from a spreadsheet), the
first row's cells are looked at instead: a cell that looks like a phone number means the row
is data. See :func:`looks_like_phone`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass

from powerdialer.reader.errors import ColumnError
from powerdialer.reader.header_names import (
    ROLES,
    Role,
    canonical_role,
    name_part,
    normalize_header,
    role_of,
)

__all__ = [
    "AUTO",
    "ROLES",
    "Auto",
    "ColumnRef",
    "Mapping",
    "ResolvedMapping",
    "Role",
    "detect_columns",
    "find_column",
    "looks_like_phone",
    "normalize_header",
    "resolve_columns",
    "role_of",
]


class Auto(enum.Enum):
    """Type of :data:`AUTO`: "detect this column from the header names"."""

    AUTO = "auto"


AUTO = Auto.AUTO
"""Default of every :class:`Mapping` field; ``None`` instead means "the file has no such column"."""

ColumnRef = str | int
"""A header name (matched like auto-detection: case, spaces, apostrophes ignored) or a 0-based
column index (A = 0 in a spreadsheet)."""


@dataclass(frozen=True)
class Mapping:
    """An explicit column choice, overriding detection field by field.

    ``Mapping(phone="Мобільний", fio="Клієнт", external_id=None)`` takes the phone and name from
    those headers and ignores any id-like column; ``Mapping(phone=2)`` takes the phone from the
    third column and still detects the rest. ``has_header`` forces the first row to be read as
    a header (True) or as data (False); by default it is detected.
    """

    phone: ColumnRef | Auto = AUTO
    fio: ColumnRef | Auto | None = AUTO
    external_id: ColumnRef | Auto | None = AUTO
    has_header: bool | None = None
    fields: tuple[ColumnRef, ...] | Auto = AUTO
    """The columns that become custom fields (AUTO: all the others, within the limits of
    :mod:`~powerdialer.reader.fields`; ``()``: none)."""


@dataclass(frozen=True)
class ResolvedMapping:
    """The columns actually used, as indexes and as the header names a UI can show."""

    phone: int
    fio: int | None
    external_id: int | None
    has_header: bool
    header_line: int | None
    """Line of the header row (None without one, and for JSON Lines, whose keys are the header)."""
    headers: tuple[str, ...]
    """Header cells as they appear in the file (synthetic ``column_N`` names if there is none)."""
    fields: tuple[int, ...] | None = None
    """The mapping's choice of custom-field columns (None: every other column)."""
    names: tuple[int, ...] = ()
    """A name kept in parts ("Фамилия", "Имя", "Отчество" in a Bitrix24 export): these columns,
    in ПІБ order, joined with spaces make the row's ``fio`` (empty when ``fio`` is one column)."""
    phones: tuple[int, ...] = ()
    """Other phone columns (``Мобильный телефон`` beside ``Рабочий телефон``), read in turn
    when the phone column's cell is empty: CRM exports fill one or the other."""

    def header(self, index: int | None) -> str | None:
        """The display name of column ``index``: its header text or ``column_N`` (1-based)."""
        if index is None:
            return None
        if index < len(self.headers) and self.headers[index]:
            return self.headers[index]
        return f"column_{index + 1}"

    def describe(self) -> dict[str, str | None]:
        """``{"phone": "Телефон", "fio": "ПІБ", "external_id": None}``, for a preview screen."""
        return {
            "phone": self.header(self.phone),
            "fio": self.header(self.fio),
            "external_id": self.header(self.external_id),
        }


def detect_columns(headers: Sequence[str], taken: set[int]) -> dict[Role, int]:
    """The first column per role, skipping ``taken``: the API's own names first (so our own
    export, with both ``id`` and ``external_id``, imports back as it was), then exact
    names, then keyword matches."""
    found: dict[Role, int] = {}
    used = set(taken)
    for index, header in enumerate(headers):
        role = canonical_role(header)
        if role is not None and role not in found and index not in used:
            found[role] = index
            used.add(index)
    for exact_only in (True, False):
        for index, header in enumerate(headers):
            role = role_of(header, exact_only=exact_only)
            if role is not None and role not in found and index not in used:
                found[role] = index
                used.add(index)
    return found


def find_column(headers: Sequence[str], name: str) -> int | None:
    """Index of the header equal to ``name`` (verbatim first, then normalized)."""
    if name in headers:
        return list(headers).index(name)
    wanted = normalize_header(name)
    for index, header in enumerate(headers):
        if normalize_header(header) == wanted:
            return index
    return None


_PHONE_CHARS = re.compile(r"\+?[\d\s().\-]+")


def looks_like_phone(text: str) -> bool:
    """Whether a cell is plausibly a phone number: 9 to 15 digits and only dialling punctuation.

    9 digits is a Ukrainian national number without its trunk zero (``930000000``), which
    spreadsheets produce when they drop the leading zero of ``0930000000``; 15 is E.164's maximum.
    """
    if not _PHONE_CHARS.fullmatch(text):
        return False
    digits = sum(c.isdigit() for c in text)
    return 9 <= digits <= 15


# --- resolution --------------------------------------------------------------------------------


def _column(ref: ColumnRef, headers: list[str], width: int) -> int:
    index = find_column(headers, ref) if isinstance(ref, str) else ref
    if index is None or not 0 <= index < max(width, 1):
        shown = ", ".join(repr(h) for h in headers if h) or f"{width} unnamed columns"
        raise ColumnError("unknown_column", f"There is no column {ref!r}; the file has {shown}.")
    return index


def _header_row(texts: list[list[str]], mapping: Mapping) -> int | None:
    """Index of the header among the first rows, or None when the file starts with data."""
    if mapping.has_header is False or not texts:
        return None
    ref = mapping.phone
    if isinstance(ref, str):
        found = (i for i, row in enumerate(texts) if find_column(row, ref) is not None)
        return next(found, 0)  # not found: row 0, and _column reports the missing name
    if isinstance(ref, int):
        row = texts[0]
        phone_like = ref < len(row) and looks_like_phone(row[ref])
        return None if phone_like and mapping.has_header is None else 0
    for i, row in enumerate(texts):
        if any(role_of(cell) == "phone" for cell in row):
            return i
        if i == 0 and mapping.has_header is None and any(map(looks_like_phone, row)):
            return None
    return 0


def resolve_columns(
    rows: list[tuple[int, list[str]]], mapping: Mapping, keys: list[str] | None
) -> ResolvedMapping:
    """Columns from the mapping, then from header names, then (header-less) from the data.

    ``rows`` are the first non-blank rows as text, with their line numbers; ``keys`` replaces
    the header row for JSON Lines.
    """
    texts = [cells for _, cells in rows]
    header_at = None if keys is not None else _header_row(texts, mapping)
    if keys is not None:  # JSON Lines: the first object's keys are the header
        headers, data = keys, texts
    elif header_at is not None:
        headers, data = texts[header_at], texts[header_at + 1 :]
    else:
        headers, data = [], texts
    width = max([len(headers), *(len(row) for row in data[:1])])
    chosen: dict[Role, int | None] = {}
    for name in ROLES:
        ref = getattr(mapping, name)
        if ref is not AUTO:
            chosen[name] = None if ref is None else _column(ref, headers, width)
    taken = {i for i in chosen.values() if i is not None}
    if headers:
        detected = detect_columns(headers, taken)
    else:
        first = data[0] if data else []
        free = [i for i in range(len(first)) if i not in taken]
        phones = [i for i in free if looks_like_phone(first[i])]
        names = [i for i in free if i not in phones[:1] and any(c.isalpha() for c in first[i])]
        detected = {"phone": phones[0]} if phones else {}
        detected.update({"fio": names[0]} if names else {})
    for name in ROLES:
        chosen.setdefault(name, detected.get(name))
    phone = chosen["phone"]
    fields = None
    if mapping.fields is not AUTO:
        fields = tuple(dict.fromkeys(_column(ref, headers, width) for ref in mapping.fields))
    alternates: tuple[int, ...] = ()
    if mapping.phone is AUTO and headers:
        taken = {i for i in chosen.values() if i is not None}
        alternates = tuple(
            i for i, h in enumerate(headers) if i not in taken and role_of(h) == "phone"
        )
    parts: tuple[int, ...] = ()
    if chosen["fio"] is not None and headers:  # detected, or chosen as the web UI sends it
        parts = _name_parts(headers, {chosen["phone"], chosen["external_id"]}, chosen["fio"])
    if phone is None:
        shown = ", ".join(repr(h) for h in headers if h) or "no header"
        raise ColumnError(
            "no_phone_column",
            f"No phone column found (the file has {shown}); name the column 'Телефон' or "
            "'Phone', or choose it in the column mapping.",
        )
    return ResolvedMapping(
        phone=phone,
        fio=chosen["fio"],
        external_id=chosen["external_id"],
        has_header=header_at is not None or keys is not None,
        header_line=rows[header_at][0] if header_at is not None else None,
        headers=tuple(headers),
        fields=fields,
        phones=alternates,
        names=parts,
    )


def _name_parts(headers: Sequence[str], taken: set[int | None], fio: int) -> tuple[int, ...]:
    """The columns of a name kept in parts, when the name column (detected or chosen) is one
    of at least two such parts (the first column of each part); else ``()``: a name column of
    another kind ("ПІБ", "Клієнт") is read alone."""
    if fio >= len(headers) or name_part(headers[fio]) is None:
        return ()
    parts: dict[int, int] = {}
    for index, header in enumerate(headers):
        part = name_part(header)
        if part is not None and index not in taken:
            parts.setdefault(part, index)
    return tuple(parts[p] for p in sorted(parts)) if len(parts) > 1 else ()
