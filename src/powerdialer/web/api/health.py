"""``GET /healthz`` for load balancers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from powerdialer import __version__
from powerdialer.web.api.deps import StoreDep
from powerdialer.web.api.routing import ApiRoute

router = APIRouter(tags=["operations"], route_class=ApiRoute)


@router.get("/healthz", summary="Health check for load balancers")
async def healthz(store: StoreDep) -> JSONResponse:
    """200 when the database answers, 503 otherwise."""

    def ping() -> Any:
        return store.read(lambda conn: conn.execute(text("SELECT 1")).scalar_one())

    try:
        await run_in_threadpool(ping)
    except Exception:
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
    return JSONResponse({"status": "ok", "database": "ok", "version": __version__})
