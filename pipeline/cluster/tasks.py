"""The cluster's jobs, wiring the pipeline's stage functions to procrastinate tasks.

- `sweep` (periodic): a `poll_feed` job for each due feed (pipeline/cluster/sweep.py).
- `poll_feed`: fetch, parse and dedup one feed; a `fetch_extract` job per new item. Holds the lock
  of the feed's host.
- `fetch_extract`: one item's page, extraction, match and store with its alerts; then wakes
  `deliver_alerts`. Holds the lock of the page's host: one request per host in the whole cluster.
- `deliver_alerts` (also periodic, for retries that come due): the outbox dispatcher.
- `retry_stalled_jobs` (periodic): jobs of a worker that stopped sending heartbeats run again.
- `check_feed_health` (periodic), and `prune_finished_jobs` (hourly).

Jobs are deferred before the rows that record their cause are written, so a worker killed in
between leaves work to repeat, never work lost: a poll whose items were queued but whose result was
not recorded is polled again, and its items' queueing locks and the store's dedup make the repeat a
no-op. See docs/cluster.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from procrastinate import App, JobContext
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

from pipeline.cluster.jobs import entry_arguments, entry_from_arguments, entry_lock, host_lock, poll_lock
from pipeline.cluster.sweep import PollOrder, already_polled, sweep
from pipeline.config import ClusterConfig, Config, FeedConfig
from pipeline.cycle import Pipeline
from pipeline.stories import Arrival

log = logging.getLogger(__name__)

SWEEP = "newswatch.sweep"
POLL_FEED = "newswatch.poll_feed"
FETCH_EXTRACT = "newswatch.fetch_extract"
DELIVER_ALERTS = "newswatch.deliver_alerts"
RETRY_STALLED = "newswatch.retry_stalled_jobs"
CHECK_FEED_HEALTH = "newswatch.check_feed_health"
PRUNE_JOBS = "newswatch.prune_finished_jobs"
# At most this many feeds are handed out per sweep; the rest are due at the next one.
SWEEP_LIMIT = 5000


@dataclass
class Runtime:
    """What the jobs of one worker process share: the config and one pipeline."""

    config: Config
    pipeline: Pipeline
    # The configured feeds by URL: a job for a feed no longer configured does nothing.
    feeds: dict[str, FeedConfig] = field(init=False)

    def __post_init__(self) -> None:
        self.feeds = {feed.url: feed for feed in self.config.feeds}


def every(seconds: float) -> str:
    """A cron schedule with a seconds column (procrastinate's sixth field) for a divisor of a minute."""
    whole = int(seconds)
    return "* * * * * 0" if whole >= 60 else f"* * * * * */{whole}"


def defer_once(app: App, name: str, *, queueing_lock: str, lock: str | None = None, **kwargs: Any) -> bool:
    """Defer a job unless one with the same queueing lock is waiting; True if deferred."""
    try:
        app.configure_task(name, queueing_lock=queueing_lock, lock=lock).defer(**kwargs)
    except AlreadyEnqueued:
        return False
    return True


def defer_poll(app: App, order: PollOrder) -> bool:
    return defer_once(
        app,
        POLL_FEED,
        queueing_lock=poll_lock(order.feed_url),
        lock=host_lock(order.feed_url),
        feed_url=order.feed_url,
        polled_before=order.polled_before,
    )


def run_sweep(app: App, runtime: Runtime, now: datetime | None = None) -> None:
    due = runtime.pipeline.store.due_feeds(now or datetime.now(UTC), SWEEP_LIMIT, among=runtime.feeds)
    report = sweep(
        ((state.url, state.health.last_polled_at) for state in due),
        runtime.feeds,
        lambda order: defer_poll(app, order),
    )
    if report.due:
        log.info(
            "sweep: %d due, %d deferred, %d already queued, %d not configured",
            report.due,
            report.deferred,
            report.already_queued,
            report.not_configured,
        )


def hand_off(app: App, fetch_pages: bool) -> Callable[[FeedConfig, Arrival], None]:
    """Each new item of a poll as a `fetch_extract` job, holding its page's host lock when the page
    is fetched (with `fetch.fetch_pages: false` the job makes no request and needs no lock)."""

    def defer_entry(feed: FeedConfig, arrival: Arrival) -> None:
        defer_once(
            app,
            FETCH_EXTRACT,
            queueing_lock=entry_lock(arrival.key),
            lock=host_lock(arrival.entry.link) if fetch_pages else None,
            feed_url=feed.url,
            key=arrival.key,
            entry=entry_arguments(arrival.entry),
        )

    return defer_entry


async def prune_finished(manager: JobManager, keep_seconds: float) -> None:
    """Delete jobs that ended (succeeded, failed, cancelled, aborted) more than `keep_seconds` ago,
    in whole hours (procrastinate's unit), at least one."""
    await manager.delete_old_jobs(
        nb_hours=max(1, round(keep_seconds / 3600)),
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )


def register_tasks(app: App, settings: ClusterConfig, runtime: Callable[[], Runtime]) -> None:
    """Add the cluster's tasks to `app`; `runtime()` gives the worker's shared state when a job runs."""
    cadence = every(settings.sweep_every)

    @app.periodic(cron=cadence, periodic_id="sweep")
    @app.task(name=SWEEP, queueing_lock=SWEEP)
    def sweep_due_feeds(timestamp: int) -> None:
        run_sweep(app, runtime())

    @app.task(name=POLL_FEED)
    def poll_feed(feed_url: str, polled_before: str) -> None:
        current = runtime()
        feed = current.feeds.get(feed_url)
        if feed is None:
            log.info("poll of %s skipped: the feed is no longer configured", feed_url)
            return
        state = current.pipeline.store.feed_state(feed.url, feed.name)
        if already_polled(state.health.last_polled_at, polled_before):
            log.info("feed %r: polled since this job was deferred; nothing to do", feed.name)
            return
        current.pipeline.poll_feed(feed, state)

    @app.task(name=FETCH_EXTRACT)
    def fetch_extract(feed_url: str, key: str, entry: dict[str, Any]) -> None:
        current = runtime()
        feed = current.feeds.get(feed_url)
        if feed is None:
            log.info("item %s skipped: its feed %s is no longer configured", key, feed_url)
            return
        report = current.pipeline.process_new_entry(feed, key, entry_from_arguments(entry))
        if report.alerts_queued:
            defer_once(app, DELIVER_ALERTS, queueing_lock=DELIVER_ALERTS, timestamp=0)

    @app.periodic(cron=cadence, periodic_id="deliver")
    @app.task(name=DELIVER_ALERTS, queueing_lock=DELIVER_ALERTS)
    def deliver_alerts(timestamp: int) -> None:
        report = runtime().pipeline.dispatch()
        if report.sent or report.retrying:
            log.info("alerts: %d sent, %d to retry", report.sent, report.retrying)

    @app.periodic(cron=cadence, periodic_id="stalled")
    @app.task(name=RETRY_STALLED, queueing_lock=RETRY_STALLED, pass_context=True)
    async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
        manager = context.app.job_manager
        for job in await manager.get_stalled_jobs(seconds_since_heartbeat=settings.stalled_after):
            try:
                await manager.retry_job(job)
            except UniqueViolation:
                # A newer job with the same queueing lock waits already (the sweep deferred the
                # feed's poll again): it does this job's work, so this one ends as aborted.
                log.warning("job %s (%s) of a dead worker: a waiting job replaces it", job.id, job.task_name)
                await manager.finish_job(job, Status.ABORTED, delete_job=False)
            else:
                log.warning("job %s (%s) of a dead worker: running it again", job.id, job.task_name)

    @app.periodic(cron="* * * * * 0", periodic_id="health")
    @app.task(name=CHECK_FEED_HEALTH, queueing_lock=CHECK_FEED_HEALTH)
    def check_feed_health(timestamp: int) -> None:
        runtime().pipeline.check_feed_health()

    @app.periodic(cron="0 * * * *", periodic_id="prune")
    @app.task(name=PRUNE_JOBS, queueing_lock=PRUNE_JOBS, pass_context=True)
    async def prune_finished_jobs(context: JobContext, timestamp: int) -> None:
        # procrastinate's own remove_old_jobs task takes no `timestamp`, which periodic jobs get.
        await prune_finished(context.app.job_manager, settings.keep_finished_jobs)
