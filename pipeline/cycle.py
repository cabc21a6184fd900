"""The only place that knows the order of the stages:
fetch -> parse -> dedup -> extract -> match -> store, then feed health and the alert outbox.

Every failure is caught at the level it concerns (a feed, an entry) and
reported with the feed's name and the URL, so one broken feed or page never
stops the others.

Concurrency: feeds are polled by a bounded thread pool (`fetch.max_connections` threads); the
fetcher itself enforces the global and per-host request limits, so pages fetched by many feed
threads obey them too. Page extraction, the CPU-heavy step, runs in `ExtractionPool`'s worker
processes. Which items are new and which story they join is decided in pipeline/stories.py.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from pipeline import metrics
from pipeline.alert import Channel, build_channels, plan_alerts
from pipeline.alert.dispatch import DispatchReport, dispatch_due
from pipeline.clock import SYSTEM_CLOCK, Clock
from pipeline.config import Config, FeedConfig
from pipeline.extract import ExtractionPool
from pipeline.feedhealth import FeedHealthKeeper, FeedStateBuffer
from pipeline.fetch import Fetcher, FetchLimits, refreshed_validators, trusted_hosts
from pipeline.health import PollOutcome, hold_back_reason
from pipeline.humanize import plural
from pipeline.logs import log_context
from pipeline.models import FeedEntry, FeedState, FetchResult
from pipeline.parse import FeedParseError, parse_feed
from pipeline.store import Store, create_db_engine, upgrade_schema
from pipeline.store.outbox import Outbox
from pipeline.stories import Arrival, Filed, Filing, NewArticle, Stories

if TYPE_CHECKING:
    from pipeline.match import Matcher

log = logging.getLogger(__name__)

# A poll's new articles are filed together, except that none waits longer than this for the rest
# (with full extraction, each page takes its download and extraction time).
FILE_WITHIN = 1.0


@dataclass
class FeedReport:
    feed: str
    url: str
    not_modified: bool = False
    entries: int = 0
    new: int = 0
    matched: int = 0
    alerts_queued: int = 0
    # Items new to this feed that another feed (or URL) had already brought in.
    duplicates: int = 0
    # New articles that joined an existing story (a near-duplicate of an earlier one).
    clustered: int = 0
    error: str | None = None
    # Why the feed was not polled this time (backing off, Retry-After, disabled).
    skipped: str | None = None
    entry_errors: list[str] = field(default_factory=list)


@dataclass
class CycleReport:
    feeds: list[FeedReport] = field(default_factory=list)
    dispatch: DispatchReport = field(default_factory=DispatchReport)

    def total(self, attribute: str) -> int:
        return sum(getattr(report, attribute) for report in self.feeds)

    @property
    def failed_feeds(self) -> list[FeedReport]:
        return [report for report in self.feeds if report.error]

    @property
    def skipped_feeds(self) -> list[FeedReport]:
        return [report for report in self.feeds if report.skipped]

    def summary(self) -> str:
        fetched = sum(
            1 for report in self.feeds if not (report.error or report.not_modified or report.skipped)
        )
        unchanged = sum(1 for report in self.feeds if report.not_modified)
        return (
            f"cycle: {plural(len(self.feeds), 'feed')}, {fetched} fetched, {unchanged} not modified, "
            f"{len(self.failed_feeds)} failed, {len(self.skipped_feeds)} held back; "
            f"{plural(self.total('entries'), 'entry')}, {self.total('new')} new, "
            f"{self.total('matched')} matched; alerts: {self.total('alerts_queued')} queued, "
            f"{self.dispatch.sent} sent, {self.dispatch.retrying} to retry"
        )


class Pipeline:
    """Everything one cycle needs, built once from a validated config."""

    def __init__(
        self,
        config: Config,
        store: Store,
        previous: Pipeline | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        """`previous`: on a reload, the running pipeline; each of its parts whose settings did not
        change is taken over instead of rebuilt (a topic edit must not restart the extraction
        workers or drop the fetcher's connections). `clock`: every time the cycle and the health
        checks read (a `ManualClock` in tests)."""
        self.config = config
        self.store = store
        self.clock = clock
        # The parts a newer pipeline took over; `close` leaves them to it.
        self._handed_over: set[str] = set()
        kept: set[str] = set()
        limits, hosts = FetchLimits.from_config(config.fetch), trusted_hosts(config.feeds)
        if previous is not None and previous.fetcher.built_as(limits, hosts):
            self.fetcher = previous.fetcher
            kept.add("fetcher")
        else:
            self.fetcher = Fetcher(limits, trusted_hosts=hosts)
        if previous is not None and previous.config.extract == config.extract:
            self.extractor = previous.extractor
            kept.add("extractor")
        else:
            self.extractor = ExtractionPool.from_config(config.extract)
        if previous is not None and previous.config.channels == config.channels:
            self.channels: dict[str, Channel] = previous.channels
            kept.add("channels")
        else:
            self.channels = build_channels(config.channels)
        # The matcher decides for itself: it is kept unless topics or aliases changed. A reload
        # compiles it now, so a reload that cannot compile it leaves the running pipeline whole; a
        # fresh pipeline compiles it on the first new item, as a cycle where nothing is new (an
        # all-304 `newswatch once` from cron) never needs it.
        self._matcher: Matcher | None = (
            previous.matcher.reloaded(config.topics, config.aliases) if previous is not None else None
        )
        self._matcher_lock = threading.Lock()
        self._feed_ids: dict[str, int] = {}
        self.health = FeedHealthKeeper(config, store, clock)
        self.stories = Stories(store, config.dedup, clock)
        # Set on shutdown: polls stop between entries, leaving the rest for the next start.
        self.stopping = threading.Event()
        # Cluster mode sets this: each new item of a poll is handed to it (to become its own job)
        # instead of being fetched and extracted inline.
        self.hand_off_new: Callable[[FeedConfig, Arrival], None] | None = None
        if previous is not None:
            # Only once this pipeline is complete: a failed build leaves the previous one whole.
            previous._handed_over |= kept
        self.kept_from_previous = frozenset(kept)

    @property
    def matcher(self) -> Matcher:
        if self._matcher is None:
            with self._matcher_lock:
                if self._matcher is None:
                    from pipeline import match

                    self._matcher = match.Matcher.from_topics(self.config.topics, self.config.aliases)
        return self._matcher

    @classmethod
    def open(cls, config: Config, clock: Clock = SYSTEM_CLOCK) -> Pipeline:
        engine = create_db_engine(config.database)
        upgrade_schema(engine)
        return cls(config, Store(engine), clock=clock)

    def close(self, dispose_store: bool = True) -> None:
        """Release connections and workers, except those a reloaded pipeline took over;
        `dispose_store=False` when a reloaded pipeline shares the store."""
        if "fetcher" not in self._handed_over:
            self.fetcher.close()
        if "extractor" not in self._handed_over:
            self.extractor.close()
        if "channels" not in self._handed_over:
            for channel in self.channels.values():
                channel.close()
        if dispose_store:
            self.store.engine.dispose()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- one feed --------------------------------------------------------------

    def poll_feed(
        self, feed: FeedConfig, state: FeedState | None = None, buffer: FeedStateBuffer | None = None
    ) -> FeedReport:
        """Poll one feed; its new state is written at once, or added to `buffer`."""
        report = FeedReport(feed=feed.name, url=feed.url)
        with log_context(feed=feed.name, feed_url=feed.url):
            try:
                state = state or self.store.feed_state(feed.url, feed.name)
                self._poll_feed(feed, state, report, buffer)
            except Exception as error:  # a bug in one feed's handling must not stop the daemon
                log.exception("feed %r (%s): unexpected error", feed.name, feed.url)
                report.error = f"internal error: {type(error).__name__}: {error}"
                if state is not None:
                    outcome = PollOutcome(self.clock.now(), None, report.error, "internal")
                    self.health.record(feed, state, outcome, None, 0, buffer)
        metrics.record_poll(report.error is None, report.not_modified)
        return report

    def _poll_feed(
        self, feed: FeedConfig, state: FeedState, report: FeedReport, buffer: FeedStateBuffer | None
    ) -> None:
        poll_url = state.health.moved_to or feed.url
        result = self.fetcher.fetch(poll_url, state.conditional, trusted=feed.allow_private_addresses)
        metrics.observe_fetch("feed", result)
        moved_to = result.final_url if result.permanent_redirect and result.final_url != feed.url else None
        if result.error is not None:
            report.error = str(result.error)
            log.error("feed %r (%s): fetch failed: %s", feed.name, poll_url, result.error)
            outcome = PollOutcome(
                self.clock.now(), result.status, report.error, result.error.kind.value, result.retry_after
            )
            self.health.record(feed, state, outcome, None, 0, buffer)
            return
        if result.not_modified:
            report.not_modified = True
            log.info("feed %r: not modified", feed.name)
            outcome = PollOutcome(self.clock.now(), 304, moved_to=moved_to, not_modified=True)
            validators = refreshed_validators(state.conditional, result)
            self.health.record(feed, state, outcome, validators, 0, buffer)
            return
        try:
            parsed = parse_feed(result.body, result.final_url, result.headers)
        except FeedParseError as error:
            report.error = f"parse: {error}"
            log.error("feed %r (%s): %s", feed.name, poll_url, error)
            # The broken body's validators are not stored: a 304 must not pass for a fixed feed.
            outcome = PollOutcome(self.clock.now(), result.status, report.error, "parse")
            self.health.record(feed, state, outcome, None, 0, buffer)
            return
        if parsed.warning:
            log.warning("feed %r: malformed but usable (%s)", feed.name, parsed.warning)
        if parsed.dropped:
            log.info("feed %r: %d empty entries left out", feed.name, parsed.dropped)
        report.entries = len(parsed.entries)
        try:
            new_to_feed = self._process_entries(feed, state, parsed.entries, report)
        except _Abandoned as abandoned:
            # Nothing about this poll is recorded (no new validators): the next start fetches the
            # feed again in full and takes the entries left here. Stored entries are complete.
            report.error = f"abandoned for shutdown with {abandoned.left} entries left"
            log.warning("feed %r: stopping; %d entries left for the next start", feed.name, abandoned.left)
            return
        outcome = PollOutcome(
            self.clock.now(),
            result.status,
            new_items=new_to_feed,
            moved_to=moved_to,
            parse_warning=parsed.warning,
            entries=len(parsed.entries),
        )
        self.health.record(feed, state, outcome, result.validators, new_to_feed, buffer)
        log.info(
            "feed %r: %d entries, %d new, %d matched, %d alerts queued",
            feed.name,
            report.entries,
            report.new,
            report.matched,
            report.alerts_queued,
        )

    def _process_entries(
        self, feed: FeedConfig, state: FeedState, entries: list[FeedEntry], report: FeedReport
    ) -> int:
        """Store what is new; return how many items this feed carried for the first time.

        Each new item is fetched, extracted and matched on its own (an error there fails that item
        alone); the articles are filed together, one transaction per poll, or per `FILE_WITHIN`
        seconds when pages are slow to come: an early article's alerts do not wait for the last
        page of a long poll."""
        arrivals = self.stories.arrivals(entries, feed.url, state.feed_id)
        new_to_feed = 0
        prepared: list[NewArticle] = []
        oldest = 0.0
        try:
            for position, arrival in enumerate(arrivals):
                if self.stopping.is_set():
                    raise _Abandoned(len(arrivals) - position)
                if arrival.known is not None:
                    if self.stories.record_known(arrival, state.feed_id):
                        new_to_feed += 1
                        report.duplicates += 1
                    continue
                if self.hand_off_new is not None:
                    # Outside the per-entry guard below: an item that could not be handed off fails
                    # the poll, so its validators are not stored and the next poll sees it again.
                    self.hand_off_new(feed, arrival)
                    new_to_feed += 1
                    continue
                try:
                    with log_context(article=arrival.link):
                        item = self._prepare(feed, state.feed_id, arrival.key, arrival.entry, report)
                    prepared.append(item)
                except Exception as error:
                    self._entry_failed(feed, arrival.link, error, report)
                    continue
                if len(prepared) == 1:
                    oldest = time.monotonic()
                elif time.monotonic() - oldest >= FILE_WITHIN:
                    new_to_feed += self._file(feed, prepared, report)
                    prepared = []
        finally:
            # Also when abandoned for shutdown: what is extracted already is kept.
            new_to_feed += self._file(feed, prepared, report)
        return new_to_feed

    def _entry_failed(self, feed: FeedConfig, link: str, error: Exception, report: FeedReport) -> None:
        message = f"{link}: {type(error).__name__}: {error}"
        report.entry_errors.append(message)
        log.error("feed %r: entry failed: %s", feed.name, message, exc_info=error)

    def _fetch_page(self, feed: FeedConfig, entry: FeedEntry, report: FeedReport) -> FetchResult:
        assert entry.link is not None
        # A feed allowed on a private network may link to pages on its own host (an intranet CMS);
        # links to any other host are checked like those of any feed.
        own_host = urlsplit(entry.link).hostname == urlsplit(feed.url).hostname
        fetched = self.fetcher.fetch(entry.link, trusted=feed.allow_private_addresses and own_host)
        metrics.observe_fetch("page", fetched)
        if fetched.ok:
            return fetched
        problem = f"page fetch failed: {fetched.error}"
        report.entry_errors.append(f"{entry.link}: {problem}")
        log.warning("feed %r: article %s: %s; using the feed summary", feed.name, entry.link, problem)
        return fetched

    def _prepare(
        self, feed: FeedConfig, feed_id: int, key: str, entry: FeedEntry, report: FeedReport
    ) -> NewArticle:
        """A new item's page, extraction, fingerprint and verdicts: everything but storing it."""
        page, page_url, problem = None, entry.link, None
        if entry.link and self.config.fetch.fetch_pages and key.startswith(("http://", "https://")):
            fetched = self._fetch_page(feed, entry, report)
            if fetched.ok:
                page, page_url = fetched.body, fetched.final_url
            else:
                problem = f"page fetch failed: {fetched.error}"
        with metrics.timing_extraction():
            article, fingerprint = self.extractor.extract(entry, key, feed.name, page, page_url, problem)
        verdicts = self.matcher.match(article)
        topics = self.config.topics
        return NewArticle(
            key,
            article,
            fingerprint,
            feed_id,
            verdicts,
            lambda story_key: plan_alerts(verdicts, topics, story=story_key),
            feed.name,
        )

    def _file(self, feed: FeedConfig, prepared: list[NewArticle], report: FeedReport) -> int:
        """File a poll's new articles together and report each; how many are new to this feed."""
        if not prepared:
            return 0
        try:
            filed_all = self.stories.file_all(prepared)
        except Exception as error:  # the batch is rolled back: every item of it failed
            for item in prepared:
                self._entry_failed(feed, item.article.url, error, report)
            return 0
        return self._report_filed(prepared, filed_all, report)

    def _report_filed(self, prepared: list[NewArticle], filed_all: list[Filed], report: FeedReport) -> int:
        new_to_feed = 0
        for item, filed in zip(prepared, filed_all, strict=True):
            report.clustered += int(filed.clustered)
            new_to_feed += filed.new_to_feed
            if filed.outcome is not Filing.CREATED:
                report.duplicates += 1
                continue
            report.alerts_queued += filed.alerts_created
            report.new += 1
            report.matched += 1 if item.verdicts else 0
            article = item.article
            metrics.count_article(article.method.value, [verdict.topic for verdict in item.verdicts])
            for verdict in item.verdicts:
                with log_context(topic=verdict.topic, article=article.url):
                    log.info(
                        "match: topic %r, score %g: %s (%s)",
                        verdict.topic,
                        verdict.score,
                        article.title,
                        article.url,
                    )
        return new_to_feed

    def process_new_entry(self, feed: FeedConfig, key: str, entry: FeedEntry) -> FeedReport:
        """One new item on its own (page, extraction, match, store with its alerts): a cluster job."""
        report = FeedReport(feed=feed.name, url=feed.url)
        with log_context(feed=feed.name, feed_url=feed.url, article=entry.link or key):
            # Errors propagate: the job is retried.
            item = self._prepare(feed, self._registered_feed_id(feed), key, entry, report)
            self._report_filed([item], self.stories.file_all([item]), report)
        return report

    def _registered_feed_id(self, feed: FeedConfig) -> int:
        """The feed's row id, registering the feed on first sight. A row's id never changes, so a
        cluster worker asks the database once per feed, not in a write transaction per item."""
        feed_id = self._feed_ids.get(feed.url)
        if feed_id is None:
            feed_id = self._feed_ids[feed.url] = self.store.feed_state(feed.url, feed.name).feed_id
        return feed_id

    def monitoring_counts(self) -> dict[str, dict[str, int]]:
        """Outbox rows by status and configured feeds by state, for the /metrics gauges."""
        return {"alerts": Outbox(self.store).counts(), "feeds": self.health.state_counts(self.config.feeds)}

    def check_feed_health(self, states: Mapping[str, FeedState] | None = None) -> None:
        """Raise 'silent' notices (and their recoveries) from each feed's publishing rhythm; `states`
        as a cycle's polls left them, else read from the database."""
        self.health.check_silence(self.config.feeds, states)

    # --- whole cycle -----------------------------------------------------------

    def dispatch(self) -> DispatchReport:
        return dispatch_due(
            self.store, self.channels, self.config, clock=self.clock.now, stopping=self.stopping
        )

    def poll_all(self) -> list[FeedReport]:
        """One poll of every configured feed, whatever its interval (`newswatch once`), except those
        held back: backing off, waiting for the server's Retry-After, or disabled."""
        return self._poll_all()[0]

    def _poll_all(self) -> tuple[list[FeedReport], dict[str, FeedState]]:
        """`poll_all`, and every feed's state as the polls left it: the silence check after the
        polls reads it from here, not from the database a second time."""
        feeds = self.config.feeds
        if not feeds:
            return [], {}
        states = self.store.feed_states([(feed.url, feed.name) for feed in feeds])
        if self.config.fetch.fetch_pages:
            self.extractor.start()
        threads = max(1, min(len(feeds), self.config.fetch.max_connections))
        buffer = FeedStateBuffer(self.store)
        now = self.clock.now()

        def poll(feed: FeedConfig) -> FeedReport:
            held_back = hold_back_reason(states[feed.url].health, now)
            if held_back is None:
                return self.poll_feed(feed, states[feed.url], buffer)
            log.info("feed %r: not polled: %s", feed.name, held_back)
            return FeedReport(feed=feed.name, url=feed.url, skipped=held_back)

        try:
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="poll") as pool:
                reports = list(pool.map(poll, feeds))
        finally:
            buffer.flush()
            self.fetcher.close_idle_connections()
        return reports, buffer.after_polls(states)

    def run_cycle(self) -> CycleReport:
        report = CycleReport()
        report.feeds, states = self._poll_all()
        try:
            self.check_feed_health(states)
        except Exception:
            log.exception("feed health check failed; will retry next cycle")
        report.dispatch = self.dispatch()
        log.info(report.summary())
        return report


class _Abandoned(Exception):
    def __init__(self, left: int) -> None:
        self.left = left
