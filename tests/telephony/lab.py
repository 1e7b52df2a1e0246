"""The SIP lab: real SIP components from Debian, every socket on 127.0.0.1.

- :class:`Kamailio` runs ``docs/telephony/kamailio.cfg`` (the documented example, unchanged)
  with its own ports: registrar in memory, SIP over UDP/TCP, WebSocket and JSON-RPC ``/RPC``.
- :class:`Baresip` is a user agent that answers by itself (``answermode=auto``), plays an 8 kHz
  WAV (``aufile``) and reports its calls over ``ctrl_tcp`` (netstring JSON events).
- :class:`Sipp` is a SIPp user agent server answering every INVITE with one status (486).

Every process is started in a session of its own and stopped by its pid at teardown.  The
pitfalls this encodes (docs/telephony.md, "The SIP lab in CI"): no Kamailio alias, the dialog
bridge controller on 127.0.0.1, a relay guard, bindings awaited in ``ul.dump`` before a call,
baresip's ``net_interface`` given as an IP, its ports two apart (TLS takes ``sip_listen`` + 1)
and ``aufile`` with an 8 kHz WAV (``ausine`` is 48 kHz only and PCMU would not start)."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time
import wave
from dataclasses import dataclass, field
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


@dataclass
class Event:
    at: float  # time.monotonic() when it was read
    type: str
    body: dict[str, Any] = field(default_factory=dict)


class Baresip:
    """A baresip UA registered to Kamailio as ``user``, answering every call by itself."""

    def __init__(
        self,
        workdir: Path,
        kamailio: Kamailio,
        user: str,
        *,
        webrtc: bool = False,
        tone: Path,
    ) -> None:
        self.user = user
        self.dir = workdir / f"baresip-{user}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sip_port = free_port(udp_too=True, gap=2)
        self.ctrl_port = free_port()
        rtp_low = free_port(udp_too=True, gap=20)
        media = ";mediaenc=dtls_srtp;medianat=ice" if webrtc else ""
        account = (
            f"<sip:{user}@{LOCALHOST}:{kamailio.sip_port}>"
            f";regint=600;answermode=auto;audio_codecs=pcmu{media}"
        )
        (self.dir / "accounts").write_text(account + "\n")
        (self.dir / "contacts").write_text("")
        modules = ["g711", "aufile", "account", "ctrl_tcp"]
        if webrtc:
            modules += ["dtls_srtp", "ice"]
        config = [
            "poll_method epoll",
            f"sip_listen {LOCALHOST}:{self.sip_port}",
            f"net_interface {LOCALHOST}",
            "net_prefer_ipv6 no",
            f"dns_server {LOCALHOST}:53",  # no name is looked up; if one were, it stays here
            f"ctrl_tcp_listen {LOCALHOST}:{self.ctrl_port}",
            f"audio_source aufile,{tone}",
            "audio_player aufile,/dev/null",
            f"rtp_ports {rtp_low}-{rtp_low + 19}",
            "rtcp_mux yes",
            "audio_txmode thread",
            "module_path /usr/lib/baresip/modules",
            *(f"module {name}.so" for name in modules if name not in ("account", "ctrl_tcp")),
            "module_app account.so",
            "module_app menu.so",  # the dial/hangup commands ctrl_tcp carries
            "module_app ctrl_tcp.so",
        ]
        (self.dir / "config").write_text("\n".join(config) + "\n")
        self.events: list[Event] = []
        self._lock = threading.Lock()
        command = [shutil.which("baresip") or "baresip", "-4", "-f", str(self.dir)]
        self.process = Process(f"baresip {user}", command, self.dir / "baresip.log", self.dir)
        self._sock = wait_for(self._connect, 10.0, f"baresip {user}'s ctrl_tcp did not answer")
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def contact(self) -> str:
        return f"sip:{self.user}@{LOCALHOST}:{self.sip_port}"

    def _connect(self) -> socket.socket | None:
        self.process.check_alive()
        try:
            return socket.create_connection((LOCALHOST, self.ctrl_port), timeout=1.0)
        except OSError:
            return None

    def _read(self) -> None:
        buffer = b""
        self._sock.settimeout(None)
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b":" in buffer:
                size_text, _, rest = buffer.partition(b":")
                size = int(size_text)
                if len(rest) < size + 1:
                    break
                message, buffer = rest[:size], rest[size + 1 :]
                body = json.loads(message)
                with self._lock:
                    kind = str(body.get("type") or ("RESPONSE" if body.get("response") else ""))
                    self.events.append(Event(time.monotonic(), kind, body))

    def command(self, command: str, params: str = "") -> None:
        message = json.dumps({"command": command, "params": params, "token": command}).encode()
        self._sock.sendall(str(len(message)).encode() + b":" + message + b",")

    def dial(self, uri: str) -> float:
        """Dial ``uri``; answers the monotonic time the command was sent."""
        sent = time.monotonic()
        self.command("dial", uri)
        return sent

    def hangup(self) -> None:
        self.command("hangup")

    def seen(self, kind: str, since: float = 0.0) -> list[Event]:
        with self._lock:
            return [e for e in self.events if e.type == kind and e.at >= since]

    def wait_event(self, kind: str, since: float = 0.0, timeout: float = 5.0) -> Event:
        found: list[Event] = wait_for(
            lambda: self.seen(kind, since), timeout, f"baresip {self.user}: no {kind}"
        )
        return found[0]

    def stop(self) -> None:
        try:
            self._sock.close()
        finally:
            self.process.stop()


SIPP_UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="answer every INVITE with {status}">
  <recv request="INVITE" />
  <send>
    <![CDATA[
      SIP/2.0 {status} {reason}
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK" />
</scenario>
"""


class Sipp:
    """A SIPp UAS on 127.0.0.1 answering every INVITE with ``status``, registered to Kamailio
    as ``user`` by sipsak (a real REGISTER)."""

    def __init__(
        self, workdir: Path, kamailio: Kamailio, user: str, status: int, reason: str
    ) -> None:
        self.user = user
        self.dir = workdir / f"sipp-{user}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port(udp_too=True)
        scenario = self.dir / "uas.xml"
        scenario.write_text(SIPP_UAS.format(status=status, reason=reason))
        command = [
            shutil.which("sipp") or "sipp",
            "-sf",
            str(scenario),
            "-i",
            LOCALHOST,
            "-p",
            str(self.port),
            "-mi",  # its media socket on loopback too
            LOCALHOST,
            "-mp",
            str(free_port(udp_too=True, gap=4)),
            "-ci",  # and its control socket (default 0.0.0.0:8888)
            LOCALHOST,
            "-cp",
            str(free_port(udp_too=True)),
            "-nostdin",
            "-trace_err",
        ]
        self.process = Process(f"sipp {user}", command, self.dir / "sipp.log", self.dir)
        time.sleep(0.2)
        self.process.check_alive()
        register = subprocess.run(
            [
                shutil.which("sipsak") or "sipsak",
                "-U",
                "-C",
                f"sip:{user}@{LOCALHOST}:{self.port}",
                "-x",
                "600",
                "-s",
                f"sip:{user}@{LOCALHOST}:{kamailio.sip_port}",
                "-H",
                LOCALHOST,
            ],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        if register.returncode != 0:
            raise RuntimeError(
                f"sipsak could not register {user}:\n{register.stdout}{register.stderr}"
            )

    def stop(self) -> None:
        self.process.stop()


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
