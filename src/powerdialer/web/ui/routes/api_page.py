"""Settings → Integration → API: the project's id, its keys (by prefix; a new one is shown
once), and the article's examples filled in for this project.  Only owners create or revoke
keys."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.responses import RedirectResponse, Response

from powerdialer import campaigns, projects
from powerdialer.errors import NotFound
from powerdialer.models import CampaignState
from powerdialer.web.ui.errors import PageNotFound
from powerdialer.web.ui.pages import FormDep, Page, PageDep
from powerdialer.web.ui.routing import UIRoute
from powerdialer.web.ui.snippets import KEY_PLACEHOLDER, snippets

router = APIRouter(route_class=UIRoute, include_in_schema=False)

PAGE = "/settings/integration/api"
EXAMPLE_CAMPAIGN_ID = 456  # the article's, when the project has no campaign yet


def render_api_page(
    page: Page, campaign: str | None = None, new_key: str | None = None, status_code: int = 200
) -> Response:
    page.extra["here"] = PAGE
    found = campaigns.list_campaigns(page.store, page.project_id)
    active = [c for c in found if c.state is CampaignState.ACTIVE] or found
    chosen = next((c for c in found if str(c.id) == (campaign or "")), None)
    chosen = chosen or (active[0] if active else None)
    base_url = str(page.request.base_url)
    return page.render(
        "api.html",
        status_code=status_code,
        nav="api",
        keys=list(reversed(projects.list_keys(page.store, page.project_id))),
        campaigns=found,
        chosen=chosen,
        new_key=new_key,
        placeholder=KEY_PLACEHOLDER,
        snippets=snippets(
            base_url,
            page.project_id,
            chosen.id if chosen else EXAMPLE_CAMPAIGN_ID,
            new_key,
        ),
        endpoint=base_url.rstrip("/") + "/power-dialer/campaigns/campaign-rows",
    )


@router.get(PAGE)
def api_page(page: PageDep, campaign: str | None = None) -> Response:
    return render_api_page(page, campaign)


@router.post(f"{PAGE}/keys")
def create_key(
    page: FormDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    campaign: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    page.require_owner()
    created = projects.create_key(page.store, page.project_id, name)
    # Rendered, not redirected: the key is shown this once and is stored nowhere.
    return render_api_page(page, campaign, new_key=created.plaintext)


@router.post(f"{PAGE}/keys/{{key_id}}/revoke")
def revoke_key(page: FormDep, key_id: str) -> Response:
    page.require_owner()
    if not (key_id.isascii() and key_id.isalnum() and len(key_id) <= 32):
        raise PageNotFound
    try:
        projects.revoke_key(page.store, page.project_id, key_id)
    except NotFound:
        raise PageNotFound from None
    return RedirectResponse(f"{PAGE}?notice=key_revoked", status_code=303)
