"""Metrics (``GET /metrics``, Prometheus) and JSON request logs, both off by default.

``hooks`` is what the rest of the code touches: one line where a number is known (the
writer's batch, a lease, an outcome), a no-op while metrics are off.  ``metrics`` holds the
Prometheus objects (imported only when metrics are on); ``middleware`` wraps the whole
application when metrics or JSON logs are on, and only then.  docs/metrics.md.
"""
