"""Text a client sends that no database can store is refused, naming where it was.

A NUL in the URL (path or query), or query bytes that are not UTF-8, are refused before any
route sees them (:class:`NulGuardMiddleware`).

PostgreSQL cannot take NUL in a text parameter, and no filter, cursor or id ever needs one;
refusing it here, once, keeps every query parameter of every route (API and UI) from turning
into a 5xx on PostgreSQL while SQLite would have accepted it.  NULs in bodies are cleaned
where they are parsed (``powerdialer.text.one_line``).  A JSON body's lone surrogate
(``"\\ud800"``: valid JSON, but no UTF-8 exists for it) is refused with 422 naming the field:
by :class:`~powerdialer.web.api.routing.ApiRoute` for the API's routes and by
:func:`json_error` where orjson reads the body (the compatible endpoint, bulk rows).
"""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_plus, unquote_to_bytes

from powerdialer.errors import ValidationError
from powerdialer.text import unstorable_path
from powerdialer.web.middleware.ratelimit import ASGIApp
from powerdialer.web.responses import Receive, Scope, Send, body_for, send_json

_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")


class NulGuardMiddleware:
    """Refuses, before any route (API or UI) sees it, a URL whose path holds a NUL or whose
    query parameters hold a NUL or bytes that are not UTF-8 (which the framework would turn
    into U+FFFD silently): 400 ``invalid_text`` naming the parameter."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = url_problem(scope.get("path", ""), scope.get("query_string", b""))
            if problem is not None:
                await send_json(send, 400, body_for(problem))
                return
        await self.app(scope, receive, send)


def url_problem(path: str, query: bytes) -> ValidationError | None:
    """Why this path and query cannot be taken as text, or ``None``.  Costs one scan of the
    query when it has no ``%`` and no byte outside ASCII (nearly every query)."""
    if "\x00" in path:
        return ValidationError(
            "the URL path contains a NUL character (%00): remove it.",
            code="invalid_text",
            field="path",
        )
    if not query or (query.isascii() and b"%" not in query):
        return None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        shown_name = unquote_plus(name.decode("latin-1"), errors="backslashreplace")
        for part, what in ((name, "name"), (value, "value")):
            raw = unquote_to_bytes(part.replace(b"+", b" "))
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                return _bad_parameter(shown_name, what, "is not UTF-8 text: percent-encode UTF-8")
            if "\x00" in text:
                return _bad_parameter(shown_name, what, "contains a NUL character (%00): remove it")
    return None


def _bad_parameter(name: str, what: str, problem: str) -> ValidationError:
    return ValidationError(
        f"the query parameter {name!r}: its {what} {problem}.",
        code="invalid_text",
        field=name or "query",
    )


def unstorable_text(path: str) -> ValidationError:
    """422 ``invalid_text`` for a JSON text (``path``: ``rows.0.fio``) that holds a lone
    surrogate: valid JSON (``"\\ud800"``), but text that no database can store."""
    field = path or "body"
    return ValidationError(
        f"{field} contains a lone surrogate (an escape such as \\ud800 without its pair): "
        f"that is not text any database can store; send {field} as valid Unicode.",
        code="invalid_text",
        field=field,
    )


def json_error(raw: bytes, exc: ValueError) -> ValidationError:
    """Why a body orjson refused is refused.  orjson refuses lone surrogates outright; the
    standard library reads them, so a second look on this (rare) path names the field:
    422 ``invalid_text``; anything else is 400 ``malformed_json``."""
    try:
        path = unstorable_path(json.loads(raw))
    except (ValueError, RecursionError):
        path = None
    if path is not None:
        return unstorable_text(path)
    return ValidationError(
        f"the body is not valid JSON ({exc}): send a JSON object.", code="malformed_json"
    )


def unstorable_json_field(raw: bytes) -> str | None:
    """The dotted path of the first unstorable text in a JSON body, or ``None`` (also for a
    body that is not JSON: the route answers that in its own way).  Only a body with a
    ``\\uD8xx``–``\\uDFxx`` escape is parsed here; others cannot hold a lone surrogate."""
    if not _SURROGATE_ESCAPE.search(raw):
        return None
    try:
        return unstorable_path(json.loads(raw))
    except (ValueError, RecursionError):
        return None
