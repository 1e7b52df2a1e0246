"""The web UI: server-rendered pages in the article's navigation (Settings → Softphone
settings → Power Dialer; Settings → Integration → API), Ukrainian first.

``install(api, services)`` mounts it on the FastAPI app, beside the API (``web/app.py``
composes the two; the UI's routes get the services through their ``Page``).  Routes live in
:mod:`.routes` (one small module per area), templates in ``templates/``, static files (no
CDN: pages work offline) in ``static/`` and the gettext catalogs in ``locales/``.  Routes
call the domain functions directly, never the HTTP API.
"""

from __future__ import annotations

from fastapi import FastAPI

from powerdialer.web.services import Services
from powerdialer.web.ui.i18n import Catalogs
from powerdialer.web.ui.pages import UIState
from powerdialer.web.ui.routes import ROUTERS
from powerdialer.web.ui.static import StaticAssets
from powerdialer.web.ui.templating import STATIC_DIR, Templates


def install(api: FastAPI, services: Services) -> None:
    api.state.ui = UIState(Templates(), Catalogs(), services)
    api.mount("/static", StaticAssets(STATIC_DIR), name="ui-static")
    for router in ROUTERS:
        api.include_router(router)
