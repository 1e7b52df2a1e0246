"""Which sockets the lab's processes hold (``ss``), and which of them are not on 127.0.0.1."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

LOCALHOST = "127.0.0.1"


def session_pids(leader: int) -> set[int]:
    """Every live process in the session ``leader`` started (Kamailio forks its workers)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) == leader:
                found.add(int(entry.name))
        except OSError:
            continue
    return found


@dataclass(frozen=True)
class Socket:
    netid: str
    local: str
    peer: str
    process: str


def sockets_of(pids: set[int]) -> list[Socket]:
    """The TCP and UDP sockets (IPv4 and IPv6) these processes hold, from ``ss``."""
    listing = subprocess.run(
        ["ss", "-H", "-tuanp"], capture_output=True, text=True, timeout=10, check=True
    ).stdout
    found = []
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) < 7:
            continue
        owners = {int(p) for p in _PID.findall(parts[6])}
        if owners & pids:
            found.append(Socket(parts[0], parts[4], parts[5], parts[6]))
    return found


def off_loopback(sockets: list[Socket], wildcard_udp: set[int] = frozenset()) -> list[Socket]:  # type: ignore[assignment]
    """The sockets bound, or connected, anywhere but 127.0.0.1.  An unconnected UDP socket on
    the wildcard address is let through for the pids in ``wildcard_udp`` only: baresip 1.0
    binds its RTP sockets (stream.c) and its DNS client (libre's dnsc) to the wildcard address
    whatever ``net_interface`` says; its RTP peers come from SDP (127.0.0.1 here) and its DNS
    server is set to 127.0.0.1, so nothing it sends can leave the machine."""
    unconnected = {"*:*", "0.0.0.0:*", "[::]:*", "*"}
    wildcard = {"0.0.0.0", "*", "[::]"}

    def tolerated(s: Socket) -> bool:
        host = s.local.rpartition(":")[0]
        owners = {int(p) for p in _PID.findall(s.process)}
        return (
            s.netid == "udp"
            and host in wildcard
            and s.peer in unconnected
            and owners <= wildcard_udp
        )

    return [
        s
        for s in sockets
        if not tolerated(s)
        and not (
            s.local.startswith(f"{LOCALHOST}:")
            and (s.peer in unconnected or s.peer.startswith(f"{LOCALHOST}:"))
        )
    ]


_PID = re.compile(r"pid=(\d+)")
