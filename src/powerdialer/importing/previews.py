"""A "check your columns" look at an upload before importing it: what the reader detects, and
the first records as the import would judge them."""

from __future__ import annotations

from dataclasses import dataclass

from powerdialer.errors import ValidationError
from powerdialer.reader.bounds import DEFAULT_LIMITS, WorkbookLimits
from powerdialer.reader.errors import ReaderError
from powerdialer.reader.headers import Mapping
from powerdialer.reader.open import Preview, preview
from powerdialer.reader.table import Record
from powerdialer.rows.validate import parse_new_row

__all__ = ["CheckedRecord", "FilePreview", "preview_file"]

PREVIEW_ROWS = 20


@dataclass(frozen=True, slots=True)
class CheckedRecord:
    record: Record
    phone_e164: str | None
    problem: ValidationError | None


@dataclass(frozen=True, slots=True)
class FilePreview:
    preview: Preview
    records: list[CheckedRecord]
    notices: list[dict[str, str]]
    """Columns left out of the custom fields: ``{"column", "reason", "message"}`` each, the
    reason ``too_many_fields`` or ``name_too_long`` (as an import of the file reports them)."""


def preview_file(
    path: str,
    filename: str,
    mapping: Mapping | None,
    region: str,
    limit: int = PREVIEW_ROWS,
    *,
    limits: WorkbookLimits = DEFAULT_LIMITS,
) -> FilePreview:
    """Detection and the first ``limit`` records, each with its stored number or the reason
    it would be rejected.  A file the import could not read raises ``ValidationError`` with
    the reader's code (``no_phone_column``, ``undecodable``, ``workbook_too_large``…) on the
    field ``file``.  A pure function of the file: the server calls it in a child process
    (:func:`powerdialer.importing.sandbox.run_preview`)."""
    try:
        found = preview(path, filename=filename, mapping=mapping, limit=limit, limits=limits)
    except ReaderError as exc:
        raise ValidationError(str(exc), code=exc.code, field="file") from exc
    checked = []
    for record in found.records:
        if record.error is not None:
            checked.append(CheckedRecord(record, None, None))
            continue
        try:
            row = parse_new_row(
                {
                    "phone_number": record.phone,
                    "fio": record.fio,
                    "external_id": record.external_id,
                    "fields": record.extra,
                },
                region,
            )
        except ValidationError as exc:
            checked.append(CheckedRecord(record, None, exc))
        else:
            checked.append(CheckedRecord(record, row.phone_e164, None))
    return FilePreview(found, checked, [column.describe() for column in found.left_out])
