"""Settings → Do not call: the project's do-not-call list — search by number, add a number
with a reason, remove one (owners), import a CSV file, export the list.  The same domain calls
as the API (``powerdialer.dnc``, ``powerdialer.dnc_csv``), with the signed-in user's email as
who listed a number."""

from __future__ import annotations

import contextlib
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response, StreamingResponse

from powerdialer import dnc, dnc_csv
from powerdialer.errors import NotFound, ValidationError
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import FormDep, Page, PageDep
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)

PAGE = "/settings/dnc"
PAGE_SIZE = 50


def render_dnc(
    page: Page, *, q: str = "", cursor: str | None = None, status_code: int = 200, **context: object
) -> Response:
    page.extra["here"] = PAGE
    try:
        found = dnc.list_numbers(
            page.store, page.project_id, prefix=q, cursor=cursor, limit=PAGE_SIZE
        )
        search_error = None
    except ValidationError as exc:
        found = dnc.DncPage([], None)
        search_error = error_text(page.i18n, exc)
    return page.render(
        "dnc.html",
        status_code=422 if search_error else status_code,
        nav="dnc",
        entries=found.items,
        next_cursor=found.next_cursor,
        q=q,
        search_error=search_error,
        **context,
    )


@router.get(PAGE)
def dnc_page(page: PageDep, q: str = "", cursor: str | None = None) -> Response:
    return render_dnc(page, q=q, cursor=cursor)


@router.post(PAGE)
def add_number(
    page: FormDep,
    number: Annotated[str, Form(max_length=200)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    [outcome] = dnc.add_numbers(
        page.store,
        page.project_id,
        [(number, reason or None)],
        source="ui",
        region=page.services.settings.default_region,
        added_by=page.session.user.email,
    )
    if outcome.error is not None:
        typed = {"number": number, "reason": reason}
        return render_dnc(
            page, status_code=422, add_error=error_text(page.i18n, outcome.error), typed=typed
        )
    notice = "dnc_added" if outcome.status == "added" else "dnc_listed"
    return RedirectResponse(f"{PAGE}?notice={notice}", status_code=303)


@router.post(f"{PAGE}/remove")
def remove_number(page: FormDep, number: Annotated[str, Form(max_length=200)] = "") -> Response:
    page.require_owner()
    # Removed already (a second click): the same page.
    with contextlib.suppress(NotFound, ValidationError):
        dnc.remove_number(
            page.store, page.project_id, number, region=page.services.settings.default_region
        )
    return RedirectResponse(f"{PAGE}?notice=dnc_removed", status_code=303)


@router.post(f"{PAGE}/import")
async def import_numbers(request: Request, page: FormDep) -> Response:
    form = await request.form()  # bounded by the body limit (web.middleware.bodylimit)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        error = ValidationError("choose a file", code="invalid_upload", field="file")
        return await run_in_threadpool(
            lambda: render_dnc(page, status_code=422, import_error=error_text(page.i18n, error))
        )
    try:
        report = await run_in_threadpool(
            lambda: dnc_csv.import_csv(
                page.store,
                page.project_id,
                upload.file,  # spooled to disk past 1 MiB, and read from there a line at a time
                source="import",
                region=page.services.settings.default_region,
                added_by=page.session.user.email,
            )
        )
    except ValidationError as exc:
        refused = error_text(page.i18n, exc)
        return await run_in_threadpool(
            lambda: render_dnc(page, status_code=422, import_error=refused)
        )
    rejects = [(r.line, r.value, error_text(page.i18n, r.error)) for r in report.rejects[:20]]
    return await run_in_threadpool(lambda: render_dnc(page, report=report, rejects=rejects))


@router.get(f"{PAGE}/export.csv")
def export_numbers(page: PageDep) -> Response:
    chunks = dnc_csv.export_csv(page.store, page.project_id)
    name = f"dnc-project-{page.project_id}.csv"
    return StreamingResponse(
        iterate_in_threadpool(chunks),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
