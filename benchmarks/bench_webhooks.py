"""The compatible endpoint with a webhook subscribed to every row-added event, against the
same server's project without one, in one sitting; and the delivery lag at that load.

Run: ``.venv/bin/python benchmarks/bench_webhooks.py [--duration 10] [--connections 16]
[--rounds 2] [--no-pin]``.  One ``powerdialer serve`` over a fresh SQLite database with two
projects: "plain" (no webhook) and "hooked" (a webhook to ``row.added`` with ``per_row``, to
a receiver in this process on 127.0.0.1, allowed by ``POWERDIALER_OUTBOUND_ALLOW``).  ``wrk``
(``rows.lua``) loads each project in turn, ``--rounds`` times.  Prints rows/s and p99 for
each, the ratio hooked/plain, and the delivery lag (the receiver's clock minus the event's
``timestamp``) p50/p99/max over every event once all have arrived, with the time the queue
took to drain after the load.  Fails on any non-2xx answer or socket error.  A script, not a
test.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench_endpoint_lib import (
    BIN,
    SERVER_CPU,
    BenchError,
    Server,
    free_port,
    fresh_database,
    machine,
    pinned,
    powerdialer,
    require_tools,
    run_wrk,
)


class Receiver:
    """A minimal HTTP server on its own thread: answers 200, keeps (event id, lag)."""

    def __init__(self) -> None:
        self.lags: dict[str, float] = {}
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_until_complete(server.serve_forever())

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        body = json.loads(await reader.readexactly(length))
        sent = dt.datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
        lag = (dt.datetime.now(dt.UTC) - sent).total_seconds()
        self.lags.setdefault(body["id"], lag)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def _subscribe(url: str, headers: dict[str, str], receiver: Receiver) -> None:
    body = json.dumps(
        {
            "url": f"http://127.0.0.1:{receiver.port}/hook",
            "event_types": ["row.added"],
            "per_row": True,
        }
    ).encode()
    request = urllib.request.Request(
        url + "/power-dialer/webhooks", data=body, headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        if answer.status != 201:
            raise BenchError(f"subscribing answered {answer.status}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    args = parser.parse_args()
    require_tools(args.pin)
    receiver = Receiver()
    receiver.start()
    with tempfile.TemporaryDirectory() as name, fresh_database(None, Path(name)) as url:
        tmp = Path(name)
        projects = {}
        for label in ("plain", "hooked"):
            project = powerdialer("project", "create", label, url=url)["id"]
            key = powerdialer("key", "create", "--project", str(project), url=url)["key"]
            campaign = powerdialer("campaign", "create", "--project", str(project), "c", url=url)
            headers = {
                "Content-Type": "application/json",
                "x-project-id": str(project),
                "Auth-key": key,
            }
            projects[label] = (headers, campaign["id"])
        port = free_port()
        env = dict(
            os.environ, POWERDIALER_RATE_LIMIT="0", POWERDIALER_OUTBOUND_ALLOW="127.0.0.1/32"
        )
        cmd = [str(BIN / "powerdialer"), "serve", "--port", str(port), "--no-bootstrap"]
        cmd += ["--database-url", url]
        server = Server("server", pinned(cmd, SERVER_CPU, args.pin), port, tmp / "s.log", env)
        results: dict[str, list] = {label: [] for label in projects}
        drained = None
        try:
            server.wait_ready()
            _subscribe(server.url, projects["hooked"][0], receiver)
            for headers, campaign in projects.values():
                run_wrk(server, headers, campaign, args.connections, 1, 2.0, args.pin)
            for _ in range(args.rounds):
                for label, (headers, campaign) in projects.items():
                    r = run_wrk(
                        server, headers, campaign, args.connections, 1, args.duration, args.pin
                    )
                    if r.non_2xx or r.socket_errors:
                        raise BenchError(f"{label}: {r.non_2xx} non-2xx, {r.socket_errors} errors")
                    results[label].append(r)
            expected = sum(r.ok for r in results["hooked"])
            started = time.monotonic()
            while len(receiver.lags) < expected:
                if time.monotonic() - started > args.drain_timeout:
                    break
                time.sleep(0.2)
            drained = round(time.monotonic() - started, 1)
        finally:
            server.stop()
    plain = max(r.rps for r in results["plain"])
    lags = list(receiver.lags.values())
    summary = {
        label: {
            "rows_per_s": [round(r.rps) for r in rs],
            "p99_ms": [r.p99_ms for r in rs],
            "best_ratio_to_plain": round(max(r.rps for r in rs) / plain, 3),
        }
        for label, rs in results.items()
    }
    summary["delivery"] = {
        "events_received": len(lags),
        "drain_seconds_after_load": drained,
        "lag_p50_s": round(_percentile(lags, 0.5), 3),
        "lag_p99_s": round(_percentile(lags, 0.99), 3),
        "lag_max_s": round(max(lags, default=0.0), 3),
    }
    print(json.dumps({"machine": machine(), "connections": args.connections, **summary}, indent=1))


if __name__ == "__main__":
    main()
