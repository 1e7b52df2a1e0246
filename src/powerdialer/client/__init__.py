"""The powerdialer SDK: talk to a powerdialer server, or to Ringostat's compatible endpoint.

::

    from powerdialer.client import Client

    with Client(base_url="http://127.0.0.1:8000", project_id=1, key="pd_…") as client:
        client.add_row(456, "380930000000", fio="Іван Петренко")

:class:`Client` and :class:`AsyncClient` take the same keyword-only arguments and have the
same methods; errors are one hierarchy rooted at :class:`PowerDialerError` (drawn in
``powerdialer.client._errors``).  See docs/sdk.md.
"""

from powerdialer.client._async_client import AsyncClient
from powerdialer.client._client import Client
from powerdialer.client._core import VENDOR_URL
from powerdialer.client._errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    PowerDialerError,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from powerdialer.client._models import (
    BulkResult,
    Campaign,
    ErrorDetail,
    ImportJob,
    Limits,
    NewRow,
    Page,
    Row,
    RowCounts,
    RowResult,
)
from powerdialer.client._policy import Retries, RetryEvent
from powerdialer.client._transport import (
    AiohttpTransport,
    AsyncHTTPXTransport,
    AsyncTransport,
    HTTPXTransport,
    Request,
    Response,
    Transport,
)

__all__ = [
    "VENDOR_URL",
    "APIError",
    "AiohttpTransport",
    "AsyncClient",
    "AsyncHTTPXTransport",
    "AsyncTransport",
    "AuthenticationError",
    "BulkResult",
    "Campaign",
    "Client",
    "ConflictError",
    "ErrorDetail",
    "HTTPXTransport",
    "ImportJob",
    "Limits",
    "NewRow",
    "NotFoundError",
    "Page",
    "PayloadTooLargeError",
    "PowerDialerError",
    "RateLimitedError",
    "Request",
    "Response",
    "Retries",
    "RetryEvent",
    "Row",
    "RowCounts",
    "RowResult",
    "ServerError",
    "Transport",
    "TransportError",
    "ValidationError",
]
