"""What a compatible request costs the server with a per-row ``row.added`` webhook, beside the
same without: instructions under callgrind, or with ``--cpu`` the server's CPU time from the
first request until every event has reached a local receiver (a coarser figure for a machine
too busy for callgrind).

Run: ``.venv/bin/python benchmarks/count_webhook.py [--small 640] [--large 3200]
[--connections 64] [--webhook] [--cpu]``: once without ``--webhook`` and once with it, from the
same checkout, and compare.  Needs valgrind (Debian's ``valgrind``) but with ``--cpu``.  The
method is ``count_instructions.py``'s (two run lengths subtracted, startup cancels), whose
client it uses.  A script, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from bench_endpoint_lib import BIN, BenchError, Server, free_port, powerdialer
from count_instructions import _client


class Receiver:
    """A keep-alive HTTP receiver on its own thread that answers 200 and counts event ids."""

    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()
        self._ready.wait(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        self._loop.run_until_complete(server.serve_forever())

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                found = re.search(rb"(?i)content-length: *(\d+)", head)
                body = await reader.readexactly(int(found.group(1)) if found else 0)
                self.ids.add(json.loads(body)["id"])
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def _subscribe(port: int, project: int, key: str, receiver: Receiver) -> None:
    body = json.dumps(
        {
            "url": f"http://127.0.0.1:{receiver.port}/hook",
            "event_types": ["row.added"],
            "per_row": True,
        }
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/power-dialer/webhooks",
        data=body,
        headers={"Content-Type": "application/json", "x-project-id": str(project), "Auth-key": key},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=600) as answer:
        if answer.status != 201:
            raise BenchError(f"subscribing answered {answer.status}")


def count(
    requests: int, conns: int, tmp: Path, receiver: Receiver | None = None, cpu: bool = False
) -> int:
    """Instructions of a whole server process that answered ``requests`` requests (``cpu``:
    without valgrind, the CPU nanoseconds the server spent from the first request until
    every event was received: a coarser figure for a machine too busy for callgrind)."""
    url = f"sqlite:///{tmp}/count-{requests}.sqlite"
    project = powerdialer("project", "create", "bench", url=url)["id"]
    key = powerdialer("key", "create", "--project", str(project), url=url)["key"]
    campaign = powerdialer("campaign", "create", "--project", str(project), "c", url=url)["id"]
    port, out = free_port(), tmp / f"callgrind-{requests}.out"
    valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
    cmd = [
        *([] if cpu else valgrind),
        str(BIN / "powerdialer"),
        "serve",
        "--port",
        str(port),
        "--workers",
        "1",
        "--no-access-log",
        "--no-bootstrap",
        "--database-url",
        url,
    ]
    env = dict(os.environ, POWERDIALER_RATE_LIMIT="0", PYTHONHASHSEED="0")
    if receiver is not None:
        env["POWERDIALER_OUTBOUND_ALLOW"] = "127.0.0.1/32"
    server = Server("powerdialer under callgrind", cmd, port, tmp / f"serve-{requests}.log", env)
    try:
        server.wait_ready(timeout=600)  # valgrind runs Python some 50x slower
        if receiver is not None:
            _subscribe(port, project, key, receiver)
            before = len(receiver.ids)
        spent = server.cpu_seconds()
        asyncio.run(_client(port, project, key, campaign, requests, conns, False, 0))
        if receiver is not None:
            deadline = time.monotonic() + 1800
            while len(receiver.ids) < before + requests:
                if time.monotonic() > deadline:
                    raise BenchError(f"{len(receiver.ids) - before} of {requests} events came")
                time.sleep(0.05)
        spent = server.cpu_seconds() - spent
    finally:
        # callgrind writes its totals as the process exits, which under valgrind on a busy
        # machine takes longer than Server.stop's 20 s before it kills.
        server.proc.send_signal(signal.SIGINT)
        try:
            server.proc.wait(timeout=900)
        except subprocess.TimeoutExpired:
            server.stop()
    if cpu:
        return int(spent * 1e9)
    totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    if totals is None:
        raise BenchError(f"callgrind wrote no totals:\n{server.tail()}")
    return int(totals.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=640, help="requests of the first run")
    parser.add_argument("--large", type=int, default=3200, help="requests of the second run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--webhook", action="store_true", help="a per-row row.added webhook to a local receiver"
    )
    parser.add_argument(
        "--cpu", action="store_true", help="no valgrind: the server's CPU time (coarser)"
    )
    args = parser.parse_args()
    if not args.cpu and shutil.which("valgrind") is None:
        print("valgrind is needed: apt-get install valgrind", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pd-count-") as tmp:
        receiver = Receiver() if args.webhook else None
        small = count(args.small, args.connections, Path(tmp), receiver, args.cpu)
        large = count(args.large, args.connections, Path(tmp), receiver, args.cpu)
    per_request = (large - small) / (args.large - args.small)
    unit = "CPU ns" if args.cpu else "instructions"
    print(f"{args.small} requests: {small:,} {unit}; {args.large}: {large:,}")
    mode = " with a per-row webhook" if args.webhook else ""
    print(f"per compatible request{mode}: {per_request:,.0f} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
