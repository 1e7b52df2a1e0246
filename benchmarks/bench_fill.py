"""``powerdialer fill --mode single`` against the article's way of sending rows.

The article's examples send one row per request, one request after another, each on a new
connection (Node's ``https.request`` without an agent, axios, curl in a loop).  This script
measures, against a local ``powerdialer serve`` (POWERDIALER_RATE_LIMIT=0):

1. ``powerdialer fill FILE --mode single`` (one row a request, the vendor's contract) with
   no tuning flags (the adaptive concurrency), and pinned at ``--concurrency`` connections
   and ``--rate`` requests a second;
2. the same rows sent the article's way: ``http.client`` with a new connection per request,
   sequentially (on a sample, extrapolated, when ``--naive-sample`` is set);
3. all again through a local proxy that adds ``--latency`` seconds to every request (the
   client→server direction of each connection is delayed; answers flow back at once), the
   naive way on ``--latency-sample`` rows and extrapolated;
4. for reference, ``--mode bulk`` directly, and the docs' first example as it stands (no
   flags: bulk at a powerdialer server) through the proxy.

Every fill is checked afterwards: the campaign holds exactly the file's rows.

    .venv/bin/python benchmarks/bench_fill.py                 # 100,000 rows, ~5 minutes
    .venv/bin/python benchmarks/bench_fill.py --rows 20000 --latency-sample 500
    .venv/bin/python benchmarks/bench_fill.py proxy --listen 9001 --upstream 9000 --delay 0.05

Results: benchmarks/results/fill.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
COMPAT = "/power-dialer/campaigns/campaign-rows"


# --- the latency proxy ---------------------------------------------------------------------


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, delay: float) -> None:
    """Copy bytes; with ``delay``, each chunk leaves ``delay`` seconds after it arrived, in
    order (a link with that much one-way latency and ample bandwidth)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def writer() -> None:
        while True:
            due, chunk = await queue.get()
            if not chunk:
                break
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            sink.write(chunk)
            await sink.drain()
        sink.close()

    task = asyncio.create_task(writer())
    try:
        while chunk := await source.read(1 << 16):
            queue.put_nowait((loop.time() + delay, chunk))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait((0.0, b""))
    with contextlib.suppress(ConnectionError, OSError):
        await task


async def _proxy(listen: int, upstream: int, delay: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(HOST, upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer, delay), _pipe(up_reader, writer, 0.0))

    server = await asyncio.start_server(handle, HOST, listen, backlog=1024)
    async with server:
        await server.serve_forever()


def run_proxy(listen: int, upstream: int, delay: float) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(_proxy(listen, upstream, delay))


# --- helpers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def powerdialer(*args: str, env: dict[str, str] | None = None) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "powerdialer", *args, "--json"],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    return json.loads(done.stdout)


def wait_ready(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def make_rows(count: int, path: Path) -> list[tuple[str, str]]:
    rows = [(f"Клієнт {i}", f"38067{1_000_000 + i:07d}") for i in range(count)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ПІБ", "Телефон"])
        writer.writerows(rows)
    return rows


def naive(port: int, project: int, key: str, campaign: int, rows: list[tuple[str, str]]) -> float:
    """The article's way: one request after another, a new connection each; rows a second."""
    started = time.perf_counter()
    for fio, phone in rows:
        body = json.dumps({"campaignId": campaign, "fio": fio, "phone_number": phone})
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        connection.request("POST", COMPAT, body=body.encode(), headers={
            "Content-Type": "application/json", "x-project-id": str(project), "Auth-key": key,
        })  # fmt: skip
        answer = connection.getresponse()
        payload = answer.read()
        connection.close()
        if answer.status != 200:
            raise RuntimeError(f"naive request failed: {answer.status} {payload!r}")
    return len(rows) / (time.perf_counter() - started)


def fill(
    file: Path, port: int, project: int, key: str, campaign: int, *args: str
) -> tuple[float, dict[str, Any]]:
    env = {**os.environ, "POWERDIALER_KEY": key, "NO_PROXY": HOST}
    command = [
        sys.executable, "-m", "powerdialer", "fill", str(file), "--campaign", str(campaign),
        "--url", f"http://{HOST}:{port}", "--project", str(project), "--json", "--silent",
        "--state", str(file.with_suffix(f".{campaign}.sqlite3")), *args,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"fill failed ({done.returncode}): {done.stderr}")
    summary: dict[str, Any] = json.loads(done.stdout)
    return elapsed, summary


def stored(port: int, project: int, key: str, campaign: int) -> int:
    request = urllib.request.Request(
        f"http://{HOST}:{port}/power-dialer/campaigns/{campaign}",
        headers={"x-project-id": str(project), "Auth-key": key},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(json.load(answer)["counts"]["rows"])


# --- the benchmark -------------------------------------------------------------------------


def bench(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-fill-"))
    db = f"sqlite:///{work / 'bench.db'}"
    env = {**os.environ, "POWERDIALER_DATABASE_URL": db}
    subprocess.run([sys.executable, "-m", "powerdialer", "migrate"], env=env, check=True,
                   capture_output=True)  # fmt: skip
    project = powerdialer("project", "create", "Bench", env=env)["id"]
    key = powerdialer("key", "create", "--project", str(project), env=env)["key"]
    names = ("fill", "naive", "fill-latency", "naive-latency", "bulk", "auto", "auto-latency",
             "bulk-latency")  # fmt: skip
    campaigns = {
        name: powerdialer("campaign", "create", name, "--project", str(project), env=env)["id"]
        for name in names
    }
    port, proxy_port = free_port(), free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "powerdialer", "serve", "--port", str(port), "--no-bootstrap"],
        env={**env, "POWERDIALER_RATE_LIMIT": "0"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    proxy = subprocess.Popen(
        [sys.executable, __file__, "proxy", "--listen", str(proxy_port),
         "--upstream", str(port), "--delay", str(args.latency)],
    )  # fmt: skip
    results: dict[str, Any] = {"rows": args.rows, "loadavg_before": os.getloadavg()}
    try:
        wait_ready(f"http://{HOST}:{port}")
        wait_ready(f"http://{HOST}:{proxy_port}")
        rows = make_rows(args.rows, work / "leads.csv")
        single = ("--mode", "single", "--concurrency", str(args.concurrency), "--rate",
                  str(args.rate))  # fmt: skip

        elapsed, summary = fill(work / "leads.csv", port, project, key, campaigns["auto"],
                                "--mode", "single")  # fmt: skip
        results["auto"] = {"seconds": elapsed, "rows_per_second": args.rows / elapsed,
                           "peak": summary["concurrency_peak"],
                           "end": summary["concurrency"]}  # fmt: skip
        print("fill (adaptive), direct:", results["auto"], flush=True)

        elapsed, summary = fill(work / "leads.csv", port, project, key, campaigns["fill"], *single)
        results["fill"] = {"seconds": elapsed, "rows_per_second": args.rows / elapsed,
                           "requests": summary["requests"]}  # fmt: skip
        print("fill, direct:", results["fill"], flush=True)

        sample = rows[: args.naive_sample or len(rows)]
        rate = naive(port, project, key, campaigns["naive"], sample)
        results["naive"] = {"rows_per_second": rate, "sample": len(sample)}
        print("naive, direct:", results["naive"], flush=True)

        elapsed, summary = fill(work / "leads.csv", proxy_port, project, key,
                                campaigns["fill-latency"], *single)  # fmt: skip
        results["fill_latency"] = {"seconds": elapsed, "rows_per_second": args.rows / elapsed}
        print("fill, +latency:", results["fill_latency"], flush=True)

        elapsed, summary = fill(work / "leads.csv", proxy_port, project, key,
                                campaigns["auto-latency"], "--mode", "single")  # fmt: skip
        results["auto_latency"] = {"seconds": elapsed, "rows_per_second": args.rows / elapsed,
                                   "peak": summary["concurrency_peak"],
                                   "end": summary["concurrency"]}  # fmt: skip
        print("fill (adaptive), +latency:", results["auto_latency"], flush=True)

        elapsed, summary = fill(work / "leads.csv", proxy_port, project, key,
                                campaigns["bulk-latency"])  # fmt: skip
        results["bulk_latency"] = {"seconds": elapsed, "rows_per_second": args.rows / elapsed,
                                   "mode": summary["mode"]}  # fmt: skip
        print("fill (the docs' first example), +latency:", results["bulk_latency"], flush=True)

        sample = rows[: args.latency_sample]
        rate = naive(proxy_port, project, key, campaigns["naive-latency"], sample)
        results["naive_latency"] = {"rows_per_second": rate, "sample": len(sample)}
        print("naive, +latency:", results["naive_latency"], flush=True)

        elapsed, summary = fill(work / "leads.csv", port, project, key, campaigns["bulk"],
                                "--mode", "bulk")  # fmt: skip
        results["bulk"] = {"seconds": elapsed, "rows_per_second": args.rows / elapsed}
        print("fill --mode bulk, direct:", results["bulk"], flush=True)

        for name in ("fill", "fill-latency", "bulk", "auto", "auto-latency", "bulk-latency"):
            count = stored(port, project, key, campaigns[name])
            assert count == args.rows, f"{name}: {count} rows stored, expected {args.rows}"
    finally:
        proxy.terminate()
        server.terminate()
        proxy.wait()
        server.wait()
    results["loadavg_after"] = os.getloadavg()
    report(results, args)


def report(results: dict[str, Any], args: argparse.Namespace) -> None:
    def line(name: str, key: str, naive_key: str) -> str:
        ours, theirs = results[key]["rows_per_second"], results[naive_key]["rows_per_second"]
        naive_seconds = args.rows / theirs
        return (
            f"| {name} | {ours:,.0f} rows/s ({results[key]['seconds']:.1f} s) | "
            f"{theirs:,.0f} rows/s ({naive_seconds:,.0f} s"
            f"{', extrapolated' if results[naive_key]['sample'] < args.rows else ''}) | "
            f"**{ours / theirs:.1f}×** |"
        )

    print()
    print(f"{args.rows:,} rows, `--mode single --concurrency {args.concurrency} "
          f"--rate {args.rate:g}`; load average before {results['loadavg_before'][0]:.1f}, "
          f"after {results['loadavg_after'][0]:.1f}")  # fmt: skip
    print()
    print("| path | `powerdialer fill` | the article's way | speed-up |")
    print("|---|---|---|---|")
    latency = f"+{args.latency * 1000:.0f} ms a request"
    print(line("direct (localhost), adaptive (no flags)", "auto", "naive"))
    print(line("direct (localhost), pinned", "fill", "naive"))
    print(line(f"{latency}, adaptive (no flags)", "auto_latency", "naive_latency"))
    print(line(f"{latency}, pinned", "fill_latency", "naive_latency"))
    print(line(f"{latency}, the docs' first example (bulk)", "bulk_latency", "naive_latency"))
    for key in ("auto", "auto_latency"):
        print(f"\n{key}: concurrency peak {results[key]['peak']}, at the end {results[key]['end']}")
    bulk = results["bulk"]
    print(f"\n`--mode bulk` (direct): {bulk['rows_per_second']:,.0f} rows/s "
          f"({bulk['seconds']:.1f} s)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    proxy = sub.add_parser("proxy", help="run only the latency proxy")
    proxy.add_argument("--listen", type=int, required=True)
    proxy.add_argument("--upstream", type=int, required=True)
    proxy.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=5000.0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--naive-sample", type=int, default=0, help="0: every row")
    parser.add_argument("--latency-sample", type=int, default=2000)
    args = parser.parse_args()
    if args.command == "proxy":
        run_proxy(args.listen, args.upstream, args.delay)
    else:
        bench(args)


if __name__ == "__main__":
    main()
