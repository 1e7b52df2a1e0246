"""Identical requests racing each other over real connections: every one is told
``{"result": true}`` and the number is stored once (SPEC §3: a number already in the campaign
is not added twice, and the answer is still success)."""

from __future__ import annotations

import http.client
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from powerdialer.storage import Store
from tests.conftest import COMPAT, Persona, stored_rows
from tests.e2e.conftest import LOCALHOST, Server

pytestmark = pytest.mark.e2e

CLIENTS = 32
ROUNDS = 8


def post_together(
    server: Server, persona: Persona, bodies: list[dict[str, object]]
) -> list[tuple[int, bytes]]:
    """One connection per body, all opened first; then a barrier releases every request at
    once, so they reach the server together rather than in connection order."""
    barrier = threading.Barrier(len(bodies))
    headers = {**persona.headers, "Content-Type": "application/json"}

    def post(body: dict[str, object]) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(LOCALHOST, server.port, timeout=30)
        try:
            conn.connect()
            barrier.wait(timeout=30)
            conn.request("POST", COMPAT, body=json.dumps(body).encode(), headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def assert_all_succeeded(answers: list[tuple[int, bytes]]) -> None:
    assert len(answers) == CLIENTS
    for status, body in answers:
        assert (status, json.loads(body)) == (200, {"result": True}), body


def test_32_identical_concurrent_requests_all_succeed_and_store_one_row(
    server: Server, owner: Persona, store: Store
) -> None:
    numbers = [f"38093{round_no:07d}" for round_no in range(1, ROUNDS + 1)]
    for number in numbers:
        assert_all_succeeded(post_together(server, owner, [owner.row(number)] * CLIENTS))
    stored = Counter(e164 for _, _, e164 in stored_rows(store, owner))
    assert stored == {f"+{number}": 1 for number in numbers}


def test_concurrent_spellings_of_one_number_store_one_row(
    server: Server, owner: Persona, store: Store
) -> None:
    nationals = ["501234567", "631234567", "671234567", "931234567", "971234567"]
    for national in nationals:
        code, rest = national[:2], national[2:]
        spellings = [
            f"380{national}",
            f"+380 {code} {rest[:3]} {rest[3:5]} {rest[5:]}",
            f"0{code}-{rest[:3]}-{rest[3:5]}-{rest[5:]}",
            f"00380{national}",
        ]
        bodies = [owner.row(spellings[i % len(spellings)]) for i in range(CLIENTS)]
        assert_all_succeeded(post_together(server, owner, bodies))
    stored = Counter(e164 for _, _, e164 in stored_rows(store, owner))
    assert stored == {f"+380{national}": 1 for national in nationals}
