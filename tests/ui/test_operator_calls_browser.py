"""The operator screen placing calls, in a real browser against a real server process: power
mode places each next contact's call by itself through the project's HTTP click-to-call (a
fake provider on 127.0.0.1); a provider's refusal shows its words and pauses the operator
instead of feeding more contacts; preview's countdown places the call by itself; the call
link follows the project's template; the softphone method without its script says so."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from playwright.sync_api import expect

from powerdialer.dialer import control
from powerdialer.storage import Store
from tests.conftest import Persona
from tests.e2e.conftest import Server
from tests.ui.conftest import User
from tests.ui.operator_pages import (
    new_page,
    set_rules,
    sign_in,
    state,
    user_id,
    wait_for_contact,
    wait_presence,
    wait_until,
)
from tests.ui.test_operator_browser import (
    browser,  # noqa: F401 (a fixture)
    shift,  # noqa: F401 (a fixture)
)

pytestmark = pytest.mark.e2e
SECRET_KEY = "a-test-secret-key-that-is-long-enough-0123456789"


@dataclass
class Provider:
    """A click-to-call provider on 127.0.0.1: records each request; refuses while ``refuse``
    holds its words."""

    url: str = ""
    calls: list[dict[str, str]] = field(default_factory=list)
    refuse: str | None = None


@pytest.fixture
def provider() -> Iterator[Provider]:
    found = Provider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            found.calls.append({k: v[0] for k, v in form.items()})
            refused = found.refuse
            body = json.dumps(
                {"status": "error", "message": refused} if refused else {"status": "ok"}
            ).encode()
            self.send_response(403 if refused else 200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    found.url = f"http://127.0.0.1:{server.server_address[1]}/callback/outward_call"
    yield found
    server.shutdown()
    server.server_close()


@pytest.fixture
def server(start_server: Callable[..., Server], tmp_path: Path, shift: Persona) -> Server:  # noqa: F811
    return start_server(
        POWERDIALER_DATA_DIR=str(tmp_path / "server-data"),
        POWERDIALER_SECRET_KEY=SECRET_KEY,
        POWERDIALER_OUTBOUND_ALLOW="127.0.0.1/32",
    )


def telephony(server: Server, persona: Persona, **settings: Any) -> None:
    answer = httpx.put(
        f"{server.url}/power-dialer/telephony", json=settings, headers=persona.headers
    )
    assert answer.status_code == 200, answer.text


def test_power_mode_places_each_call_and_pauses_an_operator_whose_call_fails(
    browser: Any,  # noqa: F811
    server: Server,
    oleh: User,
    shift: Persona,  # noqa: F811
    store: Store,
    provider: Provider,
) -> None:
    telephony(
        server,
        shift,
        method="http",
        http_shape="vendor",
        http_url=provider.url,
        http_secret="provider-key-1",
    )
    answer = httpx.put(
        f"{server.url}/power-dialer/telephony/operators/{user_id(store, oleh)}",
        json={"extension": "101"},
        headers=shift.headers,
    )
    assert answer.status_code == 200, answer.text
    set_rules(store, shift, dialing_mode="power", wrap_up_seconds=60)
    page, errors = new_page(browser)
    sign_in(page, server, oleh)

    # N starts: the first contact's call is placed without a keypress, the operator's leg first.
    page.keyboard.press("n")
    lease = wait_for_contact(page, "")
    wait_until(lambda: len(provider.calls) == 1)
    assert provider.calls[0] == {"extension": "101", "destination": "+380930000001"}
    page.wait_for_function("() => window.pdOperator.state() === 'calling'")
    wait_presence(store, shift, oleh, ("on_call", None))

    # An outcome, the wrap-up, N: the next contact's call is placed by itself too.
    page.keyboard.press("1")
    page.wait_for_function("() => window.pdOperator.state() === 'wrapup'")
    page.keyboard.press("n")
    page.wait_for_function(
        "old => document.getElementById('op-contact').dataset.lease !== old", arg=lease
    )
    wait_until(lambda: len(provider.calls) == 2)
    assert provider.calls[1]["destination"] != "+380930000001"

    # The provider refuses the next one: its words are shown and the operator is paused, not
    # fed another contact; the row went back unspent (provider_failed).
    provider.refuse = "Extension 101 is not registered"
    page.keyboard.press("2")
    page.wait_for_function("() => window.pdOperator.state() === 'wrapup'")
    page.keyboard.press("n")
    page.wait_for_function("() => window.pdOperator.state() === 'paused'")
    expect(page.locator("#op-message")).to_contain_text("Extension 101 is not registered")
    wait_presence(store, shift, oleh, ("paused", "technical"))
    assert len(provider.calls) == 3
    time.sleep(0.5)
    assert len(provider.calls) == 3  # nothing more was dialled
    outcomes = [a.outcome for a in control.attempts(store, shift.project_id)]
    assert outcomes[-1] == "provider_failed"

    # Preview with a countdown: the call is placed by itself when it runs out.
    provider.refuse = None
    set_rules(store, shift, preview_countdown_seconds=1, wrap_up_seconds=60)
    page.keyboard.press("p")
    wait_for_contact(page, "")
    assert state(page) == "contact"
    expect(page.locator("#op-status")).to_contain_text("Дзвінок за")
    wait_until(lambda: len(provider.calls) == 4)
    page.wait_for_function("() => window.pdOperator.state() === 'calling'")
    page.context.close()
    assert errors == [], f"the page logged errors: {errors}"


def test_the_call_link_follows_the_template_and_a_missing_softphone_says_so(
    browser: Any,  # noqa: F811
    server: Server,
    oleh: User,
    shift: Persona,  # noqa: F811
) -> None:
    telephony(server, shift, method="link", link_template="sip:{digits}@pbx.example")
    page, errors = new_page(browser)
    sign_in(page, server, oleh)
    page.keyboard.press("n")
    wait_for_contact(page, "")
    link = page.locator("#op-call-link")
    assert link.get_attribute("href") == "sip:380930000001@pbx.example"
    page.keyboard.press("p")  # give the contact back before the method changes
    page.keyboard.press("1")
    page.wait_for_function("() => window.pdOperator.state() === 'paused'")

    telephony(server, shift, method="softphone", softphone_ws_url="ws://127.0.0.1:9/ws")
    # The script stands absent (served empty: it may be installed on this server).
    page.route(
        "**/static/softphone.js*",
        lambda route: route.fulfill(body="", content_type="application/javascript"),
    )
    page.reload()
    page.keyboard.press("n")
    wait_for_contact(page, "")
    expect(page.locator("#op-message")).to_contain_text("Браузерний софтфон не встановлено")
    page.keyboard.press("c")
    expect(page.locator("#op-message")).to_contain_text("Браузерний софтфон не встановлено")
    assert state(page) == "contact"

    # With the softphone installed but no SIP account on this browser, C says where to enter it.
    page.keyboard.press("p")
    page.keyboard.press("1")
    page.wait_for_function("() => window.pdOperator.state() === 'paused'")
    page.unroute("**/static/softphone.js*")
    page.reload()
    page.keyboard.press("n")
    wait_for_contact(page, "")
    page.keyboard.press("c")
    expect(page.locator("#op-message")).to_contain_text("Спершу введіть свій SIP-обліковий запис")
    assert state(page) == "contact"
    page.context.close()
    assert errors == [], f"the page logged errors: {errors}"
