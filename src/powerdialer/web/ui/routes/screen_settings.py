"""Settings → Softphone settings → Power Dialer → ⋮ → "Operator screen": a campaign's rules that
the operator screen reads (owners only): the dialing mode, the preview countdown, the wrap-up
and the script.  The same rules as ``PUT /power-dialer/campaigns/{id}/dialer/rules`` (the
other rules are kept as they are), validated by the same model, written at once or not at
all; a bad field is answered 422 with the form again, the field named and marked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter
from pydantic import ValidationError as PydanticError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from powerdialer import campaigns
from powerdialer.dialer import control
from powerdialer.dialer.rules import MAX_SCRIPT, Rules, dump_rules
from powerdialer.errors import NotFound
from powerdialer.web.ui.errors import PageNotFound
from powerdialer.web.ui.i18n import N_
from powerdialer.web.ui.pages import FormDep, ObjectId, Page, PageDep
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)

LIST = "/settings/softphone/power-dialer"
PAGE = LIST + "/campaigns/{campaign_id}/screen"
FIELDS = ("dialing_mode", "preview_countdown_seconds", "wrap_up_seconds", "script")
# Each field's fix, said when what was sent is not accepted.
FIXES = {
    "dialing_mode": N_("Dialing mode: choose preview or power."),
    "preview_countdown_seconds": N_(
        "Preview countdown: a whole number of seconds from 1 to 600, or empty for none."
    ),
    "wrap_up_seconds": N_("Wrap-up: a whole number of seconds from 0 to 3600."),
    "script": N_("Script: at most %(max)s characters."),
}


@dataclass
class Typed:
    """The form as sent (or as stored), shown again with the errors."""

    dialing_mode: str = "preview"
    preview_countdown_seconds: str = ""
    wrap_up_seconds: str = "10"
    script: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, rules: Rules) -> Typed:
        countdown = rules.preview_countdown_seconds
        return cls(
            rules.dialing_mode,
            "" if countdown is None else str(countdown),
            str(rules.wrap_up_seconds),
            rules.script or "",
        )


def _campaign(page: Page, campaign_id: int) -> tuple[str, Rules]:
    try:
        name = campaigns.campaign_summary(page.store, page.project_id, campaign_id).campaign.name
        return name, control.get_rules(page.store, page.project_id, campaign_id)
    except NotFound:
        raise PageNotFound from None


def _render(page: Page, campaign_id: int, name: str, typed: Typed, status: int = 200) -> Response:
    page.extra["here"] = PAGE.format(campaign_id=campaign_id)
    return page.render(
        "screen_settings.html",
        status_code=status,
        nav="power-dialer",
        campaign_id=campaign_id,
        campaign_name=name,
        typed=typed,
        max_script=MAX_SCRIPT,
    )


@router.get(PAGE)
def screen_settings(page: PageDep, campaign_id: ObjectId) -> Response:
    page.require_owner()
    name, rules = _campaign(page, campaign_id)
    return _render(page, campaign_id, name, Typed.of(rules))


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _changes(page: Page, typed: Typed) -> dict[str, Any]:
    """The four rules from the form's text, each bad one's fix in ``typed.errors``."""
    changes: dict[str, Any] = {}
    if typed.dialing_mode in ("preview", "power"):
        changes["dialing_mode"] = typed.dialing_mode
    else:
        typed.errors["dialing_mode"] = page._(FIXES["dialing_mode"])
    for name in ("preview_countdown_seconds", "wrap_up_seconds"):
        text = getattr(typed, name).strip()
        if not text and name == "preview_countdown_seconds":
            changes[name] = None
        elif text.isascii() and text.isdigit() and len(text) <= 6:
            changes[name] = int(text)
        else:
            typed.errors[name] = page._(FIXES[name])
    # Line breaks as the operator will see them: a browser sends CRLF.
    changes["script"] = typed.script.replace("\r\n", "\n").strip() or None
    return changes


@router.post(PAGE)
async def save_screen_settings(page: FormDep, campaign_id: ObjectId) -> Response:
    page.require_owner()
    form = await page.request.form()
    mode, countdown, wrap_up, script = (_text(form, name) for name in FIELDS)
    typed = Typed(mode, countdown, wrap_up, script)
    return await run_in_threadpool(_save, page, campaign_id, typed)


def _save(page: Page, campaign_id: int, typed: Typed) -> Response:
    name, rules = _campaign(page, campaign_id)
    changes = _changes(page, typed)
    if not typed.errors:
        try:
            new = Rules.model_validate({**orjson.loads(dump_rules(rules)), **changes})
        except PydanticError as exc:
            for error in exc.errors():
                where = str(error["loc"][0]) if error["loc"] else ""
                if where in FIXES:
                    typed.errors[where] = page._(FIXES[where]) % {
                        "max": page.i18n.number(MAX_SCRIPT)
                    }
            if not typed.errors:  # a rule stored earlier no longer passes: say which
                first = exc.errors()[0]
                typed.errors["dialing_mode"] = f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
        else:
            try:
                control.set_rules(page.store, page.project_id, campaign_id, new)
            except NotFound:  # deleted meanwhile
                raise PageNotFound from None
            return RedirectResponse(
                f"{PAGE.format(campaign_id=campaign_id)}?notice=screen_saved", status_code=303
            )
    return _render(page, campaign_id, name, typed, status=422)
