"""powerdialer: a self-hostable Power Dialer campaign service.

Wire-compatible with Ringostat's ``POST /power-dialer/campaigns/campaign-rows``.
"""

__version__ = "0.1.0"
