"""The body of ``GET /power-dialer/limits``."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LimitsOut(BaseModel):
    """What a client needs to size its requests."""

    bulk_max_rows: int = Field(description="Rows per bulk request.")
    bulk_max_bytes: int = Field(description="Bytes per bulk request body.")
    body_max_bytes: int = Field(description="Bytes per compatible (one-row) request body.")
    api_body_max_bytes: int = Field(description="Bytes per body of the other API routes.")
    upload_max_bytes: int = Field(description="Bytes per import upload.")
    rate_limit_per_second: float = Field(
        description="Sustained requests a second per API key (0: no limit)."
    )
    rate_limit_burst: int = Field(description="Requests a key may send at once.")
    idempotency_ttl_hours: int = Field(description="How long an Idempotency-Key is remembered.")
    idempotency_replay_max_bytes: int = Field(
        description="Answers larger than this are not kept for replay."
    )
    duplicate_policies: list[str] = Field(description="The campaign duplicate policies.")
