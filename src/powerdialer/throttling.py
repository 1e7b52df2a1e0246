"""Sign-in throttling: repeated wrong passwords lock the email and, with a higher threshold
(an office shares one address), the client's IP, for a time that doubles with each further
failure.

The lock is checked before the password and applies alike to emails that have no account, so
neither the answer nor its timing tells whether an email is registered.  State lives in the
``login_throttle`` table, so every server instance enforces the same locks.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from powerdialer.storage import Store
from powerdialer.storage import accounts_web as sql

EMAIL_FREE_FAILURES = 5
IP_FREE_FAILURES = 20
FIRST_LOCK = dt.timedelta(seconds=30)
LONGEST_LOCK = dt.timedelta(hours=1)
# Failures older than this (and not locked) are forgotten.
FAILURE_WINDOW = dt.timedelta(hours=1)


def email_key(email: str) -> str:
    return f"email:{email}"[:400]


def keys_for(email: str, client_ip: str) -> dict[str, int]:
    """The throttle keys of one attempt, each with its failures allowed before a lock."""
    return {email_key(email): EMAIL_FREE_FAILURES, f"ip:{client_ip}"[:400]: IP_FREE_FAILURES}


def lock_for(failures: int, free: int) -> dt.timedelta | None:
    if failures < free:
        return None
    lock: dt.timedelta = FIRST_LOCK * 2 ** min(failures - free, 20)
    return min(lock, LONGEST_LOCK)


def seconds_locked(store: Store, keys: dict[str, int], now: dt.datetime) -> int | None:
    """How long the longest lock on any of ``keys`` still lasts, or ``None``."""
    state = store.read(lambda conn: sql.throttle_rows(conn, list(keys)))
    waits = [
        (row.locked_until - now).total_seconds()
        for row in state.values()
        if row.locked_until is not None and row.locked_until > now
    ]
    return max(1, int(max(waits) + 0.999)) if waits else None


def record_failure(conn: Connection, keys: dict[str, int], now: dt.datetime) -> None:
    for key, free in keys.items():
        row = sql.lock_throttle_row(conn, key, now)
        failures, started = row.failures, row.window_started_at
        locked = row.locked_until is not None and row.locked_until > now
        if not locked and now - started > FAILURE_WINDOW:
            failures, started = 0, now
        failures += 1
        lock = lock_for(failures, free)
        sql.save_throttle_row(conn, key, failures, started, now + lock if lock else None)


def forget(conn: Connection, email: str, now: dt.datetime) -> None:
    """After a successful sign-in: the email's counter, and stale rows of anyone."""
    sql.clear_throttle(conn, email_key(email))
    sql.delete_stale_throttle(conn, now - FAILURE_WINDOW - LONGEST_LOCK, now)
