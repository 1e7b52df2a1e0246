"""UI routes, one small module per area."""

from __future__ import annotations

from fastapi import APIRouter

from powerdialer.web.ui.routes import (
    account,
    api_page,
    auth,
    campaigns,
    dnc,
    edit,
    imports,
    live,
    members,
    overview,
    presence,
    settings,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        auth,
        account,
        settings,
        campaigns,
        edit,
        imports,
        overview,
        api_page,
        members,
        dnc,
        presence,
        live,
    )
)
