"""Instructions a compatible request costs the server: a figure this shared VM cannot move.

Run: ``.venv/bin/python benchmarks/count_instructions.py [--small 640] [--large 3200]
[--connections 64] [--database-url postgresql://postgres@127.0.0.1/postgres] [--keep DIR]``;
needs valgrind (Debian's ``valgrind``).  A script, not a test.

Wall-clock ratios (``bench_endpoint.py``) swing with the host: the raw ASGI baseline alone has
measured 7,000 to 31,000 requests/s on this VM within one hour.  ``callgrind`` counts the
instructions the server process executes in user space, whatever else the machine does, so
two versions of the code compare exactly (kernel work, fsync included, is not counted).

It starts ``powerdialer serve`` (SQLite in a temporary directory, or with ``--database-url`` a
fresh PostgreSQL database created on that server and dropped after; one worker) under
``valgrind --tool=callgrind`` twice: once answering ``--small`` requests, once ``--large``,
each a new number sent over ``--connections`` keep-alive connections by a client that sends
an exact count, then stops it with SIGINT (callgrind writes its totals at exit).  Startup
costs the same in both runs, so ``(large - small) / (large - small requests)`` is the cost of
one request.  On PostgreSQL only the server process is counted, not the PostgreSQL backend
that runs its statements.  ``--keep DIR`` keeps both callgrind files there (read them with
``callgrind_annotate``: which C functions, the interpreter's included, the instructions went
to).  Run it from each checkout to compare (BENCHMARKS.md, "The hot path after the
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

from bench_endpoint_lib import BIN, HERE, BenchError, Server, free_port, fresh_database, powerdialer

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


def count(requests: int, conns: int, tmp: Path, database_url: str | None) -> int:
    """Instructions of a whole server process that answered ``requests`` requests."""
    sub = tmp / f"db-{requests}"
    sub.mkdir()
    with fresh_database(database_url, sub) as url:
        project = powerdialer("project", "create", "bench", url=url)["id"]
        key = powerdialer("key", "create", "--project", str(project), url=url)["key"]
        campaign = powerdialer("campaign", "create", "--project", str(project), "c", url=url)
        serve = ["serve", "--workers", "1", "--no-access-log", "--no-bootstrap"]
        cmd = [str(BIN / "powerdialer"), *serve, "--database-url", url, "--port"]
        return _count(cmd, requests, conns, tmp / f"callgrind-{requests}.out", project, key,
                      campaign["id"])  # fmt: skip


def count_raw(requests: int, conns: int, tmp: Path) -> int:
    """The same for the raw ASGI baseline (``raw_asgi.py``) under the uvicorn options
    ``powerdialer serve`` passes (as ``bench_endpoint.py`` runs it)."""
    cmd = [str(BIN / "uvicorn"), "raw_asgi:app", "--app-dir", str(HERE), "--workers", "1"]
    cmd += ["--no-access-log", "--no-server-header", "--port"]
    return _count(cmd, requests, conns, tmp / f"callgrind-raw-{requests}.out", 1, "-", 1)


def _count(
    cmd: list[str], requests: int, conns: int, out: Path, project: int, key: str, campaign: int
) -> int:
    port = free_port()
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd, str(port)]
    env = dict(os.environ, POWERDIALER_RATE_LIMIT="0", PYTHONHASHSEED="0")
    server = Server("server under callgrind", cmd, port, out.with_suffix(".log"), env)
    try:
        server.wait_ready(timeout=1800)  # valgrind: Python 50x slower, more on a busy machine
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
    parser.add_argument(
        "--database-url", help="postgresql://… (a fresh database is made there); else SQLite"
    )
    parser.add_argument("--keep", type=Path, help="copy the callgrind files to this directory")
    parser.add_argument(
        "--raw", action="store_true", help="also count the raw ASGI baseline, print the ratio"
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        print("valgrind is needed: apt-get install valgrind", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="pd-count-") as tmp:
        small = count(args.small, args.connections, Path(tmp), args.database_url)
        large = count(args.large, args.connections, Path(tmp), args.database_url)
        if args.raw:
            raw_small = count_raw(args.small, args.connections, Path(tmp))
            raw_large = count_raw(args.large, args.connections, Path(tmp))
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            for out in Path(tmp).glob("callgrind-*.out"):
                shutil.copy(out, args.keep / out.name)
    per_request = (large - small) / (args.large - args.small)
    print(f"{args.small} requests: {small:,} instructions; {args.large}: {large:,}")
    print(f"per compatible request: {per_request:,.0f} instructions")
    if args.raw:
        raw = (raw_large - raw_small) / (args.large - args.small)
        print(f"per raw ASGI request: {raw:,.0f} instructions")
        # What the wall-clock ratio would be if both servers were CPU-bound on one core.
        print(f"raw / compatible: {raw / per_request:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
