"""Bodies of the import routes: the job, the preview, the multipart upload's description, and
the column mapping a client may send."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import orjson
from pydantic import BaseModel, Field

from powerdialer.errors import ValidationError
from powerdialer.importing import AUTO, Mapping, Preview, Record
from powerdialer.importing.jobs import ImportJob
from powerdialer.web.api.schemas import ErrorResponse, error_responses

JobStatus = Literal["queued", "running", "done", "failed"]


class JobErrorPublic(BaseModel):
    code: str = Field(description="Machine code, e.g. no_phone_column, undecodable.")
    message: str = Field(description="One sentence saying what is wrong and how to fix it.")


class ImportJobPublic(BaseModel):
    """An import job.  ``supplied`` = ``inserted`` + ``duplicates`` + ``updated`` +
    ``rejected`` once it is done; while it runs they grow chunk by chunk."""

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

    format: str
    encoding: str | None
    delimiter: str | None
    sheet: str | None = Field(description="The workbook sheet read (the first).")
    headers: list[str] = Field(description="The header row's cells (empty without a header).")
    mapping: dict[str, str | None]
    rows: list[PreviewRow]

    @classmethod
    def of(cls, preview: Preview, rows: list[PreviewRow]) -> ImportPreview:
        return cls(
            format=preview.format,
            encoding=preview.encoding,
            delimiter=preview.delimiter,
            sheet=preview.sheet,
            headers=list(preview.mapping.headers),
            mapping=preview.mapping.describe(),
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
    unknown = set(value) - {"phone", "fio", "external_id", "has_header"}
    if unknown:
        raise _mapping_error(f"has unknown keys {sorted(unknown)}")
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
    return Mapping(has_header=has_header, **refs)


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
        "description": 'Optional JSON: {"phone": "Телефон", "fio": "ПІБ", "external_id": null};'
        " header names or column numbers (0 = A); a key left out is detected.",
    },
}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
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
                }
            }
        },
    }
}
PREVIEW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "required": ["file"], "properties": _FORM_FIELDS}
            }
        },
    }
}

_OWN_ERRORS = {
    "import_not_found": (404, "No such import job in this project."),
    "campaign_archived": (409, "The campaign is archived and takes no new rows."),
    "body_too_large": (413, "The file is larger than the server's upload limit."),
    "form_too_large": (413, "The form's fields beside the file pass their caps (count, size)."),
    "invalid_mapping": (422, "The mapping field is not a valid column mapping."),
    "invalid_upload": (422, "The body is not a multipart form with a file."),
}


def import_errors(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses``: the shared codes via ``error_responses``, plus the imports'."""
    shared = [c for c in codes if c not in _OWN_ERRORS]
    responses = error_responses(*shared)
    for code in codes:
        if code in _OWN_ERRORS:
            status, description = _OWN_ERRORS[code]
            entry = responses.setdefault(status, {"model": ErrorResponse, "description": ""})
            entry["description"] = " / ".join(filter(None, [entry["description"], description]))
    return responses
