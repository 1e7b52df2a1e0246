"""The live view's "why not" counts (``dialer.explain_cache``): answered at once from what was
counted last, counted again in the background when stale — stale after ``max(1 s, 10 × the
last count's time)`` — one count at a time, on the real database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from powerdialer.dialer import explain_cache
from powerdialer.dialer.explain import Explanation
from powerdialer.dialer.explain_cache import Counted, ExplainCache
from powerdialer.storage import Store
from tests.clock import Clock
from tests.conftest import Persona


class Counting:
    """The real ``explain``, counting its calls; each call can take ``takes`` seconds of the
    cache's clock, and can be held until ``release`` is set."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.calls = 0
        self.takes = 0.0
        self.release = threading.Event()
        self.release.set()
        self.real = explain_cache.explain

    def __call__(self, *args: Any) -> Explanation:
        self.calls += 1
        self.release.wait(10)
        self.clock.advance(seconds=self.takes)
        return self.real(*args)


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> Counting:
    spy = Counting(clock)
    monkeypatch.setattr(explain_cache, "explain", spy)
    return spy


@pytest.fixture
def cache(clock: Clock) -> Iterator[ExplainCache]:
    made = ExplainCache(clock=clock.monotonic)
    yield made
    made.close()


def settled(cache: ExplainCache, store: Store, persona: Persona, clock: Clock) -> Counted:
    """Bounded wait for the background count to land (the cache's clock stands still)."""
    for _ in range(200):
        found = cache.get(store, persona.project_id, persona.campaign_id, clock.now)
        if found is not None and not cache.is_counting(persona.project_id, persona.campaign_id):
            return found
        time.sleep(0.02)
    raise AssertionError("the count never landed")


def test_the_first_ask_answers_nothing_and_counts_in_the_background(
    cache: ExplainCache, store: Store, owner: Persona, clock: Clock, counting: Counting
) -> None:
    assert cache.get(store, owner.project_id, owner.campaign_id, clock.now) is None
    found = settled(cache, store, owner, clock)
    assert found.explanation.campaign_id == owner.campaign_id
    assert found.explanation.at == clock.now()
    assert counting.calls == 1


def test_a_count_is_kept_for_a_second_then_counted_again(
    cache: ExplainCache, store: Store, owner: Persona, clock: Clock, counting: Counting
) -> None:
    cache.get(store, owner.project_id, owner.campaign_id, clock.now)
    settled(cache, store, owner, clock)
    clock.advance(seconds=0.9)
    assert cache.get(store, owner.project_id, owner.campaign_id, clock.now) is not None
    assert counting.calls == 1
    clock.advance(seconds=0.1)
    cache.get(store, owner.project_id, owner.campaign_id, clock.now)
    settled(cache, store, owner, clock)
    assert counting.calls == 2


def test_a_slow_count_is_kept_ten_times_as_long_as_it_took(
    cache: ExplainCache, store: Store, owner: Persona, clock: Clock, counting: Counting
) -> None:
    counting.takes = 5.0
    cache.get(store, owner.project_id, owner.campaign_id, clock.now)
    found = settled(cache, store, owner, clock)
    assert found.seconds == 5.0
    clock.advance(seconds=49)
    cache.get(store, owner.project_id, owner.campaign_id, clock.now)
    assert counting.calls == 1
    clock.advance(seconds=1)
    cache.get(store, owner.project_id, owner.campaign_id, clock.now)
    settled(cache, store, owner, clock)
    assert counting.calls == 2


def test_one_count_at_a_time_and_askers_never_wait_for_it(
    cache: ExplainCache, store: Store, owner: Persona, clock: Clock, counting: Counting
) -> None:
    counting.release.clear()  # the count is held in the worker
    for _ in range(5):
        started = time.monotonic()
        assert cache.get(store, owner.project_id, owner.campaign_id, clock.now) is None
        assert time.monotonic() - started < 0.5
        clock.advance(seconds=2)
    counting.release.set()
    settled(cache, store, owner, clock)
    assert counting.calls == 1


def test_each_project_and_campaign_is_counted_on_its_own(
    cache: ExplainCache,
    store: Store,
    owner: Persona,
    stranger: Persona,
    clock: Clock,
    counting: Counting,
) -> None:
    cache.get(store, owner.project_id, owner.campaign_id, clock.now)
    mine = settled(cache, store, owner, clock)
    cache.get(store, stranger.project_id, stranger.campaign_id, clock.now)
    theirs = settled(cache, store, stranger, clock)
    assert (mine.explanation.campaign_id, theirs.explanation.campaign_id) == (
        owner.campaign_id,
        stranger.campaign_id,
    )
    # Another project's campaign id under this project is no campaign: nothing is counted.
    assert cache.get(store, owner.project_id, stranger.campaign_id, clock.now) is None
    for _ in range(100):
        if not cache.is_counting(owner.project_id, stranger.campaign_id):
            break
        time.sleep(0.02)
    assert cache.get(store, owner.project_id, stranger.campaign_id, clock.now) is None


def test_campaigns_nobody_asks_about_are_forgotten(
    cache: ExplainCache, store: Store, owner: Persona, clock: Clock, counting: Counting
) -> None:
    cache.get(store, owner.project_id, owner.campaign_id, clock.now)
    settled(cache, store, owner, clock)
    clock.advance(seconds=601)
    assert cache.get(store, owner.project_id, 999, clock.now) is None  # any ask sweeps
    assert not cache.is_kept(owner.project_id, owner.campaign_id)
