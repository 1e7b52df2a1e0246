"""Configuration: ``POWERDIALER_*`` environment variables parsed by typed helpers.

Nothing here runs at import time; ``Settings.from_env()`` is called by the CLI and the
tests build ``Settings(...)`` directly.  A bad value fails loudly with the variable's name.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

DEFAULT_DATABASE_URL = "sqlite:///powerdialer.db"


class SettingsError(ValueError):
    """A configuration value is missing or malformed."""


def env_str(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_float(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off`` (any case); unset: off."""
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0 (on or off), got {raw!r}")


def env_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(env, name, default).lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def env_region(env: Mapping[str, str], name: str, default: str) -> str:
    import phonenumbers

    value = env_str(env, name, default).upper()
    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(f"{name} must be a two-letter region code such as UA, got {value!r}")
    return value


def env_origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of web origins (``https://crm.example.com``), or ``*``."""
    raw = env.get(name, "").strip()
    if not raw:
        return ()
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        parsed = urlsplit(origin)
        exact = origin == f"{parsed.scheme}://{parsed.netloc}"
        if origin != "*" and not (parsed.scheme in ("http", "https") and parsed.netloc and exact):
            raise SettingsError(
                f"{name}: {origin!r} is not a web origin; write scheme://host[:port] such as "
                "https://crm.example.com (no path), separated by commas, or * for any."
            )
    return origins


def env_rate_limit_storage(env: Mapping[str, str], name: str) -> str:
    """``memory`` or a Redis URL (``redis://host:port/db``, ``rediss://`` for TLS)."""
    value = env_str(env, name, "memory")
    parsed = urlsplit(value)
    if value != "memory" and not (parsed.scheme in ("redis", "rediss") and parsed.netloc):
        raise SettingsError(
            f"{name} must be memory or a Redis URL such as redis://127.0.0.1:6379/0, got {value!r}"
        )
    return value


def env_cidrs(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Address blocks in CIDR form, separated by commas (``127.0.0.1/32,10.0.0.0/8``)."""
    blocks = []
    for part in env.get(name, "").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            blocks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise SettingsError(
                f"{name}: {part!r} is not an address block; use CIDR such as 10.0.0.0/8 "
                "or ::1/128, separated by commas"
            ) from None
    return tuple(blocks)


MIN_SECRET_KEY = 32


def env_secret_key(env: Mapping[str, str], name: str) -> str:
    """Comma-separated keys of at least 32 characters each (``openssl rand -base64 32``)."""
    raw = env.get(name, "").strip()
    for part in raw.split(",") if raw else ():
        if len(part.strip()) < MIN_SECRET_KEY:
            raise SettingsError(
                f"{name}: each key must be at least {MIN_SECRET_KEY} characters (make one with "
                "`openssl rand -base64 32`); separate an old key with a comma to rotate."
            )
    return raw


@dataclass(frozen=True)
class Settings:
    """Everything the service can be told.  Defaults suit a laptop; see docs/configuration.md."""

    database_url: str = DEFAULT_DATABASE_URL
    default_region: str = "UA"
    # The compatible endpoint takes one small JSON object; 16 KiB is ample for a 255-char fio.
    max_body_bytes: int = 16 * 1024
    # Per API key, token bucket: sustained requests a second and burst size. 0 disables.
    rate_limit_per_second: float = 2000.0
    rate_limit_burst: int = 4000
    # Where the buckets live: "memory" (each process its own) or redis://host:port/db (one
    # budget per key across every instance using that Redis; keys under the prefix).
    rate_limit_storage: str = "memory"
    rate_limit_prefix: str = "powerdialer"
    # Group commit: the most rows written in one transaction.
    max_batch_rows: int = 2000
    # The bulk endpoint: rows per request and body size.
    max_bulk_rows: int = 10_000
    max_bulk_bytes: int = 16 * 1024 * 1024
    # Import uploads (CSV/XLSX), kept in data_dir while their job runs.
    max_upload_bytes: int = 512 * 1024 * 1024
    data_dir: str = "powerdialer-data"
    # Untrusted uploads: a workbook's grid and unpacked size, checked before it is read; the
    # memory of each child process that reads an upload; how long a preview may take.
    max_workbook_cells: int = 20_000_000
    max_workbook_bytes: int = 1024 * 1024 * 1024
    reader_memory_mb: int = 2048
    preview_timeout_seconds: float = 60.0
    # How long an import job's lease lasts without its process's heartbeat (renewed every
    # third of it): how soon another instance takes over the job of a process that died.
    import_lease_seconds: float = 30.0
    # How long an Idempotency-Key's first answer is kept and replayed.
    idempotency_ttl_hours: int = 24
    # Web origins whose pages may call the API from a browser (CORS); empty: none, "*": any.
    cors_origins: tuple[str, ...] = ()
    # Downloads (exports, rejected rows) open at once in a process: per API key or web UI
    # user, and in all; past either, 429 too_many_exports.
    max_exports_per_key: int = 4
    max_exports: int = 32
    # GET /metrics (Prometheus text format); off by default.  With a token set, a scrape must
    # send ``Authorization: Bearer <token>``.  docs/metrics.md.
    metrics: bool = False
    metrics_token: str = ""
    # "json": one JSON line per request on the ``powerdialer.access`` logger; "off": none.
    log_format: str = "off"
    # The key that encrypts the telephony secrets a project stores (a click-to-call
    # Auth-key, an AMI secret, an ESL password) so they can be sent but not read from the
    # database: one or more comma-separated keys, the first encrypts, all decrypt (rotation).
    # Empty: such secrets cannot be saved.  docs/configuration.md, docs/telephony.md.
    secret_key: str = ""
    # Requests to addresses users give (click-to-call, webhooks): CIDR blocks of non-public
    # addresses that may be reached anyway; empty: public addresses only.
    outbound_allow: tuple[str, ...] = ()
    # Whether this process runs the webhook sender (docs/webhooks.md); off, events still
    # queue (another instance, or this one restarted with it on, sends them).
    webhook_sender: bool = True
    # How long a webhook event and its delivery log are kept after it was created and its
    # last delivery settled (never while one is pending); the sender deletes older ones.
    webhook_retention_days: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        settings = cls(
            database_url=env_str(env, "POWERDIALER_DATABASE_URL", DEFAULT_DATABASE_URL),
            default_region=env_region(env, "POWERDIALER_DEFAULT_REGION", "UA"),
            max_body_bytes=env_int(env, "POWERDIALER_MAX_BODY_BYTES", 16 * 1024, minimum=1024),
            rate_limit_per_second=env_float(env, "POWERDIALER_RATE_LIMIT", 2000.0),
            rate_limit_burst=env_int(env, "POWERDIALER_RATE_LIMIT_BURST", 4000, minimum=1),
            rate_limit_storage=env_rate_limit_storage(env, "POWERDIALER_RATE_LIMIT_STORAGE"),
            rate_limit_prefix=env_str(env, "POWERDIALER_RATE_LIMIT_PREFIX", "powerdialer"),
            max_batch_rows=env_int(env, "POWERDIALER_MAX_BATCH_ROWS", 2000, minimum=1),
            max_bulk_rows=env_int(env, "POWERDIALER_MAX_BULK_ROWS", 10_000, minimum=1),
            max_bulk_bytes=env_int(
                env, "POWERDIALER_MAX_BULK_BYTES", 16 * 1024 * 1024, minimum=1024
            ),
            max_upload_bytes=env_int(
                env, "POWERDIALER_MAX_UPLOAD_BYTES", 512 * 1024 * 1024, minimum=1024
            ),
            data_dir=env_str(env, "POWERDIALER_DATA_DIR", "powerdialer-data"),
            max_workbook_cells=env_int(
                env, "POWERDIALER_MAX_WORKBOOK_CELLS", 20_000_000, minimum=1000
            ),
            max_workbook_bytes=env_int(
                env, "POWERDIALER_MAX_WORKBOOK_BYTES", 1024 * 1024 * 1024, minimum=1024 * 1024
            ),
            reader_memory_mb=env_int(env, "POWERDIALER_READER_MEMORY_MB", 2048, minimum=256),
            preview_timeout_seconds=env_float(
                env, "POWERDIALER_PREVIEW_TIMEOUT", 60.0, minimum=1.0
            ),
            import_lease_seconds=env_float(
                env, "POWERDIALER_IMPORT_LEASE_SECONDS", 30.0, minimum=1.0
            ),
            idempotency_ttl_hours=env_int(env, "POWERDIALER_IDEMPOTENCY_TTL_HOURS", 24, minimum=24),
            cors_origins=env_origins(env, "POWERDIALER_CORS_ORIGINS"),
            max_exports_per_key=env_int(env, "POWERDIALER_MAX_EXPORTS_PER_KEY", 4, minimum=1),
            max_exports=env_int(env, "POWERDIALER_MAX_EXPORTS", 32, minimum=1),
            metrics=env_flag(env, "POWERDIALER_METRICS"),
            metrics_token=env_str(env, "POWERDIALER_METRICS_TOKEN", ""),
            log_format=env_choice(env, "POWERDIALER_LOG_FORMAT", "off", ("off", "json")),
            secret_key=env_secret_key(env, "POWERDIALER_SECRET_KEY"),
            outbound_allow=env_cidrs(env, "POWERDIALER_OUTBOUND_ALLOW"),
            webhook_sender=env_flag(
                {"POWERDIALER_WEBHOOK_SENDER": env.get("POWERDIALER_WEBHOOK_SENDER", "1")},
                "POWERDIALER_WEBHOOK_SENDER",
            ),
            webhook_retention_days=env_int(
                env, "POWERDIALER_WEBHOOK_RETENTION_DAYS", 30, minimum=1
            ),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **clean) if clean else settings
