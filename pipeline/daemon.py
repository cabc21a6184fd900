"""The long-running daemon: APScheduler jobs, live reload, signals and shutdown.

No pipeline logic lives here; jobs call into `Pipeline`. On reload a new Pipeline is
built from the new config (sharing the store) and swapped in; it takes over every part of
the old one whose settings did not change (fetcher, extraction workers, channels, matcher),
so a topic edit swaps only the matcher. The old one is closed, except for what was taken
over, once the jobs still using it have finished, so in-flight work is never cut off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.config import Config, ConfigError, FeedConfig, load_config
from pipeline.cycle import Pipeline
from pipeline.humanize import human_duration
from pipeline.metrics import CONFIG_RELOADS, last_successful_poll, watch_store
from pipeline.schedule import worth_rescheduling
from pipeline.web import HealthProbes, StatusServer, daemon_app

log = logging.getLogger(__name__)

DISPATCH_INTERVAL_SECONDS = 15.0
# How often feeds are checked for silence (no new items for much longer than usual).
HEALTH_CHECK_INTERVAL_SECONDS = 600.0
CONFIG_CHECK_INTERVAL_SECONDS = 2.0
RETENTION_INTERVAL_SECONDS = 6 * 3600.0
# Shutdown waits this long for running jobs, then exits anyway: every write is one
# transaction, so abandoning a job leaves nothing half-written (it is redone next start).
SHUTDOWN_GRACE_SECONDS = 30.0


def _jitter(interval: float) -> float:
    """Spread feeds that share an interval so they do not all fire in the same second."""
    return min(interval * 0.1, 30.0)


def _schedule_settings(feed: FeedConfig) -> tuple[float, float | None, float | None]:
    return feed.interval, feed.min_interval, feed.max_interval


def _feed_job_id(url: str) -> str:
    return f"feed:{url}"


class PipelineHolder:
    """The current Pipeline. A replaced one is closed when the last job using it finishes."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._current = pipeline
        self._users: Counter[int] = Counter()
        self._retired: dict[int, Pipeline] = {}
        self._lock = threading.Lock()

    @property
    def current(self) -> Pipeline:
        return self._current

    @contextmanager
    def use(self) -> Iterator[Pipeline]:
        with self._lock:
            pipeline = self._current
            self._users[id(pipeline)] += 1
        try:
            yield pipeline
        finally:
            done = None
            with self._lock:
                key = id(pipeline)
                self._users[key] -= 1
                if not self._users[key] and key in self._retired:
                    done = self._retired.pop(key)
            if done is not None:
                done.close(dispose_store=False)

    def replace(self, new: Pipeline) -> None:
        with self._lock:
            old, self._current = self._current, new
            idle = not self._users[id(old)]
            if not idle:
                self._retired[id(old)] = old
        if idle:
            old.close(dispose_store=False)

    def stop_all(self) -> None:
        """Ask the current pipeline and any retired one still finishing a job to stop between entries."""
        with self._lock:
            for pipeline in [self._current, *self._retired.values()]:
                pipeline.stopping.set()

    def close(self) -> None:
        with self._lock:
            retired = list(self._retired.values())
            self._retired.clear()
        for pipeline in retired:
            pipeline.close(dispose_store=False)
        self._current.close()


class Daemon:
    def __init__(self, pipeline: Pipeline, config_path: str | Path | None = None) -> None:
        self.holder = PipelineHolder(pipeline)
        self.config_path = Path(config_path) if config_path else None
        self._config_digest = self._read_config_digest()
        self._stop = threading.Event()
        self._dispatch_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        # Per scheduled feed: the schedule settings it was configured with (to see what a reload
        # changes) and the interval it runs at now (which adaptive polling moves).
        self._feed_settings: dict[str, tuple[float, float | None, float | None]] = {}
        self._feed_intervals: dict[str, float] = {}
        self._started_at = time.time()
        self._status_server: StatusServer | None = None
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            # coalesce: after downtime, a feed's missed polls run once, not once per missed interval.
            # max_instances=1: never two polls of one feed at the same time.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    @property
    def config(self) -> Config:
        return self.holder.current.config

    # --- jobs --------------------------------------------------------------------

    def _poll(self, url: str) -> None:
        with self.holder.use() as pipeline:
            feed = next((feed for feed in pipeline.config.feeds if feed.url == url), None)
            if feed is None or self._stop.is_set():
                return  # removed by a reload, or shutting down
            report = pipeline.poll_feed(feed)
            if feed.adaptive and not (report.error or report.skipped):
                self._adapt(feed, pipeline.adaptive_interval(feed, report.entries))
        if report.alerts_queued:
            self._dispatch()

    def _adapt(self, feed: FeedConfig, proposed: float) -> None:
        current = self._feed_intervals.get(feed.url)
        if current is None or not worth_rescheduling(current, proposed):
            return
        self.scheduler.reschedule_job(
            _feed_job_id(feed.url), trigger=IntervalTrigger(seconds=proposed, jitter=_jitter(proposed))
        )
        self._feed_intervals[feed.url] = proposed
        log.info("feed %r: adaptive polling every %ds (was %ds)", feed.name, round(proposed), round(current))

    def _dispatch(self) -> None:
        # One dispatcher at a time in this process: two would read the same due rows.
        with self._dispatch_lock, self.holder.use() as pipeline:
            try:
                pipeline.dispatch()
            except Exception:
                log.exception("alert dispatch failed; will retry on the next tick")

    def _prune(self) -> None:
        keep_for = self.config.retention.unmatched_articles
        if keep_for is None:
            return
        with self.holder.use() as pipeline:
            cutoff = pipeline.clock.now() - timedelta(seconds=keep_for)
            removed = pipeline.store.prune_unmatched_articles(cutoff)
        log.info("retention: pruned %d unmatched articles older than %s", removed, human_duration(keep_for))

    def _check_feed_health(self) -> None:
        with self.holder.use() as pipeline:
            try:
                pipeline.check_feed_health()
            except Exception:
                log.exception("feed health check failed; will retry on the next tick")

    def _add_feed_job(self, feed: FeedConfig, first_run: datetime | None) -> None:
        self.scheduler.add_job(
            self._poll,
            IntervalTrigger(seconds=feed.interval, jitter=_jitter(feed.interval)),
            args=[feed.url],
            id=_feed_job_id(feed.url),
            name=f"poll {feed.name}",
            replace_existing=True,
            **({"next_run_time": first_run} if first_run else {}),
        )
        self._feed_intervals[feed.url] = feed.interval
        self._feed_settings[feed.url] = _schedule_settings(feed)

    def _sync_feed_jobs(self, config: Config) -> tuple[list[str], list[str], list[str]]:
        """Make the scheduled feed jobs match `config`; returns (added, removed, rescheduled) names."""
        wanted = {feed.url: feed for feed in config.feeds}
        added, removed, rescheduled = [], [], []
        for url in list(self._feed_intervals):
            if url not in wanted:
                self.scheduler.remove_job(_feed_job_id(url))
                del self._feed_intervals[url], self._feed_settings[url]
                removed.append(url)
        now = datetime.now(UTC)
        for url, feed in wanted.items():
            if url not in self._feed_intervals:
                self._add_feed_job(feed, first_run=now)
                added.append(feed.name)
            elif self._feed_settings[url] != _schedule_settings(feed):
                self.scheduler.reschedule_job(
                    _feed_job_id(url),
                    trigger=IntervalTrigger(seconds=feed.interval, jitter=_jitter(feed.interval)),
                )
                self._feed_intervals[url] = feed.interval
                self._feed_settings[url] = _schedule_settings(feed)
                rescheduled.append(feed.name)
        return added, removed, rescheduled

    def schedule(self) -> None:
        self._sync_feed_jobs(self.config)
        now = datetime.now(UTC)
        self.scheduler.add_job(
            self._dispatch,
            IntervalTrigger(seconds=DISPATCH_INTERVAL_SECONDS),
            id="dispatch",
            next_run_time=now,
        )
        self.scheduler.add_job(
            self._check_feed_health,
            IntervalTrigger(seconds=HEALTH_CHECK_INTERVAL_SECONDS),
            id="feed-health",
            name="feed health check",
        )
        self.scheduler.add_job(
            self._prune,
            IntervalTrigger(seconds=RETENTION_INTERVAL_SECONDS),
            id="retention",
            next_run_time=now + timedelta(minutes=1),
        )
        if self.config_path is not None:
            self.scheduler.add_job(
                self._check_config_file,
                IntervalTrigger(seconds=CONFIG_CHECK_INTERVAL_SECONDS),
                id="config-watch",
            )

    # --- live reload -------------------------------------------------------------

    def _read_config_digest(self) -> str | None:
        if self.config_path is None:
            return None
        try:
            return hashlib.sha256(self.config_path.read_bytes()).hexdigest()
        except OSError:
            return None

    def _check_config_file(self) -> None:
        digest = self._read_config_digest()
        if digest is not None and digest != self._config_digest:
            self.reload("the config file changed")

    def reload(self, reason: str) -> bool:
        """Re-read the config; apply it if valid, else keep running on the old one. True if applied."""
        if self.config_path is None:
            log.warning("reload requested (%s) but the daemon has no config file path", reason)
            return False
        with self._reload_lock:
            self._config_digest = self._read_config_digest()
            log.info("reloading %s: %s", self.config_path, reason)
            try:
                new_config = load_config(self.config_path)
            except ConfigError as error:
                CONFIG_RELOADS.labels(result="rejected").inc()
                log.error("config reload refused, still running on the previous config: %s", error)
                return False
            old = self.holder.current
            if new_config.database != old.config.database:
                log.warning("database URL changed in the config: restart newswatch to switch databases")
                new_config = new_config.model_copy(update={"database": old.config.database})
            if new_config.web != old.config.web:
                log.warning("web settings changed in the config: restart newswatch to apply them")
            try:
                new_pipeline = Pipeline(new_config, old.store, previous=old, clock=old.clock)
            except Exception:
                CONFIG_RELOADS.labels(result="rejected").inc()
                log.exception("config reload failed while building the new pipeline; keeping the old one")
                return False
            # Swap while no dispatch runs, so a channel is never replaced in the middle of a send.
            with self._dispatch_lock:
                self.holder.replace(new_pipeline)
            added, removed, rescheduled = self._sync_feed_jobs(new_config)
            CONFIG_RELOADS.labels(result="applied").inc()
            recompiled = "recompiled" if new_pipeline.matcher is not old.matcher else "unchanged"
            kept = ", ".join(sorted(new_pipeline.kept_from_previous)) or "nothing"
            log.info(
                "config reloaded: feeds +%d -%d ~%d (now %d), topics %d (%s), channels %d; kept: %s",
                len(added),
                len(removed),
                len(rescheduled),
                len(new_config.feeds),
                len(new_config.topics),
                recompiled,
                len(new_config.channels),
                kept,
            )
            return True

    def _on_sighup(self, _signum: int, _frame: FrameType | None) -> None:
        # Not in the signal handler itself: reloading takes locks the interrupted thread may hold.
        self.scheduler.add_job(self.reload, args=["SIGHUP"], id="reload-now", replace_existing=True)

    # --- lifecycle ---------------------------------------------------------------

    def request_stop(self, signum: int | None = None, _frame: FrameType | None = None) -> None:
        if signum is not None:
            log.info("received %s, stopping", signal.Signals(signum).name)
        self._stop.set()

    def start(self) -> None:
        self.schedule()
        if self.config.feeds and self.config.fetch.fetch_pages:
            self.holder.current.extractor.start()
        self.scheduler.start()
        watch_store(lambda: self.holder.current.monitoring_counts())
        web = self.config.web
        if web.listen:
            probes = HealthProbes(
                scheduler_running=lambda: self.scheduler.running and not self._stop.is_set(),
                check_database=lambda: self.holder.current.store.ping(),
                last_successful_poll=last_successful_poll,
                max_success_age_seconds=web.max_poll_age,
                started_at=self._started_at,
            )
            config_dir = self.config_path.resolve().parent if self.config_path else None
            app = daemon_app(probes, lambda: self.config, self.holder.current.store.engine, config_dir)
            try:
                self._status_server = StatusServer(*web.address, app).start()
            except OSError as error:
                # Monitoring must not stop the monitoring of news: poll and alert without it.
                log.error(
                    "cannot serve the console, /healthz and /metrics on %s: %s; running without them",
                    web.listen,
                    error,
                )
        log.info(
            "newswatch running: %d feeds, %d topics, %d channels",
            len(self.config.feeds),
            len(self.config.topics),
            len(self.config.channels),
        )

    def run(self) -> None:
        """Block until SIGINT/SIGTERM (or `request_stop`), then shut down cleanly."""
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)
        signal.signal(signal.SIGHUP, self._on_sighup)
        self.start()
        while not self._stop.wait(timeout=1.0):
            pass
        self.shutdown()

    def shutdown(self) -> None:
        log.info("stopping: no new jobs; waiting up to %ds for running ones", SHUTDOWN_GRACE_SECONDS)
        self._stop.set()
        self.scheduler.pause()
        self.holder.stop_all()
        finished = threading.Event()

        def wait_for_jobs() -> None:
            self.scheduler.shutdown(wait=True)
            finished.set()

        threading.Thread(target=wait_for_jobs, name="shutdown", daemon=True).start()
        if self._status_server is not None:
            self._status_server.stop()
        if not finished.wait(SHUTDOWN_GRACE_SECONDS):
            log.warning("jobs still running after %ds; exiting without them", SHUTDOWN_GRACE_SECONDS)
            logging.shutdown()
            os._exit(0)
        self.holder.close()
        log.info("stopped")
