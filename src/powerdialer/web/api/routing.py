"""``ApiRoute``: the route class of every API router.  Before FastAPI reads a JSON body into
the route's model, a text in it that no database can store (a lone surrogate such as
``"\\ud800"``, which the standard library's JSON reader accepts) is refused with 422
``invalid_text`` naming the field, instead of failing at the INSERT as a 500.  FastAPI reads
such a body before the route's dependencies (authentication included) anyway, so this reads
nothing earlier than FastAPI would; routes that read their own body do so after
authentication and are left alone."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from powerdialer.web.api.errors import error_response
from powerdialer.web.middleware.textguard import unstorable_json_field, unstorable_text


def is_json(content_type: str | None) -> bool:
    """What FastAPI parses as JSON: no Content-Type, or application/json or …+json."""
    if not content_type:
        return True
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith("application/") and (
        kind == "application/json" or kind.endswith("+json")
    )


def _form_body(route: APIRoute) -> bool:
    info = getattr(route.body_field, "field_info", None)
    return type(info).__name__ in ("Form", "File")


class ApiRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        if self.body_field is None or _form_body(self):
            # No body model: the route reads its body itself, after authentication (bulk
            # rows, with orjson and ``textguard.json_error``; uploads, streamed).
            return handler

        async def checked(request: Request) -> Response:
            if is_json(request.headers.get("content-type")):
                path = unstorable_json_field(await request.body())  # kept for the route
                if path is not None:
                    return error_response(unstorable_text(path))
            return await handler(request)

        return checked
