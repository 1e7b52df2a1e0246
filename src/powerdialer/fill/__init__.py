"""Filling a campaign from a CRM export, fast, safely and resumably: the engine behind
``powerdialer fill`` (see docs/fill.md).

An application on the SDK (:mod:`powerdialer.client`), not a part of it: it reads the file
with :mod:`powerdialer.reader` and checks rows with the server's own row rules, and loads
neither SQLAlchemy nor the storage package (a test pins it).

::

    from powerdialer.fill import FillOptions, fill

    result = asyncio.run(fill(FillOptions(path=Path("leads.csv"), campaign_id=456,
                                          base_url="http://127.0.0.1:8000",
                                          project_id="123", key=key)))
"""

from powerdialer.fill._options import (
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REJECTED,
    FillError,
    FillOptions,
    FillResult,
    Progress,
    default_report_path,
    default_state_path,
)
from powerdialer.fill._run import fill
from powerdialer.fill._sender import EXIT_ABORTED, EXIT_AUTH

__all__ = [
    "EXIT_ABORTED",
    "EXIT_AUTH",
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REJECTED",
    "FillError",
    "FillOptions",
    "FillResult",
    "Progress",
    "default_report_path",
    "default_state_path",
    "fill",
]
