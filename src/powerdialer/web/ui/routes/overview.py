"""A campaign's overview: rows by status, and how the campaign grew (SVG charts)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from powerdialer import campaign_stats
from powerdialer.web.ui import charts
from powerdialer.web.ui.labels import source_names, status_names
from powerdialer.web.ui.pages import PageDep
from powerdialer.web.ui.routes.edit import campaign_of, edit_url
from powerdialer.web.ui.routing import UIRoute

router = APIRouter(route_class=UIRoute, include_in_schema=False)


@router.get("/campaign/overview")
def overview_page(
    page: PageDep,
    projectId: str | None = None,
    editCampaign: str | None = None,
) -> Response:
    scoped, summary = campaign_of(page, projectId, editCampaign)
    campaign = summary.campaign
    growth = campaign_stats.campaign_growth(scoped.store, scoped.project_id, campaign.id)
    sources = source_names(scoped.i18n)
    statuses = status_names(scoped.i18n)
    scoped.extra["here"] = (
        f"/campaign/overview?projectId={scoped.project_id}&editCampaign={campaign.id}"
    )
    return scoped.render(
        "overview.html",
        nav="power-dialer",
        summary=summary,
        campaign=campaign,
        growth=growth,
        growth_chart=charts.growth_chart(growth, scoped.i18n),
        added_chart=charts.added_chart(growth, scoped.i18n, sources),
        status_chart=charts.status_chart(summary.counts.by_status, scoped.i18n, statuses),
        edit_href=edit_url(scoped.project_id, campaign.id, campaign.name),
    )
