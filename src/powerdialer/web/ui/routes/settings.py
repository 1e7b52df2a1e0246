"""The way in: ``/`` and the Settings page, as in the article's navigation, and the project
switcher."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.responses import RedirectResponse, Response

from powerdialer.accounts import sessions
from powerdialer.errors import NotFound
from powerdialer.web.ui.errors import PageNotFound
from powerdialer.web.ui.pages import FormDep, PageDep
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)

CAMPAIGN_LIST = "/settings/softphone/power-dialer"


@router.get("/")
def home(page: PageDep) -> Response:
    return RedirectResponse(CAMPAIGN_LIST, status_code=303)


@router.get("/settings")
def settings_index(page: PageDep) -> Response:
    return page.render("settings.html", nav="settings")


@router.get("/settings/softphone")
def softphone_settings(page: PageDep) -> Response:
    return RedirectResponse(CAMPAIGN_LIST, status_code=303)


@router.get("/settings/integration")
def integration_settings(page: PageDep) -> Response:
    return RedirectResponse("/settings/integration/api", status_code=303)


@router.post("/session/project")
def switch_project(page: FormDep, project_id: Annotated[int, Form()]) -> Response:
    try:
        sessions.choose_project(page.store, page.session, project_id)
    except NotFound:
        raise PageNotFound from None
    return RedirectResponse(f"{CAMPAIGN_LIST}?notice=project_switched", status_code=303)
