"""Where the pipeline reads the time: one injectable clock instead of `datetime.now` in each stage.

The cycle and the health checks ask a `Clock`; the daemon passes the system clock, and tests pass a
`ManualClock` they move forward, so waiting out a backoff costs no real time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


SYSTEM_CLOCK = SystemClock()


class ManualClock:
    """A clock that moves only when told to; thread-safe, as the poll threads read it concurrently."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now
