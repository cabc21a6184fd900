"""The cluster's jobs, wiring the pipeline's stage functions to procrastinate tasks.

- `sweep` (periodic): a `poll_feed` job for each due feed (pipeline/cluster/sweep.py).
- `poll_feed`: fetch, parse and dedup one feed; a `fetch_extract` job per new item. Holds the lock
  of the feed's host.
- `fetch_extract`: one item's page, extraction, match and store with its alerts, and a
  `deliver_alerts` job. Holds the lock of the page's host: one request per host in the whole cluster.
- `deliver_alerts` (also periodic, for retries that come due): the outbox dispatcher.
- `retry_stalled_jobs` (periodic): jobs of a worker that stopped sending heartbeats run again.
- `check_feed_health` (periodic), and `prune_finished_jobs` (hourly).

Jobs are deferred in the transaction that writes the rows they act on (pipeline/cluster/defer.py):
a poll's items' jobs with the poll's recorded result (validators, next due time), an article's
delivery job with its alert rows. A worker killed before that commit leaves neither, and the work is
done again from the start: the feed is still due and its items still new. See docs/cluster.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from procrastinate import App, JobContext
from procrastinate.exceptions import UniqueViolation
from procrastinate.jobs import Status
from procrastinate.manager import JobManager

from pipeline.cluster.defer import TransactionalDeferrer
from pipeline.cluster.jobs import entry_arguments, entry_from_arguments, entry_lock, host_lock, poll_lock
from pipeline.cluster.sweep import PollOrder, SweepReport, already_polled, sweep
from pipeline.config import ClusterConfig, Config, FeedConfig
from pipeline.cycle import Pipeline
from pipeline.feedhealth import FeedStateBuffer
from pipeline.store import Store
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
    """What the jobs of one worker process share: the config, one pipeline, and its polls' new items."""

    config: Config
    pipeline: Pipeline
    new_items: NewItems
    # The configured feeds by URL: a job for a feed no longer configured does nothing.
    feeds: dict[str, FeedConfig] = field(init=False)

    def __post_init__(self) -> None:
        self.feeds = {feed.url: feed for feed in self.config.feeds}


def every(seconds: float) -> str:
    """A cron schedule with a seconds column (procrastinate's sixth field) for a divisor of a minute."""
    whole = int(seconds)
    return "* * * * * 0" if whole >= 60 else f"* * * * * */{whole}"


def defer_poll(deferrer: TransactionalDeferrer, connection: Any, order: PollOrder) -> bool:
    return deferrer.defer_once(
        connection,
        POLL_FEED,
        queueing_lock=poll_lock(order.feed_url),
        lock=host_lock(order.feed_url),
        feed_url=order.feed_url,
        polled_before=order.polled_before,
    )


def sweep_due(
    deferrer: TransactionalDeferrer,
    store: Store,
    due: list[tuple[str, datetime | None]],
    feeds: dict[str, FeedConfig],
) -> SweepReport:
    """Defer the due feeds' polls in one transaction: the sweep writes no row of its own, so its
    jobs are committed all together or not at all."""
    return store.in_transaction(
        lambda connection: sweep(due, feeds, lambda order: defer_poll(deferrer, connection, order))
    )


def run_sweep(deferrer: TransactionalDeferrer, runtime: Runtime, now: datetime | None = None) -> None:
    store = runtime.pipeline.store
    due = store.due_feeds(now or datetime.now(UTC), SWEEP_LIMIT, among=runtime.feeds)
    report = sweep_due(
        deferrer, store, [(state.url, state.health.last_polled_at) for state in due], runtime.feeds
    )
    if report.due:
        log.info(
            "sweep: %d due, %d deferred, %d already queued, %d not configured",
            report.due,
            report.deferred,
            report.already_queued,
            report.not_configured,
        )


class NewItems:
    """A poll's new items, kept on the poll's thread (a worker runs several polls at once) until
    the poll is recorded, then deferred as `fetch_extract` jobs in the transaction that records it:
    a poll whose result is not stored (killed, failed, stopped) leaves no item's job, and its next
    poll finds the items new again; one that is stored leaves every item's job."""

    def __init__(self, deferrer: TransactionalDeferrer, fetch_pages: bool) -> None:
        self.deferrer = deferrer
        self.fetch_pages = fetch_pages
        self._local = threading.local()

    def hand_off(self, feed: FeedConfig, arrival: Arrival) -> None:
        """`Pipeline.hand_off_new`."""
        self._pending().append((feed, arrival))

    def take(self) -> list[tuple[FeedConfig, Arrival]]:
        """This thread's items since the last take, and none kept."""
        items, self._local.items = self._pending(), []
        return items

    def defer(self, connection: Any, items: list[tuple[FeedConfig, Arrival]]) -> None:
        # In one order in every transaction: two polls deferring the same items (two feeds carrying
        # one story) then wait for each other's queueing locks instead of deadlocking.
        for feed, arrival in sorted(items, key=lambda item: item[1].key):
            self.deferrer.defer_once(
                connection,
                FETCH_EXTRACT,
                queueing_lock=entry_lock(arrival.key),
                # With `fetch.fetch_pages: false` the job makes no request and needs no lock.
                lock=host_lock(arrival.entry.link) if self.fetch_pages else None,
                feed_url=feed.url,
                key=arrival.key,
                entry=entry_arguments(arrival.entry),
            )

    def _pending(self) -> list[tuple[FeedConfig, Arrival]]:
        if not hasattr(self._local, "items"):
            self._local.items = []
        items: list[tuple[FeedConfig, Arrival]] = self._local.items
        return items


def wire_pipeline(pipeline: Pipeline, deferrer: TransactionalDeferrer, fetch_pages: bool) -> NewItems:
    """Make the pipeline's polls hand new items to the queue, and its article transactions defer
    the delivery of the alerts they queue."""
    items = NewItems(deferrer, fetch_pages)
    pipeline.hand_off_new = items.hand_off
    pipeline.store.on_alerts_queued = lambda connection: defer_delivery(deferrer, connection)
    return items


def defer_delivery(deferrer: TransactionalDeferrer, connection: Any) -> None:
    # One waiting at a time: it delivers every alert due when it runs.
    deferrer.defer_once(connection, DELIVER_ALERTS, queueing_lock=DELIVER_ALERTS, timestamp=0)


async def prune_finished(manager: JobManager, keep_seconds: float) -> None:
    """Delete jobs that ended (succeeded, failed, cancelled, aborted) more than `keep_seconds` ago,
    in whole hours (procrastinate's unit), at least one."""
    await manager.delete_old_jobs(
        nb_hours=max(1, round(keep_seconds / 3600)),
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )


def poll_and_hand_off(runtime: Runtime, feed_url: str, polled_before: str) -> None:
    """One `poll_feed` job: the poll, then its result and its new items' jobs in one transaction."""
    feed = runtime.feeds.get(feed_url)
    if feed is None:
        log.info("poll of %s skipped: the feed is no longer configured", feed_url)
        return
    store = runtime.pipeline.store
    state = store.feed_state(feed.url, feed.name)
    if already_polled(state.health.last_polled_at, polled_before):
        log.info("feed %r: polled since this job was deferred; nothing to do", feed.name)
        return
    runtime.new_items.take()  # left by a poll on this thread that ended unrecorded
    recorded = FeedStateBuffer(store)
    runtime.pipeline.poll_feed(feed, state, recorded)
    found = runtime.new_items.take()
    recorded.flush(also=lambda connection: runtime.new_items.defer(connection, found))


def register_tasks(app: App, settings: ClusterConfig, runtime: Callable[[], Runtime]) -> None:
    """Add the cluster's tasks to `app`; `runtime()` gives the worker's shared state when a job runs."""
    cadence = every(settings.sweep_every)

    @app.periodic(cron=cadence, periodic_id="sweep")
    @app.task(name=SWEEP, queueing_lock=SWEEP)
    def sweep_due_feeds(timestamp: int) -> None:
        current = runtime()
        run_sweep(current.new_items.deferrer, current)

    @app.task(name=POLL_FEED)
    def poll_feed(feed_url: str, polled_before: str) -> None:
        poll_and_hand_off(runtime(), feed_url, polled_before)

    @app.task(name=FETCH_EXTRACT)
    def fetch_extract(feed_url: str, key: str, entry: dict[str, Any]) -> None:
        current = runtime()
        feed = current.feeds.get(feed_url)
        if feed is None:
            log.info("item %s skipped: its feed %s is no longer configured", key, feed_url)
            return
        # Its alerts' delivery job is deferred in the transaction that stores them (wire_pipeline).
        current.pipeline.process_new_entry(feed, key, entry_from_arguments(entry))

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
