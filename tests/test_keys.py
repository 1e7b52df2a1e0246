"""API keys: recognisable, random, stored only as a hash, compared in constant time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from powerdialer import keys, projects
from powerdialer.errors import AuthError
from powerdialer.storage import Store
from powerdialer.storage.schema import api_keys


def test_a_key_has_a_prefix_an_id_and_a_long_random_secret() -> None:
    first, second = keys.generate_key(), keys.generate_key()
    assert first.plaintext.startswith("pd_")
    assert first.plaintext != second.plaintext
    parts = keys.split_key(first.plaintext)
    assert parts is not None
    key_id, secret = parts
    assert key_id == first.key_id
    assert len(secret) >= 40
    assert keys.secret_matches(secret, first.secret_hash)
    assert not keys.secret_matches(secret + "x", first.secret_hash)


def test_malformed_keys_are_recognised_without_the_database() -> None:
    for presented in ["", "xxx", "pd_", "pd_short_x", "pd_0123456789ab_", "PD_0123456789ab_s"]:
        assert keys.split_key(presented) is None


def test_only_the_hash_of_a_key_is_stored(store: Store) -> None:
    project = projects.create_project(store, "Acme")
    created = projects.create_key(store, project.id, "CRM")
    parts = keys.split_key(created.plaintext)
    assert parts is not None
    secret = parts[1]
    stored = store.read(lambda conn: conn.execute(select(api_keys)).one())
    assert secret not in "".join(str(v) for v in stored)
    assert stored.secret_hash == keys.hash_secret(secret)


def test_authenticate_accepts_the_key_only_for_its_project(store: Store) -> None:
    a = projects.create_project(store, "A")
    b = projects.create_project(store, "B")
    key = projects.create_key(store, a.id).plaintext
    store.read(lambda conn: projects.authenticate(conn, a.id, key))
    with pytest.raises(AuthError):
        store.read(lambda conn: projects.authenticate(conn, b.id, key))
    projects.revoke_key(store, a.id, key)
    with pytest.raises(AuthError):
        store.read(lambda conn: projects.authenticate(conn, a.id, key))
