"""Browser helpers of the softphone's tests: Chromium's flags for WebRTC on loopback with a
fake microphone, signing in, and saving the SIP account on Account → Softphone (in this
browser's localStorage)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tests.e2e.conftest import Server
from tests.telephony.conftest import Lab
from tests.ui.browser import CHROMIUM, require_chromium
from tests.ui.conftest import User

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A microphone without a microphone, granted without a prompt.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    # WebRTC on loopback: allowed at all, and with real addresses (not .local mDNS names).
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    # Nothing else leaves the machine: no proxy that works, no name that resolves.
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def softphone_chromium() -> Iterator[Any]:
    """Chromium with BROWSER_ARGS (a module fixture's body)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def sign_in_en(page: Any, server: Server, user: User) -> None:
    page.goto(server.url + "/login?lang=en")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(user.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/settings/"))


def save_account(page: Any, server: Server, lab: Lab, user: str) -> None:
    """The SIP account of ``user`` on the lab's Kamailio, saved on this browser."""
    page.goto(server.url + "/account/softphone")
    page.locator("#sp-ws").fill(lab.kamailio.ws_url)
    page.locator("#sp-uri").fill(f"sip:{user}@127.0.0.1")
    page.locator("#sp-password").fill("lab")
    page.locator("#sp-name").fill(user.capitalize())
    page.locator("#softphone-form button[type=submit]").click()
    assert page.locator("#sp-status").get_attribute("data-state") == "saved"
