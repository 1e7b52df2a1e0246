"""Instructions a next-contact (a lease) and an outcome cost the server, and the same in
compatible rows: figures this shared VM cannot move.

Run: ``.venv/bin/python benchmarks/count_dialer.py [--rows 10000] [--operators 100]
[--holders 100] [--rounds 2] [--caps] [--database-url postgresql://…] [--json]``; needs
valgrind (Debian's
``valgrind``).  A script, not a test.  ``count_instructions.py`` is its model: ``callgrind``
counts the instructions the server process executes in user space (every thread: the event
loop, the writer, the WAL flusher), whatever else the machine does; kernel work (fsync,
sockets) is not counted, nor PostgreSQL's own server process.

A fresh database (SQLite in a temporary folder, or a new database on the PostgreSQL server
``--database-url`` names) gets a project, a campaign of ``--rows`` rows and ``--operators``
+ ``--holders`` members, set up by a plain server first; the dialer's rules are
``bench_dialer.py``'s (always-open hours, ``no_answer``/``busy`` due again at once, so the rows
never run dry) with day-long leases (the run outlasts ten minutes), plus with ``--caps`` a
per-day and a rolling cap on each number and a lifetime cap on each contact (so every lease
reads the number's and the row's past calls).  Then ``powerdialer serve`` runs under
``valgrind --tool=callgrind`` and a client on keep-alive connections (one an operator, 64 for
the compatible rows) makes, after a warm-up of two lease-and-outcome cycles per measured
operator and 200 compatible rows, and a lease by each holder (kept to the end: the campaign
has that many rows on a call meanwhile, as with operators on the phone):

- per round, a burst of next-contact calls by the first ``--operators``/4 operators, then one
  by the others; then the outcomes (``no_answer``/``busy``) of the two groups, the same way;
- 200 compatible rows, then 800.

``callgrind_control --dump`` after each burst gives the instructions it cost.  Two bursts of
one kind subtracted, divided by their difference in requests, is the cost of one request
without the burst's fixed costs (the dump itself, the idle loop while the client waits); the
same way ``count_instructions.py`` subtracts two run lengths.  Every answer must be 200 (a
next must hand out a contact), or the run fails.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
from bench_dialer import RULES, add_operators
from bench_dialer import setup as setup_rows
from bench_endpoint_lib import BIN, BenchError, Server, free_port, fresh_database, powerdialer

COMPAT = b"/power-dialer/campaigns/campaign-rows"
CAPS = {
    "number_caps": {"per_day": 1000, "per_span": {"count": 1000, "hours": 24}},
    "contact_caps": {"lifetime": 10_000},
}


class Connection:
    """One keep-alive HTTP/1.1 connection that sends a request and reads its JSON answer."""

    def __init__(self, head: bytes) -> None:
        self.head = head
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    async def open(self, port: int) -> None:
        """(Re)connect: the server closes a connection idle for 5 s, and under valgrind a
        burst of the other operators can take longer than that."""
        if hasattr(self, "writer"):
            self.writer.close()
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)

    async def post(self, path: bytes, body: dict[str, Any]) -> Any:
        data = orjson.dumps(body)
        self.writer.write(
            b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
            % (path, self.head, len(data), data)
        )
        answer = await self.reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", answer)
        text = await self.reader.readexactly(int(length.group(1)) if length else 0)
        if not answer.startswith(b"HTTP/1.1 200"):
            raise BenchError(f"{path.decode()}: {answer[:40]!r} {text[:200]!r}")
        return orjson.loads(text)

    def close(self) -> None:
        self.writer.close()


class Callgrind:
    """The server under callgrind, and its counts between dumps."""

    def __init__(self, url: str, tmp: Path) -> None:
        self.port, self.out = free_port(), tmp / "callgrind.out"
        cmd = [
            "valgrind",
            "--tool=callgrind",
            f"--callgrind-out-file={self.out}",
            str(BIN / "powerdialer"),
            "serve",
            "--port",
            str(self.port),
            "--workers",
            "1",
            "--no-access-log",
            "--no-bootstrap",
            "--database-url",
            url,
        ]
        env = dict(os.environ, POWERDIALER_RATE_LIMIT="0", PYTHONHASHSEED="0")
        self.server = Server("powerdialer under callgrind", cmd, self.port, tmp / "serve.log", env)
        self.dumps = 0

    def dump(self) -> int:
        """Instructions since the last dump (or the start)."""
        pid = str(self.server.proc.pid)
        done = subprocess.run(
            ["callgrind_control", "--dump", pid], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise BenchError(f"callgrind_control failed: {done.stderr or done.stdout}")
        self.dumps += 1
        path = Path(f"{self.out}.{self.dumps}")
        for _ in range(600):  # written by the server, maybe a moment after the answer
            if path.exists() and (found := _totals(path.read_text())) is not None:
                path.unlink()
                return found
            time.sleep(0.1)
        raise BenchError(f"callgrind wrote no {path.name}:\n{self.server.tail()}")


def _totals(text: str) -> int | None:
    found = re.search(r"^(?:summary|totals): (\d+)", text, re.MULTILINE)
    return int(found.group(1)) if found else None


async def _measure(
    grind: Callgrind, args: argparse.Namespace, ids: list[int], project: int, key: str,
    campaigns: tuple[int, int],
) -> tuple[dict[str, list[tuple[int, int]]], tuple[int, int]]:  # fmt: skip
    dialed, compat = campaigns
    head = b"Host: bench\r\nContent-Type: application/json\r\nx-project-id: %d\r\nAuth-key: %s\r\n"
    head %= (project, key.encode())
    ops = [Connection(head) for _ in ids]
    rows = [Connection(head) for _ in range(64)]
    next_path = b"/power-dialer/campaigns/%d/dialer/next" % dialed
    leases: dict[int, int] = {}
    sent = 0

    async def lease(n: int) -> None:
        got = await ops[n].post(next_path, {"operator_id": ids[n]})
        if got["lease"] is None:
            raise BenchError(f"no contact to hand out: {got['none']}")
        leases[n] = got["lease"]["lease_id"]

    async def outcome(n: int) -> None:
        body = {"operator_id": ids[n], "outcome": "busy" if n % 2 else "no_answer"}
        await ops[n].post(b"/power-dialer/leases/%d/outcome" % leases.pop(n), body)

    async def compat_rows(count: int) -> None:
        nonlocal sent

        async def one(conn: Connection, share: int, start: int) -> None:
            for number in range(start, start + share):
                body = {"campaignId": compat, "fio": "Ivan Petrenko", "phone_number": ""}
                body["phone_number"] = f"38067{number:07d}"
                await conn.post(COMPAT, body)

        shares = [count // len(rows) + (i < count % len(rows)) for i in range(len(rows))]
        starts = [sent + sum(shares[:i]) for i in range(len(rows))]
        sent += count
        await asyncio.gather(*(one(c, s, b) for c, s, b in zip(rows, shares, starts, strict=True)))

    async def burst(work: Any, group: range) -> int:
        """The instructions of one request by each operator of ``group``, on connections
        opened (and their cost dumped) before."""
        for n in group:
            await ops[n].open(grind.port)
        await asyncio.to_thread(grind.dump)
        await asyncio.gather(*(work(n) for n in group))
        return await asyncio.to_thread(grind.dump)

    async def compat_burst(count: int) -> int:
        for conn in rows:
            await conn.open(grind.port)
        await asyncio.to_thread(grind.dump)
        await compat_rows(count)
        return await asyncio.to_thread(grind.dump)

    measured = len(ids) - args.holders
    everyone = range(measured)
    for _ in range(2):  # warm-up: caches, first statements, lazily loaded metadata
        await burst(lease, everyone)
        await burst(outcome, everyone)
    await compat_burst(200)
    await burst(lease, range(measured, len(ids)))  # the holders: on a call all along
    quarter = measured // 4
    few, many = range(quarter), range(quarter, measured)
    counts: dict[str, list[tuple[int, int]]] = {"next": [], "outcome": [], "compatible": []}
    for _ in range(args.rounds):
        counts["next"].append((await burst(lease, few), await burst(lease, many)))
        counts["outcome"].append((await burst(outcome, few), await burst(outcome, many)))
    small = await compat_burst(200)
    counts["compatible"].append((small, await compat_burst(800)))
    for conn in [*ops, *rows]:
        conn.close()
    return counts, (len(few), len(many))


def count(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    with fresh_database(args.database_url, tmp) as url:
        project = powerdialer("project", "create", "bench", url=url)["id"]
        key = powerdialer("key", "create", "--project", str(project), url=url)["key"]
        dialed, compat = (
            int(powerdialer("campaign", "create", "--project", str(project), n, url=url)["id"])
            for n in ("d", "c")
        )
        ids = add_operators(url, project, args.operators + args.holders)
        port = free_port()
        serve = [str(BIN / "powerdialer"), "serve", "--port", str(port), "--no-access-log"]
        serve += ["--no-bootstrap", "--database-url", url]
        env = dict(os.environ, POWERDIALER_RATE_LIMIT="0")
        plain = Server("powerdialer (setup)", serve, port, tmp / "setup.log", env)
        try:
            plain.wait_ready()
            headers = {"x-project-id": str(project), "Auth-key": key}
            asyncio.run(setup_rows(plain.url, headers, dialed, args.rows))
            # Leases that outlast the run: under valgrind it takes longer than 10 minutes.
            rules = {**RULES, "lease_seconds": 86_400, **(CAPS if args.caps else {})}
            asyncio.run(_put_rules(plain.url, headers, dialed, rules))
        finally:
            plain.stop()
        grind = Callgrind(url, tmp)
        try:
            # valgrind runs Python some 50x slower: on a busy machine start-up alone has
            # taken over ten minutes.
            grind.server.wait_ready(timeout=1800)
            found = _measure(grind, args, ids, project, key, (dialed, compat))
            counts, (few, many) = asyncio.run(found)
        finally:
            grind.server.stop()
    per: dict[str, float] = {}
    for kind, pairs in counts.items():
        sizes = (200, 800) if kind == "compatible" else (few, many)
        per[kind] = sum(b - a for a, b in pairs) / (len(pairs) * (sizes[1] - sizes[0]))
    sizes = {"few": few, "many": many, "holders": args.holders, "rows": args.rows}
    return {"per_request": per, "bursts": counts, "sizes": sizes, "caps": args.caps}


async def _put_rules(base: str, headers: dict[str, str], campaign: int, rules: Any) -> None:
    import aiohttp

    async with aiohttp.ClientSession(base, headers=headers) as session:
        path = f"/power-dialer/campaigns/{campaign}/dialer/rules"
        async with session.put(path, json=rules) as answer:
            if answer.status != 200:
                raise BenchError(f"rules: {answer.status} {await answer.text()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="rows the operators work")
    parser.add_argument("--operators", type=int, default=100, help="operators measured (100)")
    parser.add_argument(
        "--holders", type=int, default=100, help="operators holding a lease all along (100)"
    )
    parser.add_argument("--rounds", type=int, default=2, help="next and outcome bursts (2)")
    parser.add_argument("--caps", action="store_true", help="caps that read past calls")
    parser.add_argument("--database-url", help="postgresql://user@host/db (default: SQLite)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        print("valgrind is needed: apt-get install valgrind", file=sys.stderr)
        return 2
    try:
        with tempfile.TemporaryDirectory(prefix="pd-count-dialer-") as tmp:
            report = count(args, Path(tmp))
    except BenchError as error:
        print(f"count_dialer: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    per = report["per_request"]
    row = per["compatible"]
    print(f"per compatible row: {row:,.0f} instructions")
    for kind in ("next", "outcome"):
        print(f"per {kind}: {per[kind]:,.0f} instructions ({per[kind] / row:.1f} compatible rows)")
    cycle = per["next"] + per["outcome"]
    print(f"per lease and outcome: {cycle:,.0f} instructions ({cycle / row:.1f} compatible rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
