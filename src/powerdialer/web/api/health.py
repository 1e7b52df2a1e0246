"""``GET /healthz`` for load balancers (see :mod:`powerdialer.health`)."""

from __future__ import annotations

import math
import time

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from powerdialer import __version__
from powerdialer.health import CACHE_SECONDS
from powerdialer.web.api.deps import ServicesDep
from powerdialer.web.api.routing import ApiRoute

router = APIRouter(tags=["operations"], route_class=ApiRoute)

EXAMPLE_OK = {"status": "ok", "database": "ok", "data_dir": "ok", "version": "0.1.0"}
EXAMPLE_DOWN = {
    "status": "unavailable",
    "database": "ok",
    "data_dir": "unavailable",
    "reason": "the data directory /var/lib/powerdialer cannot be written (No space left on device)",
    "version": "0.1.0",
}


@router.get(
    "/healthz",
    summary="Health check for load balancers",
    responses={
        200: {
            "description": "The database and the data directory take writes.",
            "content": {"application/json": {"example": EXAMPLE_OK}},
        },
        503: {
            "description": "The database or the data directory cannot be written; `reason` "
            "says which and why; `Retry-After` says when the next probe gets a new answer.",
            "content": {"application/json": {"example": EXAMPLE_DOWN}},
        },
    },
)
async def healthz(services: ServicesDep) -> JSONResponse:
    """200 when this instance can write to its database and to its data directory (where
    uploads go), 503 otherwise. A check's answer is kept for one second, so frequent probes
    cost at most one small database write and one small file write a second: a 503 says so
    in ``Retry-After`` (a fail-over, say, is over for this instance once it answers 200)."""
    health = await services.health.check(time.monotonic())
    answer = {**health.as_json(), "version": __version__}
    if health.ok:
        return JSONResponse(answer)
    return JSONResponse(answer, 503, headers={"Retry-After": str(math.ceil(CACHE_SECONDS))})
