"""What downloads nobody reads cost the server: RSS of 30 unread exports, and after they close.

Run: ``.venv/bin/python benchmarks/bench_export_memory.py [--rows 60000] [--exports 30]``.

In one run it fills a fresh SQLite database with one campaign of ``--rows`` rows (as
benchmarks/bench_export.py does), makes 8 API keys (the default cap is 4 downloads open per
key, 32 per server), starts ``powerdialer serve`` as a real process with its default settings,
and measures the server's resident memory (``/proc/<pid>/status``):

1. idle, after one small request: the baseline;
2. while ``--exports`` clients each send ``GET …/export?format=csv`` (then ``xlsx``) and read
   only the answer's first bytes, never the rest: the peak over ``--hold`` seconds;
3. after those clients close their connections: the RSS ``--settle`` seconds later, and
   whether every slot came back (one more export per key is answered 200, not 429);

``--rounds`` times, to show that what stays after a round is reused, not added to.

It writes the figures to ``--output`` (default benchmarks/results/export_memory.md). A
script, not a test (tests/e2e/test_memory_bounds.py pins the bounds).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import httpx
from bench_export import BIN, HERE, fill, free_port, load, machine, rss, versions

from powerdialer import projects
from powerdialer.storage import open_store

MIB = 2**20
KEYS = 8


@dataclass
class Phase:
    fmt: str
    exports: int
    idle: int
    peak: int
    after_close: int
    refused: int  # answers other than 200 while opening the exports
    slots_back: bool

    @property
    def per_export(self) -> float:
        return (self.peak - self.idle) / self.exports


def open_unread(port: int, path: str, headers: dict[str, str]) -> tuple[socket.socket, int]:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(64)
        if not chunk:
            raise SystemExit("the server closed a connection")
        head += chunk
    return sock, int(head.split()[1])


def run_phase(
    args: argparse.Namespace, port: int, pid: int, keys: list[dict[str, str]], campaign: int,
    fmt: str,
) -> Phase:  # fmt: skip
    path = f"/power-dialer/campaigns/{campaign}/export?format={fmt}"
    idle = rss(pid)
    socks, refused = [], 0
    for n in range(args.exports):
        sock, status = open_unread(port, path, keys[n % len(keys)])
        socks.append(sock)
        refused += status != 200
    peak, deadline = 0, time.monotonic() + args.hold
    while time.monotonic() < deadline:
        peak = max(peak, rss(pid))
        time.sleep(0.05)
    for sock in socks:
        sock.close()
    time.sleep(args.settle)
    after = rss(pid)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, trust_env=False) as client:
        back = []
        for headers in keys:
            with client.stream("GET", path, headers=headers) as answer:
                back.append(answer.status_code == 200)
    time.sleep(args.settle)  # those were closed unread too
    return Phase(fmt, args.exports, idle, peak, after, refused, all(back))


NOTES = """
How to read it:

- *idle* is the server's RSS before the phase (the first phase's is the idle server after
  one request); the bound is on *peak − idle*, the memory the unread downloads hold.
- The clients read the answer's status line and nothing more, so each download stops as soon
  as the socket buffers (kernel memory, not in the RSS) and the server's own buffer are full:
  the next page is read from the database only when the chunk before has been taken.
- *after close* is the RSS a few seconds after the clients left; the slots are back when one
  more download per key is answered 200 rather than 429 ``too_many_exports``.  Freed memory
  stays partly with the allocator (CPython and glibc keep some for reuse), so *after close*
  sits between *idle* and *peak*; it does not grow from round to round (the next round's
  downloads reuse it).
"""


def report(args: argparse.Namespace, phases: list[Phase], loads: tuple[str, str]) -> str:
    lines = [
        "# Memory of unread exports",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {machine()}; load average (1, 5, 15 min) {loads[0]} at the start, "
        f"{loads[1]} at the end (other work shared the machine)",
        f"- Versions: {versions()}",
        f"- Command: `.venv/bin/python benchmarks/bench_export_memory.py --rows {args.rows} "
        f"--exports {args.exports} --rounds {args.rounds}`",
        f"- Data: one campaign of {args.rows:,} rows in a fresh SQLite file; {KEYS} API keys, "
        f"the downloads spread over them; the server with its default settings (4 downloads "
        "per key, 32 per server).",
        "",
        "| export | unread downloads | refused | idle RSS (MiB) | peak RSS (MiB) | "
        "peak − idle (MiB) | per download (MiB) | RSS after close (MiB) | slots back |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for p in phases:
        lines.append(
            f"| {p.fmt.upper()} | {p.exports} | {p.refused} | {p.idle / MIB:.0f} | "
            f"{p.peak / MIB:.0f} | {(p.peak - p.idle) / MIB:.0f} | {p.per_export / MIB:.1f} | "
            f"{p.after_close / MIB:.0f} | {'yes' if p.slots_back else 'NO'} |"
        )
    return "\n".join(lines) + "\n" + NOTES


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=60_000, help="rows in the campaign")
    parser.add_argument("--exports", type=int, default=30, help="unread downloads at once")
    parser.add_argument("--hold", type=float, default=10.0, help="seconds they stay open")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after closing")
    parser.add_argument("--rounds", type=int, default=2, help="CSV then XLSX, this many times")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "export_memory.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    load_at_start = load()
    with tempfile.TemporaryDirectory(prefix="powerdialer-bench-memory-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        project_id, key, campaign_id = fill(url, args.rows)
        store = open_store(url)
        plain = [key] + [
            projects.create_key(store, project_id, f"bench {n}").plaintext for n in range(1, KEYS)
        ]
        store.dispose()
        keys = [{"x-project-id": str(project_id), "Auth-key": k} for k in plain]
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("POWERDIALER_")} | {
            "POWERDIALER_RATE_LIMIT": "0",
            "POWERDIALER_DATA_DIR": tmp,
            "TMPDIR": tmp,
        }
        cmd = [str(BIN / "powerdialer"), "serve", "--port", str(port), "--no-bootstrap",
               "--database-url", url]  # fmt: skip
        log = (Path(tmp) / "server.log").open("wb")
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + 30
            while True:
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz"),
                ):
                    break
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit((Path(tmp) / "server.log").read_text())
                time.sleep(0.1)
            phases = []
            for fmt in ("csv", "xlsx") * args.rounds:
                phase = run_phase(args, port, server.pid, keys, campaign_id, fmt)
                print(f"{fmt}: idle {phase.idle / MIB:.0f} MiB, peak {phase.peak / MIB:.0f} MiB, "
                      f"after close {phase.after_close / MIB:.0f} MiB", flush=True)  # fmt: skip
                phases.append(phase)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
            log.close()
    text = report(args, phases, (load_at_start, load()))
    print(text)
    if not args.no_write:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text)


if __name__ == "__main__":
    main()
