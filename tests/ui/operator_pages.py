"""Page helpers of the operator screen's browser tests (tests/ui/test_operator_*browser.py and
tests/telephony/test_operator_shift.py): a page that collects the errors it logs, the
campaign's rules, signing in through the form, and waiting for what the screen
(``window.pdOperator``) and the server (leases, presence) say."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from powerdialer.dialer import control, presence
from powerdialer.dialer.rules import Rules
from powerdialer.storage import Store
from powerdialer.storage.schema import leases, users
from tests.conftest import Persona
from tests.dialer.helpers import ALWAYS
from tests.e2e.conftest import Server
from tests.ui.conftest import User

SCRIPT = "Добрий день, {name}!\nМене звати Олег.\n<b>не HTML</b>"


def new_page(
    browser: Any, width: int = 1280, height: int = 900, **context: Any
) -> tuple[Any, list[str]]:
    """A page in a context of its own (Ukrainian unless told), and the errors it logs."""
    context.setdefault("locale", "uk-UA")
    opened = browser.new_context(viewport={"width": width, "height": height}, **context)
    page = opened.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_default_timeout(15_000)
    return page, errors


def set_rules(store: Store, persona: Persona, **rules: Any) -> None:
    control.set_rules(
        store,
        persona.project_id,
        persona.campaign_id,
        Rules.model_validate({"hours": ALWAYS, "script": SCRIPT, **rules}),
    )


def sign_in(page: Any, server: Server, user: User, path: str = "/dialer") -> None:
    """Open ``path``, land on the sign-in form (Ukrainian), sign in and come back."""
    page.goto(server.url + path)
    assert "/login" in page.url
    page.get_by_label("Електронна пошта").fill(user.email)
    page.get_by_label("Пароль").fill(user.password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(re.escape(path)))


def lease_shown(page: Any) -> str:
    value: str = page.locator("#op-contact").get_attribute("data-lease") or ""
    return value


def wait_for_contact(page: Any, old: str) -> str:
    page.wait_for_function(
        "old => { const l = document.getElementById('op-contact').dataset.lease;"
        " return l && l !== old && ['contact', 'calling'].includes(window.pdOperator.state()); }",
        arg=old,
    )
    return lease_shown(page)


def state(page: Any) -> str:
    value: str = page.evaluate("window.pdOperator.state()")
    return value


def wait_state(page: Any, wanted: str, timeout: float = 15_000) -> None:
    page.wait_for_function("s => window.pdOperator.state() === s", arg=wanted, timeout=timeout)


def wait_released(store: Store, lease_id: int, timeout: float = 5.0) -> None:
    """The lease ended as released (the server's write lands within moments)."""
    deadline = time.monotonic() + timeout
    while True:
        reason = store.read(
            lambda conn: conn.execute(
                select(leases.c.end_reason).where(leases.c.id == lease_id)
            ).scalar_one()
        )
        if reason == "released":
            return
        assert time.monotonic() < deadline, f"lease {lease_id}: {reason}"
        time.sleep(0.05)


def wait_presence(
    store: Store, persona: Persona, user: User, wanted: tuple[str, str | None]
) -> None:
    """The operator's presence (dialer.presence) as the screen last set it."""
    deadline = time.monotonic() + 5.0
    while True:
        now = dt.datetime.now(dt.UTC)
        (mine,) = [
            s for s in presence.list_states(store, persona.project_id, now) if s.email == user.email
        ]
        if (mine.state, mine.reason) == wanted:
            return
        assert time.monotonic() < deadline, (mine.state, mine.reason)
        time.sleep(0.05)


def wait_until(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.05)


def user_id(store: Store, user: User) -> int:
    return int(
        store.read(
            lambda c: c.execute(select(users.c.id).where(users.c.email == user.email)).scalar_one()
        )
    )
