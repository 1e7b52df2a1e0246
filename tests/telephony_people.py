"""What the telephony tests with web users share: the server's secret key, cheap password
hashing (as in tests/ui/conftest.py, whose fixtures modules outside tests/ui/ cannot see) and
a user's id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from powerdialer.accounts import passwords
from powerdialer.storage import Store
from powerdialer.storage.schema import users
from tests.ui.conftest import User

KEY = "a-test-secret-key-that-is-long-enough-0123456789"  # POWERDIALER_SECRET_KEY in tests


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=256))
    passwords.dummy_hash.cache_clear()
    yield
    passwords.dummy_hash.cache_clear()


def user_id(store: Store, user: User) -> int:
    query = select(users.c.id).where(users.c.email == user.email)
    return int(store.read(lambda conn: conn.execute(query).scalar_one()))
