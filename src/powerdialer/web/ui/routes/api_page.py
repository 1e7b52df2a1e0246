"""Settings → Integration → API: the project's id, its keys (by prefix; a new one is shown
once), and the article's examples filled in for this project.  Only owners create or revoke
keys.

Creating a key is Post/Redirect/Get, so a reload neither creates another key nor lands on a
POST-only address.  The server keeps only the key's fingerprint, so the plaintext rides to
the page after the redirect in a cookie: ``HttpOnly``, scoped to this page, five minutes at
most, tied to the session that created it, and cleared by the page that shows it — shown
once, stored nowhere on the server."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form
from starlette.responses import RedirectResponse, Response

from powerdialer import campaigns, keys, projects
from powerdialer.errors import NotFound
from powerdialer.models import CampaignState
from powerdialer.web.ui import security
from powerdialer.web.ui.errors import PageNotFound
from powerdialer.web.ui.pages import FormDep, Page, PageDep
from powerdialer.web.ui.routing import UIRoute
from powerdialer.web.ui.snippets import KEY_PLACEHOLDER, snippets

router = APIRouter(route_class=UIRoute, include_in_schema=False)

PAGE = "/settings/integration/api"
EXAMPLE_CAMPAIGN_ID = 456  # the article's, when the project has no campaign yet
NEW_KEY_SECONDS = 300  # long enough for the redirect, short if it is never followed


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
    carried = page.request.cookies.get(security.NEW_KEY_COOKIE)
    response = render_api_page(page, campaign, new_key=_new_key(page, carried))
    if carried is not None:  # shown (or not this session's): either way, gone
        response.delete_cookie(
            security.NEW_KEY_COOKIE,
            path=PAGE,
            secure=security.is_https(page.request),
            httponly=True,
            samesite="lax",
        )
    return response


@router.get(f"{PAGE}/keys")
def keys_address(campaign: str | None = None) -> Response:
    """The form's address, reached by a GET (typed in, or an old history entry): the page."""
    return RedirectResponse(_page_url(campaign), status_code=303)


@router.post(f"{PAGE}/keys")
def create_key(
    page: FormDep,
    name: Annotated[str, Form(max_length=1000)] = "",
    campaign: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    page.require_owner()
    created = projects.create_key(page.store, page.project_id, name)
    response = RedirectResponse(_page_url(campaign), status_code=303)
    security.set_cookie(
        page.request,
        response,
        security.NEW_KEY_COOKIE,
        f"{_session_tag(page)}.{created.plaintext}",
        max_age=NEW_KEY_SECONDS,
        path=PAGE,
    )
    return response


def _page_url(campaign: str | None) -> str:
    chosen = campaign.strip() if campaign else ""
    query = f"?{urlencode({'campaign': chosen})}" if chosen.isascii() and chosen.isdigit() else ""
    return f"{PAGE}{query}#keys"


def _session_tag(page: Page) -> str:
    """Names the session without revealing its token (the database has its SHA-256 anyway)."""
    return hashlib.sha256(f"new-key:{page.session.token_hash}".encode()).hexdigest()[:32]


def _new_key(page: Page, carried: str | None) -> str | None:
    """The key created by this session in this project and still active, else ``None``: a
    cookie left by another user of the browser, or another project, shows nothing."""
    tag, _, plaintext = (carried or "").partition(".")
    if not plaintext or not hmac.compare_digest(tag.encode(), _session_tag(page).encode()):
        return None
    active = {k.key_id for k in projects.list_keys(page.store, page.project_id) if not k.revoked_at}
    split = keys.split_key(plaintext)
    return plaintext if split is not None and split[0] in active else None


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
