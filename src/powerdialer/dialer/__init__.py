"""The power dialer: operators work a campaign (docs/dialer.md).

One module a concern, on the domain floor beside ``rows/`` and ``campaigns.py`` (SQL in
``storage/dialer.py``, ``storage/leases.py``, ``storage/wrapup.py``, ``storage/dialer_read.py``,
``storage/dialer_admin.py``; routes in ``web/api/dialer.py``, ``web/api/dialer_campaigns.py``,
``web/api/outcomes.py``; the CLI in ``cli/dialer.py``):

- ``queue``: the next contact for an operator, with a lease; ``leasing``: renew, release;
- ``wrapup``: an attempt's outcome, its immutable history row, the row's final states and the
  campaign's completion;
- ``assess``: whether a row may be called now (calling hours, caps, gaps), and until when not;
- ``rules``, ``outcomes``: a campaign's rules, the built-in and a project's own outcomes;
- ``windows``, ``hours``, ``profiles``: calling hours in the contact's own IANA zones;
- ``explain``: "why is nothing dialing?", every row counted under what decides it;
- ``history``: the call history as CSV; ``control``: what the routes and the CLI call.
- ``presence``: each operator's state on the operator screen (ready, on a call, wrap-up,
  paused with a reason, offline); ``live``: the supervisor's live view at an instant, with
  ``explain_cache`` counting its "why not" figures in the background.

The rules it follows are in docs/architecture.md: leases, outcomes and the do-not-call check at
lease time are writer payloads (one writer on SQLite; ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL), every function whose answer depends on the time takes ``now``, and the events it
will report for webhooks are to be written in the same transaction as the change (an outbox).
"""
