"""Routes: import jobs — upload a CRM export, follow its progress, download its rejected rows,
and preview a file's columns before importing it.

Uploads are ``multipart/form-data``, parsed as they stream in (``python-multipart``): the file
part goes straight to this instance's disk, never whole into memory, and the upload is cut off
with 413 ``body_too_large`` at ``settings.max_upload_bytes``.  The work then happens in the
background (:class:`~powerdialer.importing.runner.ImportRunner`).  Every route is scoped by
the authenticated project: another project's job answers 404 ``import_not_found``, another
project's campaign 404 ``campaign_not_found``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from powerdialer.errors import ValidationError
from powerdialer.importing import jobs, rejects
from powerdialer.importing.runner import ImportRunner
from powerdialer.importing.uploads import Upload
from powerdialer.models import MAX_ID
from powerdialer.text import one_line
from powerdialer.web.api.deps import Authed, StoreDep, get_owner
from powerdialer.web.api.import_schemas import (
    PREVIEW_BODY,
    REJECTED_CSV_EXAMPLE,
    UPLOAD_BODY,
    ImportJobList,
    ImportJobPublic,
    ImportPreview,
    PreviewRow,
    import_errors,
    parse_flag,
    parse_mapping,
)
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.exports import busy_response, rejected_rows_response

router = APIRouter(tags=["imports"], route_class=ApiRoute)

CampaignId = Annotated[int, Path(gt=0, le=MAX_ID, description="The campaign's id.")]
JobId = Annotated[int, Path(gt=0, le=MAX_ID, description="The import job's id.")]

# The form's text beside the file is held in memory while the file streams to disk, so it
# is capped: in parts, in bytes per part and in all.  A part's headers are bounded by
# python-multipart itself (8 headers of at most 4,224 bytes each).
MAX_FORM_FIELDS = 16  # parts other than the file (the forms send 1 to 3)
MAX_FIELD_BYTES = 64 * 1024  # one form field other than the file (the mapping JSON)
MAX_FORM_TEXT_BYTES = 256 * 1024  # all of them together


def _invalid_upload(message: str) -> ValidationError:
    return ValidationError(message, code="invalid_upload", field="file")


def _utf8(raw: bytes, field: str, what: str) -> str:
    """Text of the form as sent: UTF-8 (RFC 7578), else refused rather than guessed at."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(
            f"{what} is not UTF-8 text ({raw[:40]!r}): send the form's names and values "
            "encoded as UTF-8.",
            code="invalid_upload",
            field=field,
            reason="invalid_text",
        ) from None


def _malformed(detail: str) -> ValidationError:
    return ValidationError(
        f"the body is not a well-formed multipart/form-data form ({detail}): send the file "
        "in the field 'file' with the boundary given in Content-Type, and the whole body.",
        code="invalid_upload",
        field="file",
        reason="malformed",
    )


def _form_too_large(message: str, field: str) -> ValidationError:
    """413 ``form_too_large`` (``web.responses.status_for``): a form past one of its caps."""
    return ValidationError(message, code="form_too_large", field=field)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        413, f"the file is larger than {limit} bytes (the upload limit): split the file."
    )


class UploadForm:
    """A multipart body as it streams: the ``file`` part into an :class:`Upload`, the other
    fields (small) into ``fields``."""

    def __init__(self, new_upload: Callable[[str], Upload], limit: int) -> None:
        self.new_upload = new_upload
        self.limit = limit
        self.upload: Upload | None = None
        self.filename = ""
        self.fields: dict[str, str] = {}
        self._header = (bytearray(), bytearray())
        self._disposition = b""
        self._field: str | None = None
        self._value = bytearray()
        self._ended = False  # the closing boundary was read
        self._text_fields = 0
        self._text_bytes = 0

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header[0].extend(data[start:end])

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header[1].extend(data[start:end])

    def on_header_end(self) -> None:
        name, value = self._header
        if bytes(name).lower() == b"content-disposition":
            self._disposition = bytes(value)
        self._header = (bytearray(), bytearray())

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        self._disposition = b""
        name = _utf8(params.get(b"name", b""), "form", "a form field's name")
        self._field, self._value = name, bytearray()
        if name != "file":
            self._text_fields += 1
            if self._text_fields > MAX_FORM_FIELDS:
                raise _form_too_large(
                    f"the form has more than {MAX_FORM_FIELDS} fields beside the file (the "
                    "limit): send only file, mapping and keep_valid.",
                    name or "body",
                )
        if name == "file":
            if self.upload is not None:
                raise _invalid_upload("send one file per upload, in the field 'file'.")
            self.filename = one_line(_utf8(params.get(b"filename", b""), "file", "the file's name"))
            self.filename = FilePath(self.filename.replace("\\", "/")).name or "upload"
            self.upload = self.new_upload(self.filename)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._field == "file" and self.upload is not None:
            if self.upload.size + end - start > self.limit:
                raise _too_large(self.limit)
            self.upload.write(data[start:end])
        elif self._field is not None:
            self._text_bytes += end - start
            if self._text_bytes > MAX_FORM_TEXT_BYTES:
                raise _form_too_large(
                    f"the form's fields beside the file are longer than {MAX_FORM_TEXT_BYTES} "
                    "bytes together (the limit): send only file, mapping and keep_valid.",
                    self._field or "body",
                )
            self._value.extend(data[start:end])
            if len(self._value) > MAX_FIELD_BYTES:
                raise _form_too_large(
                    f"the form field {self._field!r} is longer than {MAX_FIELD_BYTES} bytes "
                    "(the limit for a field beside the file): send a shorter value.",
                    self._field or "body",
                )

    def on_end(self) -> None:
        self._ended = True

    def on_part_end(self) -> None:
        if self._field and self._field != "file":
            self.fields[self._field] = _utf8(
                bytes(self._value), self._field, f"the field {self._field!r}"
            )
        self._field = None

    async def receive(self, request: Request) -> Upload:
        """Read the whole body; the file on disk, or an error (and nothing left on disk)."""
        kind, params = parse_options_header(request.headers.get("content-type", ""))
        if kind != b"multipart/form-data" or not params.get(b"boundary"):
            raise _invalid_upload("send the file as multipart/form-data in the field 'file'.")
        callbacks = {n: getattr(self, n) for n in dir(self) if n.startswith("on_")}
        parser = MultipartParser(params[b"boundary"], callbacks)  # type: ignore[arg-type]
        try:
            async for chunk in request.stream():
                parser.write(chunk)
            parser.finalize()
            if not self._ended:
                raise _malformed("the body ends before the form's closing boundary (cut off?)")
            if self.upload is None:
                raise _invalid_upload("the form has no file: send it in the field 'file'.")
        except MultipartParseError as exc:
            if self.upload is not None:
                self.upload.release()
            raise _malformed(str(exc)) from None
        except BaseException:
            if self.upload is not None:
                self.upload.release()
            raise
        return self.upload


def get_runner(request: Request) -> ImportRunner:
    runner = get_owner(request).imports
    if runner is None:
        raise RuntimeError("the application has not started")
    return runner


@router.post(
    "/power-dialer/campaigns/{campaign_id}/imports",
    summary="Import a CRM export into a campaign",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportJobPublic,
    openapi_extra=UPLOAD_BODY,
    responses=import_errors(
        "campaign_not_found",
        "campaign_archived",
        "body_too_large",
        "form_too_large",
        "invalid_mapping",
        "invalid_upload",
    ),
)
async def create_import(
    campaign_id: CampaignId, request: Request, auth: Authed, response: Response
) -> ImportJobPublic:
    """Upload a CSV/XLSX/ODS/JSON Lines file; it is imported in the background.  Follow the
    job at `Location`.  A file that is broken as a whole (undecodable bytes, no phone column,
    a corrupt workbook, an unclosed quote) imports nothing unless `keep_valid` is true;
    invalid rows are rejected one by one and listed in the job's `rejected.csv`."""
    owner, runner = get_owner(request), get_runner(request)
    await run_in_threadpool(jobs.check_campaign, owner.store, auth.project_id, campaign_id)
    form = UploadForm(runner.new_upload, owner.settings.max_upload_bytes)
    upload = await form.receive(request)
    try:
        mapping = parse_mapping(form.fields.get("mapping"))
        create = partial(
            jobs.create_job,
            owner.store,
            auth.project_id,
            campaign_id,
            filename=form.filename,
            file_path=str(upload.path),
            keep_valid=parse_flag(form.fields.get("keep_valid"), "keep_valid"),
        )
        job = await run_in_threadpool(create)
    except BaseException:
        upload.release()
        raise
    runner.launch(job, upload, mapping)
    response.headers["Location"] = f"/power-dialer/imports/{job.id}"
    return ImportJobPublic.of(job)


@router.get(
    "/power-dialer/campaigns/{campaign_id}/imports",
    summary="List a campaign's imports",
    response_model=ImportJobList,
    responses=import_errors("campaign_not_found"),
)
def list_imports(
    campaign_id: CampaignId,
    auth: Authed,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=200, description="At most this many jobs.")] = 50,
) -> ImportJobList:
    """The campaign's import jobs, newest first."""
    found = jobs.list_jobs(store, auth.project_id, campaign_id, limit)
    return ImportJobList(items=[ImportJobPublic.of(job) for job in found])


@router.get(
    "/power-dialer/imports/{job_id}",
    summary="Follow an import",
    response_model=ImportJobPublic,
    responses=import_errors("import_not_found"),
)
def get_import(job_id: JobId, auth: Authed, store: StoreDep) -> ImportJobPublic:
    """The job's status, progress (0 to 1) and counters; poll it while it runs."""
    return ImportJobPublic.of(jobs.get_job(store, auth.project_id, job_id))


@router.get(
    "/power-dialer/imports/{job_id}/rejected.csv",
    summary="Download an import's rejected rows",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/csv": {"example": REJECTED_CSV_EXAMPLE}},
            "description": "CSV, UTF-8 with BOM.",
        },
        **import_errors("import_not_found", "too_many_exports"),
    },
)
def rejected_rows(job_id: JobId, auth: Authed, store: StoreDep, request: Request) -> Response:
    """The rows the import rejected, in file order: `line` (as an editor counts it, header
    included), the raw `phone_number` and `fio`, and `code`, `reason`, `message`.  A
    download like an export: past the key's or the server's cap, 429 `too_many_exports`."""
    chunks = rejects.rejected_csv(store, auth.project_id, job_id)
    slots, holder = get_owner(request).exports, ("key", auth.project_id, auth.key_id)
    slot = slots.take(holder)
    if slot is None:
        return busy_response(slots, holder)
    return rejected_rows_response(chunks, slot, job_id)


@router.post(
    "/power-dialer/imports/preview",
    summary="Preview a file's columns",
    response_model=ImportPreview,
    openapi_extra=PREVIEW_BODY,
    responses=import_errors(
        "body_too_large", "form_too_large", "invalid_mapping", "invalid_upload"
    ),
)
async def preview_import(request: Request, auth: Authed) -> ImportPreview:
    """What an import of this file would detect (format, encoding, delimiter, columns) and
    its first 20 records, each with the number as it would be stored or the reason it would
    be rejected.  Nothing is stored.  A file that cannot be imported answers 422 with the
    reader's code, e.g. `no_phone_column`; one too big to read, `workbook_too_large` or
    `file_too_complex`."""
    owner, runner = get_owner(request), get_runner(request)
    form = UploadForm(runner.new_upload, owner.settings.max_upload_bytes)
    upload = await form.receive(request)
    try:
        mapping = parse_mapping(form.fields.get("mapping"))
        found = await runner.preview(upload, form.filename, mapping, owner.settings.default_region)
    finally:
        upload.release()
    rows = [PreviewRow.of(c.record, c.phone_e164, c.problem) for c in found.records]
    return ImportPreview.of(found.preview, rows, found.notices)
