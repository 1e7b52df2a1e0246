"""The SDK's exceptions: one hierarchy, every error carrying ``code``, ``message`` and
``status`` (``None`` when no HTTP answer came back)::

    PowerDialerError
     ├── TransportError            no HTTP answer: connect error, reset, timeout (retried)
     └── APIError                  the server answered with an error
          ├── AuthenticationError   401 (and 403): wrong project id or key (never retried)
          ├── NotFoundError         404: no such campaign, row or job in this project
          ├── ConflictError         409: e.g. the campaign is archived
          ├── ValidationError       400, 422: the request can never succeed as sent
          │                         (.field, .reason)
          ├── PayloadTooLargeError  413: the body is over the server's limit
          ├── RateLimitedError      429 (.retry_after, retried after it)
          └── ServerError           5xx (.retry_after on 503, retried)

``code`` is the server's machine code (``invalid_phone_number``, ``campaign_not_found``…)
when it sent our error shape, ``{"result": false, "error": {"code", "message", ...}}``;
answers in any other shape (the vendor's, whose error bodies are undocumented, or a proxy's
HTML page) get ``code="http_<status>"`` and the start of the body as ``message``.
"""

from __future__ import annotations

__all__ = [
    "APIError",
    "AuthenticationError",
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PowerDialerError",
    "RateLimitedError",
    "ServerError",
    "TransportError",
    "ValidationError",
]


class PowerDialerError(Exception):
    """Base of every error the SDK raises."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int | None = None,
        field: str | None = None,
        reason: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field
        self.reason = reason
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r})"


class TransportError(PowerDialerError):
    """The request got no HTTP answer (``code``: ``connect_error``, ``timeout``,
    ``disconnected``).  A POST may still have reached the server: resending it is safe here
    because rows are deduplicated by number and POSTs carry an ``Idempotency-Key``."""


class APIError(PowerDialerError):
    """The server answered with an error status (or a 200 without ``"result": true``)."""

    status: int


class AuthenticationError(APIError):
    """401/403: the project id or the API key is wrong or revoked."""


class NotFoundError(APIError):
    """404: no such campaign (or row, or job) in this project, or no such endpoint."""


class ConflictError(APIError):
    """409: the request is valid but the current state forbids it."""


class ValidationError(APIError):
    """400/422: the request (or one row of it) can never succeed as sent; ``field`` and
    ``reason`` say which value and why."""


class PayloadTooLargeError(APIError):
    """413: the body is larger than the server accepts."""


class RateLimitedError(APIError):
    """429: too many requests; ``retry_after`` is how many seconds the server asked to wait."""


class ServerError(APIError):
    """5xx: the server failed or is unavailable; the request may be retried."""


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    422: ValidationError,
    429: RateLimitedError,
}


def error_class(status: int) -> type[APIError]:
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, APIError)
