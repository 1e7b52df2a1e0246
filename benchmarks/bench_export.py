"""Exporting a large campaign as CSV and XLSX through the real HTTP endpoint, against a baseline.

Run: ``.venv/bin/python benchmarks/bench_export.py [--rows 1000000] [--output FILE]``.

In one run it fills a fresh SQLite database with ``--rows`` rows in one campaign (multi-row
INSERTs through ``storage.rows_intake.insert_rows``; every tenth row also gets an external id and
two custom fields), starts ``powerdialer serve`` on a free localhost port as a real process,
downloads ``GET /power-dialer/campaigns/{id}/export?format=csv`` and then ``format=xlsx`` with
httpx, sampling the server's resident memory (``/proc/<pid>/status``) every 20 ms, and checks
that every row arrived. The baseline is the floor for the same work in Python: the ``sqlite3``
module selecting the same columns of the same rows and writing them with ``csv.writer`` to
/dev/null. It prints rows/s, time to first byte, peak RSS and the ratio to the baseline, and
writes them to ``--output`` (default benchmarks/results/export.md). A script, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import io
import os
import platform
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zipfile
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import httpx
from sqlalchemy import text

from powerdialer import campaigns, projects
from powerdialer.models import utcnow
from powerdialer.storage import open_store, rows_intake

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
FILL_CHUNK = 50_000
COLUMNS = (
    "id, fio, phone_raw, phone_e164, source, status, attempts, external_id, "
    "created_at, updated_at, extra"
)


@dataclass
class Result:
    name: str
    rows: int
    seconds: float
    first_byte: float
    size: int
    peak_rss: int  # bytes; 0 when not measured
    cpu: float  # CPU seconds of the process doing the work (the server, or this script)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def rss(pid: int) -> int:
    found = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(found.group(1)) * 1024 if found else 0


class RssSampler(threading.Thread):
    """The largest resident set size of a process while the block runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self._done = pid, rss(pid), threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.02):
            with contextlib.suppress(OSError):
                self.peak = max(self.peak, rss(self.pid))

    def __enter__(self) -> RssSampler:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self.join()


def fill(url: str, count: int) -> tuple[int, str, int]:
    """A project, a key and one campaign of ``count`` rows: (project id, key, campaign id)."""
    store = open_store(url)
    project = projects.create_project(store, "Benchmark")
    key = projects.create_key(store, project.id, "bench")
    campaign = campaigns.create_campaign(store, project.id, "Мільйон лідів")
    for start in range(0, count, FILL_CHUNK):
        rows = [
            (
                project.id,
                campaign.id,
                f"Іван Петренко {n}",
                f"38093{n:07d}",
                f"+38093{n:07d}",
                "api",
            )
            for n in range(start, min(count, start + FILL_CHUNK))
        ]
        store.write(lambda conn, rows=rows: rows_intake.insert_rows(conn, rows, utcnow()))
    store.write(
        lambda conn: conn.execute(
            text(
                "UPDATE campaign_rows SET external_id = 'crm-' || id, "
                """extra = '{"city": "Київ", "manager": "Олена"}' WHERE id % 10 = 0"""
            )
        )
    )
    store.dispose()
    return project.id, key.plaintext, campaign.id


def baseline(path: Path, campaign_id: int) -> Result:
    """The same rows through the sqlite3 module and csv.writer, to /dev/null."""
    started, cpu = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(path)
    rows = 0
    with open(os.devnull, "w", newline="") as out:
        writer = csv.writer(out)
        query = f"SELECT {COLUMNS} FROM campaign_rows WHERE campaign_id = ? ORDER BY id"
        for row in conn.execute(query, (campaign_id,)):
            writer.writerow(row)
            rows += 1
    conn.close()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return Result("baseline: sqlite3 + csv.writer", rows, seconds, 0.0, 0, 0, cpu)


def download(base: str, headers: dict[str, str], campaign_id: int, fmt: str, pid: int) -> Result:
    url = f"{base}/power-dialer/campaigns/{campaign_id}/export"
    body = io.BytesIO() if fmt == "xlsx" else None
    size = lines = 0
    first_byte = 0.0
    with RssSampler(pid) as sampler, httpx.Client(timeout=None) as client:
        started, cpu = time.perf_counter(), cpu_seconds(pid)
        with client.stream("GET", url, params={"format": fmt}, headers=headers) as answer:
            if answer.status_code != 200:
                raise SystemExit(f"{fmt}: HTTP {answer.status_code}: {answer.read()[:500]!r}")
            for chunk in answer.iter_raw(1 << 20):
                if not first_byte:
                    first_byte = time.perf_counter() - started
                size += len(chunk)
                lines += chunk.count(b"\r\n")
                if body is not None:
                    body.write(chunk)
        seconds, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu
    if body is None:
        rows = lines - 1  # the header
    else:
        with zipfile.ZipFile(body) as book:
            sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
            rows = sum(book.read(n).count(b"<row ") - 1 for n in sheets)
    return Result(f"powerdialer {fmt.upper()} over HTTP", rows, seconds, first_byte, size,
                  sampler.peak, cpu)  # fmt: skip


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        found = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = found.group(1).strip() if found else cpu
    memory = 0
    with contextlib.suppress(OSError):
        found = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        memory = int(found.group(1)) // 1024 if found else 0
    return f"{os.cpu_count()} CPUs, {cpu}, {memory / 1024:.1f} GiB RAM, Linux {platform.release()}"


def versions() -> str:
    names = ("powerdialer", "fastapi", "uvicorn", "sqlalchemy", "httpx")
    found = [f"Python {platform.python_version()}", f"SQLite {sqlite3.sqlite_version}"]
    return ", ".join(found + [f"{n} {version(n)}" for n in names])


NOTES = """
How to read it:

- *rows/s* is wall-clock, from the request to the last byte; *CPU s* is the CPU time the
  server process (all its threads) spent on the export, or this script on the baseline. On a
  busy machine (see the load averages) wall-clock figures vary run to run; the CPU ratio is
  the steadier comparison.
- The baseline is the floor for this work in Python: one query, the sqlite3 module's tuples
  straight into csv.writer, no HTTP, no per-cell work. powerdialer's CSV adds keyset pages on
  fresh connections through SQLAlchemy, the header's field columns, formula-injection
  checks, UTF-8 encoding and the HTTP stream.
- XLSX is streamed as it is made (powerdialer.rows.xlsx: inline strings, one zlib call a page of
  rows, level 1), so its *first byte* comes with the first page, like the CSV's.
- Peak RSS stays near the idle figure for both formats: rows are read 5,000 at a time and
  written out, never held.
"""


def report(
    results: list[Result], idle_rss: int, count: int, fill_seconds: float, loads: tuple[str, str]
) -> str:
    base = results[-1]
    mib = 2**20
    lines = [
        "# Export benchmark",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}; load average (1, 5, 15 min) {loads[0]} at the start, "
        f"{loads[1]} at the end",
        f"- Versions: {versions()}",
        f"- Command: `.venv/bin/python benchmarks/bench_export.py --rows {count}`",
        f"- Data: one campaign of {count:,} rows in a fresh SQLite file (WAL), every tenth "
        f"with an external id and two custom fields; filled in {fill_seconds:.1f} s.",
        "- Server: `powerdialer serve` as a real process (one worker, uvicorn), downloaded "
        "with httpx from the same machine; RSS sampled every 20 ms from /proc.",
        f"- Server RSS before the exports: {idle_rss / mib:.0f} MiB.",
        "",
        "| export | rows | seconds | rows/s | CPU s | first byte (s) | size (MiB) | "
        "peak server RSS (MiB) | × baseline (wall) | × baseline (CPU) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rss_text = f"{r.peak_rss / mib:.0f}" if r.peak_rss else "–"
        size_text = f"{r.size / mib:.1f}" if r.size else "–"
        first = f"{r.first_byte:.2f}" if r.first_byte else "–"
        lines.append(
            f"| {r.name} | {r.rows:,} | {r.seconds:.1f} | {r.rate:,.0f} | {r.cpu:.1f} | "
            f"{first} | {size_text} | {rss_text} | {r.seconds / base.seconds:.2f} | "
            f"{r.cpu / base.cpu:.2f} |"
        )
    return "\n".join(lines) + "\n" + NOTES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the campaign")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "export.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    load_at_start = load()

    with tempfile.TemporaryDirectory(prefix="powerdialer-bench-export-") as tmp:
        path = Path(tmp) / "bench.db"
        url = f"sqlite:///{path}"
        started = time.perf_counter()
        project_id, key, campaign_id = fill(url, args.rows)
        fill_seconds = time.perf_counter() - started
        print(f"filled {args.rows:,} rows in {fill_seconds:.1f} s", flush=True)

        port = free_port()
        env = {**os.environ, "POWERDIALER_RATE_LIMIT": "0", "TMPDIR": tmp}
        cmd = [str(BIN / "powerdialer"), "serve", "--port", str(port), "--no-bootstrap",
               "--database-url", url]  # fmt: skip
        log = (Path(tmp) / "server.log").open("wb")
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError), urllib.request.urlopen(base + "/healthz"):
                    break
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit((Path(tmp) / "server.log").read_text())
                time.sleep(0.1)
            idle = rss(server.pid)
            headers = {"x-project-id": str(project_id), "Auth-key": key}
            results = []
            for fmt in ("csv", "xlsx"):
                result = download(base, headers, campaign_id, fmt, server.pid)
                if result.rows != args.rows:
                    raise SystemExit(f"{fmt}: {result.rows} rows arrived, not {args.rows}")
                print(f"{result.name}: {result.seconds:.1f} s, {result.rate:,.0f} rows/s, "
                      f"peak RSS {result.peak_rss / 2**20:.0f} MiB", flush=True)  # fmt: skip
                results.append(result)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
            log.close()
        results.append(baseline(path, campaign_id))
        print(f"{results[-1].name}: {results[-1].seconds:.1f} s, {results[-1].rate:,.0f} rows/s")

    text_report = report(results, idle, args.rows, fill_seconds, (load_at_start, load()))
    print(text_report)
    if not args.no_write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text_report)


if __name__ == "__main__":
    main()
