"""Instructions a compatible request costs the server: a figure this shared VM cannot move.

Run: ``.venv/bin/python benchmarks/count_instructions.py [--small 640] [--large 3200]
[--connections 64]``; needs valgrind (Debian's ``valgrind``).  A script, not a test.

Wall-clock ratios (``bench_endpoint.py``) swing with the host: the raw ASGI baseline alone has
measured 7,000 to 31,000 requests/s on this VM within one hour.  ``callgrind`` counts the
instructions the server process executes in user space, whatever else the machine does, so
two versions of the code compare exactly (kernel work, fsync included, is not counted).

It starts ``powerdialer serve`` (SQLite in a temporary directory, one worker) under
``valgrind --tool=callgrind`` twice: once answering ``--small`` requests, once ``--large``,
each a new number sent over ``--connections`` keep-alive connections by a client that sends
an exact count, then stops it with SIGINT (callgrind writes its totals at exit).  Startup
costs the same in both runs, so ``(large - small) / (large - small requests)`` is the cost of
one request.  Run it from each checkout to compare (BENCHMARKS.md, "The hot path after the
front-door check").  Every answer must be 200, or the run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from bench_endpoint_lib import BIN, BenchError, Server, free_port, powerdialer

PATH = b"/power-dialer/campaigns/campaign-rows"


async def _client(port: int, project: int, key: str, campaign: int, total: int, conns: int) -> None:
    async def one(index: int, count: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = (
            b"POST " + PATH + b" HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            b"x-project-id: %d\r\nAuth-key: %s\r\n" % (project, key.encode())
        )
        for number in range(count):
            body = b'{"campaignId": %d, "fio": "Ivan Petrenko", "phone_number": "38093%07d"}' % (
                campaign,
                index * 100_000 + number,
            )
            writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            if not answer.startswith(b"HTTP/1.1 200"):
                raise BenchError(f"not 200: {answer[:80]!r}")
            length = re.search(rb"(?i)content-length: *(\d+)", answer)
            await reader.readexactly(int(length.group(1)) if length else 0)
        writer.close()

    shares = [total // conns + (i < total % conns) for i in range(conns)]
    await asyncio.gather(*(one(i, share) for i, share in enumerate(shares)))


def count(requests: int, conns: int, tmp: Path) -> int:
    """Instructions of a whole server process that answered ``requests`` requests."""
    url = f"sqlite:///{tmp}/count-{requests}.sqlite"
    project = powerdialer("project", "create", "bench", url=url)["id"]
    key = powerdialer("key", "create", "--project", str(project), url=url)["key"]
    campaign = powerdialer("campaign", "create", "--project", str(project), "c", url=url)["id"]
    port, out = free_port(), tmp / f"callgrind-{requests}.out"
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={out}",
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
    server = Server("powerdialer under callgrind", cmd, port, tmp / f"serve-{requests}.log", env)
    try:
        server.wait_ready(timeout=600)  # valgrind runs Python some 50x slower
        asyncio.run(_client(port, project, key, campaign, requests, conns))
    finally:
        server.stop()
    totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    if totals is None:
        raise BenchError(f"callgrind wrote no totals:\n{server.tail()}")
    return int(totals.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=640, help="requests of the first run")
    parser.add_argument("--large", type=int, default=3200, help="requests of the second run")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is needed: apt-get install valgrind", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pd-count-") as tmp:
        small = count(args.small, args.connections, Path(tmp))
        large = count(args.large, args.connections, Path(tmp))
    per_request = (large - small) / (args.large - args.small)
    print(f"{args.small} requests: {small:,} instructions; {args.large}: {large:,}")
    print(f"per compatible request: {per_request:,.0f} instructions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
