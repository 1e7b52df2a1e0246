"""The campaign's number list, at the vendor's own URL shape:
``/campaign/edit?projectId=<id>&editCampaign=<id>&campaignName=<name>``.

The page shows both ids (what the API needs), the upload area (see :mod:`.imports`), and the
rows: search, keyset pages, delete, add one by hand.  A projectId the user is not a member of,
or a campaign of another project, is a 404 like one that does not exist.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import urlencode

import phonenumbers
from fastapi import APIRouter, Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from powerdialer import campaigns
from powerdialer.campaigns import CampaignSummary
from powerdialer.errors import NotFound, PowerDialerError, ValidationError
from powerdialer.importing import jobs
from powerdialer.rows import listing
from powerdialer.rows.models import RowFilter
from powerdialer.rows.validate import MAX_EXTERNAL_ID, parse_new_row
from powerdialer.rows.write import add_rows
from powerdialer.text import one_line
from powerdialer.web.ui.errors import PageNotFound
from powerdialer.web.ui.import_status import job_text, job_view
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import FormDep, Page, PageDep, parse_id
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)

PAGE_SIZE = 50
_PHONE_CHARS = set("+0123456789 ()-.")


def edit_url(project_id: int, campaign_id: int, name: str, **extra: Any) -> str:
    query = {"projectId": project_id, "editCampaign": campaign_id, "campaignName": name}
    query.update({k: v for k, v in extra.items() if v not in (None, "")})
    return "/campaign/edit?" + urlencode(query)


def campaign_of(
    page: Page, project_raw: str | None, campaign_raw: str | None
) -> tuple[Page, CampaignSummary]:
    """The page in the URL's project and that project's campaign, or 404."""
    scoped = page.for_project(parse_id(project_raw))
    try:
        summary = campaigns.campaign_summary(
            scoped.store, scoped.project_id, parse_id(campaign_raw)
        )
    except NotFound:
        raise PageNotFound from None
    return scoped, summary


def search_filter(text: str, region: str) -> RowFilter:
    """One search box for names, numbers and CRM ids: a whole number finds that number, the
    first digits find numbers starting so (``093`` is read in the default country), anything
    else is looked for in the contact's name or taken as a CRM id (``external_id``)."""
    text = one_line(text)[: listing.MAX_QUERY_TEXT]
    if not text:
        return RowFilter()
    digits = "".join(ch for ch in text if ch.isdigit())
    crm_id = text[: MAX_EXTERNAL_ID + 1]  # longer is no row's id, and matches nothing
    if digits and set(text) <= _PHONE_CHARS:
        try:
            found = listing.build_filter(phone=text, region=region)
            return replace(found, or_external_id=crm_id)
        except ValidationError:
            pass
        if not text.lstrip().startswith("+") and digits.startswith("0"):
            digits = str(phonenumbers.country_code_for_region(region)) + digits.lstrip("0")
        try:
            found = listing.build_filter(phone_prefix=digits[:15], region=region)
            return replace(found, or_external_id=crm_id)
        except ValidationError:
            pass
    return RowFilter(text=text, or_external_id=crm_id)


def render_edit(
    page: Page,
    summary: CampaignSummary,
    *,
    q: str = "",
    cursor: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    region = page.services.settings.default_region
    campaign = summary.campaign
    found = listing.list_rows(
        page.store,
        page.project_id,
        campaign.id,
        search_filter(q, region),
        limit=PAGE_SIZE,
        cursor=cursor,
    )
    here = edit_url(page.project_id, campaign.id, campaign.name)
    next_url = None
    if found.next_cursor:
        next_url = edit_url(
            page.project_id, campaign.id, campaign.name, q=q, cursor=found.next_cursor
        )
    prev_url = None
    if found.prev_cursor:
        prev_url = edit_url(
            page.project_id, campaign.id, campaign.name, q=q, cursor=found.prev_cursor
        )
    page.extra["here"] = here
    return page.render(
        "edit.html",
        status_code=status_code,
        nav="power-dialer",
        summary=summary,
        campaign=campaign,
        rows=found.items,
        next_url=next_url,
        prev_url=prev_url,
        first_url=edit_url(page.project_id, campaign.id, campaign.name, q=q) if cursor else None,
        here=here,
        q=q,
        **context,
    )


def import_job(page: Page, summary: CampaignSummary, job_raw: str | None) -> dict[str, Any]:
    """The ``?job=`` an upload without scripts was redirected with: its progress, shown in
    the page (which reloads itself until the job is done)."""
    if not job_raw or not job_raw.isdigit() or len(job_raw) > 18:
        return {}
    try:
        job = jobs.get_job(page.store, page.project_id, int(job_raw))
    except NotFound:
        return {}
    if job.campaign_id != summary.campaign.id:
        return {}
    view = job_view(page.i18n, job)
    return {"job": view, "job_text": job_text(page.i18n, view)}


@router.get("/campaign/edit")
def edit_page(
    page: PageDep,
    projectId: str | None = None,
    editCampaign: str | None = None,
    q: str = "",
    cursor: str | None = None,
    job: str | None = None,
) -> Response:
    scoped, summary = campaign_of(page, projectId, editCampaign)
    shown = import_job(scoped, summary, job)
    try:
        return render_edit(scoped, summary, q=q, cursor=cursor, **shown)
    except ValidationError:  # a cursor edited by hand, or from another search
        return RedirectResponse(
            edit_url(scoped.project_id, summary.campaign.id, summary.campaign.name, q=q),
            status_code=303,
        )


@router.post("/campaign/rows/add")
async def add_row(
    page: FormDep,
    projectId: str | None = None,
    editCampaign: str | None = None,
    fio: Annotated[str, Form(max_length=1000)] = "",
    phone_number: Annotated[str, Form(max_length=200)] = "",
    priority: Annotated[str, Form(max_length=20)] = "",
    call_next: Annotated[str, Form(max_length=10)] = "",
    consent_basis: Annotated[str, Form(max_length=1000)] = "",
    consent_at: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    scoped, summary = await run_in_threadpool(campaign_of, page, projectId, editCampaign)
    campaign = summary.campaign
    region = scoped.services.settings.default_region
    try:
        sent = {
            "fio": fio or None,
            "phone_number": phone_number,
            "priority": priority or None,
            "call_next": call_next or None,
            "consent_basis": consent_basis or None,
            "consent_at": consent_at or None,
        }
        row = parse_new_row(sent, region)
        writer = scoped.services.writer
        outcomes = await add_rows(writer, scoped.project_id, campaign.id, [row], source="ui")
        if outcomes[0].error is not None:  # do_not_call, consent_required
            raise outcomes[0].error
    except NotFound:
        raise PageNotFound from None
    except PowerDialerError as exc:
        message = error_text(scoped.i18n, exc)
        typed = {
            "fio": fio,
            "phone_number": phone_number,
            "priority": priority,
            "call_next": call_next,
            "consent_basis": consent_basis,
            "consent_at": consent_at,
        }
        return await run_in_threadpool(
            lambda: render_edit(scoped, summary, status_code=422, add_error=message, typed=typed)
        )
    notice = "row_duplicate" if outcomes[0].status == "duplicate" else "row_added"
    return RedirectResponse(
        edit_url(scoped.project_id, campaign.id, campaign.name, notice=notice) + "#rows",
        status_code=303,
    )


@router.post("/campaign/rows/delete")
async def delete_rows(
    request: Request,
    page: FormDep,
    projectId: str | None = None,
    editCampaign: str | None = None,
) -> Response:
    form = await request.form()
    one = form.get("delete_one")
    chosen = [one] if isinstance(one, str) and one else form.getlist("row_id")
    ids = {parse_id(value) for value in chosen if isinstance(value, str)}

    def run() -> CampaignSummary:
        scoped, summary = campaign_of(page, projectId, editCampaign)
        chosen = sorted(ids)[: PAGE_SIZE * 2]  # already gone (a second click): the same result
        listing.delete_rows(scoped.store, scoped.project_id, summary.campaign.id, chosen)
        return summary

    summary = await run_in_threadpool(run)
    campaign = summary.campaign
    return RedirectResponse(
        edit_url(campaign.project_id, campaign.id, campaign.name, notice="rows_deleted") + "#rows",
        status_code=303,
    )
