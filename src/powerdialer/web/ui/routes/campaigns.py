"""Settings → Softphone settings → Power Dialer: the campaign list, "+ Add campaign", and the
three-dots menu's actions (rename, export, require consent, archive, delete).

Dialogs are ``<dialog>`` elements that app.js opens; without JavaScript the same links
(``?dialog=new``, ``?dialog=rename-<id>``, ``?dialog=delete-<id>``) render the page with
that dialog open, so everything works with scripts off too.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.responses import RedirectResponse, Response

from powerdialer import campaigns
from powerdialer.campaigns import CampaignChanges
from powerdialer.errors import NotFound, ValidationError
from powerdialer.models import CampaignState
from powerdialer.rows import exporting
from powerdialer.rows.models import RowFilter
from powerdialer.web import exports
from powerdialer.web.ui.errors import PageNotFound, TooManyExports
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import FormDep, ObjectId, Page, PageDep
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)

LIST = "/settings/softphone/power-dialer"
CampaignName = Annotated[str, Form(max_length=1000)]


def campaign_list(
    page: Page, *, dialog: str | None = None, error: str | None = None, name: str = ""
) -> Response:
    summaries = campaigns.list_summaries(page.store, page.project_id)
    return page.render(
        "campaigns.html",
        status_code=422 if error else 200,
        nav="power-dialer",
        summaries=summaries,
        open_dialog=dialog,
        error=error,
        typed_name=name,
    )


@router.get(LIST)
def list_page(page: PageDep, dialog: str | None = None) -> Response:
    return campaign_list(page, dialog=dialog)


@router.post(f"{LIST}/campaigns")
def create(page: FormDep, name: CampaignName = "") -> Response:
    page.extra["here"] = LIST
    try:
        campaigns.create_campaign(page.store, page.project_id, name)
    except ValidationError as exc:
        return campaign_list(page, dialog="new", error=error_text(page.i18n, exc), name=name)
    return RedirectResponse(f"{LIST}?notice=campaign_created", status_code=303)


def _change(page: Page, campaign_id: int, changes: CampaignChanges) -> None:
    try:
        campaigns.update_campaign(page.store, page.project_id, campaign_id, changes)
    except NotFound:
        raise PageNotFound from None


@router.post(f"{LIST}/campaigns/{{campaign_id}}/rename")
def rename(page: FormDep, campaign_id: ObjectId, name: CampaignName = "") -> Response:
    page.extra["here"] = LIST
    try:
        _change(page, campaign_id, CampaignChanges(name=name))
    except ValidationError as exc:
        return campaign_list(
            page, dialog=f"rename-{campaign_id}", error=error_text(page.i18n, exc), name=name
        )
    return RedirectResponse(f"{LIST}?notice=campaign_renamed", status_code=303)


@router.post(f"{LIST}/campaigns/{{campaign_id}}/archive")
def archive(page: FormDep, campaign_id: ObjectId) -> Response:
    _change(page, campaign_id, CampaignChanges(state=CampaignState.ARCHIVED.value))
    return RedirectResponse(f"{LIST}?notice=campaign_archived", status_code=303)


@router.post(f"{LIST}/campaigns/{{campaign_id}}/unarchive")
def unarchive(page: FormDep, campaign_id: ObjectId) -> Response:
    _change(page, campaign_id, CampaignChanges(state=CampaignState.ACTIVE.value))
    return RedirectResponse(f"{LIST}?notice=campaign_unarchived", status_code=303)


@router.post(f"{LIST}/campaigns/{{campaign_id}}/consent")
def set_consent(
    page: FormDep, campaign_id: ObjectId, require: Annotated[str, Form(max_length=10)] = ""
) -> Response:
    """Whether rows without consent basis and time are refused (``require``: yes / no)."""
    wanted = require == "yes"
    _change(page, campaign_id, CampaignChanges(require_consent=wanted))
    notice = "consent_required" if wanted else "consent_not_required"
    return RedirectResponse(f"{LIST}?notice={notice}", status_code=303)


@router.post(f"{LIST}/campaigns/{{campaign_id}}/delete")
def delete(page: FormDep, campaign_id: ObjectId) -> Response:
    page.require_owner()
    try:
        campaigns.delete_campaign(page.store, page.project_id, campaign_id)
    except NotFound:
        raise PageNotFound from None
    return RedirectResponse(f"{LIST}?notice=campaign_deleted", status_code=303)


def export_response(page: Page, campaign_id: int, extension: exports.Format) -> Response:
    try:
        plan = exporting.plan_export(page.store, page.project_id, campaign_id, RowFilter())
    except NotFound:
        raise PageNotFound from None
    slot = page.services.exports.take(("user", page.session.user.id))
    if slot is None:
        raise TooManyExports
    return exports.export_response(page.store, plan, extension, slot)


@router.get(f"{LIST}/campaigns/{{campaign_id}}/export.csv")
def export_csv(page: PageDep, campaign_id: ObjectId) -> Response:
    return export_response(page, campaign_id, "csv")


@router.get(f"{LIST}/campaigns/{{campaign_id}}/export.xlsx")
def export_xlsx(page: PageDep, campaign_id: ObjectId) -> Response:
    return export_response(page, campaign_id, "xlsx")
