"""The power dialer: operators work a campaign (issue 12; not built yet, this is its home).

What lands here, one module a concern, on the domain floor beside ``rows/`` and
``campaigns.py`` (storage in ``storage/dialer.py``, routes in ``web/api/dialer.py`` and
``web/ui/routes/operator.py``, the CLI in ``cli/``):

- ``queue``: the next contact for an operator, with a lease; release, skip, renew;
- ``outcomes``: an attempt's outcome, its immutable history row, the contact's final states;
- ``rules``: attempts, retry delays per outcome, caps per number and contact, dates, pause;
- ``hours``: calling hours in the contact's own time zone (through ``phones``);
- ``calls``: how a call is placed (``tel:``/``sip:`` links, a PBX's click-to-call).

The rules it follows are in docs/architecture.md: leases, outcomes and the do-not-call check at
lease time are writer payloads (one writer on SQLite; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), every function whose answer depends on the time takes ``now``, and the events it
reports for webhooks are written in the same transaction as the change (an outbox).
"""
