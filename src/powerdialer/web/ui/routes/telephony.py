"""Settings → Softphone settings → Calls: how the project places its calls (owners only) and
each member's extension for server-side calls (owners for anyone, an operator for
themselves).  Secrets are write-only: the form shows whether one is stored, never what; a
blank secret field keeps it, the "clear" box removes it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from powerdialer.errors import NotFound, PowerDialerError
from powerdialer.telephony import service
from powerdialer.telephony import settings as telephony
from powerdialer.telephony.base import Method
from powerdialer.web.ui.errors import Forbidden, PageNotFound
from powerdialer.web.ui.i18n import N_
from powerdialer.web.ui.messages import error_text
from powerdialer.web.ui.pages import FormDep, ObjectId, Page, PageDep
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)

PAGE = "/settings/softphone/calls"
TEXT_FIELDS = (
    "link_template",
    "softphone_ws_url",
    "softphone_domain",
    "http_url",
    "http_shape",
    "http_method",
    "http_content_type",
    "http_body",
    "http_secret_header",
    "pbx_host",
    "pbx_username",
    "pbx_context",
    "pbx_channel",
    "caller_id",
    "kamailio_url",
)


METHOD_NAMES = {
    Method.LINK: N_("A link to the operator's softphone (tel:, sip:)"),
    Method.SOFTPHONE: N_("The browser softphone"),
    Method.HTTP: N_("HTTP click-to-call"),
    Method.AMI: N_("Asterisk (AMI)"),
    Method.ESL: N_("FreeSWITCH (event socket)"),
    Method.KAMAILIO: N_("Kamailio (dialog bridge)"),
}


def render(page: Page, *, status_code: int = 200, **context: Any) -> Response:
    page.extra["here"] = PAGE
    me = page.session.user.id
    phones = telephony.members(page.store, page.project_id)
    found = telephony.load(page.store, page.project_id) if page.is_owner else None
    return page.render(
        "telephony.html",
        status_code=status_code,
        nav="calls",
        settings=context.pop("typed", None) or found,
        phones=phones if page.is_owner else [p for p in phones if p.user_id == me],
        methods=list(Method),
        method_names={m.value: page._(name) for m, name in METHOD_NAMES.items()},
        me=me,
        **context,
    )


@router.get(PAGE)
def calls_page(page: PageDep) -> Response:
    return render(page)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _number(form: FormData, name: str) -> int | None:
    text = _text(form, name)
    return int(text) if text.isdigit() and len(text) < 7 else None


def _headers(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.partition(":")
        if line.strip():
            found[name.strip() if sep else line.strip()] = value.strip()
    return found


def _secret(form: FormData, name: str) -> str | None:
    if form.get(f"clear_{name}"):
        return ""
    return _text(form, name) or None  # blank: keep what is stored


@router.post(PAGE)
async def save_calls(page: FormDep) -> Response:
    page.require_owner()
    form = await page.request.form()
    try:
        method = Method(_text(form, "method"))
    except ValueError:
        method = Method.LINK
    values: dict[str, Any] = {name: _text(form, name) or None for name in TEXT_FIELDS}
    values["link_template"] = values["link_template"] or "tel:{e164}"
    typed = telephony.TelephonySettings(
        method=method,
        pbx_port=_number(form, "pbx_port"),
        timeout_seconds=_number(form, "timeout_seconds") or 10,
        http_headers=_headers(_text(form, "http_headers")),
        **values,
    )
    services = page.services
    try:
        await telephony.save(
            services.writer,
            service.secret_box(services.settings.secret_key),
            page.project_id,
            typed,
            http_secret=_secret(form, "http_secret"),
            pbx_secret=_secret(form, "pbx_secret"),
            allow=service.allowed(services.settings.outbound_allow),
            now=services.clock(),
        )
    except PowerDialerError as exc:
        stored = await run_in_threadpool(telephony.load, page.store, page.project_id)
        shown = _with_stored_secrets(typed, stored)
        text = error_text(page.i18n, exc)
        return await run_in_threadpool(
            lambda: render(page, status_code=422, error=text, typed=shown)
        )
    return RedirectResponse(f"{PAGE}?notice=telephony_saved", status_code=303)


def _with_stored_secrets(
    typed: telephony.TelephonySettings, stored: telephony.TelephonySettings
) -> telephony.TelephonySettings:
    return replace(
        typed, http_secret_set=stored.http_secret_set, pbx_secret_set=stored.pbx_secret_set
    )


@router.post(f"{PAGE}/extensions/{{user_id}}")
async def save_extension_form(page: FormDep, user_id: ObjectId) -> Response:
    if not page.is_owner and user_id != page.session.user.id:
        raise Forbidden
    form = await page.request.form()
    services = page.services
    try:
        await run_in_threadpool(
            telephony.set_extension,
            page.store,
            page.project_id,
            user_id,
            _text(form, "extension"),
            services.clock(),
        )
    except NotFound:
        raise PageNotFound from None
    except PowerDialerError as exc:
        text = error_text(page.i18n, exc)
        return await run_in_threadpool(lambda: render(page, status_code=422, error=text))
    return RedirectResponse(f"{PAGE}?notice=extension_saved", status_code=303)
