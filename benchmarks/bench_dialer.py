"""The dialer over HTTP: next-contact and outcome latency and throughput at 50 and 200
operators, beside the compatible endpoint measured in the same run, and next-contact latency
while a big import runs into another campaign.

Run: ``.venv/bin/python benchmarks/bench_dialer.py [--operators 50,200] [--duration 15]
[--think 0.2] [--rows 10000] [--import-rows 1000000] [--database-url postgresql://…]
[--no-pin] [--json]``.  A script, not a test.

In one run, as real processes on free ports: ``powerdialer serve`` (one worker, a fresh
database, durable commits) and the raw ASGI app of ``raw_asgi.py`` (the endpoint benchmark's
baseline).  The server runs on CPU 0; wrk and the operators (asyncio tasks over aiohttp:
httpx's client tops out near 600 requests/s, docs/architecture.md) on CPU 1, unless
``--no-pin``.  Steps, each ``--duration`` seconds:

1. the compatible endpoint alone (wrk, 64 connections, ``rows.lua``) and the raw baseline:
   their ratio, as ``bench_endpoint.py`` reports it;
2. per operator count: every operator loops next → ``--think`` seconds (200 ms: a client
   that shows the contact and the operator's click, kept short to load the server) →
   outcome (``no_answer`` or ``busy``, retried at once, so the campaign never runs dry);
   p50/p99 of each call and outcomes/s;
3. the largest operator count again with wrk on the compatible endpoint at the same time:
   the endpoint's rows/s and its ratio to the raw baseline of step 1, against step 1's;
4. the largest operator count while a ``--import-rows`` CSV is imported into another
   campaign (POST /power-dialer/campaigns/{id}/imports): next-contact p50/p99 meanwhile.

Beside every operator step, a thread fsyncs a 4 KiB write in the run's directory 50 times a
second: the disk's own fsync p50/p99 meanwhile, the floor under any durable commit's
latency on this (shared) machine, reported with the step.

Any answer that is not 200 stops the run (exit 1): a benchmark of errors is worthless.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
from bench_endpoint import check as check_wrk
from bench_endpoint import start_servers
from bench_endpoint_lib import (
    BenchError,
    fresh_database,
    machine,
    powerdialer,
    require_tools,
    run_wrk,
    versions,
)

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RULES = {
    "lease_seconds": 600,
    "max_attempts": 100,
    "retry": {code: {"delay_minutes": 0} for code in ("no_answer", "busy")},
    "hours": {"profile": "custom", "days": {day: ["00:00-24:00"] for day in DAYS}},
}
WRK_CONNECTIONS = 64


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--operators", default="50,200", help="comma-separated (50,200)")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds a step (15)")
    parser.add_argument("--think", type=float, default=0.2, help="seconds between calls (0.2)")
    parser.add_argument("--rows", type=int, default=10_000, help="rows the operators work")
    parser.add_argument("--import-rows", type=int, default=1_000_000, help="0: no import step")
    parser.add_argument("--database-url", help="postgresql://user@host/db (default: SQLite)")
    parser.add_argument("--no-pin", dest="pin", action="store_false", help="no taskset")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    args.operators = [int(n) for n in args.operators.split(",")]
    return args


def add_operators(url: str, project_id: int, count: int) -> list[int]:
    """Members with one shared password hash (``add_member`` hashes one per user: slow)."""
    from powerdialer.accounts.passwords import hash_password
    from powerdialer.models import utcnow
    from powerdialer.storage import open_store
    from powerdialer.storage.accounts import insert_user, upsert_membership

    store, password, now = open_store(url, migrate=False), hash_password("bench-pw-1"), utcnow()

    def run(conn: Any) -> list[int]:
        ids = []
        for n in range(count):
            user = insert_user(conn, f"op{n}@example.com", password, "", "uk", now)
            upsert_membership(conn, project_id, user.id, "operator", now)
            ids.append(user.id)
        return ids

    try:
        return store.write(run)
    finally:
        store.dispose()


def quantiles(waits: list[float]) -> dict[str, float]:
    waits = sorted(waits)
    if not waits:
        return {"n": 0, "p50_ms": 0.0, "p99_ms": 0.0}
    at = lambda q: waits[min(len(waits) - 1, int(len(waits) * q))] * 1000  # noqa: E731
    return {"n": len(waits), "p50_ms": at(0.5), "p99_ms": at(0.99), "max_ms": waits[-1] * 1000}


async def operators(
    base: str,
    headers: dict[str, str],
    campaign: int,
    ids: list[int],
    duration: float,
    think: float,
    stop: asyncio.Event | None = None,
) -> dict[str, Any]:
    """Every operator loops next → think → outcome for ``duration`` seconds (or until
    ``stop`` is set)."""
    stop = stop or asyncio.Event()
    waits: dict[str, list[float]] = {"next": [], "outcome": []}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(base, headers=headers, connector=connector) as session:
        end = time.monotonic() + duration

        async def call(name: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
            started = time.monotonic()
            async with session.post(path, json=body) as answer:
                found = await answer.json()
                if answer.status != 200:
                    raise BenchError(f"{name}: {answer.status} {found}")
            waits[name].append(time.monotonic() - started)
            return found  # type: ignore[no-any-return]

        async def work(me: int, n: int) -> None:
            await asyncio.sleep(think * n / len(ids))  # spread the starts over one think time
            while time.monotonic() < end and not stop.is_set():
                got = await call("next", f"/power-dialer/campaigns/{campaign}/dialer/next",
                                 {"operator_id": me})  # fmt: skip
                if got["lease"] is None:
                    raise BenchError(f"no contact to hand out: {got['none']}")
                await asyncio.sleep(think)
                code = "busy" if n % 2 else "no_answer"
                await call("outcome", f"/power-dialer/leases/{got['lease']['lease_id']}/outcome",
                           {"operator_id": me, "outcome": code})  # fmt: skip

        started = time.monotonic()
        await asyncio.gather(*(work(me, n) for n, me in enumerate(ids)))
        wall = time.monotonic() - started
    return {
        "operators": len(ids),
        "next": quantiles(waits["next"]),
        "outcome": quantiles(waits["outcome"]),
        "outcomes_per_s": len(waits["outcome"]) / wall,
    }


class FsyncProbe:
    """fsyncs a 4 KiB write in ``folder`` every 20 ms on a thread, until stopped."""

    def __init__(self, folder: Path) -> None:
        self.path, self.waits, self.done = folder / "fsync.probe", [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while not self.done.wait(0.02):
                os.write(fd, b"x" * 4096)
                started = time.monotonic()
                os.fsync(fd)
                self.waits.append(time.monotonic() - started)
        finally:
            os.close(fd)

    def __enter__(self) -> FsyncProbe:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.thread.join()

    def report(self) -> dict[str, float]:
        return quantiles(self.waits)


def probed(folder: Path, work: Any) -> dict[str, Any]:
    """``asyncio.run(work)`` with the fsync probe beside it; its figures as ``fsync``."""
    with FsyncProbe(folder) as probe:
        result: dict[str, Any] = asyncio.run(work)
    return {**result, "fsync": probe.report()}


def generated_csv(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8") as out:
        out.write("phone;name\n")
        out.writelines(f"38067{n:07d};Contact {n}\n" for n in range(rows))
    return path


async def import_meanwhile(
    base: str, headers: dict[str, str], campaign: int, csv: Path, work: Any
) -> dict[str, Any]:
    """Upload ``csv``, then run ``work`` (the operators) until the job is done."""
    async with aiohttp.ClientSession(base, headers=headers) as session:
        started = time.monotonic()
        form = aiohttp.FormData()
        form.add_field("file", csv.open("rb"), filename="big.csv", content_type="text/csv")
        async with session.post(f"/power-dialer/campaigns/{campaign}/imports", data=form) as a:
            job = await a.json()
            if a.status != 202:
                raise BenchError(f"import: {a.status} {job}")
        uploaded = time.monotonic() - started
        stop = asyncio.Event()

        async def follow() -> dict[str, Any]:
            while True:
                async with session.get(f"/power-dialer/imports/{job['id']}") as a:
                    found: dict[str, Any] = await a.json()
                if found["status"] in ("done", "failed"):
                    stop.set()
                    return found
                await asyncio.sleep(0.5)

        at_end, during = await asyncio.gather(follow(), work(stop))
        return {
            "rows": at_end.get("supplied"),
            "inserted": at_end.get("inserted"),
            "status": at_end["status"],
            "upload_s": uploaded,
            "import_s": time.monotonic() - started,
            "operators": during,
        }


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    with fresh_database(args.database_url, tmp) as url:
        project = powerdialer("project", "create", "bench", url=url)["id"]
        key = powerdialer("key", "create", "--project", str(project), url=url)["key"]

        def campaign(name: str) -> int:
            return int(
                powerdialer("campaign", "create", "--project", str(project), name, url=url)["id"]
            )

        dialed, compat, compat_busy, imported = (campaign(n) for n in ("d", "c", "cb", "i"))
        ids = add_operators(url, project, max(args.operators))
        headers = {"x-project-id": str(project), "Auth-key": key}
        report: dict[str, Any] = {
            "machine": machine(),
            "versions": versions(url),
            "database": url.split(":")[0],
            "duration_s": args.duration,
            "think_s": args.think,
            "rows": args.rows,
            "pinned": args.pin,
        }
        raw, svc = start_servers(url, tmp, args.pin)
        try:
            asyncio.run(setup(svc.url, headers, dialed, args.rows))
            wrk = {**headers, "Content-Type": "application/json"}
            top = max(args.operators)
            check_wrk("warm-up", run_wrk(svc, wrk, compat, WRK_CONNECTIONS, 1, 2, args.pin))
            base = run_wrk(raw, wrk, 0, WRK_CONNECTIONS, 1, args.duration, args.pin)
            alone = run_wrk(svc, wrk, compat, WRK_CONNECTIONS, 1, args.duration, args.pin)
            check_wrk("raw", base)
            check_wrk("compatible endpoint", alone)
            report["compat_alone"] = {**vars(alone), "ratio": alone.rps / base.rps}
            report["raw"] = vars(base)
            print(json.dumps(report["compat_alone"]), file=sys.stderr)
            report["points"] = []
            for n in args.operators:
                point = operators(svc.url, headers, dialed, ids[:n], args.duration, args.think)
                report["points"].append(probed(tmp, point))
                print(json.dumps(report["points"][-1]), file=sys.stderr)
            report["with_compat"] = probed(
                tmp, with_wrk(svc, wrk, compat_busy, headers, dialed, ids[:top], args)
            )
            busy = report["with_compat"]["compat"]
            report["with_compat"]["compat"]["ratio"] = busy["rps"] / base.rps
            print(json.dumps(report["with_compat"]), file=sys.stderr)
            if args.import_rows:
                csv = generated_csv(tmp / "big.csv", args.import_rows)

                def work(stop: asyncio.Event) -> Any:
                    return operators(svc.url, headers, dialed, ids[:top], 3600, args.think, stop)

                report["during_import"] = probed(
                    tmp, import_meanwhile(svc.url, headers, imported, csv, work)
                )
        except BenchError:
            print(svc.tail(), file=sys.stderr)
            raise
        finally:
            raw.stop()
            svc.stop()
    return report


async def setup(base: str, headers: dict[str, str], campaign: int, rows: int) -> None:
    async with aiohttp.ClientSession(base, headers=headers) as session:
        for start in range(0, rows, 5000):
            body = {
                "rows": [
                    {"phone_number": f"38093{n:07d}"} for n in range(start, min(rows, start + 5000))
                ]
            }
            async with session.post(f"/power-dialer/campaigns/{campaign}/rows", json=body) as a:
                if a.status != 200:
                    raise BenchError(f"rows: {a.status} {await a.text()}")
        async with session.put(f"/power-dialer/campaigns/{campaign}/dialer/rules", json=RULES) as a:
            if a.status != 200:
                raise BenchError(f"rules: {a.status} {await a.text()}")


async def with_wrk(
    svc: Any, wrk: dict[str, str], compat: int, headers: dict[str, str], dialed: int,
    ids: list[int], args: argparse.Namespace,
) -> dict[str, Any]:  # fmt: skip
    """The operators and wrk on the compatible endpoint at the same time."""
    load = asyncio.to_thread(run_wrk, svc, wrk, compat, WRK_CONNECTIONS, 1, args.duration, args.pin)
    ops = operators(svc.url, headers, dialed, ids, args.duration, args.think)
    result, work = await asyncio.gather(load, ops)
    # Not check_wrk: here wrk's timeouts (2 s) are the measurement, reported as they are.
    return {"compat": vars(result), "operators": work}


def show(report: dict[str, Any]) -> None:
    v, m = report["versions"], report["machine"]
    print(f"{m['cpu']}, {m['cpus']} CPUs; Python {v['python']}; {report['database']} "
          f"{v.get('postgresql') or v['sqlite']}; {report['duration_s']:g} s a step, think "
          f"{report['think_s'] * 1000:.0f} ms, {report['rows']:,} rows")  # fmt: skip
    alone, raw = report["compat_alone"], report["raw"]
    print(f"compatible endpoint alone: {alone['rps']:,.0f} rows/s, p99 {alone['p99_ms']:.1f} ms; "
          f"raw {raw['rps']:,.0f} req/s; ratio {alone['ratio']:.2f}")  # fmt: skip
    busy_ops = {**report["with_compat"]["operators"], "fsync": report["with_compat"]["fsync"]}
    for point in [*report["points"], busy_ops]:
        n, o, f = point["next"], point["outcome"], point["fsync"]
        print(f"{point['operators']:>4} operators: next p50 {n['p50_ms']:.1f} "
              f"p99 {n['p99_ms']:.1f} "
              f"ms; outcome p50 {o['p50_ms']:.1f} p99 {o['p99_ms']:.1f} ms; "
              f"{point['outcomes_per_s']:,.0f} outcomes/s; disk fsync p50 {f['p50_ms']:.1f} "
              f"p99 {f['p99_ms']:.1f} ms")  # fmt: skip
    busy = report["with_compat"]["compat"]
    print(f"compatible endpoint beside the operators: {busy['rps']:,.0f} rows/s "
          f"({busy['socket_errors']} socket errors, {busy['non_2xx']} non-2xx), p99 "
          f"{busy['p99_ms']:.1f} ms, ratio {busy['ratio']:.2f} "
          f"(alone {alone['ratio']:.2f})")  # fmt: skip
    if "during_import" in report:
        d = report["during_import"]
        n = d["operators"]["next"]
        f = d["fsync"]
        print(f"during an import of {d['rows']:,} rows ({d['status']}, {d['import_s']:.0f} s): "
              f"next p50 {n['p50_ms']:.1f} p99 {n['p99_ms']:.1f} ms; disk fsync p99 "
              f"{f['p99_ms']:.1f} ms")  # fmt: skip


def main() -> int:
    args = parse_args()
    try:
        require_tools(args.pin)
        with tempfile.TemporaryDirectory(prefix="bench_dialer_") as tmp:
            report = run(args, Path(tmp))
    except BenchError as error:
        print(f"bench_dialer: {error}", file=sys.stderr)
        return 1
    print(json.dumps(report, indent=2)) if args.json else show(report)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("POWERDIALER_RATE_LIMIT", "0")
    sys.exit(main())
