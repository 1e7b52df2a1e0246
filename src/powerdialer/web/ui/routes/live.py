"""The supervisor's live view, for owners only (an operator gets 403): ``GET /dialer/live``
(the page) and ``GET /dialer/live.json`` (what the page polls every second: the figures, and
the page's three parts rendered again, which the script swaps in).

Polling rather than server-sent events: every figure is read from the database anyway (the
writes may come from another server process, and nothing tells this one), so a held
connection would only poll the database itself, while costing a connection per open view
that would need bounds, and proxies that buffer streams would need configuring; a poll is
one short request a second per open view, through the same proxies and limits as every
page.  The "why not" counts come from ``services.explains`` (an ``ExplainCache``: counted
in the background).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from powerdialer.dialer import control, live
from powerdialer.dialer.explain import REASONS
from powerdialer.web.ui.i18n import N_
from powerdialer.web.ui.live_chart import hourly_chart, outcome_css
from powerdialer.web.ui.outcome_labels import outcome_names
from powerdialer.web.ui.pages import Page, PageDep, parse_id, ui_state
from powerdialer.web.ui.presence_labels import pause_reason_names, presence_state_names
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)

PAGE = "/dialer/live"
POLL_MS = 1000
EXPLAIN_NAMES = {
    "leased": N_("being called"),
    "outside_hours": N_("outside calling hours"),
    "no_common_window": N_("no common calling hours"),
    "cooling_down": N_("waiting for a retry or a gap"),
    "capped": N_("call limit reached"),
    "do_not_call": N_("do not call"),
    "final": N_("done"),
}


def _scoped(page: Page, project_raw: str | None) -> Page:
    scoped = page if project_raw is None else page.for_project(parse_id(project_raw))
    scoped.require_owner()
    return scoped


def _view(page: Page) -> tuple[live.LiveView, dict[str, Any]]:
    services = page.services
    view = live.live_view(
        page.store,
        page.project_id,
        services.clock(),
        page.i18n.tz,
        services.explains,
        services.clock,
    )
    own = {o.code: o.label for o in control.list_outcomes(page.store, page.project_id)}
    names = outcome_names(page.i18n, own)
    context = {
        "view": view,
        "outcome_names": names,
        "outcome_css": outcome_css,
        "presence_names": presence_state_names(page.i18n),
        "reason_names": pause_reason_names(page.i18n),
        "explain_reasons": [r for r in REASONS if r != "callable_now"],
        "explain_names": {k: page._(v) for k, v in EXPLAIN_NAMES.items()},
        "clock_time": lambda when: when.astimezone(page.i18n.tz).strftime("%H:%M:%S"),
        "campaign_names": {c.id: c.name for c in view.campaigns},
        "chart": hourly_chart(view.hours, page.i18n, names),
        "poll_ms": POLL_MS,
    }
    return view, context


@router.get(PAGE)
def live_page(page: PageDep, projectId: str | None = None) -> Response:
    scoped = _scoped(page, projectId)
    scoped.extra["here"] = PAGE
    _, context = _view(scoped)
    return scoped.render("live.html", nav="live", **context)


def _json(view: live.LiveView) -> dict[str, Any]:
    """The figures, for scripts and tests (the page itself uses the rendered parts)."""

    def stamp(value: Any) -> Any:
        return value.isoformat(timespec="seconds") if value is not None else None

    return {
        "at": stamp(view.at),
        "day_start": stamp(view.day_start),
        "day_end": stamp(view.day_end),
        "operators": [
            {
                "user_id": o.user_id,
                "name": o.name,
                "email": o.email,
                "state": o.state,
                "reason": o.reason,
                "campaign_id": o.campaign_id,
                "seconds": o.seconds,
                "calls": o.calls,
                "answered": o.answered,
                "outcomes": o.outcomes,
            }
            for o in view.operators
        ],
        "campaigns": [
            {
                "id": c.id,
                "name": c.name,
                "dialer_state": c.dialer_state,
                "rows": c.rows,
                "final": c.final,
                "leased": c.leased,
                "calls": c.calls,
                "answered": c.answered,
                "answered_rate": c.answered_rate,
                "explain": None
                if c.counted is None
                else {
                    "at": stamp(c.counted.explanation.at),
                    "dialing": c.counted.explanation.dialing,
                    "counts": c.counted.explanation.counts,
                    "seconds": round(c.counted.seconds, 3),
                },
            }
            for c in view.campaigns
        ],
        "hours": [{"start": stamp(h.start), "outcomes": h.outcomes} for h in view.hours],
    }


PARTS = ("operators", "campaigns", "chart")  # templates/live/<part>.html


@router.get(f"{PAGE}.json")
async def live_json(page: PageDep, projectId: str | None = None) -> Response:
    scoped = _scoped(page, projectId)
    view, context = await run_in_threadpool(_view, scoped)
    env = ui_state(scoped.request).templates.env
    base = {"i18n": scoped.i18n, **context}
    answer = _json(view)
    answer["html"] = {part: env.get_template(f"live/{part}.html").render(base) for part in PARTS}
    return JSONResponse(answer)
