"""Alert delivery on its own thread: woken after a poll that queued alerts, and every `period`
seconds for retries and digests. A slow channel (an SMTP server taking seconds per message) then
delays only other alerts, never the polls that find the news."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(self, deliver: Callable[[], object], period: float) -> None:
        self._deliver = deliver
        self._period = period
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="delivery", daemon=True)

    def start(self) -> None:
        self._wake.set()  # a first round at once: alerts left pending by the last run
        self._thread.start()

    def wake(self) -> None:
        """Deliver soon: a poll queued alerts. Wakes during a round coalesce into one more round."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._period)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self._deliver()
            except Exception:
                log.exception("alert delivery failed; will retry on the next round")

    def stop(self, timeout: float | None = None) -> bool:
        """Finish the round in progress (up to `timeout` seconds) and stop; True if it stopped."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()
