"""The lab's user agents (:mod:`tests.telephony.lab` runs Kamailio):

- :class:`Baresip` answers by itself (``answermode=auto``), plays an 8 kHz WAV (``aufile``)
  and reports its calls over ``ctrl_tcp`` (netstring JSON events);
- :class:`Sipp` is a SIPp user agent server answering every INVITE with one status (486),
  registered by sipsak."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.telephony.lab import LOCALHOST, Kamailio, Process, free_port, wait_for


@dataclass
class Event:
    at: float  # time.monotonic() when it was read
    type: str
    body: dict[str, Any] = field(default_factory=dict)


class Baresip:
    """A baresip UA registered to Kamailio as ``user`` (and as each of ``also``), answering
    every call by itself."""

    def __init__(
        self,
        workdir: Path,
        kamailio: Kamailio,
        user: str,
        *,
        webrtc: bool = False,
        tone: Path,
        also: Sequence[str] = (),
    ) -> None:
        self.user = user
        self.users = [user, *also]  # one process, an account (and a registration) each
        self.dir = workdir / f"baresip-{user}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.sip_port = free_port(udp_too=True, gap=2)
        self.ctrl_port = free_port()
        rtp_low = free_port(udp_too=True, gap=20)
        media = ";mediaenc=dtls_srtp;medianat=ice" if webrtc else ""
        accounts = [
            f"<sip:{name}@{LOCALHOST}:{kamailio.sip_port}>"
            f";regint=600;answermode=auto;audio_codecs=pcmu{media}"
            for name in self.users
        ]
        (self.dir / "accounts").write_text("\n".join(accounts) + "\n")
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
