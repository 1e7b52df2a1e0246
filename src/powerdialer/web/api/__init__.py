"""Everything but the compatible hot path: a FastAPI app with one router per area.  The web UI
(:mod:`powerdialer.web.ui`) is installed beside the API on the same app, by ``web/app.py``."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from powerdialer import __version__
from powerdialer.web.api import (
    bulk,
    campaigns,
    dialer,
    dialer_campaigns,
    dnc,
    errors,
    health,
    imports,
    limits,
    openapi,
    outcomes,
    rows,
    telephony,
)
from powerdialer.web.services import Services

DESCRIPTION = """A Power Dialer campaign service, wire-compatible with Ringostat's
`POST /power-dialer/campaigns/campaign-rows`. Every call is authenticated with the headers
`x-project-id` (the project's integer id) and `Auth-key` (an API key of that project)."""


TAGS = [
    {"name": "compatible", "description": "The Ringostat-compatible endpoint, byte for byte."},
    {"name": "campaigns", "description": "Campaigns: create, list, rename, archive, delete."},
    {"name": "rows", "description": "A campaign's rows: list, read, delete, export."},
    {"name": "bulk", "description": "Up to 10,000 rows per request with per-row results."},
    {"name": "imports", "description": "Big CRM files imported in the background."},
    {
        "name": "dialer",
        "description": "Operators work a campaign: next contact, lease, outcome, "
        'history, rules, calling hours, "why is nothing dialing?".',
    },
    {"name": "dnc", "description": "The project's do-not-call list: add, check, remove, CSV."},
    {
        "name": "telephony",
        "description": "How the project places calls (link, softphone, HTTP click-to-call, "
        "AMI, ESL), its members' extensions, and server-side calls.",
    },
    {"name": "operations", "description": "Health and published limits."},
]


def build_api(services: Services) -> FastAPI:
    # FastAPIOffline serves /docs and /redoc from packaged assets: no CDN, works offline.
    api: FastAPI = FastAPIOffline(
        title="powerdialer", version=__version__, description=DESCRIPTION, openapi_tags=TAGS
    )
    api.state.services = services  # for web.api.deps.get_services
    errors.install(api)
    api.include_router(health.router)
    routers = (
        limits,
        campaigns,
        rows,
        bulk,
        imports,
        dialer,
        dialer_campaigns,
        outcomes,
        dnc,
        telephony,
    )
    for module in routers:
        api.include_router(module.router)
    openapi.install(api)
    return api
