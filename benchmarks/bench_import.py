"""How fast an import job takes a big CRM export, end to end, against a real server.

Run: ``.venv/bin/python benchmarks/bench_import.py [--rows 1000000] [--mix mixed|clean]
[--database-url postgresql://…]``.  A script, not a test: the numbers depend on the machine.

1. Generates a cp1251, semicolon-separated export as Ukrainian Excel writes it (headers
   Телефон;ПІБ;Місто;Коментар, CRLF).  ``--mix clean``: every number as CRMs store them
   (``380931234567``); ``mixed`` (default): 90 % of those, 5 % ``+380 93 123 45 67``, 4 %
   national ``093-123-45-67``, 1 % invalid, and 1 % of the rows repeat an earlier number.
2. Baseline: the reader alone (``open_table`` + iterating every record) on that file.
3. Starts ``powerdialer serve`` (SQLite by default, default durability) in a temporary
   directory, uploads the file over HTTP and polls the job until it is done; meanwhile a
   probe posts one compatible row every 20 ms and times it (the live API's latency).
   ``--side-by-side``: the import twice on the same server, into two empty campaigns, first
   alone and then with the probe, so the import's time alone, its time under live traffic
   and the idle latency all come from one run.
4. ``--import-baseline 2500 [--per-row-webhook]``: ``rows.write.apply_imports`` alone on
   SQLite in writes of that size, wall and CPU seconds (with ``--per-row-webhook`` once more
   with a webhook asking for one ``row.added`` per row: the cost of the per-row events).
   With ``--baselines``, also times reader + validation (the worker's share) and
   ``rows.write.write_rows`` alone on SQLite (the writer's share), each without the rest.
5. Prints wall time (upload included), rows/s, the job's counters, and the peak RSS
   (``VmHWM``) of the server process and of its import worker child.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from powerdialer import campaigns, projects
from powerdialer.errors import ValidationError
from powerdialer.models import utcnow
from powerdialer.reader.open import open_table
from powerdialer.rows.models import ImportRow, NewRow
from powerdialer.rows.validate import parse_import_row, parse_new_row
from powerdialer.rows.write import ImportChunk, apply_imports, write_rows
from powerdialer.storage import open_store
from powerdialer.storage import webhooks as webhooks_sql

PREFIXES = ("50", "63", "66", "67", "68", "73", "93", "95", "96", "97", "98", "99")
CITIES = ("Київ", "Львів", "Одеса", "Харків", "Дніпро", "Запоріжжя", "Вінниця")
NAMES = ("Петренко Іван", "Коваленко Олена", "Шевченко Тарас", "Бондар Марія", "Ткаченко Ігор")


def generate(path: Path, rows: int, mix: str) -> None:
    rnd = random.Random(42)
    numbers: list[str] = []
    with path.open("w", encoding="cp1251", newline="") as out:
        out.write("Телефон;ПІБ;Місто;Коментар\r\n")
        for i in range(rows):
            prefix, rest = rnd.choice(PREFIXES), rnd.randrange(10**7)
            a, b, c = rest // 10**4, rest // 100 % 100, rest % 100
            roll = rnd.random() if mix == "mixed" else 0.0
            if roll < 0.90:
                phone = f"380{prefix}{rest:07d}"
            elif roll < 0.95:
                phone = f"+380 {prefix} {a:03d} {b:02d} {c:02d}"
            elif roll < 0.99:
                phone = f"0{prefix}-{a:03d}-{b:02d}-{c:02d}"
            else:
                phone = f"{rest % 1000}"
            if mix == "mixed" and numbers and rnd.random() < 0.01:
                phone = rnd.choice(numbers)
            elif len(numbers) < 10_000:
                numbers.append(phone)
            name = f"{rnd.choice(NAMES)} {i}"
            out.write(f"{phone};{name};{rnd.choice(CITIES)};коментар до контакту {i}\r\n")


def read_baseline(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    count = 0
    with open_table(path) as table:
        for _record in table:
            count += 1
    return count, time.perf_counter() - started


def validated_chunks(path: Path, size: int = 5000) -> Iterator[list[NewRow]]:
    """What the import's worker does: every record through ``parse_new_row``."""
    chunk: list[NewRow] = []
    with open_table(path) as table:
        for record in table:
            obj = {"phone_number": record.phone, "fio": record.fio, "fields": record.extra}
            try:
                chunk.append(parse_new_row(obj, "UA"))
            except ValidationError:
                continue
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def validate_baseline(path: Path) -> float:
    started = time.perf_counter()
    for _chunk in validated_chunks(path):
        pass
    return time.perf_counter() - started


def import_rows(path: Path) -> Iterator[ImportRow]:
    """What the import's worker sends: every valid record through ``parse_import_row``."""
    with open_table(path) as table:
        for record in table:
            try:
                yield parse_import_row(record.phone, record.fio, None, record.extra, "UA")
            except ValidationError:
                continue


def writer_baseline(path: Path, folder: Path) -> float:
    """The storing half alone: ``rows.write.write_rows`` in one transaction per 5,000-row chunk on
    a fresh SQLite file (no HTTP, no worker, no event loop), timing only the writes."""
    store = open_store(f"sqlite:///{folder / 'writer.db'}")
    project = projects.create_project(store, "Writer")
    campaign = campaigns.create_campaign(store, project.id, "Writer")
    spent = 0.0
    with store.engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        for chunk in validated_chunks(path):
            started = time.perf_counter()
            with conn.begin():
                write_rows(conn, project.id, campaign.id, "skip", chunk, source="import")
            spent += time.perf_counter() - started
    store.dispose()
    return spent


def import_baseline(
    path: Path, folder: Path, size: int, per_row_webhook: bool = False
) -> tuple[float, float, float]:
    """The import's storing half as it is now: ``rows.write.apply_imports`` on ``ImportChunk``s of
    ``size`` rows (tuples, as the worker sends them), one transaction each, on a fresh SQLite
    file; the seconds spent, the seconds of the last fifth (a growing campaign), and the CPU
    seconds spent.  ``per_row_webhook``: the project has a webhook asking for one
    ``row.added`` per row (each chunk then writes an event and a delivery per row stored)."""
    name = f"import-{size}{'-hooked' if per_row_webhook else ''}.db"
    store = open_store(f"sqlite:///{folder / name}")
    project = projects.create_project(store, "Writer")
    campaign = campaigns.create_campaign(store, project.id, "Writer")
    if per_row_webhook:
        store.write(
            lambda conn: webhooks_sql.create_subscription(
                conn, project.id, "https://crm.example/hook", ["row.added"], True,
                "whsec_" + "A" * 44, utcnow(),
            )
        )  # fmt: skip
    rows = list(import_rows(path))
    spent, cpu, times = 0.0, 0.0, []
    with store.engine.connect() as conn:
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
        for start in range(0, len(rows), size):
            item = ImportChunk(project.id, campaign.id, rows[start : start + size])
            started, used = time.perf_counter(), time.process_time()
            with conn.begin():
                apply_imports(conn, [item])
            times.append(time.perf_counter() - started)
            cpu += time.process_time() - used
            spent += times[-1]
    store.dispose()
    return spent, sum(times[-len(times) // 5 :]), cpu


def descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def peak_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (contention-proof, unlike wall time)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def probe(url: str, headers: dict[str, str], body: dict[str, object], stop: threading.Event,
          out: list[float]) -> None:  # fmt: skip
    with httpx.Client(headers=headers, timeout=30) as client:
        i = 0
        while not stop.is_set():
            i += 1
            started = time.perf_counter()
            client.post(url, json={**body, "phone_number": f"38067{i:07d}"})
            out.append((time.perf_counter() - started) * 1000)
            time.sleep(0.02)


def wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if server.poll() is not None:
            raise SystemExit("the server exited; see its output above")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--mix", choices=("mixed", "clean"), default="mixed")
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument("--port", type=int, default=18931)
    parser.add_argument(
        "--baselines",
        action="store_true",
        help="also time reader + validation, and rows.write.write_rows alone on SQLite",
    )
    parser.add_argument(
        "--import-baseline",
        type=int,
        nargs="*",
        metavar="ROWS",
        help="also time rows.write.apply_imports alone on SQLite, with writes of these sizes",
    )
    parser.add_argument(
        "--per-row-webhook",
        action="store_true",
        help="with --import-baseline: each size also with a per-row row.added webhook",
    )
    parser.add_argument("--no-server", action="store_true", help="baselines only")
    parser.add_argument(
        "--no-probe",
        action="store_true",
        help="no live API requests during the import (the import's time alone)",
    )
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="import twice on one server: alone, then with the live probe (both reported)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-"))
    path = tmp / "export.csv"
    generate(path, args.rows, args.mix)
    size_mb = path.stat().st_size / 1e6
    records, read_s = read_baseline(path)
    print(f"file: {records:,} records, {size_mb:.0f} MB, cp1251 ';', mix={args.mix}")
    print(f"reader alone: {read_s:.2f} s, {records / read_s:,.0f} rows/s")
    if args.baselines:
        valid_s = validate_baseline(path)
        print(f"reader + parse_new_row: {valid_s:.2f} s, {records / valid_s:,.0f} rows/s")
        write_s = writer_baseline(path, tmp)
        print(f"write_rows alone (SQLite): {write_s:.2f} s, {records / write_s:,.0f} rows/s")
    for size in args.import_baseline or ():
        for hooked in (False, True) if args.per_row_webhook else (False,):
            spent, tail, cpu = import_baseline(path, tmp, size, hooked)
            what = ", a per-row row.added webhook" if hooked else ""
            print(
                f"apply_imports alone (SQLite, {size:,}-row writes{what}): {spent:.2f} s, "
                f"{records / spent:,.0f} rows/s (last fifth of the rows: {tail:.2f} s), "
                f"CPU {cpu:.2f} s"
            )
    if args.no_server:
        return

    url = args.database_url or f"sqlite:///{tmp / 'pd.db'}"
    store = open_store(url)
    project = projects.create_project(store, "Bench")
    key = projects.create_key(store, project.id, "bench")
    targets = [campaigns.create_campaign(store, project.id, f"Import {i}").id for i in range(2)]
    live = campaigns.create_campaign(store, project.id, "Live")
    store.dispose()
    headers = {"x-project-id": str(project.id), "Auth-key": key.plaintext}
    env = {**os.environ, "POWERDIALER_DATA_DIR": str(tmp / "data"), "POWERDIALER_RATE_LIMIT": "0"}
    command = [sys.executable, "-m", "powerdialer", "serve", "--port", str(args.port),
               "--database-url", url, "--no-bootstrap"]  # fmt: skip
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{args.port}"
    compat = f"{base}/power-dialer/campaigns/campaign-rows"
    row = {"campaignId": live.id, "fio": "Проба"}
    # The import alone, then (--side-by-side) the same file into a second, empty campaign of
    # the same server with the live probe running: both times from one run.
    probes = [False, True] if args.side_by_side else [not args.no_probe]
    runs: list[tuple[bool, float, dict[str, object], list[float]]] = []
    try:
        wait_ready(base, server)
        idle: list[float] = []
        stop = threading.Event()
        thread = threading.Thread(target=probe, args=(compat, headers, row, stop, idle))
        thread.start()
        time.sleep(2)
        stop.set()
        thread.join()
        peaks: dict[int, int] = {}
        cpu: dict[int, float] = {}
        server_cpu = cpu_seconds(server.pid)
        for campaign_id, probing in zip(targets, probes, strict=False):
            busy: list[float] = []
            stop = threading.Event()
            thread = threading.Thread(target=probe, args=(compat, headers, row, stop, busy))
            started = time.perf_counter()
            with path.open("rb") as file, httpx.Client(base_url=base, headers=headers) as client:
                answer = client.post(
                    f"/power-dialer/campaigns/{campaign_id}/imports",
                    files={"file": ("export.csv", file, "text/csv")},
                    timeout=600,
                )
                uploaded = time.perf_counter() - started
                answer.raise_for_status()
                if probing:
                    thread.start()
                job_url = f"/power-dialer/imports/{answer.json()['id']}"
                while True:
                    for pid in descendants(server.pid):
                        peaks[pid] = max(peaks.get(pid, 0), peak_kib(pid))
                        cpu[pid] = max(cpu.get(pid, 0.0), cpu_seconds(pid))
                    job = client.get(job_url).json()
                    if job["status"] in ("done", "failed"):
                        break
                    time.sleep(0.1)
            elapsed = time.perf_counter() - started
            stop.set()
            if thread.is_alive():
                thread.join()
            runs.append((probing, elapsed, job, busy))
        server_peak = peak_kib(server.pid)
        server_cpu = cpu_seconds(server.pid) - server_cpu
    finally:
        server.terminate()
        server.wait()
    for probing, elapsed, job, _ in runs:
        keys = ("supplied", "inserted", "duplicates", "updated", "rejected")
        counters = {k: job[k] for k in keys}
        label = "with the live probe" if probing else "alone"
        print(f"job ({label}): {job['status']} {counters} error={job['error']}")
        print(f"import {label} (upload included): {elapsed:.2f} s, "
              f"{int(job['supplied']) / elapsed:,.0f} rows/s")  # fmt: skip
    print(f"upload of the last: {uploaded:.2f} s")
    if len(runs) == 2:
        print(f"import with the probe / alone: {runs[1][1] / runs[0][1]:.2f}x")
    print(
        f"peak RSS: server {server_peak / 1024:.0f} MiB; children (forkserver, worker): "
        + ", ".join(f"{kib / 1024:.0f} MiB" for kib in sorted(peaks.values()))
    )
    print(
        f"CPU: server {server_cpu:.1f} s (its writer thread, the API, the job's runner); "
        f"worker child {max(cpu.values(), default=0):.1f} s (reading and validating); "
        f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    samples_of = [("idle", idle)] + [("during the import", r[3]) for r in runs if r[0]]
    for label, samples in samples_of:
        if len(samples) > 2:
            cuts = statistics.quantiles(samples, n=100)
            print(
                f"compatible POST latency {label}: p50 {cuts[49]:.1f} ms, p99 {cuts[98]:.1f} ms,"
                f" max {max(samples):.1f} ms ({len(samples)} requests)"
            )


if __name__ == "__main__":
    main()
