"""A project's do-not-call list (issue 12; not built yet, this is its home).

A number on the list is never handed to an operator: ``dialer.queue`` checks it at lease time,
in the writer's transaction that grants the lease (docs/architecture.md), so a number added a
moment ago is not called. It sits on the domain floor below both ``rows/`` (which may refuse or
flag such a number when it is added) and ``dialer/`` (which never hands it out); its SQL goes
in ``storage/dnc.py``, its routes in ``web/api/dnc.py``, its CLI in ``cli/dnc.py``.
"""
