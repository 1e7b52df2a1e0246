"""``GET /power-dialer/limits``: the service's published limits, without credentials, so a
client (the fill CLI) can choose bulk or single-row mode and size its requests."""

from __future__ import annotations

from fastapi import APIRouter

from powerdialer.models import DUPLICATE_POLICIES
from powerdialer.web.api.deps import ServicesDep
from powerdialer.web.api.routing import ApiRoute
from powerdialer.web.api.schemas.limits import LimitsOut
from powerdialer.web.middleware.bodylimit import DEFAULT_BODY_BYTES
from powerdialer.web.middleware.idempotency_rows import REPLAY_MAX_BYTES

router = APIRouter(tags=["operations"], route_class=ApiRoute)


@router.get(
    "/power-dialer/limits",
    summary="Published limits (no credentials needed)",
    response_model=LimitsOut,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "bulk_max_rows": 10000,
                        "bulk_max_bytes": 16777216,
                        "body_max_bytes": 16384,
                        "api_body_max_bytes": 1048576,
                        "upload_max_bytes": 536870912,
                        "rate_limit_per_second": 2000.0,
                        "rate_limit_burst": 4000,
                        "idempotency_ttl_hours": 24,
                        "idempotency_replay_max_bytes": 8388608,
                        "duplicate_policies": ["skip", "update", "keep"],
                    }
                }
            }
        }
    },
)
async def get_limits(services: ServicesDep) -> LimitsOut:
    """Rows and bytes per request, the per-key rate limit, how long Idempotency-Keys are kept,
    and the duplicate policies a campaign may have. They follow the server's configuration
    (`POWERDIALER_*` variables), so read them rather than hard-coding them."""
    settings = services.settings
    return LimitsOut(
        bulk_max_rows=settings.max_bulk_rows,
        bulk_max_bytes=settings.max_bulk_bytes,
        body_max_bytes=settings.max_body_bytes,
        api_body_max_bytes=DEFAULT_BODY_BYTES,
        upload_max_bytes=settings.max_upload_bytes,
        rate_limit_per_second=settings.rate_limit_per_second,
        rate_limit_burst=settings.rate_limit_burst,
        idempotency_ttl_hours=settings.idempotency_ttl_hours,
        idempotency_replay_max_bytes=REPLAY_MAX_BYTES,
        duplicate_policies=list(DUPLICATE_POLICIES),
    )
