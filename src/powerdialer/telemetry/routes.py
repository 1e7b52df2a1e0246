"""A request's route TEMPLATE, the ``route`` label and log field: never the raw path, so a
thousand lease ids are one label value.

The compatible path is fixed; the operator's two calls are answered before FastAPI
(``web/dialer_edge.py``), so their regexes name them; every other route is the template
FastAPI matched (``scope["route"].path``, set once the app ran).  A path no route matched
is ``other``.
"""

from __future__ import annotations

from powerdialer.web import compat, dialer_edge
from powerdialer.web.responses import Scope

OTHER = "other"
METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
METRICS_PATH = "/metrics"
NEXT = "/power-dialer/campaigns/{campaign_id}/dialer/next"
OUTCOME = "/power-dialer/leases/{lease_id}/outcome"


def route_of(scope: Scope) -> str:
    path: str = scope["path"]
    if path == compat.PATH or path == METRICS_PATH:
        return path
    if dialer_edge.NEXT.fullmatch(path):
        return NEXT
    if dialer_edge.OUTCOME.fullmatch(path):
        return OUTCOME
    template = getattr(scope.get("route"), "path", None)
    return template if isinstance(template, str) and template.startswith("/") else OTHER


def method_of(scope: Scope) -> str:
    """The HTTP method, or ``OTHER`` for one the API never answers (a label stays bounded
    whatever a client sends)."""
    method: str = scope["method"]
    return method if method in METHODS else "OTHER"
