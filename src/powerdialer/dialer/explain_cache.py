""" "Why is nothing dialing?" for a view that asks every second: each campaign's explanation
counted in the background and kept, so no request waits for one.

``explain`` judges every row of a campaign (~15 µs a row on this machine, some 1.5 s of CPU
for 100,000 rows; it was 75 µs before a number's zones came without parsing it and rows
never called were judged once per set of zones), too much to do for every poll of the live
view.  So ``ExplainCache.get`` answers the last explanation it has (``None`` before the
first) at once and, when that is stale, counts it again on the cache's one worker thread:

- stale means older than ``max(min_age, factor × how long the last count took)``: a
  campaign of a thousand rows is counted again every second, one of 100,000 rows about every
  15 s, so watching it costs at most a tenth of a core (``factor`` 10);
- one count at a time for the whole process (one worker), one per campaign queued at most;
- campaigns nobody asked about for ``forget_after`` seconds are dropped.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from powerdialer.dialer.explain import Explanation, explain
from powerdialer.errors import PowerDialerError
from powerdialer.storage import Store

log = logging.getLogger(__name__)

Key = tuple[int, int]  # (project_id, campaign_id)


@dataclass(frozen=True, slots=True)
class Counted:
    explanation: Explanation
    seconds: float  # how long counting it took


@dataclass
class _Entry:
    result: Counted | None = None
    done_at: float = 0.0
    asked_at: float = 0.0
    running: bool = False


class ExplainCache:
    def __init__(
        self,
        *,
        min_age: float = 1.0,
        factor: float = 10.0,
        forget_after: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.min_age = min_age
        self.factor = factor
        self.forget_after = forget_after
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Key, _Entry] = {}
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="explain")

    def get(
        self, store: Store, project_id: int, campaign_id: int, at: Callable[[], dt.datetime]
    ) -> Counted | None:
        """The last explanation of the campaign (``None`` before its first count), and a new
        count started if it is stale; ``at`` gives the instant a count is made for."""
        now = self.clock()
        key = (project_id, campaign_id)
        with self._lock:
            self._forget(now)
            entry = self._entries.setdefault(key, _Entry())
            entry.asked_at = now
            last = entry.result
            age = max(self.min_age, self.factor * last.seconds) if last else 0.0
            if not entry.running and (last is None or now - entry.done_at >= age):
                entry.running = True
                self._worker.submit(self._count, store, key, at)
            return last

    def is_counting(self, project_id: int, campaign_id: int) -> bool:
        with self._lock:
            entry = self._entries.get((project_id, campaign_id))
            return entry is not None and entry.running

    def is_kept(self, project_id: int, campaign_id: int) -> bool:
        with self._lock:
            return (project_id, campaign_id) in self._entries

    def _count(self, store: Store, key: Key, at: Callable[[], dt.datetime]) -> None:
        started = self.clock()
        result: Counted | None = None
        try:
            found = explain(store, key[0], key[1], at())
            result = Counted(found, self.clock() - started)
        except PowerDialerError:  # the campaign was deleted meanwhile
            pass
        except Exception:  # a database gone away: the next ask tries again
            log.exception("counting campaign %s for the live view failed", key[1])
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.running = False
                entry.done_at = self.clock()
                if result is not None:
                    entry.result = result

    def _forget(self, now: float) -> None:
        gone = [
            k
            for k, e in self._entries.items()
            if not e.running and now - e.asked_at > self.forget_after
        ]
        for key in gone:
            del self._entries[key]

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)
