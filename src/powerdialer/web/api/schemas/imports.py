"""Bodies of the import routes: the job (``ImportJobPublic``) and the preview of a file.  The
multipart upload they take is described in :mod:`.uploads`."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from powerdialer.errors import ValidationError
from powerdialer.importing.jobs import ImportJob
from powerdialer.reader.open import Preview
from powerdialer.reader.table import Record

JobStatus = Literal["queued", "running", "done", "failed"]


class JobErrorPublic(BaseModel):
    code: str = Field(description="Machine code, e.g. no_phone_column, undecodable.")
    message: str = Field(description="One sentence saying what is wrong and how to fix it.")


_WHEN = "2026-11-26T09:30:00.123456Z"
JOB_EXAMPLE: dict[str, Any] = {
    "id": 77,
    "campaign_id": 456,
    "status": "done",
    "filename": "Клієнти.csv",
    "format": "csv",
    "encoding": "cp1251",
    "delimiter": ";",
    "mapping": {"phone": "Телефон", "fio": "ПІБ", "external_id": None},
    "keep_valid": False,
    "total": 1250,
    "progress": 1.0,
    "supplied": 1250,
    "inserted": 1190,
    "duplicates": 48,
    "updated": 0,
    "rejected": 12,
    "error": None,
    "created_at": _WHEN,
    "started_at": _WHEN,
    "finished_at": _WHEN,
}
PREVIEW_EXAMPLE: dict[str, Any] = {
    "format": "csv",
    "encoding": "cp1251",
    "delimiter": ";",
    "sheet": None,
    "headers": ["ПІБ", "Телефон", "Місто"],
    "mapping": {"phone": "Телефон", "fio": "ПІБ", "external_id": None},
    "rows": [
        {
            "line": 2,
            "phone": "093-000-00-01",
            "fio": "Іван Петренко",
            "external_id": None,
            "fields": {"Місто": "Київ"},
            "phone_e164": "+380930000001",
            "error": None,
        },
        {
            "line": 3,
            "phone": "12",
            "fio": "Без номера",
            "external_id": None,
            "fields": {},
            "phone_e164": None,
            "error": {
                "code": "invalid_phone_number",
                "reason": "too_short",
                "message": "phone_number '12' is not a valid phone number: the number has too "
                "few digits; send the full number, e.g. 380930000000.",
            },
        },
    ],
}
REJECTED_CSV_EXAMPLE = (
    "\ufeffline,phone_number,fio,code,reason,message\r\n"
    "3,12,Без номера,invalid_phone_number,too_short,"
    "\"phone_number '12' is not a valid phone number: the number has too few digits; send the "
    'full number, e.g. 380930000000."\r\n'
)


class LeftOutColumn(BaseModel):
    column: str = Field(description="The column's header (or column_N).")
    reason: Literal["too_many_fields", "name_too_long"] = Field(
        description="too_many_fields: past the 50 custom fields a row may have; "
        "name_too_long: a header over 64 characters."
    )
    message: str = Field(description="One sentence: what was left out, why, and what to do.")


_LEFT_OUT = (
    "Columns not imported as custom fields, and why: a wide CRM export imports its phones "
    "and names, and these columns are left out (choose the fields in the mapping instead)."
)


class ImportJobPublic(BaseModel):
    """An import job.  Its counters grow chunk by chunk, with the rows they count:
    ``supplied`` ≥ ``inserted`` + ``duplicates`` + ``updated`` + ``rejected`` at every poll
    (equal once it is done), and ``inserted`` is the rows it stored."""

    model_config = ConfigDict(json_schema_extra={"examples": [JOB_EXAMPLE]})

    id: int
    campaign_id: int
    status: JobStatus = Field(description="queued → running → done or failed.")
    filename: str = Field(description="The uploaded file's name, as sent.")
    format: str | None = Field(description="csv, xlsx, xls, xlsb, ods or jsonl, once detected.")
    encoding: str | None = Field(description="The text encoding detected (text formats).")
    delimiter: str | None = Field(description="The CSV delimiter detected.")
    mapping: dict[str, str | None] | None = Field(
        description="The columns used: header names for phone, fio and external_id.",
        examples=[{"phone": "Телефон", "fio": "ПІБ", "external_id": None}],
    )
    left_out: list[LeftOutColumn] = Field(description=_LEFT_OUT)
    keep_valid: bool = Field(description="Whether a broken file keeps the rows before the break.")
    total: int | None = Field(description="Records in the file, once counted.")
    progress: float = Field(ge=0, le=1, description="Share of the records handled, 0 to 1.")
    supplied: int = Field(description="Records read so far.")
    inserted: int = Field(description="New rows stored.")
    duplicates: int = Field(description="Numbers already in the campaign (or earlier in the file).")
    updated: int = Field(description="Existing rows updated (campaign policy 'update').")
    rejected: int = Field(description="Invalid records; see rejected.csv.")
    error: JobErrorPublic | None = Field(
        description="Why the job failed; on a done job, where a broken file stopped (keep_valid)."
    )
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobPublic:
        error = (
            JobErrorPublic(code=job.error.code, message=job.error.message) if job.error else None
        )
        return cls(
            id=job.id,
            campaign_id=job.campaign_id,
            status=job.status,  # type: ignore[arg-type]
            filename=job.filename,
            format=job.format,
            encoding=job.encoding,
            delimiter=job.delimiter,
            mapping=job.mapping,
            left_out=[LeftOutColumn.model_validate(c) for c in job.left_out],
            keep_valid=job.keep_valid,
            total=job.total,
            progress=round(job.progress, 4),
            supplied=job.supplied,
            inserted=job.inserted,
            duplicates=job.duplicates,
            updated=job.updated,
            rejected=job.rejected,
            error=error,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class ImportJobList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [JOB_EXAMPLE]}]})

    items: list[ImportJobPublic] = Field(description="Newest first.")


class RowProblem(BaseModel):
    code: str = Field(description="e.g. invalid_phone_number.")
    reason: str | None = Field(description="e.g. too_short.")
    message: str


class PreviewRow(BaseModel):
    line: int = Field(description="Line (or sheet row) in the file, header included, from 1.")
    phone: str = Field(description="The phone cell's text as found.")
    fio: str | None
    external_id: str | None
    fields: dict[str, str] = Field(description="The other non-empty cells by header name.")
    phone_e164: str | None = Field(description="The number as it would be stored.")
    error: RowProblem | None = Field(description="Why the import would reject this row.")

    @classmethod
    def of(cls, record: Record, e164: str | None, problem: ValidationError | None) -> PreviewRow:
        error = None
        if record.error is not None:
            error = RowProblem(code="malformed_line", reason=None, message=record.error)
        elif problem is not None:
            error = RowProblem(code=problem.code, reason=problem.reason, message=problem.message)
        return cls(
            line=record.line,
            phone=record.phone,
            fio=record.fio,
            external_id=record.external_id,
            fields=record.extra,
            phone_e164=e164,
            error=error,
        )


class ImportPreview(BaseModel):
    """What an import of this file would use, and its first records."""

    model_config = ConfigDict(json_schema_extra={"examples": [PREVIEW_EXAMPLE]})

    format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None = Field(description="The workbook sheet read (the first).")
    headers: list[str] = Field(description="The header row's cells (empty without a header).")
    mapping: dict[str, str | None]
    left_out: list[LeftOutColumn] = Field(description=_LEFT_OUT)
    rows: list[PreviewRow]

    @classmethod
    def of(
        cls, preview: Preview, rows: list[PreviewRow], notices: list[dict[str, str]]
    ) -> ImportPreview:
        return cls(
            format=preview.format,
            encoding=preview.encoding,
            delimiter=preview.delimiter,
            sheet=preview.sheet,
            headers=list(preview.mapping.headers),
            mapping=preview.mapping.describe(),
            left_out=[LeftOutColumn.model_validate(n) for n in notices],
            rows=rows,
        )
