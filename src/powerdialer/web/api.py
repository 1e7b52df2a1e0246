"""Everything but the hot path: a FastAPI app (health now; the richer API builds on it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from powerdialer import __version__

if TYPE_CHECKING:
    from powerdialer.web.app import PowerDialerApp


def build_api(owner: PowerDialerApp) -> FastAPI:
    api = FastAPI(title="powerdialer", version=__version__)

    @api.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            {"result": False, "error": {"code": code, "message": str(exc.detail)}},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    @api.get("/healthz", tags=["operations"])
    async def healthz() -> JSONResponse:
        """For load balancers: 200 when the database answers, 503 otherwise."""

        def ping() -> Any:
            return owner.store.read(lambda conn: conn.execute(text("SELECT 1")).scalar_one())

        try:
            await run_in_threadpool(ping)
        except Exception:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, 503)
        return JSONResponse({"status": "ok", "database": "ok", "version": __version__})

    return api
