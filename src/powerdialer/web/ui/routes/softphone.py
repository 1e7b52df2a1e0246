"""Account → Softphone on this browser: the operator's SIP account for the browser softphone
(docs/telephony.md, "Browser softphone").

The account (WebSocket URL, SIP URI, password, display name) lives in this browser's
localStorage only: the page is a form that no request ever carries to this server (the
fields have no ``name``, the form no action), so no other member, owner or backup can see it.
The page can test the account: it registers to the SIP server over the WebSocket.

:func:`allow_softphone` gives a page that hosts the softphone (this one, the operator screen)
what the UI's default headers refuse: WebSocket connections to any SIP server the operator
enters (``connect-src ws: wss:``) and the microphone for this site."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from powerdialer.web.ui.pages import PageDep
from powerdialer.web.ui.routing import UIRoute
from powerdialer.web.ui.security import CONTENT_SECURITY_POLICY

router = APIRouter(route_class=UIRoute, include_in_schema=False)

PAGE = "/account/softphone"
SOFTPHONE_CSP = CONTENT_SECURITY_POLICY.replace(
    "connect-src 'self'", "connect-src 'self' ws: wss:", 1
)
SOFTPHONE_PERMISSIONS = "camera=(), microphone=(self), geolocation=(), payment=()"


def allow_softphone(response: Response) -> Response:
    """The headers a softphone page needs (set before the UI's defaults, which only fill in)."""
    response.headers["content-security-policy"] = SOFTPHONE_CSP
    response.headers["permissions-policy"] = SOFTPHONE_PERMISSIONS
    return response


def softphone_scope(user_id: int) -> str:
    """The name the browser files this user's SIP account under (data-softphone-scope)."""
    return f"user-{user_id}"


@router.get(PAGE)
def softphone_page(page: PageDep) -> Response:
    page.extra["here"] = PAGE
    response = page.render(
        "softphone.html", nav="account", scope=softphone_scope(page.session.user.id)
    )
    return allow_softphone(response)
