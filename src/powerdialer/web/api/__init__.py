"""Everything but the compatible hot path: a FastAPI app with one router per area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from powerdialer import __version__
from powerdialer.health import HealthCheck
from powerdialer.web import ui
from powerdialer.web.api import (
    bulk,
    campaigns,
    errors,
    health,
    imports,
    limits,
    openapi,
    rows,
)

if TYPE_CHECKING:
    from powerdialer.web.app import PowerDialerApp

DESCRIPTION = """A Power Dialer campaign service, wire-compatible with Ringostat's
`POST /power-dialer/campaigns/campaign-rows`. Every call is authenticated with the headers
`x-project-id` (the project's integer id) and `Auth-key` (an API key of that project)."""


TAGS = [
    {"name": "compatible", "description": "The Ringostat-compatible endpoint, byte for byte."},
    {"name": "campaigns", "description": "Campaigns: create, list, rename, archive, delete."},
    {"name": "rows", "description": "A campaign's rows: list, read, delete, export."},
    {"name": "bulk", "description": "Up to 10,000 rows per request with per-row results."},
    {"name": "imports", "description": "Big CRM files imported in the background."},
    {"name": "operations", "description": "Health and published limits."},
]


def build_api(owner: PowerDialerApp) -> FastAPI:
    # FastAPIOffline serves /docs and /redoc from packaged assets: no CDN, works offline.
    api: FastAPI = FastAPIOffline(
        title="powerdialer", version=__version__, description=DESCRIPTION, openapi_tags=TAGS
    )
    api.state.owner = owner
    api.state.health = HealthCheck(owner)
    errors.install(api)
    api.include_router(health.router)
    for module in (limits, campaigns, rows, bulk, imports):
        api.include_router(module.router)
    openapi.install(api)
    ui.install(api)  # the web UI (powerdialer.web.ui): server-rendered pages, not in the schema
    return api
