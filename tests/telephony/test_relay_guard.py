"""The example Kamailio relays only to the addresses RELAY_ALLOW names (the lab: ^127\\.): a
binding elsewhere is answered 403, never forwarded.  Proven with a stricter pattern and a
binding on 127.0.0.2, so that a broken guard could still not send anything off the machine.
(That the guard lets 127.0.0.1 through, every other call of the lab shows.)"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.telephony.conftest import require_lab
from tests.telephony.lab import LOCALHOST, Baresip, Kamailio, write_tone


def register(kamailio: Kamailio, user: str, contact: str) -> None:
    done = subprocess.run(
        [
            "sipsak",
            "-U",
            "-C",
            contact,
            "-x",
            "600",
            "-H",
            LOCALHOST,
            "-s",
            f"sip:{user}@{LOCALHOST}:{kamailio.sip_port}",
        ],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_call_to_a_binding_outside_the_allowed_addresses_is_refused(tmp_path: Path) -> None:
    require_lab()
    kamailio = Kamailio(tmp_path / "kamailio", relay_allow=r"^127\.0\.0\.1$")
    caller = None
    try:
        caller = Baresip(tmp_path, kamailio, "caller", tone=write_tone(tmp_path / "tone.wav"))
        register(kamailio, "elsewhere", "sip:elsewhere@127.0.0.2:5999")
        kamailio.wait_registered("caller", "elsewhere")

        started = caller.dial(f"sip:elsewhere@{LOCALHOST}:{kamailio.sip_port}")
        closed = caller.wait_event("CALL_CLOSED", started)

        assert closed.body["param"] == "403 Relay forbidden"
        assert "relay to 127.0.0.2 refused" in kamailio.process.output()
    finally:
        if caller is not None:
            caller.stop()
        kamailio.stop()
