"""The benchmark's baseline: the least an ASGI app can do for the compatible endpoint.

It reads the whole request body and answers ``{"result":true}`` with a content type and a
length, on any path and method: no parsing, no auth, no database. ``bench_endpoint.py`` runs
it under the same uvicorn options as ``powerdialer serve`` so the ratio between the two
measures what the service itself costs, not the server or the load generator.

Run alone: ``.venv/bin/uvicorn raw_asgi:app --app-dir benchmarks --no-access-log``.
"""

from __future__ import annotations

from typing import Any

BODY = b'{"result":true}'
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
    ],
}
END = {"type": "http.response.body", "body": BODY}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    more = True
    while more:  # drain the body, as the real endpoint must
        message = await receive()
        more = message.get("more_body", False)
    await send(START)
    await send(END)
