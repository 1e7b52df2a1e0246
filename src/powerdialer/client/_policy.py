"""What both clients share: the retry policy, and turning a :class:`Response` into a result or
the precise exception.

Which failures are retried, and why it is safe:

- no answer at all (:class:`TransportError`), 408, 429, 500, 502, 503, 504: the request may or
  may not have been applied; every call of this API is safe to repeat (GET/PATCH/DELETE by
  nature, row POSTs because a campaign keeps one row per number, other POSTs because they
  carry an ``Idempotency-Key``);
- 409 ``idempotency_in_progress``: the first request with the same key is still running;
- every other 4xx is final: sending the same request again cannot change the answer.

Backoff is exponential with full jitter (a random delay between 0 and ``backoff * 2**n``,
capped), so clients that failed together do not come back together; a ``Retry-After`` is
honoured as a minimum, and with 429 or 503 it pauses every request of the client, not just
the one refused.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from powerdialer.client._errors import APIError, PowerDialerError, TransportError, error_class
from powerdialer.client._transport import Response

__all__ = [
    "HOLD_STATUSES",
    "Retries",
    "RetryEvent",
    "api_error",
    "json_object",
    "parse_retry_after",
]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRY_CODES = frozenset({"idempotency_in_progress"})
HOLD_STATUSES = frozenset({429, 503})
"""A Retry-After with these is about the whole server: every request of the client waits."""


@dataclass(frozen=True, slots=True)
class Retries:
    """How a client retries.  ``Retries(0)`` (or ``retries=0``) turns retrying off."""

    max_retries: int = 5
    backoff: float = 0.25
    """Base of the exponential backoff, in seconds: retry n waits up to backoff * 2**(n-1)."""
    max_backoff: float = 20.0
    max_retry_after: float = 300.0
    """A longer ``Retry-After`` is not waited for: the error is raised instead."""
    statuses: frozenset[int] = field(default=RETRY_STATUSES)
    codes: frozenset[str] = field(default=RETRY_CODES)
    """Error codes retried whatever their status: ``idempotency_in_progress`` (409) means the
    first request with this ``Idempotency-Key`` is still running; its answer comes later."""

    def delay(self, attempt: int, error: PowerDialerError) -> float | None:
        """Seconds to wait before retry number ``attempt`` (1-based), or None to give up."""
        if attempt > self.max_retries:
            return None
        retryable = (
            isinstance(error, TransportError)
            or error.status in self.statuses
            or error.code in self.codes
        )
        if not retryable:
            return None
        jitter = random.uniform(0.0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))  # noqa: S311 - not security
        if error.retry_after is not None:
            if error.retry_after > self.max_retry_after:
                return None
            return error.retry_after + min(jitter, 0.25)
        return jitter

    @classmethod
    def coerce(cls, value: Retries | int | None) -> Retries:
        if value is None:
            return cls(max_retries=0)
        if isinstance(value, int):
            return cls(max_retries=max(0, value))
        return value


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """Handed to ``on_retry`` before a retry's wait; raise from the hook to give up instead."""

    method: str
    path: str
    attempt: int
    delay: float
    error: PowerDialerError


OnRetry = Callable[[RetryEvent], None]


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (it may be a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _loads(content: bytes) -> Any:
    try:
        return orjson.loads(content) if content else None
    except orjson.JSONDecodeError:
        return None


def api_error(response: Response, fallback: str | None = None) -> APIError:
    """The exception for an error answer, whatever shape its body has."""
    data = _loads(response.content)
    error = data.get("error") if isinstance(data, dict) else None
    code = f"http_{response.status}"
    field_name = reason = None
    if isinstance(error, dict):
        code = str(error.get("code") or code)
        message = str(error.get("message") or "")
        field_name = error.get("field") if isinstance(error.get("field"), str) else None
        reason = error.get("reason") if isinstance(error.get("reason"), str) else None
    elif isinstance(data, dict) and isinstance(data.get("message") or data.get("detail"), str):
        message = str(data.get("message") or data.get("detail"))
    elif isinstance(error, str):
        message = error
    else:
        text = response.content[:300].decode("utf-8", "replace").strip()
        message = " ".join(text.split())
    if not message:
        message = fallback or f"the server answered HTTP {response.status}"
    status = response.status
    cls = error_class(status) if status >= 400 else APIError
    return cls(
        message,
        code=code,
        status=status,
        field=field_name,
        reason=reason,
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def json_object(response: Response) -> Mapping[str, Any]:
    """The body of a 2xx answer as a JSON object, or an :class:`APIError` if it is not one."""
    data = _loads(response.content)
    if not isinstance(data, dict):
        raise APIError(
            f"expected a JSON object, got {response.content[:80]!r}",
            code="unexpected_response",
            status=response.status,
        )
    return data
