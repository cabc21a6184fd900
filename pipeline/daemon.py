"""The long-running daemon: APScheduler polls each feed on its own interval until a signal stops it.

No pipeline logic lives here; jobs call into `Pipeline`.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.config import FeedConfig
from pipeline.cycle import Pipeline

log = logging.getLogger(__name__)

DISPATCH_INTERVAL_SECONDS = 15.0
# How often feeds are checked for silence (no new items for much longer than usual).
HEALTH_CHECK_INTERVAL_SECONDS = 600.0
# Never let shutdown hang forever on a stuck job; in-flight work is transactional, so abandoning it is safe.
SHUTDOWN_GRACE_SECONDS = 30.0


def _jitter(interval: float) -> float:
    """Spread feeds that share an interval so they do not all fire in the same second."""
    return min(interval * 0.1, 30.0)


class Daemon:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self._stop = threading.Event()
        self._dispatch_lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    def _poll_then_dispatch(self, feed: FeedConfig) -> None:
        report = self.pipeline.poll_feed(feed)
        if report.alerts_queued:
            self._dispatch()

    def _dispatch(self) -> None:
        # One dispatcher at a time in this process: two would read the same due rows.
        with self._dispatch_lock:
            try:
                self.pipeline.dispatch()
            except Exception:
                log.exception("alert dispatch failed; will retry on the next tick")

    def _check_feed_health(self) -> None:
        try:
            self.pipeline.check_feed_health()
        except Exception:
            log.exception("feed health check failed; will retry on the next tick")

    def schedule(self) -> None:
        now = datetime.now(UTC)
        for feed in self.pipeline.config.feeds:
            self.scheduler.add_job(
                self._poll_then_dispatch,
                IntervalTrigger(seconds=feed.interval, jitter=_jitter(feed.interval)),
                args=[feed],
                id=f"feed:{feed.url}",
                name=f"poll {feed.name}",
                next_run_time=now,
            )
        self.scheduler.add_job(
            self._dispatch,
            IntervalTrigger(seconds=DISPATCH_INTERVAL_SECONDS),
            id="dispatch",
            name="alert dispatcher",
            next_run_time=now,
        )
        self.scheduler.add_job(
            self._check_feed_health,
            IntervalTrigger(seconds=HEALTH_CHECK_INTERVAL_SECONDS),
            id="feed-health",
            name="feed health check",
        )

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if signum is not None:
            log.info("received %s, stopping", signal.Signals(signum).name)
        self._stop.set()

    def run(self) -> None:
        """Block until SIGINT/SIGTERM (or `request_stop`), then shut down cleanly."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        self.schedule()
        self.scheduler.start()
        log.info(
            "newswatch running: %d feeds, %d topics, %d channels",
            len(self.pipeline.config.feeds),
            len(self.pipeline.config.topics),
            len(self.pipeline.channels),
        )
        while not self._stop.wait(timeout=1.0):
            pass
        self.shutdown()

    def shutdown(self) -> None:
        log.info("stopping: no new polls; waiting up to %ds for running jobs", SHUTDOWN_GRACE_SECONDS)
        self.scheduler.pause()
        finished = threading.Event()

        def wait_for_jobs() -> None:
            self.scheduler.shutdown(wait=True)
            finished.set()

        threading.Thread(target=wait_for_jobs, name="shutdown", daemon=True).start()
        if not finished.wait(SHUTDOWN_GRACE_SECONDS):
            log.warning("jobs still running after %ds; exiting anyway", SHUTDOWN_GRACE_SECONDS)
        log.info("stopped")
