"""UI routes, one small module per area."""

from __future__ import annotations

from fastapi import APIRouter

from powerdialer.web.ui.routes import (
    account,
    api_page,
    auth,
    calls,
    campaigns,
    dnc,
    edit,
    imports,
    live,
    members,
    operator,
    overview,
    presence,
    screen_settings,
    settings,
    softphone,
    telephony,
    webhooks,
)

ROUTERS: tuple[APIRouter, ...] = tuple(
    module.router
    for module in (
        auth,
        account,
        settings,
        telephony,
        calls,
        campaigns,
        screen_settings,
        edit,
        imports,
        overview,
        api_page,
        members,
        dnc,
        presence,
        live,
        webhooks,
        operator,
        softphone,
    )
)
