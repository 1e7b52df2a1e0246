"""The SIP lab: real SIP components from Debian, every socket on 127.0.0.1.

- :class:`Kamailio` runs ``docs/telephony/kamailio.cfg`` (the documented example, unchanged)
  with its own ports: registrar in memory, SIP over UDP/TCP, WebSocket and JSON-RPC ``/RPC``.
- the user agents (baresip, SIPp) are in :mod:`tests.telephony.agents`, the socket check in
  :mod:`tests.telephony.sockets`.

Every process is started in a session of its own and stopped by its pid at teardown.  The
pitfalls this encodes (docs/telephony.md, "The SIP lab in CI"): no Kamailio alias, the dialog
bridge controller on 127.0.0.1, a relay guard, bindings awaited in ``ul.dump`` before a call,
baresip's ``net_interface`` given as an IP, its ports two apart (TLS takes ``sip_listen`` + 1)
and ``aufile`` with an 8 kHz WAV (``ausine`` is 48 kHz only and PCMU would not start)."""

from __future__ import annotations

import math
import os
import shutil
import signal
import socket
import struct
import subprocess
import time
import wave
from pathlib import Path
from typing import Any

import httpx

LOCALHOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parents[2]
KAMAILIO_CFG = ROOT / "docs" / "telephony" / "kamailio.cfg"
BINARIES = {
    "kamailio": "kamailio kamailio-websocket-modules",
    "baresip": "baresip-core",
    "sipp": "sip-tester",
    "sipsak": "sipsak",
}


def missing_binaries() -> list[str]:
    """The Debian packages to install for the binaries this machine lacks."""
    return [package for binary, package in BINARIES.items() if shutil.which(binary) is None]


def free_port(*, udp_too: bool = False, gap: int = 1) -> int:
    """A port free on 127.0.0.1 for TCP (and UDP when asked), with the ``gap - 1`` ports above
    it free as well (baresip's TLS binds sip_listen + 1)."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((LOCALHOST, 0))
            port = int(probe.getsockname()[1])
        if port + gap >= 65535:
            continue
        if all(_port_is_free(p, udp_too) for p in range(port, port + gap)):
            return port
    raise RuntimeError("no free port block on 127.0.0.1")


def _port_is_free(port: int, udp_too: bool) -> bool:
    kinds = [socket.SOCK_STREAM, socket.SOCK_DGRAM] if udp_too else [socket.SOCK_STREAM]
    for kind in kinds:
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind((LOCALHOST, port))
            except OSError:
                return False
    return True


def write_tone(path: Path, seconds: float = 30.0, rate: int = 8000) -> Path:
    """An 8 kHz mono 16-bit WAV of a 440 Hz tone: what aufile plays into a call.  Longer than
    any call of the lab: at the file's end baresip 1.0 hangs the call up."""
    period = [int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(rate)]
    second = struct.pack(f"<{rate}h", *period)  # 440 Hz fits a second exactly
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(second * int(seconds))
    return path


class Process:
    """A child process in its own session, its output in a log file, stopped by its pid."""

    def __init__(self, name: str, command: list[str], log: Path, cwd: Path) -> None:
        self.name = name
        self.command = command
        self.log_path = log
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def check_alive(self) -> None:
        code = self.proc.poll()
        if code is not None:
            raise RuntimeError(f"{self.name} exited with {code}:\n{self.output()[-4000:]}")

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        # Its own session: the signal goes to its process group (Kamailio's children too).
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def wait_for(check: Any, timeout: float, what: str, poll: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} after {timeout:g} s")
        time.sleep(poll)


class Kamailio:
    def __init__(self, workdir: Path, *, relay_allow: str | None = None) -> None:
        self.workdir = workdir
        self.sip_port = free_port(udp_too=True)
        self.http_port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        command = [
            shutil.which("kamailio") or "kamailio",
            "-DD",
            "-E",
            "-f",
            str(KAMAILIO_CFG),
            "-Y",
            str(workdir),
            "-w",
            str(workdir),
            "-A",
            f"SIP_PORT={self.sip_port}",
            "-A",
            f"HTTP_PORT={self.http_port}",
            "-A",
            f'BRIDGE_URI="sip:controller@{LOCALHOST}:{self.sip_port}"',
        ]
        if relay_allow is not None:
            command += ["-A", f'RELAY_ALLOW="{relay_allow}"']
        self.process = Process("kamailio", command, workdir / "kamailio.log", workdir)
        self._http = httpx.Client(trust_env=False, timeout=5.0)
        wait_for(self._ready, 10.0, "Kamailio's /RPC did not answer")

    @property
    def sip_uri(self) -> str:
        return f"sip:{LOCALHOST}:{self.sip_port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{LOCALHOST}:{self.http_port}"

    @property
    def rpc_url(self) -> str:
        return f"http://{LOCALHOST}:{self.http_port}/RPC"

    def _ready(self) -> bool:
        self.process.check_alive()
        try:
            self.rpc("core.version")
        except httpx.TransportError:
            return False
        return True

    def rpc(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": 1}
        answer = self._http.post(self.rpc_url, json=body).json()
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer.get("result")

    def bound_users(self) -> set[str]:
        """The users with at least one binding (``ul.dump``)."""
        dump = self.rpc("ul.dump") or {}
        users = set()
        for domain in dump.get("Domains", []):
            for record in domain.get("Domain", {}).get("AoRs", []):
                users.add(str(record["Info"]["AoR"]).split("@")[0])
        return users

    def wait_registered(self, *users: str, timeout: float = 5.0) -> None:
        wait_for(
            lambda: set(users) <= self.bound_users(),
            timeout,
            f"{', '.join(users)} not all registered in Kamailio",
        )

    def stop(self) -> None:
        self._http.close()
        self.process.stop()
