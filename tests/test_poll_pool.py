"""The daemon's poll pool and delivery worker on real threads: room is bounded in total, per host and
per feed; delivery runs on its own thread, woken on demand and on its period."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pipeline.delivery import DeliveryWorker
from pipeline.pollpool import PollLimits, PollPool


def blocked(release: threading.Event, started: list[str], name: str) -> Callable[[], None]:
    def poll() -> None:
        started.append(name)
        release.wait(5)

    return poll


def test_admission_is_bounded_in_total_per_host_and_per_feed() -> None:
    release, started = threading.Event(), []
    done = threading.Event()
    pool = PollPool(PollLimits(size=3, per_host=2), on_done=done.set)
    try:
        assert pool.submit("a1", "a:80", blocked(release, started, "a1"))
        assert not pool.submit("a1", "a:80", blocked(release, started, "a1 again"))  # already running
        assert pool.submit("a2", "a:80", blocked(release, started, "a2"))
        assert not pool.submit("a3", "a:80", blocked(release, started, "a3"))  # host a is full
        assert pool.submit("b1", "b:80", blocked(release, started, "b1"))
        assert not pool.submit("c1", "c:80", blocked(release, started, "c1"))  # the pool is full
        assert pool.free_slots() == 0 and pool.running() == {"a1", "a2", "b1"}
        release.set()
        assert done.wait(5)
        deadline = time.monotonic() + 5
        while pool.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.free_slots() == 3
        assert sorted(started) == ["a1", "a2", "b1"]
        # A reload's new limits apply to the next admissions.
        pool.resize(PollLimits(size=1, per_host=1))
        release.clear()
        assert pool.submit("c1", "c:80", blocked(release, started, "c1"))
        assert not pool.submit("d1", "d:80", blocked(release, started, "d1"))
    finally:
        release.set()
        assert pool.close(timeout=5)
    assert not pool.submit("e1", "e:80", blocked(release, started, "e1"))  # closed: nothing more runs


def test_a_failing_poll_frees_its_slot() -> None:
    pool = PollPool(PollLimits(size=1, per_host=1))

    def broken() -> None:
        raise RuntimeError("bug in one feed's handling")

    try:
        assert pool.submit("a", "a:80", broken)
        deadline = time.monotonic() + 5
        while pool.running() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.submit("a", "a:80", lambda: None)
    finally:
        assert pool.close(timeout=5)


def test_delivery_runs_on_its_own_thread_when_woken_and_on_its_period() -> None:
    rounds: list[str] = []
    ran = threading.Event()

    def deliver() -> None:
        rounds.append(threading.current_thread().name)
        ran.set()

    worker = DeliveryWorker(deliver, period=0.3)
    worker.start()
    try:
        assert ran.wait(5)  # a first round at start
        ran.clear()
        worker.wake()
        assert ran.wait(1)
        ran.clear()
        started = time.monotonic()
        assert ran.wait(2)  # nobody woke it: the period did
        assert time.monotonic() - started > 0.2
    finally:
        assert worker.stop(timeout=5)
    assert set(rounds) == {"delivery"}
