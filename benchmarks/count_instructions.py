"""Instructions a compatible request costs the server: a figure this shared VM cannot move.

Run: ``.venv/bin/python benchmarks/count_instructions.py [--small 640] [--large 3200]
[--connections 64] [--idempotency] [--cpu ROUNDS [--database-url postgresql://…]]``; needs
valgrind (Debian's ``valgrind``) but with ``--cpu``.  A script, not a test.

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

``--idempotency`` counts the same runs twice, without and with an ``Idempotency-Key`` on every
request (a new key each), and prints the keyed request's cost and ``unkeyed / keyed``: the
share of the unkeyed throughput a CPU-bound server keeps with keys.  ``--database-url`` (a
PostgreSQL server; each run gets a fresh database, dropped after) counts the service's own
process the same way and adds the CPU-seconds of its PostgreSQL backends (``/proc`` of the
backends ``pg_stat_activity`` lists for that database, read before and after the requests):
PostgreSQL's share of a request, which callgrind does not see; it needs ``--cpu``.

``--cpu ROUNDS`` runs no callgrind: one server per point, ``--small`` requests to warm up,
then the CPU-seconds (user + system, ``/proc``) of the server process and of its PostgreSQL
backends for ``--large`` more; ``ROUNDS`` times, keyed and unkeyed alternating, with the
median ratio.  Cruder than instructions (a neighbour's cache misses show in it), but it
takes seconds where callgrind takes many minutes on a busy machine.
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

from bench_endpoint_lib import BIN, BenchError, Server, free_port, fresh_database, powerdialer

PATH = b"/power-dialer/campaigns/campaign-rows"


async def _client(
    port: int,
    project: int,
    key: str,
    campaign: int,
    total: int,
    conns: int,
    keyed: bool,
    first: int,
) -> None:
    async def one(index: int, count: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = (
            b"POST " + PATH + b" HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
            b"x-project-id: %d\r\nAuth-key: %s\r\n" % (project, key.encode())
        )
        for number in range(count):
            body = b'{"campaignId": %d, "fio": "Ivan Petrenko", "phone_number": "38093%07d"}' % (
                campaign,
                first + index * 100_000 + number,
            )
            extra = b"Idempotency-Key: k-%d-%d\r\n" % (index, first + number) if keyed else b""
            writer.write(head + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body)
            answer = await reader.readuntil(b"\r\n\r\n")
            if not answer.startswith(b"HTTP/1.1 200"):
                raise BenchError(f"not 200: {answer[:80]!r}")
            length = re.search(rb"(?i)content-length: *(\d+)", answer)
            await reader.readexactly(int(length.group(1)) if length else 0)
        writer.close()

    shares = [total // conns + (i < total % conns) for i in range(conns)]
    await asyncio.gather(*(one(i, share) for i, share in enumerate(shares)))


def _backend_cpu(url: str) -> float:
    """CPU-seconds (user + system) the PostgreSQL backends of ``url``'s database have used."""
    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        pids = [
            pid
            for (pid,) in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        ]
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def count(
    requests: int,
    conns: int,
    tmp: Path,
    *,
    keyed: bool = False,
    database_url: str | None = None,
    cpu: int = 0,
) -> tuple[float, float]:
    """Instructions of a whole server process that answered ``requests`` requests, and the
    CPU-seconds its PostgreSQL backends spent on them (0 on SQLite).  ``cpu``: no callgrind;
    after ``requests`` requests to warm up, the CPU-seconds of the server process (user +
    system, ``/proc``) and of its backends for ``cpu`` more."""
    name = f"{'keyed' if keyed else 'plain'}-{requests}-{cpu}"
    run_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=tmp))
    with fresh_database(database_url, run_dir) as url:
        project = powerdialer("project", "create", "bench", url=url)["id"]
        key = powerdialer("key", "create", "--project", str(project), url=url)["key"]
        campaign = powerdialer("campaign", "create", "--project", str(project), "c", url=url)["id"]
        port, out = free_port(), run_dir / "callgrind.out"
        callgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        cmd = [
            *([] if cpu else callgrind),
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
        server = Server("powerdialer under callgrind", cmd, port, run_dir / "serve.log", env)
        backend = spent = 0.0
        try:
            server.wait_ready(timeout=600)  # valgrind runs Python some 50x slower
            asyncio.run(_client(port, project, key, campaign, requests, conns, keyed, 0))
            if cpu:
                before = _backend_cpu(url) if database_url else 0.0
                started = server.cpu_seconds()
                asyncio.run(_client(port, project, key, campaign, cpu, conns, keyed, requests))
                spent = server.cpu_seconds() - started
                backend = _backend_cpu(url) - before if database_url else 0.0
        finally:
            server.stop()
    if cpu:
        return spent, backend
    totals = re.search(r"^(?:summary|totals): (\d+)", out.read_text(), re.MULTILINE)
    if totals is None:
        raise BenchError(f"callgrind wrote no totals:\n{server.tail()}")
    return int(totals.group(1)), 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=640, help="requests of the first run")
    parser.add_argument("--large", type=int, default=3200, help="requests of the second run")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--idempotency",
        action="store_true",
        help="also count the runs with an Idempotency-Key on every request",
    )
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument(
        "--cpu",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="no callgrind: CPU-seconds of --large requests after --small ones, ROUNDS times "
        "alternating (a busy machine's cruder figure)",
    )
    args = parser.parse_args()
    if args.cpu:
        return cpu_main(args)
    if shutil.which("valgrind") is None:
        print("valgrind is needed: apt-get install valgrind", file=sys.stderr)
        return 2
    extra = args.large - args.small
    per: dict[bool, float] = {}
    with tempfile.TemporaryDirectory(prefix="pd-count-") as tmp:
        for keyed in (False, True) if args.idempotency else (False,):
            small, _ = count(args.small, args.connections, Path(tmp), keyed=keyed)
            large, _ = count(args.large, args.connections, Path(tmp), keyed=keyed)
            what = "with Idempotency-Key" if keyed else "compatible"
            per[keyed] = (large - small) / extra
            print(f"{what}: {args.small} requests: {small:,} instructions; {args.large}: {large:,}")
            print(f"per {what} request: {per[keyed]:,.0f} instructions")
    if args.idempotency:
        print(f"unkeyed / keyed instructions: {per[False] / per[True]:.3f}")
    return 0


def cpu_main(args: argparse.Namespace) -> int:
    """``--cpu``: CPU-µs a request of the server process (and of PostgreSQL's backends)."""
    kinds = (False, True) if args.idempotency else (False,)
    seen: dict[bool, list[tuple[float, float]]] = {k: [] for k in kinds}
    with tempfile.TemporaryDirectory(prefix="pd-count-") as tmp:
        for _round in range(args.cpu):
            for keyed in kinds:
                server, backend = count(
                    args.small,
                    args.connections,
                    Path(tmp),
                    keyed=keyed,
                    database_url=args.database_url,
                    cpu=args.large,
                )
                seen[keyed].append((server / args.large * 1e6, backend / args.large * 1e6))
                what = "keyed" if keyed else "unkeyed"
                print(f"{what}: server {seen[keyed][-1][0]:,.0f} CPU-µs a request, "
                      f"PostgreSQL backends {seen[keyed][-1][1]:,.0f}")  # fmt: skip
    if args.idempotency:
        for name, at in (("server", 0), ("server + backends", None)):
            ratios = sorted(
                (u[0] + (u[1] if at is None else 0)) / (k[0] + (k[1] if at is None else 0))
                for u, k in zip(seen[False], seen[True], strict=True)
            )
            print(f"unkeyed / keyed CPU ({name}): median {ratios[len(ratios) // 2]:.3f} "
                  f"of {', '.join(f'{r:.3f}' for r in ratios)}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
