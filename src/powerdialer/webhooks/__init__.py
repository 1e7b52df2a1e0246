"""Webhooks out: telling a CRM what happened (issue 14; docs/webhooks.md).

``events`` (the types and their versioned JSON bodies), ``outbox`` (events written by the
apply function that makes the change, in its transaction), ``signing`` (Standard Webhooks
headers, HMAC-SHA256, rotating secrets), ``deliveries`` (the sender's writer payloads: claim
under a lease, settle with back-off), ``sender`` (the asyncio task that posts after commit)
and ``subscriptions`` (what the API and the UI call).  The safe-target checks are in
``powerdialer.outbound``; the SQL in ``storage/webhooks.py``.  The outbox rule is in
docs/architecture.md.
"""
