"""Webhooks out: telling a CRM what happened (issue 14; not built yet, this is its home).

What lands here: ``events`` (the typed, versioned event bodies: rows added, outcome recorded,
callback scheduled, contact final, campaign completed, import finished, number added to the
do-not-call list), ``outbox`` (events written by the apply function that makes the change, in
its transaction), ``signing`` (Standard Webhooks headers, HMAC-SHA256, rotating secrets) and
``sender`` (delivers after commit, retries with back-off, refuses internal addresses). Storage
in ``storage/webhooks.py``, routes in ``web/api/webhooks.py``. The outbox rule is in
docs/architecture.md.
"""
