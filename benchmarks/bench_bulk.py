"""Rows/s through the bulk endpoint against the compatible single-row endpoint, in one run.

Run: ``.venv/bin/python benchmarks/bench_bulk.py [--duration 10] [--rows 1000]
[--connections 1,4,16] [--compat-connections 64] [--database-url postgresql://...] [--no-pin]
[--json | --markdown] [--storage]``.

It starts ``powerdialer serve`` as a real process (one worker, a fresh database, durable commits
as always, the per-key rate limit off) and loads it with ``wrk`` — the same load generator for
both endpoints, pinned to the other CPU (``taskset``) unless ``--no-pin``:

- bulk: ``POST /power-dialer/campaigns/{id}/rows`` with ``--rows`` distinct numbers a request
  (a Lua script written to a temporary folder builds each body), at each connection count;
- baseline: ``POST /power-dialer/campaigns/campaign-rows``, one number a request
  (``rows.lua``), at ``--compat-connections``.

It prints rows/s, request latency and the bulk/compat ratio, and fails (exit 1) on any non-2xx
answer, socket error, or row count in the database that does not match the answers.

``--storage`` also times, in process, one 10,000-row "skip" write through SQLAlchemy Core
(``insert().on_conflict_do_nothing().returning()``, executemany) against the raw-driver
statements of ``storage/rows_write.py``: the measurement behind writing them by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_endpoint_lib import (
    BIN,
    SERVER_CPU,
    WRK_CPU,
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
from bench_endpoint_lib import parse_wrk as parse_wrk_output

BULK_LUA = """
-- Written by bench_bulk.py: every request posts ROWS distinct numbers; thread t numbers them
-- 380 + (930000000 + t * 10^7 + k), valid Ukrainian mobiles, distinct across threads.
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  rows = tonumber(args[1])
  base = 930000000 + tid * 10000000
  counter = 0
end
function request()
  local parts = {}
  for i = 1, rows do
    parts[i] = '{"phone_number":"380' .. (base + counter) .. '","fio":"Test"}'
    counter = counter + 1
  end
  return wrk.format("POST", nil, nil, '{"rows":[' .. table.concat(parts, ",") .. ']}')
end
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds a point (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    parser.add_argument("--rows", type=int, default=1000, help="rows a bulk request (1000)")
    parser.add_argument("--connections", default="1,4,16", help="bulk connections (1,4,16)")
    parser.add_argument("--compat-connections", type=int, default=64, help="baseline (64)")
    parser.add_argument("--database-url", help="postgresql://user@host/db (default: SQLite)")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no taskset")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print JSON")
    out.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--storage", action="store_true", help="also time Core vs raw SQL")
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    if not 1 <= args.rows <= 10_000 or min(args.connections) < 1:
        parser.error("--rows must be 1..10000 and connections >= 1")
    return args


def run_bulk_wrk(
    server: Server,
    headers: dict[str, str],
    lua: Path,
    url: str,
    rows: int,
    c: int,
    args: argparse.Namespace,
    duration: float,
) -> WrkResult:
    cmd = [
        "wrk",
        "--latency",
        "-t1",
        f"-c{c}",
        f"-d{duration:g}s",
        "--timeout",
        "30s",
        "-s",
        str(lua),
    ]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    cmd += [url, "--", str(rows)]
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    before_server, started = server.cpu_seconds(), time.monotonic()
    done = subprocess.run(
        pinned(cmd, WRK_CPU, args.pin), capture_output=True, text=True, check=False
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    wrk_cpu = (
        after.ru_utime + after.ru_stime - before_children.ru_utime - before_children.ru_stime
    ) / wall
    server_cpu = (server.cpu_seconds() - before_server) / wall
    return WrkResult(*parse_wrk_output(done.stdout), wrk_cpu=wrk_cpu, server_cpu=server_cpu)


def check(name: str, result: WrkResult) -> None:
    if result.non_2xx or result.socket_errors or not result.requests:
        raise BenchError(
            f"{name}: {result.non_2xx} non-2xx answers and {result.socket_errors} socket errors "
            f"in {result.requests} requests: not a measurement (see the server log)"
        )


def run(args: argparse.Namespace, tmp: Path) -> dict:
    lua = tmp / "bulk.lua"
    lua.write_text(BULK_LUA)
    with fresh_database(args.database_url, tmp) as url:
        project = powerdialer("project", "create", "bench", url=url)["id"]
        key = powerdialer("key", "create", "--project", str(project), url=url)["key"]
        names = ["warm-bulk", "warm-compat", "compat", *[f"bulk-{c}" for c in args.connections]]
        ids = {
            n: powerdialer("campaign", "create", "--project", str(project), n, url=url)["id"]
            for n in names
        }
        headers = {
            "Content-Type": "application/json",
            "x-project-id": str(project),
            "Auth-key": key,
        }
        port = free_port()
        cmd = [
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
        env = dict(os.environ, POWERDIALER_RATE_LIMIT="0")
        server = Server(
            "powerdialer", pinned(cmd, SERVER_CPU, args.pin), port, tmp / "svc.log", env
        )
        bulk_url = server.url + "/power-dialer/campaigns/{}/rows"
        points: list[dict] = []
        try:
            server.wait_ready()
            top = max(args.connections)
            check(
                "warm-up",
                run_bulk_wrk(
                    server,
                    headers,
                    lua,
                    bulk_url.format(ids["warm-bulk"]),
                    args.rows,
                    top,
                    args,
                    args.warmup,
                ),
            )
            check(
                "warm-up",
                run_wrk(
                    server,
                    headers,
                    ids["warm-compat"],
                    args.compat_connections,
                    1,
                    args.warmup,
                    args.pin,
                ),
            )
            compat = run_wrk(
                server, headers, ids["compat"], args.compat_connections, 1, args.duration, args.pin
            )
            check("compat", compat)
            for c in args.connections:
                result = run_bulk_wrk(
                    server,
                    headers,
                    lua,
                    bulk_url.format(ids[f"bulk-{c}"]),
                    args.rows,
                    c,
                    args,
                    args.duration,
                )
                check(f"bulk at {c}", result)
                points.append({"connections": c, "result": result})
        except BenchError:
            print(server.tail(), file=sys.stderr)
            raise
        finally:
            server.stop()
        stored = count_rows(url, list(ids.values()))
        if not compat.ok <= stored[ids["compat"]] <= compat.ok + args.compat_connections:
            raise BenchError(
                f"compat: {compat.ok} answers 200 but {stored[ids['compat']]} rows stored"
            )
        for point in points:
            c, result = point["connections"], point["result"]
            rows = stored[ids[f"bulk-{c}"]]
            if not result.ok * args.rows <= rows <= (result.ok + c) * args.rows:
                raise BenchError(f"bulk at {c}: {result.ok} answers 200 but {rows} rows stored")
            point["rows_stored"] = rows
        report = {
            "machine": machine(),
            "versions": versions(url),
            "database": url.split(":")[0],
            "duration_s": args.duration,
            "rows_per_request": args.rows,
            "pinned": args.pin,
            "compat": {
                "connections": args.compat_connections,
                **vars(compat),
                "rows_stored": stored[ids["compat"]],
            },
            "bulk": [
                {
                    "connections": p["connections"],
                    **vars(p["result"]),
                    "rows_per_s": p["result"].rps * args.rows,
                    "rows_stored": p["rows_stored"],
                    "ratio": p["result"].rps * args.rows / compat.rps,
                }
                for p in points
            ],
        }
    if args.storage:
        report["storage"] = time_storage(tmp)
    return report


def time_storage(tmp: Path, rows: int = 10_000, repeat: int = 5) -> dict[str, float]:
    """Seconds (best of ``repeat``) to store ``rows`` new numbers, Core vs raw."""
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from powerdialer import campaigns, projects
    from powerdialer.models import utcnow
    from powerdialer.storage import open_store
    from powerdialer.storage import rows_write as sql
    from powerdialer.storage.schema import campaign_rows

    store = open_store(f"sqlite:///{tmp / 'storage.db'}")
    project = projects.create_project(store, "storage")
    best = {"core": float("inf"), "raw": float("inf")}
    for attempt in range(repeat):
        for way in best:
            campaign = campaigns.create_campaign(store, project.id, f"{way}-{attempt}")
            values = [
                (None, f"380{930000000 + i}", f"+380{930000000 + i}", None, None)
                for i in range(rows)
            ]
            now = utcnow()
            started = time.perf_counter()
            if way == "raw":
                head = (project.id, campaign.id, "api")
                store.write(lambda conn, h=head, v=values, t=now: sql.insert_new(conn, h, v, t))
            else:
                dicts = [
                    {
                        "project_id": project.id,
                        "campaign_id": campaign.id,
                        "source": "api",
                        "fio": f,
                        "phone_raw": r,
                        "phone_e164": e,
                        "external_id": x,
                        "extra": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for f, r, e, x, _ in values
                ]
                query = (
                    sqlite_insert(campaign_rows)
                    .on_conflict_do_nothing()
                    .returning(campaign_rows.c.phone_e164, campaign_rows.c.id)
                )
                store.write(lambda conn, q=query, d=dicts: dict(conn.execute(q, d).all()))
            best[way] = min(best[way], time.perf_counter() - started)
    store.dispose()
    return best


def show_markdown(report: dict) -> None:
    m, v, c = report["machine"], report["versions"], report["compat"]
    print(
        f"{m['cpu']}, {m['cpus']} CPUs; Python {v['python']}, uvicorn {v['uvicorn']}, "
        f"{report['database']} {v.get('postgresql') or v['sqlite']}, wrk {v['wrk']}; "
        f"{report['duration_s']:g} s a point, {'pinned' if report['pinned'] else 'unpinned'}\n"
    )
    print(
        "| endpoint | connections | requests/s | rows/s | p50 ms | p99 ms | server CPU "
        "| rows per CPU-s | rows stored | vs compat | per CPU-s vs compat |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    per_cpu = c["rps"] / c["server_cpu"]
    print(
        f"| compat (1 row/request) | {c['connections']} | {c['rps']:,.0f} | {c['rps']:,.0f} | "
        f"{c['p50_ms']:.2f} | {c['p99_ms']:.2f} | {c['server_cpu']:.2f} | {per_cpu:,.0f} | "
        f"{c['rows_stored']:,} | 1.00 | 1.00 |"
    )
    for b in report["bulk"]:
        print(
            f"| bulk ({report['rows_per_request']} rows/request) | {b['connections']} | "
            f"{b['rps']:,.1f} | {b['rows_per_s']:,.0f} | {b['p50_ms']:.1f} | {b['p99_ms']:.1f} | "
            f"{b['server_cpu']:.2f} | {b['rows_per_s'] / b['server_cpu']:,.0f} | "
            f"{b['rows_stored']:,} | {b['ratio']:.2f} | "
            f"{b['rows_per_s'] / b['server_cpu'] / per_cpu:.2f} |"
        )
    if "storage" in report:
        s = report["storage"]
        print(
            f"\nStoring 10,000 new rows in one transaction (SQLite, best of 5): SQLAlchemy "
            f"Core {s['core'] * 1000:.0f} ms, raw driver {s['raw'] * 1000:.0f} ms "
            f"({s['core'] / s['raw']:.1f}x)."
        )


def main() -> int:
    args = parse_args()
    try:
        require_tools(args.pin)
        with tempfile.TemporaryDirectory(prefix="bench_bulk_") as tmp:
            report = run(args, Path(tmp))
    except BenchError as error:
        print(f"bench_bulk: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        show_markdown(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
