"""What a fill is asked to do (:class:`FillOptions`) and what it did (:class:`FillResult`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from powerdialer.client import AsyncTransport
from powerdialer.reader.headers import Mapping

__all__ = [
    "EXIT_INPUT",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REJECTED",
    "FillError",
    "FillOptions",
    "FillResult",
    "KeyUse",
    "Mode",
    "Progress",
    "default_report_path",
    "default_state_path",
]

EXIT_OK, EXIT_INPUT, EXIT_REJECTED, EXIT_INTERRUPTED = 0, 2, 3, 130
Mode = Literal["auto", "single", "bulk"]
KeyUse = Literal["auto", "always", "never"]


class FillError(Exception):
    """The fill cannot start as asked (bad file, changed file, no bulk endpoint…): exit 2."""


class Progress(Protocol):
    def start(self, total: int, done: int, description: str) -> None: ...

    def advance(self, n: int) -> None: ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class FillOptions:
    path: Path
    campaign_id: int
    base_url: str
    project_id: str
    key: str | None = field(repr=False)
    mode: Mode = "auto"
    concurrency: int | None = None  # None: adapt to the far end (see _limit.py)
    rate: float | None = None
    burst: int | None = None
    batch_size: int = 1000
    retries: int = 8
    timeout: float = 30.0
    region: str = "UA"
    mapping: Mapping = field(default_factory=Mapping)
    sheet: str | int | None = None
    extras: bool = True
    state_path: Path | None = None
    report_path: Path | None = None
    restart: bool = False
    fsync: bool = False
    dry_run: bool = False
    idempotency_keys: KeyUse = "auto"
    transport: AsyncTransport | None = None
    handle_signals: bool = False

    @property
    def target(self) -> str:
        return f"{self.base_url.rstrip('/')}#project={self.project_id}"

    def plan_fingerprint(self) -> str:
        mapping = self.mapping
        return json.dumps(
            {
                "region": self.region,
                "phone": mapping.phone if isinstance(mapping.phone, str | int) else "auto",
                "fio": _ref(mapping.fio),
                "external_id": _ref(mapping.external_id),
                "has_header": mapping.has_header,
                "sheet": self.sheet,
                "extras": self.extras,
            },
            sort_keys=True,
        )


def _ref(value: object) -> object:
    return value if value is None or isinstance(value, str | int) else "auto"


def default_state_path(path: Path) -> Path:
    return path.with_name(path.name + ".fill.sqlite3")


def default_report_path(path: Path) -> Path:
    return path.with_name(path.stem + ".rejected.csv")


@dataclass
class FillResult:
    status: str  # ok | rejected | aborted | interrupted | dry_run
    exit_code: int
    message: str | None
    file: str
    campaign_id: int
    target: str
    mode: str | None = None
    rate: float | None = None
    concurrency: int = 0  # the limit when sending ended (pinned: --concurrency)
    concurrency_peak: int = 0  # the highest it went
    adaptive: bool = False  # whether it adapted (no --concurrency)
    valid: int = 0
    invalid: int = 0
    duplicates_in_file: int = 0
    already_sent: int = 0
    sent: int = 0
    accepted: int = 0
    inserted: int | None = None
    duplicates: int | None = None
    updated: int | None = None
    rejected_by_server: int = 0
    rejected: int = 0
    retried: int = 0
    requests: int = 0
    unsent: int = 0
    elapsed_seconds: float = 0.0
    rows_per_second: float = 0.0
    report: str | None = None
    state: str | None = None
