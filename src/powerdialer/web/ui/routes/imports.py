"""Uploads on the edit page, with the session instead of an API key: preview, start an import
job, follow it, download its rejected rows.  The same domain calls
(:mod:`powerdialer.importing.start`) and the same streaming multipart reader
(:mod:`powerdialer.web.uploads`) as the API's import routes.

app.js calls these with ``Accept: application/json`` and the ``X-CSRF-Token`` header; without
scripts, the upload form posts here too (the token in a form field) and is redirected to the
edit page, which then shows the job's progress.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from powerdialer.errors import NotFound, PowerDialerError, ValidationError
from powerdialer.importing import jobs, rejects, start
from powerdialer.importing.jobs import ImportJob
from powerdialer.importing.start import ReceiveUpload
from powerdialer.importing.uploads import ReceivedUpload, Upload
from powerdialer.web.exports import rejected_rows_response
from powerdialer.web.responses import status_for
from powerdialer.web.ui import security
from powerdialer.web.ui.errors import CsrfRefused, PageNotFound, TooManyExports
from powerdialer.web.ui.import_status import job_text, job_view, left_out_text
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import ObjectId, Page, PageDep, parse_id
from powerdialer.web.ui.routes.edit import campaign_of, edit_url
from powerdialer.web.ui.routing import UIRoute, json_error
from powerdialer.web.uploads import UploadForm

router = APIRouter(route_class=UIRoute, include_in_schema=False)


def _check_csrf(page: Page, fields: dict[str, str]) -> None:
    presented = page.request.headers.get(security.CSRF_HEADER) or fields.get(security.CSRF_FIELD)
    if not security.tokens_match(presented, page.session.csrf_token):
        raise CsrfRefused


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _problem(page: Page, exc: PowerDialerError) -> JSONResponse:
    """The UI's error answer to app.js, with the API's status for the error (422, 413 for a
    form past its caps, 409 for an archived campaign)."""
    return json_error(exc.code, error_text(page.i18n, exc), status_for(exc))


def _reader(page: Page) -> ReceiveUpload:
    """The upload form, read with the session's CSRF token checked, as app.js sends it (in a
    header) or the form without scripts (a field): only its file and ``mapping`` are taken
    (``keep_valid`` is the API's)."""
    limit = page.services.settings.max_upload_bytes

    async def receive(new_upload: Callable[[str], Upload]) -> ReceivedUpload:
        form = UploadForm(new_upload, limit)
        try:
            received = await form.receive(page.request)
        except ValidationError:
            _check_csrf(page, form.fields)  # a forged request learns nothing, not even the error
            raise
        try:
            _check_csrf(page, received.fields)
        except CsrfRefused:
            received.upload.release()
            raise
        fields = {k: v for k, v in received.fields.items() if k == "mapping"}
        return ReceivedUpload(received.upload, received.filename, fields)

    return receive


@router.post("/ui/campaigns/{campaign_id}/imports/preview")
async def preview(page: PageDep, campaign_id: ObjectId, projectId: str | None = None) -> Response:
    scoped, _ = await run_in_threadpool(campaign_of, page, projectId, str(campaign_id))
    try:
        found = await start.preview_import(scoped.services.imports, _reader(scoped))
    except ValidationError as exc:
        return _problem(scoped, exc)
    rows = []
    for checked in found.records:
        record = checked.record
        problem = None
        if record.error is not None:
            problem = scoped._("This line is broken in the file.")
        elif checked.problem is not None:
            problem = error_text(scoped.i18n, checked.problem)
        rows.append(
            {
                "line": record.line,
                "phone": record.phone,
                "fio": record.fio,
                "external_id": record.external_id,
                "phone_e164": checked.phone_e164,
                "problem": problem,
            }
        )
    detected = found.preview
    return JSONResponse(
        {
            "format": detected.format,
            "encoding": detected.encoding,
            "delimiter": detected.delimiter,
            "headers": list(detected.mapping.headers),
            "mapping": detected.mapping.describe(),
            "has_header": detected.mapping.has_header,
            "fields": list(detected.fields),
            "left_out": [left_out_text(scoped.i18n, column) for column in found.notices],
            "rows": rows,
        }
    )


@router.post("/ui/campaigns/{campaign_id}/imports")
async def start_import(
    page: PageDep,
    campaign_id: ObjectId,
    projectId: str | None = None,
) -> Response:
    scoped, summary = await run_in_threadpool(campaign_of, page, projectId, str(campaign_id))
    project_id = scoped.project_id
    try:
        job = await start.start_import(
            scoped.services.imports, project_id, campaign_id, _reader(scoped)
        )
    except PowerDialerError as exc:  # the form's (422, 413) or the campaign's (archived: 409)
        return _problem(scoped, exc)
    if _wants_json(page.request):
        view = job_view(scoped.i18n, job)
        return JSONResponse({**view, "text": job_text(scoped.i18n, view)}, status_code=202)
    campaign = summary.campaign
    return RedirectResponse(
        edit_url(project_id, campaign.id, campaign.name, job=job.id), status_code=303
    )


def _job_of(page: Page, project_raw: str | None, job_id: int) -> tuple[Page, ImportJob]:
    scoped = page.for_project(parse_id(project_raw))
    try:
        return scoped, jobs.get_job(scoped.store, scoped.project_id, job_id)
    except NotFound:
        raise PageNotFound from None


@router.get("/ui/imports/{job_id}")
def job_progress(page: PageDep, job_id: ObjectId, projectId: str | None = None) -> Response:
    scoped, job = _job_of(page, projectId, job_id)
    view = job_view(scoped.i18n, job)
    view["text"] = job_text(scoped.i18n, view)
    return JSONResponse(view)


@router.get("/ui/imports/{job_id}/rejected.csv")
def rejected_csv(page: PageDep, job_id: ObjectId, projectId: str | None = None) -> Response:
    scoped, job = _job_of(page, projectId, job_id)
    chunks = rejects.rejected_csv(scoped.store, scoped.project_id, job.id)
    slot = scoped.services.exports.take(("user", scoped.session.user.id))
    if slot is None:
        raise TooManyExports
    return rejected_rows_response(chunks, slot, job.id)
