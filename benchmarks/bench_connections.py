"""``/healthz`` latency while 2,000 slowloris connections hold half-sent request heads.

Run: ``.venv/bin/python benchmarks/bench_connections.py [--attackers 2000] [--requests 300]
[--fd-limit 1024] [--reopen] [--pythonpath OTHER/src] [--json]``.

It starts ``powerdialer serve`` (defaults, fresh SQLite file, rate limit off) as a real process
under ``ulimit -n FD_LIMIT`` (soft and hard), then measures ``GET /healthz``, each request on a
new connection as a new client would make it, twice: on an idle server, and while ATTACKERS
connections each hold a half-sent head (with ``--reopen`` an attacker thread reopens each one
the server closes, so the count stays up the whole time: against a connection cap that evicts,
that is a connection flood at the attacker's full speed). It reports latency (p50, p99, max),
failed requests, the
server's open file descriptors and resident memory in both phases, and how many attacker
connections the server closed. ``--pythonpath`` runs another checkout's code (e.g. main's
``src``) to compare. A script, not a test; exit 1 if the server failed to start.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench_endpoint_lib import BIN, BenchError, Server, free_port, machine

HALF_HEAD = b"POST /power-dialer/campaigns/campaign-rows HTTP/1.1\r\nHost: x\r\nContent-"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attackers", type=int, default=2000, help="half-sent connections")
    parser.add_argument("--requests", type=int, default=300, help="healthz requests a phase")
    parser.add_argument("--fd-limit", type=int, default=1024, help="the server's ulimit -n")
    parser.add_argument("--reopen", action="store_true", help="reopen what the server closes")
    parser.add_argument("--pythonpath", help="run this source tree's powerdialer instead")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    return parser.parse_args()


class Attacker(threading.Thread):
    """Keeps ``count`` connections open, each with half a request head sent; reopens any the
    server closes if ``reopen`` (closes are counted in ``closed_by_server``)."""

    def __init__(self, port: int, count: int, reopen: bool) -> None:
        super().__init__(daemon=True)
        self.port, self.count, self.reopen = port, count, reopen
        self.selector = selectors.DefaultSelector()
        self.closed_by_server = 0
        self.ready = threading.Event()
        self.stopping = threading.Event()

    def _open(self) -> None:
        sock = socket.socket()
        sock.settimeout(5)
        try:
            sock.connect(("127.0.0.1", self.port))
            sock.sendall(HALF_HEAD)
        except OSError:
            sock.close()
            return
        sock.setblocking(False)
        self.selector.register(sock, selectors.EVENT_READ)

    def run(self) -> None:
        for _ in range(self.count):
            self._open()
        self.ready.set()
        while not self.stopping.is_set():
            for key, _ in self.selector.select(timeout=0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    if sock.recv(65536):
                        continue  # an answer (408); the close follows
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                self.selector.unregister(sock)
                sock.close()
                self.closed_by_server += 1
                if self.reopen and not self.stopping.is_set():
                    self._open()
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]


def healthz_once(port: int) -> float | None:
    """Seconds for one ``GET /healthz`` on a new connection; None if it failed."""
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    except OSError:
        return None
    return time.perf_counter() - started if answer.startswith(b"HTTP/1.1 200 ") else None


def phase(server: Server, requests: int) -> dict:
    times, failed = [], 0
    for _ in range(requests):
        took = healthz_once(server.port)
        if took is None:
            failed += 1
        else:
            times.append(took * 1000)
    status = Path(f"/proc/{server.proc.pid}/status").read_text()
    rss_kib = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
    times.sort()
    return {
        "ok": len(times),
        "failed": failed,
        "p50_ms": statistics.median(times) if times else None,
        "p99_ms": times[int(len(times) * 0.99) - 1] if times else None,
        "max_ms": times[-1] if times else None,
        "server_fds": len(os.listdir(f"/proc/{server.proc.pid}/fd")),
        "server_rss_mib": rss_kib / 1024,
    }


def run(args: argparse.Namespace, tmp: Path) -> dict:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # our side holds the attackers
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERDIALER_")}
    env.update(POWERDIALER_RATE_LIMIT="0", POWERDIALER_DATA_DIR=str(tmp / "data"))
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath
    port = free_port()
    serve = [str(BIN / "powerdialer"), "serve", "--port", str(port), "--no-bootstrap"]
    serve += ["--database-url", f"sqlite:///{tmp / 'bench.db'}"]
    limited = ["sh", "-c", 'ulimit -n "$0" && exec "$@"', str(args.fd_limit), *serve]
    server = Server("powerdialer", limited, port, tmp / "serve.log", env)
    try:
        server.wait_ready()
        for _ in range(20):  # warm-up
            healthz_once(port)
        idle = phase(server, args.requests)
        attacker = Attacker(port, args.attackers, args.reopen)
        attacker.start()
        attacker.ready.wait()
        opened_at = time.monotonic()
        attacked = phase(server, args.requests)
        attacked["seconds"] = time.monotonic() - opened_at
        attacked["attacker_connections_closed_by_server"] = attacker.closed_by_server
        attacker.stopping.set()
        attacker.join()
        alive = server.proc.poll() is None
    finally:
        server.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return {
        "machine": machine(),
        "code": args.pythonpath or "this tree",
        "fd_limit": args.fd_limit,
        "attackers": args.attackers,
        "reopen": args.reopen,
        "idle": idle,
        "attacked": attacked,
        "server_alive_after": alive,
        "log_tail": server.tail(5),
    }


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-connections-") as tmp:
        try:
            report = run(args, Path(tmp))
        except BenchError as exc:
            print(exc, file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"code: {report['code']}; server ulimit -n {report['fd_limit']}; {report['machine']}")
    for name in ("idle", "attacked"):
        p = report[name]
        fmt = "{:.2f}".format
        print(
            f"{name:>8}: ok {p['ok']}, failed {p['failed']}, p50 "
            f"{fmt(p['p50_ms']) if p['p50_ms'] else '-'} ms, p99 "
            f"{fmt(p['p99_ms']) if p['p99_ms'] else '-'} ms, max "
            f"{fmt(p['max_ms']) if p['max_ms'] else '-'} ms; server fds {p['server_fds']}, "
            f"RSS {p['server_rss_mib']:.1f} MiB"
        )
    print(
        f"attackers: {report['attackers']} half-sent heads; the server closed "
        f"{report['attacked']['attacker_connections_closed_by_server']} of them"
        f"{' (each reopened)' if report['reopen'] else ''}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
