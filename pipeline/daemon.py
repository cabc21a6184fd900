"""The long-running daemon: the clock, the poll pool, alert delivery, live reload, signals, shutdown.

No pipeline logic lives here. When a feed is polled is stored in `feeds.next_poll_at` (computed by
pipeline.schedule after every poll): APScheduler's one short tick job asks the store which feeds
are due, the longest overdue first, and hands them to the `PollPool` (at most
`fetch.max_connections` polls, `fetch.max_per_host` per host, never two of one feed). Alerts are
sent by the `DeliveryWorker`'s own thread, woken after a poll that queued some: a slow channel
never holds up a poll. On PostgreSQL, while cluster workers are alive on the same database, the
daemon stands back from polling and serves only (pipeline/cluster/presence.py).

On reload a new Pipeline is built from the new config (sharing the store) and swapped in; it takes
over every part of the old one whose settings did not change (fetcher, extraction workers,
channels, matcher), so a topic edit swaps only the matcher. The old one is closed, except for what
was taken over, once the polls still using it have finished, so in-flight work is never cut off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from pipeline.cluster.presence import presence_for
from pipeline.config import Config, ConfigError, FeedConfig, load_config
from pipeline.cycle import Pipeline
from pipeline.delivery import DeliveryWorker
from pipeline.fetch import host_key
from pipeline.heap import release_free_heap
from pipeline.humanize import human_duration
from pipeline.metrics import count_reload, last_successful_poll, watch_store
from pipeline.metrics import enable as enable_metrics
from pipeline.models import FeedState
from pipeline.pollpool import PollLimits, PollPool
from pipeline.web import HealthProbes, StatusServer, daemon_app

log = logging.getLogger(__name__)

# Alert delivery runs at least this often (retries, digests) besides after each poll that queued alerts.
DISPATCH_INTERVAL_SECONDS = 15.0
# How often feeds are checked for silence (no new items for much longer than usual).
HEALTH_CHECK_INTERVAL_SECONDS = 600.0
CONFIG_CHECK_INTERVAL_SECONDS = 2.0
RETENTION_INTERVAL_SECONDS = 6 * 3600.0
# Shutdown waits this long for running polls and the delivery round, then exits anyway: every write
# is one transaction, so abandoning a poll leaves nothing half-written (it is redone next start).
SHUTDOWN_GRACE_SECONDS = 30.0
# The clock's tick: a due feed waits at most one tick (a tenth of the shortest interval, so a 10 s
# feed is polled within a second of its time), never more often than TICK_MIN (the tick is one
# indexed query) nor less often than TICK_MAX.
TICK_MIN_SECONDS = 0.1
TICK_MAX_SECONDS = 1.0
TICK_JOB = "poll-tick"


def tick_seconds(config: Config) -> float:
    shortest = min(
        (feed.min_interval if feed.min_interval is not None else feed.interval for feed in config.feeds),
        default=TICK_MAX_SECONDS * 10,
    )
    return min(TICK_MAX_SECONDS, max(TICK_MIN_SECONDS, shortest / 10))


def poll_limits(config: Config) -> PollLimits:
    return PollLimits(size=config.fetch.max_connections, per_host=config.fetch.max_per_host)


def _schedule_settings(feed: FeedConfig) -> tuple[float, float | None, float | None]:
    return feed.interval, feed.min_interval, feed.max_interval


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
        # Before the first poll: /metrics counts from the start of the process.
        enable_metrics()
        self.holder = PipelineHolder(pipeline)
        self.config_path = Path(config_path) if config_path else None
        self._config_digest = self._read_config_digest()
        self._stop = threading.Event()
        self._dispatch_lock = threading.Lock()
        self._reload_lock = threading.Lock()
        self._ticking = threading.Lock()
        # The last tick left due feeds for want of a worker (or of room on their host).
        self._feeds_waiting = False
        # Feeds whose last poll could not be recorded (a failing store): left alone for an interval.
        self._unrecorded: dict[str, float] = {}
        self._unrecorded_lock = threading.Lock()
        self._started_at = time.time()
        self._status_server: StatusServer | None = None
        # On PostgreSQL, cluster workers may share the database: while they are alive their sweep
        # is the clock, and this daemon only serves (pipeline/cluster/presence.py).
        self.cluster = presence_for(pipeline.config)
        self.pool = PollPool(poll_limits(pipeline.config), on_done=self._tick_soon)
        self.delivery = DeliveryWorker(self._dispatch, DISPATCH_INTERVAL_SECONDS)
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            # coalesce: after downtime, a missed periodic job runs once, not once per missed interval.
            # max_instances=1: never two ticks (or two health checks) at the same time.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    @property
    def config(self) -> Config:
        return self.holder.current.config

    # --- jobs --------------------------------------------------------------------

    def _tick(self) -> None:
        """Hand due feeds to the poll pool while it has room, the longest overdue first."""
        # A tick brought forward by a finished poll may meet a running one: that one does the work.
        if self._stop.is_set() or not self._ticking.acquire(blocking=False):
            return
        try:
            self._pick_due_feeds()
        finally:
            self._ticking.release()

    def standing_back(self) -> bool:
        """True while cluster workers poll the feeds of this database."""
        return self.cluster is not None and self.cluster.workers_alive() > 0

    def _pick_due_feeds(self) -> None:
        if self.standing_back():
            self._feeds_waiting = False
            return
        with self.holder.use() as pipeline:
            feeds = {feed.url: feed for feed in pipeline.config.feeds}
            running = self.pool.running()
            # Feeds being polled are still due in the database until their poll records the next
            # time; feeds removed from the config keep their rows but are not polled.
            with self._unrecorded_lock:
                clock = time.monotonic()
                self._unrecorded = {url: until for url, until in self._unrecorded.items() if until > clock}
                left_alone = set(self._unrecorded)
            candidates = [url for url in feeds if url not in running and url not in left_alone]
            now = pipeline.clock.now()
            waiting = False
            while candidates:
                free = self.pool.free_slots()
                if not free:
                    waiting = True
                    break
                # Twice the room: feeds refused for a busy host leave others to fill it.
                limit = 2 * free
                due = pipeline.store.due_feeds(now, limit, among=candidates)
                for state in due:
                    host = host_key(state.health.moved_to or state.url)
                    waiting |= not self.pool.submit(state.url, host, partial(self._poll, state))
                if len(due) < limit:
                    break
                offered = {state.url for state in due}
                candidates = [url for url in candidates if url not in offered]
            self._feeds_waiting = waiting

    def _tick_soon(self) -> None:
        """After a poll: a worker is free, so if due feeds were left waiting for one, look now rather
        than at the next tick (without a backlog the next tick is soon enough, and cheaper)."""
        if self._stop.is_set() or not self._feeds_waiting:
            return
        try:
            self.scheduler.modify_job(TICK_JOB, next_run_time=datetime.now(UTC))
        except Exception:  # the scheduler is shutting down: the next start picks up
            log.debug("could not bring the tick forward", exc_info=True)

    def _poll(self, state: FeedState) -> None:
        with self.holder.use() as pipeline:
            feed = next((feed for feed in pipeline.config.feeds if feed.url == state.url), None)
            if feed is None or self._stop.is_set():
                return  # removed by a reload, or shutting down
            try:
                report = pipeline.poll_feed(feed, state)
            except Exception:
                # Only the store can fail here (poll_feed reports everything else): the feed's next
                # due time was not written, so without this it would be due again at every tick.
                log.exception(
                    "feed %r: its poll could not be recorded; next try in %ds", feed.name, feed.interval
                )
                with self._unrecorded_lock:
                    self._unrecorded[feed.url] = time.monotonic() + feed.interval
                return
            finally:
                # The poll's pages, parse results and fingerprints are freed by now; glibc would
                # keep their pages resident for the next allocation (issue 16: the daemon's peak
                # 296 -> 279 MB at 1,000 feeds, for well under a millisecond a poll).
                release_free_heap()
        if report.alerts_queued:
            self.delivery.wake()

    def _dispatch(self) -> None:
        # Runs on the delivery thread only; the lock keeps a reload from swapping channels mid-send.
        with self._dispatch_lock, self.holder.use() as pipeline:
            pipeline.dispatch()

    def _prune(self) -> None:
        keep_for = self.config.retention.unmatched_articles
        if keep_for is None:
            return
        with self.holder.use() as pipeline:
            cutoff = pipeline.clock.now() - timedelta(seconds=keep_for)
            removed = pipeline.store.prune_unmatched_articles(cutoff)
        log.info("retention: pruned %d unmatched articles older than %s", removed, human_duration(keep_for))

    def _check_feed_health(self) -> None:
        if self.standing_back():
            return  # the workers' periodic check_feed_health raises the notices
        with self.holder.use() as pipeline:
            try:
                pipeline.check_feed_health()
            except Exception:
                log.exception("feed health check failed; will retry on the next tick")

    def _sync_feeds(self) -> None:
        """Give every configured feed its row (a feed seen for the first time is due at once), and
        plan again the next poll of those whose schedule settings changed."""
        with self.holder.use() as pipeline:
            feeds = pipeline.config.feeds
            pipeline.store.feed_states([(feed.url, feed.name) for feed in feeds])
            moved = pipeline.health.replan(feeds)
        if moved:
            log.info("next poll planned again for new schedule settings: %s", ", ".join(moved))

    def schedule(self) -> None:
        self._sync_feeds()
        now = datetime.now(UTC)
        self.scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=tick_seconds(self.config)),
            id=TICK_JOB,
            name="poll due feeds",
            next_run_time=now,
            # Room for a tick brought forward while one runs (it returns at once; see _tick).
            max_instances=3,
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
                count_reload("rejected")
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
                count_reload("rejected")
                log.exception("config reload failed while building the new pipeline; keeping the old one")
                return False
            # Swap while no dispatch runs, so a channel is never replaced in the middle of a send.
            with self._dispatch_lock:
                self.holder.replace(new_pipeline)
            self._sync_feeds()
            self.pool.resize(poll_limits(new_config))
            if tick_seconds(new_config) != tick_seconds(old.config):
                tick = IntervalTrigger(seconds=tick_seconds(new_config))
                self.scheduler.reschedule_job(TICK_JOB, trigger=tick)
            added, removed, rescheduled = _feed_changes(old.config.feeds, new_config.feeds)
            count_reload("applied")
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
        self.delivery.start()
        watch_store(lambda: self.holder.current.monitoring_counts())
        web = self.config.web
        if web.listen:
            probes = HealthProbes(
                scheduler_running=lambda: self.scheduler.running and not self._stop.is_set(),
                check_database=lambda: self.holder.current.store.ping(),
                last_successful_poll=self._last_successful_poll,
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

    def _last_successful_poll(self) -> float | None:
        """For /healthz: this process's last successful poll, or the cluster's while it polls."""
        if not self.standing_back():
            return last_successful_poll()
        newest = self.holder.current.store.last_success_at()
        return newest.timestamp() if newest is not None else None

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
        log.info("stopping: no new polls; waiting up to %ds for running ones", SHUTDOWN_GRACE_SECONDS)
        self._stop.set()
        self.scheduler.pause()
        self.holder.stop_all()
        finished = threading.Event()

        def wait_for_work() -> None:
            # The pool first: it stops admitting polls at once, then waits for the running ones.
            self.pool.close()
            self.scheduler.shutdown(wait=True)
            self.delivery.stop()
            finished.set()

        threading.Thread(target=wait_for_work, name="shutdown", daemon=True).start()
        if self._status_server is not None:
            self._status_server.stop()
        if not finished.wait(SHUTDOWN_GRACE_SECONDS):
            log.warning(
                "polls or deliveries still running after %ds; exiting without them", SHUTDOWN_GRACE_SECONDS
            )
            logging.shutdown()
            os._exit(0)
        self.holder.close()
        log.info("stopped")


def _feed_changes(
    old: Sequence[FeedConfig], new: Sequence[FeedConfig]
) -> tuple[list[str], list[str], list[str]]:
    """Names of the feeds a reload added, removed, and gave new schedule settings."""
    before = {feed.url: feed for feed in old}
    after = {feed.url: feed for feed in new}
    added = [feed.name for url, feed in after.items() if url not in before]
    removed = [feed.name for url, feed in before.items() if url not in after]
    rescheduled = [
        feed.name
        for url, feed in after.items()
        if url in before and _schedule_settings(before[url]) != _schedule_settings(feed)
    ]
    return added, removed, rescheduled
