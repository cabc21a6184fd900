"""The daemon's poll workers: a bounded pool that admits a feed's poll only while there is room.

Room means three things: fewer than `size` polls running (`fetch.max_connections`), fewer than
`per_host` running against the feed's host (`fetch.max_per_host`), and no poll of that same feed
running already. What to poll and in which order is the caller's business (the clock asks the
store for due feeds, oldest first); this module only runs what it admits and says what it refused.

The fetcher enforces the same limits on every request, pages included; admitting polls by host here
keeps one slow host from filling every worker with polls that would only queue on its limit.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Threads are created on demand up to this, and `size` (at most the config's limit, 1024) bounds how
# many polls run at once: a reload that changes `size` needs no new executor.
MAX_THREADS = 1024


@dataclass(frozen=True, slots=True)
class PollLimits:
    size: int
    per_host: int


class PollPool:
    def __init__(self, limits: PollLimits, on_done: Callable[[], None] | None = None) -> None:
        """`on_done`: called after every poll (e.g. to look for due feeds again without waiting for
        the next tick)."""
        self._limits = limits
        self._on_done = on_done
        self._running: dict[str, str] = {}  # feed key -> host
        self._per_host: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="poll")

    @property
    def limits(self) -> PollLimits:
        return self._limits

    def resize(self, limits: PollLimits) -> None:
        """New limits apply to the next admissions; running polls finish as they are."""
        with self._lock:
            self._limits = limits

    def free_slots(self) -> int:
        with self._lock:
            return max(0, self._limits.size - len(self._running))

    def running(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._running)

    def submit(self, key: str, host: str, poll: Callable[[], object]) -> bool:
        """Run `poll` for the feed `key` on `host` if there is room; False if not (or closed)."""
        with self._lock:
            if (
                self._closed
                or key in self._running
                or len(self._running) >= self._limits.size
                or self._per_host[host] >= self._limits.per_host
            ):
                return False
            self._running[key] = host
            self._per_host[host] += 1
        try:
            self._executor.submit(self._run, key, host, poll)
        except RuntimeError:  # the executor shut down in between: nothing runs
            self._release(key, host)
            return False
        return True

    def _run(self, key: str, host: str, poll: Callable[[], object]) -> None:
        try:
            poll()
        except Exception:  # the poll reports its own errors; this only keeps the worker alive
            log.exception("poll of %s failed", key)
        finally:
            self._release(key, host)
        if self._on_done is not None:
            self._on_done()

    def _release(self, key: str, host: str) -> None:
        with self._lock:
            del self._running[key]
            self._per_host[host] -= 1
            if not self._per_host[host]:
                del self._per_host[host]
            if not self._running:
                self._idle.notify_all()

    def close(self, timeout: float | None = None) -> bool:
        """Admit nothing more and wait up to `timeout` seconds for running polls; True if all ended."""
        with self._lock:
            self._closed = True
            finished = self._idle.wait_for(lambda: not self._running, timeout)
        self._executor.shutdown(wait=finished)
        return finished
