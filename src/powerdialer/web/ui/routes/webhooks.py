"""Settings → Integration → Webhooks (owners only): the project's webhooks with their state
and a disabled one's notice, adding one (its secret shown once), each one's delivery log with
Resend, "Send test event", rotating the secret, enabling again, deleting.  The same domain
calls as the API (``webhooks.subscriptions``).

A new secret rides to the page after the redirect the way a new API key does
(``api_page``): in an ``HttpOnly`` cookie scoped to this page, five minutes at most, tied to
the session that made it, cleared by the page that shows it."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import APIRouter, Form
from starlette.responses import RedirectResponse, Response

from powerdialer.errors import NotFound, PowerDialerError
from powerdialer.models import MAX_ID
from powerdialer.web.ui import security
from powerdialer.web.ui.errors import PageNotFound
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import FormDep, Page, PageDep
from powerdialer.web.ui.routing import UIRoute
from powerdialer.webhooks import events, subscriptions

router = APIRouter(route_class=UIRoute, include_in_schema=False)

PAGE = "/settings/integration/webhooks"
SECRET_COOKIE = "pd_new_webhook_secret"  # noqa: S105 (a cookie name)
SECRET_SECONDS = 300
LOG_ROWS = 20


def _id(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise PageNotFound
    return int(raw)


def _tag(page: Page) -> str:
    return hashlib.sha256(f"new-webhook:{page.session.token_hash}".encode()).hexdigest()[:32]


def render(
    page: Page,
    *,
    new_secret: tuple[int, str] | None = None,
    status_code: int = 200,
    **context: object,
) -> Response:
    page.require_owner()
    page.extra["here"] = PAGE
    hooks = subscriptions.list_all(page.store, page.project_id)
    logs = {
        h.id: subscriptions.deliveries(page.store, page.project_id, h.id, LOG_ROWS) for h in hooks
    }
    return page.render(
        "webhooks.html",
        status_code=status_code,
        nav="webhooks",
        hooks=hooks,
        logs=logs,
        event_types=events.EVENT_TYPES,
        new_secret=new_secret,
        **context,
    )


@router.get(PAGE)
def webhooks_page(page: PageDep) -> Response:
    carried = page.request.cookies.get(SECRET_COOKIE)
    response = render(page, new_secret=_carried(page, carried))
    if carried is not None:
        response.delete_cookie(
            SECRET_COOKIE,
            path=PAGE,
            secure=security.is_https(page.request),
            httponly=True,
            samesite="lax",
        )
    return response


def _carried(page: Page, carried: str | None) -> tuple[int, str] | None:
    tag, _, rest = (carried or "").partition(".")
    sub_id, _, secret = rest.partition(".")
    if not secret or not hmac.compare_digest(tag.encode(), _tag(page).encode()):
        return None
    if not sub_id.isdigit():
        return None
    try:
        subscriptions.get(page.store, page.project_id, int(sub_id))
    except NotFound:
        return None
    return int(sub_id), secret


def _with_secret(page: Page, sub_id: int, secret: str) -> Response:
    response = RedirectResponse(f"{PAGE}#webhook-{sub_id}", status_code=303)
    security.set_cookie(
        page.request,
        response,
        SECRET_COOKIE,
        f"{_tag(page)}.{sub_id}.{secret}",
        max_age=SECRET_SECONDS,
        path=PAGE,
    )
    return response


@router.post(PAGE)
async def create_webhook(
    page: FormDep,
    url: Annotated[str, Form(max_length=4000)] = "",
    event_types: Annotated[list[str] | None, Form(max_length=20)] = None,
    per_row: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    page.require_owner()
    try:
        created = await subscriptions.create(
            page.store,
            page.project_id,
            url,
            event_types or [],
            per_row=per_row == "on",
            policy=page.services.webhooks.policy,
            now=page.services.clock(),
        )
    except PowerDialerError as exc:
        typed = {"url": url, "event_types": event_types or [], "per_row": per_row == "on"}
        return render(page, status_code=422, add_error=error_text(page.i18n, exc), typed=typed)
    return _with_secret(page, created.subscription.id, created.secret)


def _action(page: Page, raw: str, run: str) -> Response:
    page.require_owner()
    sub_id = _id(raw)
    try:
        if run == "delete":
            subscriptions.delete(page.store, page.project_id, sub_id)
            return RedirectResponse(f"{PAGE}?notice=webhook_deleted", status_code=303)
        if run == "test":
            subscriptions.send_test(page.store, page.project_id, sub_id, now=page.services.clock())
            page.services.webhooks.wake()
            return RedirectResponse(f"{PAGE}?notice=webhook_test_queued", status_code=303)
        secret, _ = subscriptions.rotate(
            page.store, page.project_id, sub_id, now=page.services.clock()
        )
    except NotFound:
        raise PageNotFound from None
    except PowerDialerError as exc:
        return render(page, status_code=409, action_error=error_text(page.i18n, exc))
    return _with_secret(page, sub_id, secret)


@router.post(f"{PAGE}/{{sub_id}}/delete")
def delete_webhook(page: FormDep, sub_id: str) -> Response:
    return _action(page, sub_id, "delete")


@router.post(f"{PAGE}/{{sub_id}}/test")
def test_webhook(page: FormDep, sub_id: str) -> Response:
    return _action(page, sub_id, "test")


@router.post(f"{PAGE}/{{sub_id}}/rotate")
def rotate_webhook(page: FormDep, sub_id: str) -> Response:
    return _action(page, sub_id, "rotate")


@router.post(f"{PAGE}/{{sub_id}}/enable")
async def enable_webhook(page: FormDep, sub_id: str) -> Response:
    page.require_owner()
    try:
        await subscriptions.change(
            page.store,
            page.project_id,
            _id(sub_id),
            policy=page.services.webhooks.policy,
            enabled=True,
            now=page.services.clock(),
        )
    except NotFound:
        raise PageNotFound from None
    return RedirectResponse(f"{PAGE}?notice=webhook_enabled", status_code=303)


@router.post(f"{PAGE}/deliveries/{{delivery_id}}/resend")
def resend_delivery(page: FormDep, delivery_id: str) -> Response:
    page.require_owner()
    try:
        subscriptions.resend(
            page.store, page.project_id, _id(delivery_id), now=page.services.clock()
        )
    except NotFound:
        raise PageNotFound from None
    page.services.webhooks.wake()
    return RedirectResponse(f"{PAGE}?notice=webhook_resend_queued", status_code=303)
