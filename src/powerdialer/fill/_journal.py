"""The fill's journal: a SQLite file that remembers, per run, every row planned from the file
and every row the server acknowledged, so that running the same command again sends only
what was not acknowledged.

A *run* is one file (by content hash) sent to one campaign at one target (base URL and
project).  Its plan (the valid rows and the problems) is written in one transaction; then
acknowledgements are committed as answers arrive, before the connection that got them sends
again (the sender groups the answers that arrive together into one commit).

Durability, precisely: the journal runs in WAL mode.  With ``synchronous=NORMAL`` (the
default) a commit is a write() of the WAL into the operating system's cache: it survives the
fill process being killed (even kill -9, the failure the journal is for), and a power loss
of the client machine may take back the last commits.  ``fsync=True`` (``--fsync``) runs
``synchronous=FULL``: each commit waits for the disk, and survives the power loss too.
Either way the journal can only *lag* the server, never lead it: an acknowledgement is
written after the server's answer.  A row acknowledged by the server but not in the journal
(its answer was on its way at the kill) is sent again on the next run: delivery is
at-least-once, and deduplicated by number at a powerdialer server (a campaign keeps one row
per E.164 number; the resend carries the same ``Idempotency-Key``, so the first answer is
replayed).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from powerdialer.fill._plan import PlannedRow, Problem

__all__ = ["Ack", "Journal", "Run"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,          -- also the root of this run's Idempotency-Keys
    file_sha256 TEXT NOT NULL,
    file_name TEXT NOT NULL,
    campaign_id INTEGER NOT NULL,
    target TEXT NOT NULL,         -- base URL + project id; never the key
    plan_options TEXT NOT NULL,   -- what shaped the plan: region, columns, sheet
    created_at TEXT NOT NULL,
    planned_at TEXT,              -- NULL: the plan was interrupted and is made again
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'open'  -- open | done | abandoned
);
CREATE TABLE IF NOT EXISTS rows (
    run_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    phone_e164 TEXT NOT NULL,
    phone_raw TEXT NOT NULL,
    fio TEXT,
    external_id TEXT,
    fields TEXT,
    state TEXT NOT NULL DEFAULT 'pending',  -- pending | acked | rejected
    outcome TEXT,                 -- accepted | inserted | duplicate | updated
    server_id INTEGER,
    code TEXT,
    reason TEXT,
    message TEXT,
    done_at TEXT,
    PRIMARY KEY (run_id, line)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rows_state ON rows (run_id, state, line);
CREATE TABLE IF NOT EXISTS problems (
    run_id TEXT NOT NULL,
    line INTEGER NOT NULL,
    phone_raw TEXT NOT NULL,
    fio TEXT,
    external_id TEXT,
    code TEXT NOT NULL,
    reason TEXT,
    message TEXT NOT NULL,
    PRIMARY KEY (run_id, line)
) WITHOUT ROWID;
"""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class Run:
    id: str
    file_sha256: str
    file_name: str
    campaign_id: int
    target: str
    plan_options: str
    planned: bool
    status: str


@dataclass(frozen=True, slots=True)
class Ack:
    """A final answer for one row: ``state`` acked (``outcome`` says how) or rejected."""

    line: int
    state: str
    outcome: str | None = None
    server_id: int | None = None
    code: str | None = None
    reason: str | None = None
    message: str | None = None


class Journal:
    def __init__(self, path: str | Path, *, fsync: bool = False) -> None:
        self.path = str(path)
        self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        if self.path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={'FULL' if fsync else 'NORMAL'}")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # --- runs ------------------------------------------------------------------------------

    def _run(self, row: tuple[object, ...]) -> Run:
        id_, sha, name, campaign, target, options, planned_at, status = row
        return Run(
            str(id_), str(sha), str(name), int(str(campaign)), str(target), str(options),
            planned_at is not None, str(status),
        )  # fmt: skip

    def find(self, file_sha256: str, campaign_id: int, target: str) -> Run | None:
        """The latest run of this file to this campaign at this target, if any."""
        found = self.db.execute(
            "SELECT id, file_sha256, file_name, campaign_id, target, plan_options, planned_at,"
            " status FROM runs WHERE file_sha256 = ? AND campaign_id = ? AND target = ?"
            " AND status != 'abandoned' ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (file_sha256, campaign_id, target),
        ).fetchone()
        return self._run(found) if found else None

    def open_runs(self, campaign_id: int, target: str) -> list[Run]:
        """Unfinished runs to this campaign at this target (of any file)."""
        found = self.db.execute(
            "SELECT id, file_sha256, file_name, campaign_id, target, plan_options, planned_at,"
            " status FROM runs WHERE campaign_id = ? AND target = ? AND status = 'open'",
            (campaign_id, target),
        ).fetchall()
        return [self._run(r) for r in found]

    def create(
        self, file_sha256: str, file_name: str, campaign_id: int, target: str, options: str
    ) -> Run:
        run_id = uuid.uuid4().hex
        self.db.execute(
            "INSERT INTO runs (id, file_sha256, file_name, campaign_id, target, plan_options,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, file_sha256, file_name, campaign_id, target, options, _now()),
        )
        return Run(run_id, file_sha256, file_name, campaign_id, target, options, False, "open")

    def abandon(self, run_id: str) -> None:
        self.db.execute(
            "UPDATE runs SET status = 'abandoned', finished_at = ? WHERE id = ?", (_now(), run_id)
        )

    def finish(self, run_id: str) -> None:
        self.db.execute(
            "UPDATE runs SET status = 'done', finished_at = ? WHERE id = ?", (_now(), run_id)
        )

    # --- the plan --------------------------------------------------------------------------

    def write_plan(self, run_id: str, items: Iterable[PlannedRow | Problem]) -> None:
        """Store the plan in one transaction (an interrupted plan is simply made again)."""
        db = self.db
        db.execute("BEGIN")
        try:
            db.execute("DELETE FROM rows WHERE run_id = ?", (run_id,))
            db.execute("DELETE FROM problems WHERE run_id = ?", (run_id,))
            rows: list[tuple[object, ...]] = []
            problems: list[tuple[object, ...]] = []
            for item in items:
                if isinstance(item, PlannedRow):
                    fields = json.dumps(item.fields, ensure_ascii=False) if item.fields else None
                    rows.append(
                        (run_id, item.line, item.phone_e164, item.phone_raw, item.fio,
                         item.external_id, fields)
                    )  # fmt: skip
                else:
                    problems.append(
                        (run_id, item.line, item.phone_raw, item.fio, item.external_id,
                         item.code, item.reason, item.message)
                    )  # fmt: skip
                if len(rows) >= 5000:
                    self._insert_rows(rows)
                    rows.clear()
            self._insert_rows(rows)
            db.executemany("INSERT INTO problems VALUES (?, ?, ?, ?, ?, ?, ?, ?)", problems)
            db.execute("UPDATE runs SET planned_at = ? WHERE id = ?", (_now(), run_id))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _insert_rows(self, rows: list[tuple[object, ...]]) -> None:
        self.db.executemany(
            "INSERT INTO rows (run_id, line, phone_e164, phone_raw, fio, external_id, fields)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def pending(self, run_id: str, page: int = 2000) -> Iterator[PlannedRow]:
        """Rows not yet answered, in file order, read a page at a time."""
        after = -1
        while True:
            found = self.db.execute(
                "SELECT line, phone_e164, phone_raw, fio, external_id, fields FROM rows"
                " WHERE run_id = ? AND state = 'pending' AND line > ? ORDER BY line LIMIT ?",
                (run_id, after, page),
            ).fetchall()
            if not found:
                return
            for line, e164, raw, fio, ident, fields in found:
                yield PlannedRow(line, e164, raw, fio, ident, json.loads(fields) if fields else {})
            after = found[-1][0]

    # --- answers ---------------------------------------------------------------------------

    def record(self, run_id: str, acks: list[Ack]) -> None:
        """Commit a batch of answers (one transaction: cheap, and never half a bulk request).
        The sender calls it once per turn of its event loop in which answers arrived."""
        if not acks:
            return
        now = _now()
        self.db.execute("BEGIN")
        try:
            self.db.executemany(
                "UPDATE rows SET state = ?, outcome = ?, server_id = ?, code = ?, reason = ?,"
                " message = ?, done_at = ? WHERE run_id = ? AND line = ?",
                [
                    (a.state, a.outcome, a.server_id, a.code, a.reason, a.message, now,
                     run_id, a.line)
                    for a in acks
                ],
            )  # fmt: skip
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def counts(self, run_id: str) -> dict[str, int]:
        """Rows by state and outcome (``pending``, ``acked``, ``rejected``, ``accepted``,
        ``inserted``…) and problems by kind (``invalid``, ``duplicate_in_file``)."""
        counts: dict[str, int] = {}
        for state, outcome, n in self.db.execute(
            "SELECT state, outcome, count(*) FROM rows WHERE run_id = ? GROUP BY state, outcome",
            (run_id,),
        ):
            counts[state] = counts.get(state, 0) + n
            if outcome:
                counts[outcome] = counts.get(outcome, 0) + n
        for code, n in self.db.execute(
            "SELECT code = 'duplicate_in_file', count(*) FROM problems WHERE run_id = ? GROUP BY 1",
            (run_id,),
        ):
            counts["duplicate_in_file" if code else "invalid"] = n
        return counts

    def rejections(self, run_id: str) -> Iterator[tuple[object, ...]]:
        """(line, phone, fio, external_id, code, reason, message) of every row not sent or
        refused by the server, in file order."""
        yield from self.db.execute(
            "SELECT line, phone_raw, fio, external_id, code, reason, message FROM problems"
            " WHERE run_id = ?"
            " UNION ALL SELECT line, phone_raw, fio, external_id, code, reason, message"
            " FROM rows WHERE run_id = ? AND state = 'rejected' ORDER BY 1",
            (run_id, run_id),
        )
