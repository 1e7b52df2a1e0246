"""Throughput and latency of ``POST /power-dialer/campaigns/campaign-rows``, against a baseline.

Run: ``.venv/bin/python benchmarks/bench_endpoint.py [--duration 10] [--connections 1,16,64]
[--database-url postgresql://postgres@127.0.0.1/test] [--no-pin] [--idempotency] [--json]``.

``--idempotency`` also loads the service with every request carrying its own
``Idempotency-Key`` (right after the same point without), and reports the keyed rows/s and
their share of the unkeyed (the issue's target: at least 0.8).

In one run it starts, as real processes on free ports, ``powerdialer serve`` (one worker, a
fresh database, durable commits as always, the per-key rate limit off) and the minimal ASGI app
in ``raw_asgi.py`` under the same uvicorn options, then loads each with ``wrk`` (``rows.lua``:
every request a distinct phone number) at each connection count: baseline then service, so the
two are measured seconds apart on a noisy machine. The server runs on CPU 0 and wrk on CPU 1
(``taskset``) unless ``--no-pin``. It prints rows/s, p50 and p99 latency for both and their
ratio, and fails (exit 1) on any non-2xx answer, socket error, or a row count in the database
that does not match the answers: a benchmark of errors is worthless. A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench_endpoint_lib import (
    BIN,
    HERE,
    SERVER_CPU,
    BenchError,
    Server,
    WrkResult,
    count_rows,
    free_port,
    fresh_database,
    machine,
    pinned,
    powerdialer,
    require_tools,
    run_wrk,
    versions,
)
from rich.console import Console
from rich.table import Table

BUSY = 0.9  # below this share of a CPU at full load, the raw baseline was starved
TARGET = 0.5  # the goal: service rows/s >= half the raw ASGI app's requests/s


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds a point (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up a server")
    parser.add_argument("--connections", default="1,16,64", help="comma-separated (1,16,64)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads, <= connections")
    parser.add_argument(
        "--database-url",
        help="postgresql://user@host/db: a fresh database "
        "is created on that server and dropped after (default: SQLite file)",
    )
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no taskset")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--idempotency",
        action="store_true",
        help="also measure each point with an Idempotency-Key on every request",
    )
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    if not 1 <= args.threads <= 7 or min(args.connections) < 1:
        parser.error("--threads must be 1..7 (rows.lua's number ranges), connections >= 1")
    return args


def start_servers(url: str, tmp: Path, pin: bool) -> tuple[Server, Server]:
    env = dict(os.environ, POWERDIALER_RATE_LIMIT="0")  # the per-key limit would 429 us
    # uvicorn as ``powerdialer serve`` runs it (cli/serve.py): one worker, no access log, no
    # Server header, loop and http "auto" (uvloop and httptools when installed, as here).
    raw_port, svc_port = free_port(), free_port()
    raw_cmd = [
        str(BIN / "uvicorn"),
        "raw_asgi:app",
        "--app-dir",
        str(HERE),
        "--host",
        "127.0.0.1",
        "--port",
        str(raw_port),
        "--workers",
        "1",
        "--no-access-log",
        "--no-server-header",
        "--timeout-graceful-shutdown",
        "10",
    ]
    svc_cmd = [
        str(BIN / "powerdialer"),
        "serve",
        "--port",
        str(svc_port),
        "--workers",
        "1",
        "--no-access-log",
        "--no-bootstrap",
        "--database-url",
        url,
    ]
    raw = Server("raw ASGI", pinned(raw_cmd, SERVER_CPU, pin), raw_port, tmp / "raw.log", env)
    svc = Server("powerdialer", pinned(svc_cmd, SERVER_CPU, pin), svc_port, tmp / "svc.log", env)
    raw.wait_ready()
    svc.wait_ready()
    return raw, svc


def check(name: str, result: WrkResult) -> None:
    if result.non_2xx or result.socket_errors or not result.requests:
        raise BenchError(
            f"{name}: {result.non_2xx} non-2xx answers and {result.socket_errors} socket errors "
            f"in {result.requests} requests: not a measurement (see the server log above)"
        )


def run(args: argparse.Namespace, tmp: Path) -> dict:
    with fresh_database(args.database_url, tmp) as url:
        project = powerdialer("project", "create", "bench", url=url)["id"]
        key = powerdialer("key", "create", "--project", str(project), url=url)["key"]
        campaigns = {
            c: powerdialer("campaign", "create", "--project", str(project), f"c{c}", url=url)["id"]
            for c in [0, *args.connections, *(-c for c in args.connections if args.idempotency)]
        }  # 0: warm-up; -c: the keyed run at c connections
        headers = {
            "Content-Type": "application/json",
            "x-project-id": str(project),
            "Auth-key": key,
        }
        facts = {
            "machine": machine(),
            "versions": versions(url),
            "database": url.split(":")[0],
            "duration_s": args.duration,
            "wrk_threads": args.threads,
            "pinned": args.pin,
        }
        raw, svc = start_servers(url, tmp, args.pin)
        points, service = [], {}
        try:
            top, t = max(args.connections), min(args.threads, max(args.connections))
            for server in (raw, svc):  # warm-up, not reported
                check(
                    server.name,
                    run_wrk(server, headers, campaigns[0], top, t, args.warmup, args.pin),
                )
            for c in args.connections:
                threads = min(args.threads, c)
                base = run_wrk(raw, headers, 0, c, threads, args.duration, args.pin)
                check(f"raw ASGI at {c}", base)
                result = run_wrk(svc, headers, campaigns[c], c, threads, args.duration, args.pin)
                check(f"powerdialer at {c}", result)
                service[c] = result
                if args.idempotency:
                    keyed = run_wrk(
                        svc, headers, campaigns[-c], c, threads, args.duration, args.pin,
                        ("idempotency",),
                    )  # fmt: skip
                    check(f"powerdialer with Idempotency-Key at {c}", keyed)
                    service[-c] = keyed
                points.append(
                    {
                        "connections": c,
                        "service": vars(result),
                        "baseline": vars(base),
                        "ratio": result.rps / base.rps,
                        # Per CPU-second of the server process: steadier when neighbours
                        # steal CPU 0 (the two runs may not get the same share of it).
                        "ratio_per_cpu": (result.rps / result.server_cpu)
                        / (base.rps / base.server_cpu),
                    }
                )
                if args.idempotency:
                    points[-1]["keyed"] = vars(service[-c])
                    points[-1]["keyed_ratio"] = service[-c].rps / result.rps
        except BenchError:
            print(svc.tail(), file=sys.stderr)
            raise
        finally:
            raw.stop()
            svc.stop()
        by_campaign = count_rows(url, list(campaigns.values()))
        stored = {c: by_campaign[campaigns[c]] for c in service}
        for c, result in service.items():
            # Requests in flight when wrk stopped may be stored without wrk seeing the answer.
            if not result.ok <= stored[c] <= result.ok + abs(c):
                raise BenchError(
                    f"at {c} connections wrk counted {result.ok} answers 200 but "
                    f"the database holds {stored[c]} rows: a lost or bogus ack"
                )
            if c > 0:
                points[args.connections.index(c)]["rows_stored"] = stored[c]
    return {**facts, "points": points}


def show(report: dict) -> None:
    console = Console(width=shutil.get_terminal_size((120, 24)).columns)
    v, m = report["versions"], report["machine"]
    console.print(
        f"{m['cpu']}, {m['cpus']} CPUs, {m['memory']}; Python {v['python']}, uvicorn "
        f"{v['uvicorn']}, database {report['database']} "
        f"{v.get('postgresql') or v['sqlite']}; {report['duration_s']:g} s a point, "
        f"wrk -t{report['wrk_threads']}, {'pinned' if report['pinned'] else 'unpinned'}"
    )
    table = Table(
        "conns",
        "rows/s",
        "p50",
        "p99",
        "raw req/s",
        "raw p50",
        "raw p99",
        "ratio",
        "per CPU",
        "server CPU",
        "wrk CPU",
        "stored",
    )
    for p in report["points"]:
        s, b = p["service"], p["baseline"]
        table.add_row(
            str(p["connections"]),
            f"{s['rps']:,.0f}",
            f"{s['p50_ms']:.2f}",
            f"{s['p99_ms']:.2f}",
            f"{b['rps']:,.0f}",
            f"{b['p50_ms']:.2f}",
            f"{b['p99_ms']:.2f}",
            f"{p['ratio']:.2f}",
            f"{p['ratio_per_cpu']:.2f}",
            f"{s['server_cpu']:.2f}/{b['server_cpu']:.2f}",
            f"{s['wrk_cpu']:.2f}/{b['wrk_cpu']:.2f}",
            f"{p['rows_stored']:,}",
        )
    console.print(table)
    for p in report["points"]:
        if "keyed" in p:
            k = p["keyed"]
            console.print(
                f"with Idempotency-Key at {p['connections']} connections: {k['rps']:,.0f} rows/s "
                f"(p50 {k['p50_ms']:.2f} ms, p99 {k['p99_ms']:.2f} ms), "
                f"{p['keyed_ratio']:.2f} of without"
            )
    console.print("latency in ms; CPU: share of one CPU used, service/raw; stored: rows in the db")
    last = max(report["points"], key=lambda p: p["connections"])
    verdict = "meets" if last["ratio"] >= TARGET else "is BELOW"
    console.print(
        f"ratio at {last['connections']} connections: {last['ratio']:.2f}, which {verdict} the "
        f"{TARGET} target (per server CPU-second: {last['ratio_per_cpu']:.2f})"
    )
    if last["baseline"]["server_cpu"] < BUSY:
        console.print(
            f"warning: the baseline server got only {last['baseline']['server_cpu']:.2f} of a "
            "CPU at full load: the machine is busy and the ratio is unreliable; rerun"
        )


def main() -> int:
    args = parse_args()
    try:
        require_tools(args.pin)
        with tempfile.TemporaryDirectory(prefix="bench_endpoint_") as tmp:
            report = run(args, Path(tmp))
    except BenchError as error:
        print(f"bench_endpoint: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        show(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
