"""The operator's two calls of the whole shift, ``POST …/dialer/next`` and ``POST
…/leases/{id}/outcome``, answered without the framework.

Each operator makes them once per contact, all day; through FastAPI's routing, dependency
solving and response validation a call cost about 1.3 ms of server CPU, three times what the
writer spends on it (BENCHMARKS.md, "The dialer").  This edge sits where FastAPI would be
called (behind the key check, the idempotency claim, the rate limit, the body cap and the URL
guard, which all still apply) and answers the ordinary request itself: a verified key, a
JSON body that its model accepts.  Anything else — a path id out of range, a body the model
refuses, another content type, a lone surrogate, a JSON number orjson cannot read — goes on
to the FastAPI route with the body replayed, so every error answer is the route's own, byte
for byte.  Domain errors and storage failures are answered by the API's own error functions.
The key of these two calls comes through the verifier's cache (``KeyAuth(cached=…)``): the
lease's or the outcome's transaction checks it again (``projects.KeyProof``), so a revoked
key is refused at once, as on the compatible endpoint.
The answers are the route's models (``web.api.dialer_views``), serialised as FastAPI does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
import pydantic
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp

from powerdialer.errors import AuthError, PowerDialerError
from powerdialer.models import MAX_ID
from powerdialer.projects import KeyProof
from powerdialer.storage.writer import StorageUnavailable
from powerdialer.web.api.dialer_views import next_answer, record_answer
from powerdialer.web.api.errors import error_response, failure_response
from powerdialer.web.api.routing import is_json
from powerdialer.web.api.schemas.dialer import OperatorBody, OutcomeBody
from powerdialer.web.middleware.keyauth import SCOPE_KEY, VerifiedKey
from powerdialer.web.middleware.textguard import unstorable_json_field
from powerdialer.web.responses import Message, Receive, Scope, Send
from powerdialer.web.services import Services

NEXT = re.compile(r"/power-dialer/campaigns/([1-9][0-9]{0,18})/dialer/next")
OUTCOME = re.compile(r"/power-dialer/leases/([1-9][0-9]{0,18})/outcome")
_JSON = [(b"content-type", b"application/json")]


class DialerEdge:
    """In front of the FastAPI app; ``answered`` counts the calls it answered itself."""

    def __init__(
        self, app: ASGIApp, services: Services, forget: Callable[[int, str], None]
    ) -> None:
        self.app = app
        self.services = services
        self.forget = forget  # drops a key from the verifier's cache
        self.answered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        kind, found = "next", NEXT.fullmatch(path)
        if found is None:
            kind, found = "outcome", OUTCOME.fullmatch(path)
        verified = scope.get(SCOPE_KEY)
        if found is None or not isinstance(verified, VerifiedKey) or not _json(scope):
            await self.app(scope, receive, send)
            return
        target = int(found.group(1))
        raw = await _read(receive)
        body = _parsed(raw, OperatorBody if kind == "next" else OutcomeBody)
        if target > MAX_ID or body is None:  # the route's own answer, from the same bytes
            await self.app(scope, _replay(raw, receive), send)
            return
        self.answered += 1
        proven = (verified.project_id, KeyProof(verified.key_id, verified.secret_hash))
        try:
            if isinstance(body, OutcomeBody):
                answer: pydantic.BaseModel = await record_answer(
                    self.services, proven, target, body
                )
            else:
                answer = await next_answer(self.services, proven, target, body.operator_id)
        except PowerDialerError as exc:
            if isinstance(exc, AuthError):  # revoked since the verifier cached it
                self.forget(verified.project_id, verified.key_id)
            await error_response(exc)(scope, receive, send)
            return
        except (StorageUnavailable, DBAPIError, OSError) as exc:  # as the API's handlers
            await failure_response(exc)(scope, receive, send)
            return
        data = answer.__pydantic_serializer__.to_json(answer)
        headers = [*_JSON, (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": data})


def _json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return is_json(value.decode("latin-1"))
    return is_json(None)


async def _read(receive: Receive) -> bytes:
    """The whole body (its size is capped by ``BodyLimitMiddleware`` in front)."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _parsed(raw: bytes, model: type[OperatorBody]) -> OperatorBody | None:
    """The body as its model, or ``None`` where the route's own checks must answer."""
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or unstorable_json_field(raw) is not None:
        return None
    try:
        return model.model_validate(data)
    except pydantic.ValidationError:
        return None


def _replay(raw: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the route the body already read, then the real stream."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return again
