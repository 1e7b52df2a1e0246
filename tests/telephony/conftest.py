"""Fixtures of the SIP lab (:mod:`tests.telephony.lab`): a Kamailio per test, user agents on
demand, every process stopped by its pid at teardown and its log printed (pytest shows it when
the test failed).

Without the Debian packages the tests skip; under ``CI`` (which installs them in ``.ci/run``)
they fail instead, so a CI run can never pass by testing nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from tests.e2e.conftest import start_server  # noqa: F401 (a fixture: a real server process)
from tests.telephony.agents import Baresip, Sipp
from tests.telephony.lab import Kamailio, Process, missing_binaries, write_tone
from tests.telephony.sockets import session_pids
from tests.ui.conftest import (  # noqa: F401 (fixtures: UI users, in-process browsers)
    _cheap_password_hashing,
    anna,
    anonymous,
    as_mallory,
    as_oleh,
    mallory,
    oleh,
)


def require_lab() -> None:
    missing = missing_binaries()
    if missing:
        message = (
            "the SIP lab needs: DEBIAN_FRONTEND=noninteractive apt-get install -y "
            + " ".join(missing)
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


class Lab:
    """One Kamailio and the user agents a test starts; ``pids()`` names every process."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.tone = write_tone(workdir / "tone.wav")
        self.kamailio = Kamailio(workdir / "kamailio")
        self.agents: list[Baresip | Sipp] = []

    def baresip(self, user: str, *, webrtc: bool = False, also: Sequence[str] = ()) -> Baresip:
        agent = Baresip(self.workdir, self.kamailio, user, webrtc=webrtc, tone=self.tone, also=also)
        self.agents.append(agent)
        return agent

    def sipp(self, user: str, status: int, reason: str) -> Sipp:
        agent = Sipp(self.workdir, self.kamailio, user, status, reason)
        self.agents.append(agent)
        return agent

    def uri(self, user: str) -> str:
        return f"sip:{user}@127.0.0.1:{self.kamailio.sip_port}"

    def processes(self) -> list[Process]:
        return [self.kamailio.process, *(a.process for a in self.agents)]

    def pids(self) -> set[int]:
        found: set[int] = set()
        for process in self.processes():
            found |= session_pids(process.pid) | {process.pid}
        return found

    def baresip_pids(self) -> set[int]:
        """baresip's, whose wildcard UDP sockets sockets.off_loopback explains and tolerates."""
        return {a.process.pid for a in self.agents if isinstance(a, Baresip)}

    def stop(self) -> None:
        for agent in reversed(self.agents):
            agent.stop()
        self.kamailio.stop()


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    require_lab()
    started = Lab(tmp_path / "lab")
    try:
        yield started
    finally:
        started.stop()
        for process in started.processes():
            print(f"--- {process.name} (pid {process.pid}) ---\n{process.output()[-6000:]}")
