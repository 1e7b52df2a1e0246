"""The compatible endpoint with metrics and JSON request logs on, against the same service
with both off, in one sitting.

Run: ``.venv/bin/python benchmarks/bench_metrics.py [--duration 10] [--connections 16]
[--rounds 2] [--no-pin]``.  Starts three ``powerdialer serve`` processes over one fresh SQLite
database (off; POWERDIALER_METRICS=1; POWERDIALER_METRICS=1 with POWERDIALER_LOG_FORMAT=json,
its lines to a file) and loads them in turn with ``wrk`` (``rows.lua``), ``--rounds`` times,
so the three are measured seconds apart.  Prints rows/s and p99 for each and the ratios to
off.  Fails on any non-2xx answer or socket error.  A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
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

MODES = {
    "off": {},
    "metrics": {"POWERDIALER_METRICS": "1"},
    "metrics+json log": {"POWERDIALER_METRICS": "1", "POWERDIALER_LOG_FORMAT": "json"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-pin", dest="pin", action="store_false")
    args = parser.parse_args()
    require_tools(args.pin)
    with tempfile.TemporaryDirectory() as name, fresh_database(None, Path(name)) as url:
        tmp = Path(name)
        project = powerdialer("project", "create", "bench", url=url)["id"]
        key = powerdialer("key", "create", "--project", str(project), url=url)["key"]
        campaign = powerdialer("campaign", "create", "--project", str(project), "c", url=url)
        headers = {
            "Content-Type": "application/json",
            "x-project-id": str(project),
            "Auth-key": key,
        }
        servers = {}
        for mode, extra in MODES.items():
            port = free_port()
            env = dict(os.environ, POWERDIALER_RATE_LIMIT="0", **extra)
            cmd = [str(BIN / "powerdialer"), "serve", "--port", str(port), "--no-bootstrap"]
            cmd += ["--database-url", url]
            log = tmp / f"{mode.replace('+', '_').replace(' ', '_')}.log"
            servers[mode] = Server(mode, pinned(cmd, SERVER_CPU, args.pin), port, log, env)
        results: dict[str, list] = {mode: [] for mode in MODES}
        try:
            for server in servers.values():
                server.wait_ready()
                run_wrk(server, headers, campaign["id"], args.connections, 1, 2.0, args.pin)
            for _ in range(args.rounds):
                for mode, server in servers.items():
                    c = args.connections
                    r = run_wrk(server, headers, campaign["id"], c, 1, args.duration, args.pin)
                    if r.non_2xx or r.socket_errors:
                        raise BenchError(f"{mode}: {r.non_2xx} non-2xx, {r.socket_errors} errors")
                    results[mode].append(r)
        finally:
            for server in servers.values():
                server.stop()
    off = max(r.rps for r in results["off"])
    off_cpu = max(r.rps / r.server_cpu for r in results["off"])
    summary = {
        mode: {
            "rows_per_s": [round(r.rps) for r in rs],
            "p99_ms": [r.p99_ms for r in rs],
            # Per CPU-second of the server process: steadier when neighbours steal CPU 0.
            "rows_per_cpu_s": [round(r.rps / r.server_cpu) for r in rs],
            "best_ratio_to_off": round(max(r.rps for r in rs) / off, 3),
            "best_per_cpu_ratio_to_off": round(max(r.rps / r.server_cpu for r in rs) / off_cpu, 3),
        }
        for mode, rs in results.items()
    }
    print(json.dumps({"machine": machine(), "connections": args.connections, **summary}, indent=1))


if __name__ == "__main__":
    main()
