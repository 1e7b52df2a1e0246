"""A PostgreSQL primary and its synchronous streaming standby, started for one test from
Debian's own binaries (``/usr/lib/postgresql/15/bin``) in a folder of their own, on random
localhost ports: the recipe of docs/deployment.md ("Failover"), small.

The primary names the standby in ``synchronous_standby_names`` and commits with
``synchronous_commit=on``, so a commit it acknowledges has reached the standby's disk.  The
standby has no standby of its own: promoted, it takes writes alone (the doc says why).  As
root the servers run as the ``postgres`` user (``initdb`` refuses root); as anyone else, as
that user.  ``kill_primary`` is the machine's loss: SIGKILL to the postmaster and every
process it started, at once, so nothing is flushed or said goodbye to.

Plain streaming replication, not ``pg_auto_failover``: it needs nothing beyond the server
package (which CI installs anyway), its promotion is one deterministic command whose timing
the test controls, and there is no monitor whose own health checks (seconds apart) decide
when the switch happens, which would make the test slower and its timing a guess."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

BIN = Path("/usr/lib/postgresql/15/bin")
TOOLS = ("initdb", "pg_ctl", "pg_basebackup", "postgres")
OS_USER = "postgres"
DATABASE = "powerdialer"
STANDBY_NAME = "standby1"
LOCALHOST = "127.0.0.1"


def missing() -> str | None:
    """Why a pair cannot be started on this machine, or ``None``."""
    absent = [tool for tool in TOOLS if not (BIN / tool).is_file()]
    if absent:
        return f"{', '.join(absent)} missing from {BIN} (apt-get install postgresql-15)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root and there is no {OS_USER!r} user for initdb"
        if shutil.which("runuser") is None:
            return "running as root without runuser to start PostgreSQL as postgres"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Node:
    name: str
    folder: Path
    port: int

    @property
    def log(self) -> Path:
        return self.folder.parent / f"{self.name}.log"

    def conninfo(self, database: str = DATABASE) -> str:
        return f"host={LOCALHOST} port={self.port} user=postgres dbname={database}"


@dataclass
class Pair:
    root: Path
    primary: Node
    standby: Node
    _killed: list[int] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The service's multi-host URL: whichever of the two takes writes."""
        return (
            f"postgresql://postgres@{LOCALHOST}:{self.primary.port},"
            f"{LOCALHOST}:{self.standby.port}/{DATABASE}?target_session_attrs=read-write"
        )

    def kill_primary(self) -> None:
        """SIGKILL to the primary's postmaster and all its children at once."""
        pid = int((self.primary.folder / "postmaster.pid").read_text().split()[0])
        victims = [pid, *_children(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        self._killed.extend(victims)
        deadline = time.monotonic() + 10
        while any(_alive(v) for v in victims):
            assert time.monotonic() < deadline, "the primary's processes outlived SIGKILL"
            time.sleep(0.02)

    def promote(self) -> None:
        _run(BIN / "pg_ctl", "promote", "-w", "-t", "30", "-D", str(self.standby.folder))

    def ensure_sync(self, timeout: float = 30.0) -> None:
        """Wait until the primary streams to the standby synchronously."""
        query = "SELECT sync_state FROM pg_stat_replication WHERE application_name = %s"
        deadline = time.monotonic() + timeout
        while True:
            with psycopg.connect(self.primary.conninfo("postgres"), autocommit=True) as conn:
                found = conn.execute(query, (STANDBY_NAME,)).fetchone()
            if found is not None and found[0] == "sync":
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"the standby never became synchronous ({found})")
            time.sleep(0.1)

    def stop(self) -> None:
        for node in (self.primary, self.standby):
            if (node.folder / "postmaster.pid").exists():
                _run(BIN / "pg_ctl", "stop", "-m", "immediate", "-D", str(node.folder), check=False)

    def logs(self) -> str:
        return "\n".join(
            f"--- {node.name} ---\n{node.log.read_text(errors='replace')}"
            for node in (self.primary, self.standby)
            if node.log.exists()
        )


def require() -> None:
    """Skip a test that needs servers of its own where they cannot start; fail in CI."""
    why = missing()
    if why is not None:
        message = f"this test starts PostgreSQL servers of its own and cannot: {why}"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def start_pair(*, standby: bool = True) -> Pair:
    """initdb a primary, clone a synchronous standby from it, start both, and create the
    (empty) ``powerdialer`` database.  The caller stops them (``Pair.stop``) and removes
    ``Pair.root``.  ``standby=False``: the primary alone, with no synchronous standby."""
    root = Path(tempfile.mkdtemp(prefix="pd-failover-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam(OS_USER)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    pair = Pair(
        root,
        Node("primary", root / "primary", free_port()),
        Node("standby", root / "standby", free_port()),
    )
    try:
        _start(pair, standby)
    except BaseException:
        pair.stop()
        raise
    return pair


def _start(pair: Pair, with_standby: bool) -> None:
    primary = pair.primary
    _run(BIN / "initdb", "-D", str(primary.folder), "-U", "postgres", "--auth=trust",
         "-E", "UTF8", "--no-sync", "--locale=C.UTF-8")  # fmt: skip
    _append(
        primary.folder / "postgresql.conf",
        {
            "listen_addresses": f"'{LOCALHOST}'",
            "port": str(primary.port),
            "unix_socket_directories": f"'{pair.root}'",
            "wal_level": "replica",
            "max_wal_senders": "4",
            "synchronous_commit": "on",
            "synchronous_standby_names": f"'FIRST 1 ({STANDBY_NAME})'" if with_standby else "''",
            "shared_buffers": "32MB",
            "max_connections": "50",
        },
    )
    _run(BIN / "pg_ctl", "start", "-w", "-t", "30", "-D", str(primary.folder),
         "-l", str(primary.log))  # fmt: skip
    if with_standby:
        _start_standby(pair)
    with psycopg.connect(primary.conninfo("postgres"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DATABASE}"')


def _start_standby(pair: Pair) -> None:
    primary, standby = pair.primary, pair.standby
    _run(BIN / "pg_basebackup", "-h", LOCALHOST, "-p", str(primary.port), "-U", "postgres",
         "-D", str(standby.folder), "-R", "-X", "stream", "--no-sync")  # fmt: skip
    # The clone copied the primary's settings; the standby differs in its port, how it
    # reaches the primary (named, so the primary knows it is its synchronous standby), and
    # having no synchronous standby of its own once it is promoted.
    _append(
        standby.folder / "postgresql.auto.conf",
        {
            "port": str(standby.port),
            "primary_conninfo": (
                f"'host={LOCALHOST} port={primary.port} user=postgres "
                f"application_name={STANDBY_NAME}'"
            ),
            "synchronous_standby_names": "''",
            "wal_retrieve_retry_interval": "100ms",
        },
    )
    _run(BIN / "pg_ctl", "start", "-w", "-t", "30", "-D", str(standby.folder),
         "-l", str(standby.log))  # fmt: skip
    pair.ensure_sync()


def _append(path: Path, settings: dict[str, str]) -> None:
    with path.open("a", encoding="utf-8") as conf:
        conf.write("\n# tests/failover/pair.py\n")
        for name, value in settings.items():
            conf.write(f"{name} = {value}\n")


def _run(*command: str | Path, check: bool = True) -> None:
    """Run a PostgreSQL tool as the ``postgres`` user when we are root."""
    argv = [str(part) for part in command]
    if os.geteuid() == 0:
        argv = ["runuser", "-u", OS_USER, "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if check and done.returncode != 0:
        output = f"{done.stdout}{done.stderr}"
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n{output}")


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # The fields after the name, which is in parentheses and may hold spaces.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, awaiting its reaper
