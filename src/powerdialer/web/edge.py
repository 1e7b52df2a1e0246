"""The HTTP edge's limits and the file-descriptor bound they derive from.

No uvicorn import here (every CLI command imports this for ``serve``'s options); the protocol
that enforces them is in ``edge_protocol``.
"""

from __future__ import annotations

import contextlib
import resource
from dataclasses import dataclass

DEFAULT_MAX_HEAD_BYTES = 16 * 1024  # as Node.js and h11: ample for a browser's cookies
DEFAULT_HEAD_TIMEOUT = 10.0
# File descriptors kept back from the connection cap: the database pool (SQLite: the file, its
# WAL and shared-memory index a connection, 16 connections), the event loop's own, log files,
# an import child's pipes, upload spool files and export cursors.  A quarter of the limit, at
# least 256, at most half of it.
MIN_RESERVED_FDS = 256


@dataclass(frozen=True)
class EdgeLimits:
    max_head_bytes: int = DEFAULT_MAX_HEAD_BYTES
    head_timeout: float = DEFAULT_HEAD_TIMEOUT
    max_connections: int = 768  # what connection_cap() gives for the default 1,024 fds


def raise_fd_limit() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit (as far as the kernel lets
    an unprivileged process); return the soft limit in force afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def connection_cap(fd_limit: int) -> int:
    """The default cap on open connections for a process allowed ``fd_limit`` descriptors."""
    reserved = min(max(MIN_RESERVED_FDS, fd_limit // 4), fd_limit // 2)
    return max(1, fd_limit - reserved)
