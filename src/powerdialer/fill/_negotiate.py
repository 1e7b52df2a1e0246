"""What a fill settles before sending, from its options and what the server told about itself
and the campaign: single rows or bulk, the batch, ``Idempotency-Key`` or not, the rate.  Pure:
no I/O, so every answer can be checked without a server."""

from __future__ import annotations

from powerdialer.client import Campaign, Limits
from powerdialer.fill._options import FillOptions
from powerdialer.fill._sender import SendOptions


def negotiate(
    options: FillOptions, run_id: str, limits: Limits | None, campaign: Campaign | None
) -> tuple[SendOptions, float | None]:
    """How to send, from the options and what the server told about itself (``limits`` is
    ``None`` where it publishes none: the vendor) and the campaign: the mode, the batch, the
    keys, and the rate in requests a second (``None``: as fast as the concurrency allows)."""
    # Where the campaign keeps one row per number, a request stuck "in progress" on the
    # server (it crashed mid-request) can be sent again under a new Idempotency-Key; with
    # duplicate_policy "keep" (or unknown) only the same key is safe, so we wait.
    fresh_keys = campaign is not None and campaign.duplicate_policy in ("skip", "update")
    rate = options.rate
    if rate is None and limits is not None and limits.rate_limit_per_second > 0:
        rate = limits.rate_limit_per_second  # never faster than the server allows
    mode = options.mode
    if mode == "auto":
        mode = "bulk" if limits is not None else "single"
    batch = options.batch_size
    if limits is not None and limits.bulk_max_rows:
        batch = max(1, min(batch, limits.bulk_max_rows))
    send_options = SendOptions(
        run_id=run_id,
        campaign_id=options.campaign_id,
        mode=mode,
        batch_size=batch,
        batch_max_bytes=limits.bulk_max_bytes if limits else 0,
        idempotency=use_keys(options, limits, mode, fresh_keys),
        with_plus=limits is not None,
        fresh_keys=fresh_keys,
    )
    return send_options, rate


def use_keys(options: FillOptions, limits: Limits | None, mode: str, fresh_keys: bool) -> bool:
    """Whether to send ``Idempotency-Key`` (only powerdialer servers know it).  ``auto``: on
    every bulk request (one key per thousand rows costs nothing), and on single rows only
    where the campaign keeps duplicates: where it dedupes by number (skip, update) a resent
    row is harmless anyway, and the key's bookkeeping cut the server from ~2,400 to ~600
    single-row requests a second (benchmarks/results/fill.md)."""
    if limits is None or options.idempotency_keys == "never":
        return False
    return options.idempotency_keys == "always" or mode == "bulk" or not fresh_keys
