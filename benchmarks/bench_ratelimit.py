"""The compatible endpoint with the per-key rate limit on: in process memory vs shared in Redis.

Run: ``.venv/bin/python benchmarks/bench_ratelimit.py [--duration 10] [--connections 16,64]
[--redis redis://127.0.0.1:6379/0] [--rounds 2] [--no-pin] [--json]``.

In one run it starts two ``powerdialer serve`` processes (one worker each, a fresh SQLite
database each) with the same limit (``--rate`` 20000/s, ``--burst`` 20000: "20000 per
second", above what one worker serves here, so nothing is refused and every request still
counts; raise both on a faster machine, as a 429 fails the run): one with
``POWERDIALER_RATE_LIMIT_STORAGE=memory``, one with the Redis URL (keys under a prefix of this
run's own, deleted at the end).  It loads them alternately with ``wrk`` (``rows.lua``) at each
connection count, ``--rounds`` times, and prints rows/s and latency for both and the ratio
redis/memory.  Exit 1 on any non-2xx answer or socket error.  A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

from bench_endpoint_lib import (
    BIN,
    SERVER_CPU,
    BenchError,
    Server,
    WrkResult,
    free_port,
    machine,
    pinned,
    powerdialer,
    require_tools,
    run_wrk,
    versions,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds a point (10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up a server")
    parser.add_argument("--connections", default="16,64", help="comma-separated (16,64)")
    parser.add_argument("--rounds", type=int, default=2, help="alternations a point (2)")
    parser.add_argument("--rate", default="20000", help="POWERDIALER_RATE_LIMIT (20000)")
    parser.add_argument("--burst", default="20000", help="POWERDIALER_RATE_LIMIT_BURST (20000)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0", help="the shared Redis")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no taskset")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args()
    args.connections = [int(c) for c in args.connections.split(",")]
    return args


def start(
    name: str, storage: str, prefix: str, tmp: Path, args: argparse.Namespace
) -> tuple[Server, dict]:
    url = f"sqlite:///{tmp / name}.db"
    project = powerdialer("project", "create", "bench", url=url)["id"]
    key = powerdialer("key", "create", "--project", str(project), url=url)["key"]
    campaign = powerdialer("campaign", "create", "--project", str(project), "c", url=url)["id"]
    env = dict(
        os.environ,
        POWERDIALER_RATE_LIMIT=args.rate,
        POWERDIALER_RATE_LIMIT_BURST=args.burst,
        POWERDIALER_RATE_LIMIT_STORAGE=storage,
        POWERDIALER_RATE_LIMIT_PREFIX=prefix,
    )
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
    server = Server(name, pinned(cmd, SERVER_CPU, args.pin), port, tmp / f"{name}.log", env)
    server.wait_ready()
    headers = {"Content-Type": "application/json", "x-project-id": str(project), "Auth-key": key}
    return server, {"headers": headers, "campaign": campaign}


def check(name: str, result: WrkResult) -> None:
    if result.non_2xx or result.socket_errors or not result.requests:
        raise BenchError(
            f"{name}: {result.non_2xx} non-2xx answers and {result.socket_errors} socket errors "
            f"in {result.requests} requests: not a measurement"
        )


def run(args: argparse.Namespace, tmp: Path, prefix: str) -> dict:
    servers = {
        "memory": start("memory", "memory", prefix, tmp, args),
        "redis": start("redis", args.redis, prefix, tmp, args),
    }
    points = []
    try:
        for name, (server, load) in servers.items():
            w = run_wrk(server, load["headers"], load["campaign"], 16, 1, args.warmup, args.pin)
            check(f"{name} warm-up", w)
        for c in args.connections:
            for _ in range(args.rounds):
                point: dict = {"connections": c}
                for name, (server, load) in servers.items():
                    result = run_wrk(
                        server, load["headers"], load["campaign"], c, 1, args.duration, args.pin
                    )
                    check(f"{name} at {c}", result)
                    point[name] = vars(result)
                mem, red = point["memory"], point["redis"]
                point["ratio"] = red["rps"] / mem["rps"]
                point["ratio_per_cpu"] = (red["rps"] / red["server_cpu"]) / (
                    mem["rps"] / mem["server_cpu"]
                )
                points.append(point)
    finally:
        for server, _ in servers.values():
            server.stop()
    return {
        "machine": machine(),
        "versions": versions("sqlite://"),
        "duration_s": args.duration,
        "limit": f"{args.rate}/s, burst {args.burst}",
        "points": points,
    }


def forget(redis_url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)


def main() -> int:
    args = parse_args()
    prefix = f"bench-{uuid.uuid4().hex}"
    try:
        require_tools(args.pin)
        with tempfile.TemporaryDirectory(prefix="bench_ratelimit_") as tmp:
            report = run(args, Path(tmp), prefix)
    except BenchError as error:
        print(f"bench_ratelimit: {error}", file=sys.stderr)
        return 1
    finally:
        forget(args.redis, prefix)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    m = report["machine"]
    print(f"{m['cpu']}, {m['cpus']} CPUs, {m['memory']}; {args.duration:g} s a point")
    print(
        "conns  memory rows/s  p50 ms  p99 ms  CPU   redis rows/s  p50 ms  p99 ms  CPU"
        "   redis/memory  per CPU-s"
    )
    for p in report["points"]:
        mem, red = p["memory"], p["redis"]
        print(
            f"{p['connections']:>5}  {mem['rps']:>13,.0f}  {mem['p50_ms']:>6.2f}  "
            f"{mem['p99_ms']:>6.2f}  {mem['server_cpu']:.2f}   {red['rps']:>12,.0f}  "
            f"{red['p50_ms']:>6.2f}  {red['p99_ms']:>6.2f}  {red['server_cpu']:.2f}   "
            f"{p['ratio']:>12.2f}  {p['ratio_per_cpu']:>9.2f}"
        )
    print("CPU: share of one CPU the server process used; per CPU-s: the ratio of rows/s per it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
