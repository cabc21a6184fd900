"""The only place that knows the order of the stages:
fetch -> parse -> dedup -> extract -> match -> store, then the alert outbox.

Every failure is caught at the level it concerns (a feed, an entry) and
reported with the feed's name and the URL, so one broken feed or page never
stops the others.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pipeline.alert import Channel, build_channels, plan_alerts
from pipeline.alert.dispatch import DispatchReport, dispatch_due
from pipeline.config import Config, FeedConfig
from pipeline.dedup import entry_key
from pipeline.extract import extract_article
from pipeline.fetch import Fetcher, FetchLimits
from pipeline.match import Matcher
from pipeline.models import FeedEntry
from pipeline.parse import FeedParseError, parse_feed
from pipeline.store import Store, create_db_engine, upgrade_schema
from pipeline.store.repository import FeedState
from pipeline.store.tables import utcnow

log = logging.getLogger(__name__)

MAX_PARALLEL_FEEDS = 8


@dataclass
class FeedReport:
    feed: str
    url: str
    not_modified: bool = False
    entries: int = 0
    new: int = 0
    matched: int = 0
    alerts_queued: int = 0
    error: str | None = None
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

    def summary(self) -> str:
        fetched = sum(1 for report in self.feeds if not report.error and not report.not_modified)
        unchanged = sum(1 for report in self.feeds if report.not_modified)
        return (
            f"cycle: {len(self.feeds)} feeds, {fetched} fetched, {unchanged} not modified, "
            f"{len(self.failed_feeds)} failed; {self.total('entries')} entries, {self.total('new')} new, "
            f"{self.total('matched')} matched; alerts: {self.total('alerts_queued')} queued, "
            f"{self.dispatch.sent} sent, {self.dispatch.retrying} to retry"
        )


def fetch_limits(config: Config) -> FetchLimits:
    settings = config.fetch
    return FetchLimits(
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        total_timeout=settings.total_timeout,
        max_bytes=settings.max_bytes,
        max_redirects=settings.max_redirects,
        user_agent=settings.user_agent,
    )


class Pipeline:
    """Everything one cycle needs, built once from a validated config."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.fetcher = Fetcher(fetch_limits(config))
        self.matcher = Matcher.from_topics(config.topics, config.aliases)
        self.channels: dict[str, Channel] = build_channels(config.channels)

    @classmethod
    def open(cls, config: Config) -> Pipeline:
        engine = create_db_engine(config.database)
        upgrade_schema(engine)
        return cls(config, Store(engine))

    def close(self) -> None:
        self.fetcher.close()
        for channel in self.channels.values():
            channel.close()
        self.store.engine.dispose()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- one feed --------------------------------------------------------------

    def poll_feed(self, feed: FeedConfig) -> FeedReport:
        report = FeedReport(feed=feed.name, url=feed.url)
        try:
            self._poll_feed(feed, report)
        except Exception as error:  # a bug in one feed's handling must not stop the daemon
            log.exception("feed %r (%s): unexpected error", feed.name, feed.url)
            report.error = f"internal error: {type(error).__name__}: {error}"
        return report

    def _poll_feed(self, feed: FeedConfig, report: FeedReport) -> None:
        state = self.store.feed_state(feed.url, feed.name)
        result = self.fetcher.fetch(feed.url, state.conditional)
        now = utcnow()
        if result.not_modified:
            report.not_modified = True
            self.store.record_feed_success(state.feed_id, 304, None, 0, now)
            log.info("feed %r: not modified", feed.name)
            return
        if result.error is not None:
            report.error = str(result.error)
            self.store.record_feed_failure(state.feed_id, result.status, report.error, now)
            log.error("feed %r (%s): fetch failed: %s", feed.name, feed.url, result.error)
            return
        try:
            parsed = parse_feed(result.body, result.final_url, result.headers)
        except FeedParseError as error:
            report.error = f"parse: {error}"
            self.store.record_feed_failure(state.feed_id, result.status, report.error, now)
            log.error("feed %r (%s): %s", feed.name, feed.url, error)
            return
        if parsed.warning:
            log.warning("feed %r: malformed but usable (%s)", feed.name, parsed.warning)
        report.entries = len(parsed.entries)
        self._process_entries(feed, state, parsed.entries, report)
        self.store.record_feed_success(
            state.feed_id, result.status or 200, result.validators, report.new, now
        )
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
    ) -> None:
        keyed = [(entry_key(entry, feed.url), entry) for entry in entries]
        known = self.store.known_article_ids([key for key, _ in keyed])
        seen_this_poll: set[str] = set()
        for key, entry in keyed:
            if key in seen_this_poll:
                continue
            seen_this_poll.add(key)
            if key in known:
                self.store.add_source(known[key], state.feed_id, entry.link or key)
                continue
            try:
                self._process_new_entry(feed, state, key, entry, report)
            except Exception as error:
                message = f"{entry.link or key}: {type(error).__name__}: {error}"
                report.entry_errors.append(message)
                log.exception("feed %r: entry failed: %s", feed.name, message)

    def _process_new_entry(
        self, feed: FeedConfig, state: FeedState, key: str, entry: FeedEntry, report: FeedReport
    ) -> None:
        page, page_url, problem = None, entry.link, None
        if entry.link and self.config.fetch.fetch_pages and key.startswith(("http://", "https://")):
            fetched = self.fetcher.fetch(entry.link)
            if fetched.ok:
                page, page_url = fetched.body, fetched.final_url
            else:
                problem = f"page fetch failed: {fetched.error}"
                report.entry_errors.append(f"{entry.link}: {problem}")
                log.warning("feed %r: article %s: %s; using the feed summary", feed.name, entry.link, problem)
        article = extract_article(entry, key, feed.name, page, page_url, problem)
        verdicts = self.matcher.match(article)
        planned = plan_alerts(verdicts, self.config.topics, story=key)
        saved = self.store.save_article(article, state.feed_id, verdicts, planned)
        if not saved.created:
            return
        report.new += 1
        report.matched += 1 if verdicts else 0
        report.alerts_queued += saved.alerts_created
        for verdict in verdicts:
            log.info(
                "match: topic %r, score %g: %s (%s)", verdict.topic, verdict.score, article.title, article.url
            )

    # --- whole cycle -----------------------------------------------------------

    def dispatch(self) -> DispatchReport:
        return dispatch_due(self.store, self.channels, self.config)

    def run_cycle(self) -> CycleReport:
        report = CycleReport()
        with ThreadPoolExecutor(max_workers=MAX_PARALLEL_FEEDS, thread_name_prefix="poll") as pool:
            report.feeds = list(pool.map(self.poll_feed, self.config.feeds))
        report.dispatch = self.dispatch()
        log.info(report.summary())
        return report
