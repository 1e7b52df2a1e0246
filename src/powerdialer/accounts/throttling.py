"""Sign-in throttling: repeated wrong passwords lock the email and, with a higher threshold
(an office shares one address), the client's IP, for a time that doubles with each further
failure.

An attempt is *reserved* before its password hash is checked: one atomic statement per key
counts it (:func:`powerdialer.storage.accounts.reserve_attempt`), and the attempt that
reaches a key's threshold sets its lock at once.  So however many attempts arrive together,
on one server or several sharing the database, at most the free number of them get their
password checked; the rest are refused as locked.  A wrong password leaves its reservation
counted as the failure; a right one takes it back (:func:`release`).

The lock is checked before the password and applies alike to emails that have no account, so
neither the answer nor its timing tells whether an email is registered.  State lives in the
``login_throttle`` table, so every server instance enforces the same locks.  The current
password asked by a password change is throttled the same way, on the same keys.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from powerdialer.storage import Store
from powerdialer.storage import accounts as sql

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


class Locked(Exception):
    """Raised inside the reserving transaction when a key is locked: nothing is counted."""


def reserve(conn: Connection, keys: dict[str, int], now: dt.datetime) -> dict[str, int]:
    """Count one attempt against each of ``keys`` before its password is checked; raises
    ``Locked`` (the caller's transaction then rolls back) if any key is locked.  Returns each
    key's count, this attempt included, for :func:`release`.  Keys are taken in sorted order,
    so two attempts sharing keys never wait on each other in a cycle."""
    counts: dict[str, int] = {}
    for key in sorted(keys):
        count = sql.reserve_attempt(conn, key, now, now - FAILURE_WINDOW)
        if count is None:
            raise Locked(key)
        lock = lock_for(count, keys[key])
        if lock is not None:
            sql.set_throttle_lock(conn, key, now + lock)
        counts[key] = count
    return counts


def release(conn: Connection, email: str, keys: dict[str, int], counts: dict[str, int]) -> None:
    """After the password proved right: the email's counter is cleared; the other keys (the
    address) take back this attempt, and the lock it set if it set one."""
    for key, free in keys.items():
        if key == email_key(email):
            sql.clear_throttle(conn, key)
        elif key in counts:
            sql.release_attempt(conn, key, unlock=counts[key] >= free)


def forget_stale(conn: Connection, now: dt.datetime) -> None:
    """Rows of anyone whose failures are too old to count and who is not locked."""
    sql.delete_stale_throttle(conn, now - FAILURE_WINDOW - LONGEST_LOCK, now)
