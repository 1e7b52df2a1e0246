"""CPU a request of uvicorn's httptools protocol and of powerdialer's EdgeProtocol, in process.

Run: ``.venv/bin/python benchmarks/bench_edge_protocol.py [--rounds 12] [--requests 32000]``.

No sockets: 64 protocol instances on a uvloop loop, each fed a keep-alive request of the
compatible endpoint's shape (one chunk) per round trip, answered by a trivial ASGI app, through a
transport that discards what is written. Rounds alternate the two protocols; it prints the
median and minimum process CPU time a request of each. What it isolates is the edge's own cost
on the per-request path (``web/edge_protocol.py``); bench_endpoint.py measures the whole.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

import uvloop
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from powerdialer.web.edge import EdgeLimits
from powerdialer.web.edge_protocol import Edge

BODY = b'{"campaignId": 1, "fio": "Ivan Petrenko", "phone_number": "380930000001"}'
REQUEST = (
    b"POST /power-dialer/campaigns/campaign-rows HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
    b"Content-Type: application/json\r\nx-project-id: 1\r\n"
    b"Auth-key: pd_abcdefabcdef_abcdefabcdefabcdefabcdef\r\n"
    b"Content-Length: " + str(len(BODY)).encode() + b"\r\n\r\n" + BODY
)


async def app(scope: Any, receive: Any, send: Any) -> None:
    await receive()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"15")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"result":true}'})


class NullTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def write(self, data: Any) -> None:
        pass

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 1), "sockname": ("127.0.0.1", 2)}.get(name, default)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def cpu_a_request(factory: Any, requests: int) -> float:
    config = Config(app=app, lifespan="off", log_level="warning")
    config.load()
    state, loop = ServerState(), asyncio.get_running_loop()
    protocols = []
    for _ in range(64):
        protocol = factory(config=config, server_state=state, app_state={}, _loop=loop)
        protocol.connection_made(NullTransport())
        protocols.append(protocol)
    started = time.process_time()
    for _ in range(requests // 64):
        for protocol in protocols:
            protocol.data_received(REQUEST)
        await asyncio.sleep(0)  # the ASGI tasks run
        await asyncio.sleep(0)
    return (time.process_time() - started) / requests * 1e6


async def main(rounds: int, requests: int) -> None:
    factories = {"uvicorn HttpToolsProtocol": HttpToolsProtocol, "EdgeProtocol": Edge(EdgeLimits())}
    results: dict[str, list[float]] = {name: [] for name in factories}
    for _ in range(rounds):
        for name, factory in factories.items():
            results[name].append(await cpu_a_request(factory, requests))
    for name, times in results.items():
        print(f"{name:>26}: median {statistics.median(times):.1f} µs, min {min(times):.1f} µs")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--requests", type=int, default=32000)
    args = parser.parse_args()
    uvloop.run(main(args.rounds, args.requests))
