"""Turning a CRM export into the list of rows to send: read it with
:mod:`powerdialer.reader` (the server's own reader and header detection), check each row
with the server's own row parser (numbers through :func:`powerdialer.phones.normalize_phone`),
and drop numbers that appear twice in the file.  Rows that cannot be sent come out as
:class:`Problem` objects with the codes the server would answer, so the report reads the same
whichever side refused."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field

from powerdialer.errors import ValidationError
from powerdialer.reader.headers import Mapping
from powerdialer.reader.open import open_table
from powerdialer.reader.table import Table
from powerdialer.rows.validate import parse_new_row

__all__ = ["PlannedRow", "Problem", "file_sha256", "open_input", "plan_rows"]


@dataclass(frozen=True, slots=True)
class PlannedRow:
    line: int
    phone_e164: str
    phone_raw: str
    fio: str | None = None
    external_id: str | None = None
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Problem:
    """A row that will not be sent, and why (``code``/``reason`` as the server names them)."""

    line: int
    phone_raw: str
    fio: str | None
    external_id: str | None
    code: str
    reason: str | None
    message: str


def file_sha256(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def plan_rows(table: Table, region: str, *, extras: bool) -> Iterator[PlannedRow | Problem]:
    """Every record of ``table`` as a row to send or a problem, in file order.

    Each row is checked by the server's own :func:`powerdialer.rows.validate.parse_new_row` (number,
    name, and with ``extras`` the CRM id and the other columns as custom fields), so a row
    that passes here is refused by the server only for reasons this side cannot know.  A number
    seen before in the file is a problem (``duplicate_in_file``) naming the first line."""
    first_line: dict[str, int] = {}
    for record in table:
        if record.error is not None:
            yield Problem(record.line, "", None, None, "malformed_line", None, record.error)
            continue
        obj: dict[str, object] = {"phone_number": record.phone, "fio": record.fio}
        if extras:
            obj["external_id"] = record.external_id
            obj["fields"] = record.extra or None
        try:
            row = parse_new_row(obj, region)
        except ValidationError as exc:
            yield Problem(
                record.line,
                record.phone,
                record.fio,
                record.external_id,
                exc.code,
                exc.reason,
                exc.message,
            )
            continue
        seen = first_line.setdefault(row.phone_e164, record.line)
        if seen != record.line:
            yield Problem(
                record.line,
                record.phone,
                row.fio,
                row.external_id,
                "duplicate_in_file",
                None,
                f"the same number as line {seen} ({row.phone_e164}); it is sent once.",
            )
            continue
        yield PlannedRow(
            record.line, row.phone_e164, record.phone, row.fio, row.external_id, row.fields
        )


def open_input(path: str | os.PathLike[str], mapping: Mapping, sheet: str | int | None) -> Table:
    return open_table(path, mapping=mapping, sheet=sheet)
