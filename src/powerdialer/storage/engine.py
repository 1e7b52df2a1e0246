"""Engines for SQLite (embedded default) and PostgreSQL, with durability settings pinned.

SQLite: WAL journal with ``synchronous=FULL`` so a committed transaction survives power loss,
``foreign_keys=ON``, a busy timeout for the odd second process (the CLI).  The driver's own
transaction handling is turned off and transactions begin explicitly, so the group-commit
writer can take the write lock up front with ``BEGIN IMMEDIATE``.  A 64 MiB page cache (the
default is 2 MiB) keeps the unique index of a million-row campaign in memory: an import's
inserts land at random places in it.  The WAL is checkpointed into the database every 64 MiB
(by a thread of the server's own, not by the committing writer: ``storage/checkpoint.py``)
instead of every 4 MiB: an import's transactions each touch thousands of index pages, and a
checkpoint after every one of them copied the same pages over and over (1M rows in 5,000-row
writes: 15.0 s → 10.8 s; benchmarks/results/import.md).  Neither touches durability: every
commit is still fsynced to the WAL (``synchronous=FULL``; the writer relaxes that for an
import's own transactions only, see ``storage/writer.py``).

A new database gets 8 KiB pages (the default is 4 KiB; a database keeps the size it was made
with).  Each import commit writes every index page it touched to the WAL, one write call per
page, and random numbers touch most of the unique index: half as many pages made a 1M-row
import 12 % faster, while the live endpoint's small commits did not measurably slow down;
16 KiB pages cost the endpoint a quarter of its throughput (benchmarks/results/import.md).

PostgreSQL: psycopg 3, ``synchronous_commit=on`` set per connection so a server-wide
relaxation cannot silently weaken our acknowledgement.  ``plan_cache_mode=force_custom_plan``:
psycopg prepares a statement after its fifth run, and PostgreSQL may then settle on a generic
plan made while a campaign was small; for the duplicates' lookups of a growing campaign that
plan went from 0.2 ms to 100 ms (an import became quadratic).  Our statements are cheap to
plan, so each is planned for its own values.

A PostgreSQL URL may name several servers the way libpq does,
``postgresql://user@h1:5432,h2:5432/db?target_session_attrs=read-write``: the driver tries
them in order and keeps the first that takes writes, which is how the service finds a promoted
standby after a fail-over (docs/deployment.md "Failover").  SQLAlchemy's URL parser reads one
host only, so :func:`normalize_url` moves the list into its own multi-host spelling,
``?host=h1,h2&port=5432,5432``, which it hands to psycopg as libpq's ``host`` and ``port``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

DEFAULT_PG_PORT = 5432


def normalize_url(url: str) -> str:
    """Accept the URLs people paste (``postgres://``, ``postgresql://``, libpq's multi-host
    ``postgresql://h1:p1,h2:p2/db``) and pick psycopg 3."""
    parsed = make_url(_multihost(url))
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def display_url(url: str) -> str:
    """``url`` as it may be printed: the password masked (a host list in SQLAlchemy's form)."""
    return make_url(_multihost(url)).render_as_string(hide_password=True)


def _multihost(url: str) -> str:
    """libpq's host list in the authority (``h1:p1,h2:p2``, a port left out is 5432, IPv6 in
    brackets) as SQLAlchemy's ``?host=h1,h2&port=p1,p2``; any other URL unchanged."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres") or "," not in parts.netloc:
        return url
    userinfo, _, hostlist = parts.netloc.rpartition("@")
    hosts, ports = [], []
    for entry in hostlist.split(","):
        if entry.startswith("["):  # [::1]:5432
            host, _, rest = entry[1:].partition("]")
            port = rest.removeprefix(":")
        else:
            host, _, port = entry.partition(":")
        if not host or not (port.isdigit() or port == ""):
            raise ValueError(f"{entry!r} in the host list is not host or host:port")
        hosts.append(host)
        ports.append(port or str(DEFAULT_PG_PORT))
    listed = f"host={quote(','.join(hosts), safe=',:')}&port={','.join(ports)}"
    query = f"{parts.query}&{listed}" if parts.query else listed
    netloc = f"{userinfo}@" if userinfo else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


PAGE_SIZE = 8192
"""Bytes per page of a new SQLite database."""
CHECKPOINT_BYTES = 64 * 1024 * 1024
"""WAL not yet in the database past which the server's checkpointer copies it (its own
thread: ``storage/checkpoint.py``)."""
AUTOCHECKPOINT_BYTES = 4 * CHECKPOINT_BYTES
"""WAL size at which a committing connection checkpoints it itself: the backstop."""
CACHE_KIB = 64 * 1024
"""SQLite's page cache a connection, in KiB: 64 MiB."""


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_on_begin)
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA page_size={PAGE_SIZE}")  # only a new, empty database takes it
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")  # an upper bound, not reserved
    page_size = cursor.execute("PRAGMA page_size").fetchone()[0]
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_BYTES // page_size}")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {mode}")


def _pg_on_connect(dbapi_conn: Any, _record: Any) -> None:
    with dbapi_conn.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_conn.commit()


def make_engine(url: str, **kwargs: Any) -> Engine:
    engine = create_engine(normalize_url(url), **kwargs)
    if is_sqlite(engine):
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
    elif engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _pg_on_connect)
    return engine
