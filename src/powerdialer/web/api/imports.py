"""Routes: import jobs — upload a CRM export, follow its progress, download its rejected rows,
and preview a file's columns before importing it.

Uploads are ``multipart/form-data``, streamed to this instance's disk as they come in
(:mod:`powerdialer.web.uploads`) and cut off with 413 ``body_too_large`` at
``settings.max_upload_bytes``; :mod:`powerdialer.importing.start` does the rest, and the work
then happens in the background (:class:`~powerdialer.importing.runner.ImportRunner`).  Every
route is scoped by the authenticated project: another project's job answers 404
``import_not_found``, another project's campaign 404 ``campaign_not_found``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from powerdialer.importing import jobs, rejects, start
from powerdialer.web.api.deps import Authed, CampaignId, JobId, ServicesDep, StoreDep
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas.error_codes import import_errors
from powerdialer.web.api.schemas.imports import (
    REJECTED_CSV_EXAMPLE,
    ImportJobList,
    ImportJobPublic,
    ImportPreview,
    PreviewRow,
)
from powerdialer.web.api.schemas.uploads import PREVIEW_BODY, UPLOAD_BODY
from powerdialer.web.exports import busy_response, rejected_rows_response
from powerdialer.web.uploads import reader

router = APIRouter(tags=["imports"], route_class=ApiRoute)


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
    campaign_id: CampaignId,
    request: Request,
    auth: Authed,
    services: ServicesDep,
    response: Response,
) -> ImportJobPublic:
    """Upload a CSV/XLSX/ODS/JSON Lines file; it is imported in the background.  Follow the
    job at `Location`.  A file that is broken as a whole (undecodable bytes, no phone column,
    a corrupt workbook, an unclosed quote) imports nothing unless `keep_valid` is true;
    invalid rows are rejected one by one and listed in the job's `rejected.csv`."""
    upload = reader(request, services.settings.max_upload_bytes)
    job = await start.start_import(services.imports, auth.project_id, campaign_id, upload)
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
def rejected_rows(job_id: JobId, auth: Authed, services: ServicesDep) -> Response:
    """The rows the import rejected, in file order: `line` (as an editor counts it, header
    included), the raw `phone_number` and `fio`, and `code`, `reason`, `message`.  A
    download like an export: past the key's or the server's cap, 429 `too_many_exports`."""
    chunks = rejects.rejected_csv(services.store, auth.project_id, job_id)
    slots, holder = services.exports, ("key", auth.project_id, auth.key_id)
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
async def preview_import(request: Request, auth: Authed, services: ServicesDep) -> ImportPreview:
    """What an import of this file would detect (format, encoding, delimiter, columns) and
    its first 20 records, each with the number as it would be stored or the reason it would
    be rejected.  Nothing is stored.  A file that cannot be imported answers 422 with the
    reader's code, e.g. `no_phone_column`; one too big to read, `workbook_too_large` or
    `file_too_complex`."""
    upload = reader(request, services.settings.max_upload_bytes)
    found = await start.preview_import(services.imports, upload)
    rows = [PreviewRow.of(c.record, c.phone_e164, c.problem) for c in found.records]
    return ImportPreview.of(found.preview, rows, found.notices)
