"""Bodies of the import routes: the job, the preview, the multipart upload's description, and
the column mapping a client may send."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from powerdialer.errors import ValidationError
from powerdialer.importing.jobs import ImportJob
from powerdialer.reader.fields import MAX_FIELDS
from powerdialer.reader.headers import AUTO, Mapping
from powerdialer.reader.open import Preview
from powerdialer.reader.table import Record
from powerdialer.web.api.schemas import ErrorResponse, error_responses

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
UPLOAD_EXAMPLE = {
    "file": "(the file's bytes: Клієнти.csv)",
    "mapping": '{"phone": "Телефон", "fio": "ПІБ"}',
    "keep_valid": False,
}


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


# --- the multipart form ------------------------------------------------------------------


def _mapping_error(message: str) -> ValidationError:
    return ValidationError(
        f"mapping {message}; send a JSON object such as "
        '{"phone": "Телефон", "fio": "ПІБ", "external_id": null} '
        "(header names, or column numbers from 0).",
        code="invalid_mapping",
        field="mapping",
    )


def parse_mapping(text: str | None) -> Mapping | None:
    """The ``mapping`` form field: which column is which, overriding detection.  A key left
    out is detected; ``null`` means the file has no such column (not for phone)."""
    if text is None or not text.strip():
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise _mapping_error("is not valid JSON") from None
    if not isinstance(value, dict):
        raise _mapping_error("must be a JSON object")
    unknown = set(value) - {"phone", "fio", "external_id", "has_header", "fields"}
    if unknown:
        raise _mapping_error(f"has unknown keys {sorted(unknown)}")
    fields = value.get("fields", AUTO)
    if fields is None:
        fields = ()
    elif fields is not AUTO:
        if not isinstance(fields, list) or not all(_is_ref(ref) for ref in fields):
            raise _mapping_error(
                "fields must be a list of header names or column numbers (the columns to "
                "keep as custom fields)"
            )
        if len(fields) > MAX_FIELDS:
            raise _mapping_error(
                f"fields names {len(fields)} columns; a row keeps at most {MAX_FIELDS} "
                "custom fields"
            )
        fields = tuple(ref.strip() if isinstance(ref, str) else ref for ref in fields)
    refs: dict[str, Any] = {}
    for key in ("phone", "fio", "external_id"):
        if key not in value:
            refs[key] = AUTO
            continue
        ref = value[key]
        if ref is None and key != "phone":
            refs[key] = None
        elif isinstance(ref, str) and ref.strip():
            refs[key] = ref.strip()
        elif isinstance(ref, int) and not isinstance(ref, bool) and ref >= 0:
            refs[key] = ref
        else:
            raise _mapping_error(f"{key} must be a header name or a column number, got {ref!r}")
    has_header = value.get("has_header")
    if has_header is not None and not isinstance(has_header, bool):
        raise _mapping_error("has_header must be true, false or null")
    return Mapping(has_header=has_header, fields=fields, **refs)


def _is_ref(ref: object) -> bool:
    if isinstance(ref, str):
        return bool(ref.strip())
    return isinstance(ref, int) and not isinstance(ref, bool) and ref >= 0


def parse_flag(text: str | None, name: str) -> bool:
    if text is None or not text.strip():
        return False
    flag = text.strip().lower()
    if flag in ("1", "true", "yes", "on"):
        return True
    if flag in ("0", "false", "no", "off"):
        return False
    raise ValidationError(
        f"{name} must be true or false, got {text!r:.40}.", code="invalid_field", field=name
    )


_FORM_FIELDS = {
    "file": {
        "type": "string",
        "format": "binary",
        "description": "The CRM export: CSV/TSV (any usual encoding and delimiter), XLSX, XLS, "
        "ODS or JSON Lines.",
    },
    "mapping": {
        "type": "string",
        "description": 'Optional JSON: {"phone": "Телефон", "fio": "ПІБ", "external_id": null,'
        ' "fields": ["Місто", "UF_CRM_1612345678"]}; header names or column numbers (0 = A); '
        "a key left out is detected; fields: the columns kept as custom fields (at most 50; "
        "default: the other columns, the first 50).",
    },
}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "example": UPLOAD_EXAMPLE,
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        **_FORM_FIELDS,
                        "keep_valid": {
                            "type": "boolean",
                            "default": False,
                            "description": "If the file breaks midway (a bad byte, an "
                            "unclosed quote), import the rows before the break instead of "
                            "nothing.",
                        },
                    },
                },
            }
        },
    }
}
PREVIEW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "example": {k: v for k, v in UPLOAD_EXAMPLE.items() if k != "keep_valid"},
                "schema": {"type": "object", "required": ["file"], "properties": _FORM_FIELDS},
            }
        },
    }
}

_OWN_ERRORS: dict[str, tuple[int, str, dict[str, str]]] = {
    "import_not_found": (
        404,
        "No such import job in this project.",
        {"field": "job_id", "message": "import 77 is not an import of this project: …"},
    ),
    "campaign_archived": (
        409,
        "The campaign is archived and takes no new rows.",
        {"field": "campaignId", "message": "campaign 456 is archived and takes no new rows: …"},
    ),
    "body_too_large": (
        413,
        "The file is larger than the server's upload limit.",
        {"message": "the body is larger than 536870912 bytes (the limit here): split the file."},
    ),
    "form_too_large": (
        413,
        "The form's fields beside the file pass their caps (count, size).",
        {
            "field": "mapping",
            "message": "the form field 'mapping' is longer than 65536 bytes (the limit for a "
            "field beside the file): send a shorter value.",
        },
    ),
    "invalid_mapping": (
        422,
        "The mapping field is not a valid column mapping.",
        {"field": "mapping", "message": "mapping is not valid JSON; send a JSON object …"},
    ),
    "invalid_upload": (
        422,
        "The body is not a well-formed multipart form with a file.",
        {
            "field": "file",
            "reason": "malformed",
            "message": "the body is not a well-formed multipart/form-data form (the body ends "
            "before the form's closing boundary (cut off?)): send the file …",
        },
    ),
}


def import_errors(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses``: the shared codes via ``error_responses``, plus the imports'."""
    shared = [c for c in codes if c not in _OWN_ERRORS]
    responses = error_responses(*shared)
    for code in codes:
        if code in _OWN_ERRORS:
            status, description, extra = _OWN_ERRORS[code]
            entry = responses.setdefault(
                status,
                {"model": ErrorResponse, "description": "", "content": {"application/json": {}}},
            )
            entry["description"] = " / ".join(filter(None, [entry["description"], description]))
            examples = entry["content"]["application/json"].setdefault("examples", {})
            examples[code] = {"value": {"result": False, "error": {"code": code, **extra}}}
    return responses
