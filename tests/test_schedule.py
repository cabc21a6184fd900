"""When a feed is polled next: the one pure function (interval, adaptive rhythm, backoff, Retry-After,
disabling) and the store's `feeds.next_poll_at` that the clock asks, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from pipeline.clock import ManualClock
from pipeline.config import Config, ConfigError, FeedConfig, load_config, parse_config
from pipeline.cycle import Pipeline
from pipeline.daemon import Daemon
from pipeline.feedhealth import FeedHealthKeeper
from pipeline.feedstatus import next_poll_text
from pipeline.models import FeedHealth, FeedUpdate
from pipeline.schedule import (
    IntervalBounds,
    NextPoll,
    PollFacts,
    PollReason,
    ScheduleSettings,
    adaptive_interval,
    next_poll_at,
    worth_rescheduling,
)
from pipeline.store import Store, create_db_engine, upgrade_schema
from pipeline.store.repository import PollPlan
from pipeline.store.tables import FeedRow
from tests.support.configs import write_test_config
from tests.support.livefeed import LiveFeed, Story
from tests.support.servers import LocalHTTPServer

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BOUNDS = IntervalBounds(minimum=60, maximum=7200)


def every(minutes: float, count: int) -> list[datetime]:
    return [NOW - timedelta(minutes=minutes * index) for index in range(count)]


@pytest.mark.parametrize(
    ("times", "items_in_feed", "expected"),
    [
        (every(10, 20), 20, 600),  # an item every 10 minutes: poll every 10 minutes
        (every(1, 20), 20, 60),  # busier than the lower bound: the bound holds
        (every(600, 20), 20, 7200),  # quieter than the upper bound: the bound holds
        (every(10, 2), 20, 900),  # too little history: the configured interval stands
        (every(30, 20), 2, 1800),  # a 2-item feed spans one gap: polling at the gap keeps up
    ],
)
def test_interval_follows_the_rhythm(times: list[datetime], items_in_feed: int, expected: float) -> None:
    assert adaptive_interval(times, items_in_feed, configured=900, bounds=BOUNDS) == expected


def test_a_small_feed_window_is_polled_before_items_fall_out() -> None:
    # One item every 20 minutes, but the feed shows only its last 2 items (a 40-minute window):
    # polling every 20 minutes (half the window) keeps up; the typical gap alone would too.
    assert adaptive_interval(every(20, 10), 2, configured=900, bounds=BOUNDS) == 1200
    # With a one-item feed the window is one gap: poll at half of it.
    assert adaptive_interval(every(20, 10), 1, configured=900, bounds=BOUNDS) == 600


def test_bursts_and_duplicates_do_not_collapse_the_interval() -> None:
    times = [*every(60, 10), NOW, NOW]  # identical timestamps (a batch import) are not gaps
    assert adaptive_interval(times, 20, configured=900, bounds=BOUNDS) == 3600


def test_rescheduling_ignores_small_changes() -> None:
    assert not worth_rescheduling(600, 650)
    assert worth_rescheduling(600, 900)


FIXED = ScheduleSettings(interval=600, bounds=None, max_backoff=3600, max_retry_after=7200)
ADAPTIVE = ScheduleSettings(interval=900, bounds=BOUNDS, max_backoff=3600, max_retry_after=7200)


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


@pytest.mark.parametrize(
    ("settings", "facts", "expected"),
    [
        # A success is due one interval later.
        (FIXED, PollFacts(NOW), NextPoll(later(600), 600, PollReason.SCHEDULE)),
        # A first failure waits the interval; from the second, the backoff doubles, capped.
        (FIXED, PollFacts(NOW, failures=1), NextPoll(later(600), 600, PollReason.SCHEDULE)),
        (FIXED, PollFacts(NOW, failures=2), NextPoll(later(1200), 600, PollReason.BACKOFF)),
        (FIXED, PollFacts(NOW, failures=3), NextPoll(later(2400), 600, PollReason.BACKOFF)),
        (FIXED, PollFacts(NOW, failures=9), NextPoll(later(3600), 600, PollReason.BACKOFF)),
        # Retry-After is honoured exactly, even before the interval (the server named the time)...
        (FIXED, PollFacts(NOW, failures=1, retry_after=90), NextPoll(later(90), 600, PollReason.RETRY_AFTER)),
        # ...capped, so a hostile server cannot park a feed for a year...
        (
            FIXED,
            PollFacts(NOW, failures=1, retry_after=10**9),
            NextPoll(later(7200), 600, PollReason.RETRY_AFTER),
        ),
        # ...and a longer backoff wins over a shorter Retry-After.
        (FIXED, PollFacts(NOW, failures=3, retry_after=60), NextPoll(later(2400), 600, PollReason.BACKOFF)),
        # A disabled feed (410 Gone) is never due.
        (FIXED, PollFacts(NOW, failures=1, disabled=True), NextPoll(None, 600, PollReason.DISABLED)),
        # Not adaptive: a stored interval from an earlier adaptive config no longer counts.
        (FIXED, PollFacts(NOW, current_interval=3000), NextPoll(later(600), 600, PollReason.SCHEDULE)),
    ],
)
def test_next_poll_at(settings: ScheduleSettings, facts: PollFacts, expected: NextPoll) -> None:
    assert next_poll_at(settings, facts) == expected


def test_an_adaptive_feed_follows_its_rhythm_from_the_stored_interval() -> None:
    half_hourly = PollFacts(NOW, current_interval=900, item_times=every(30, 20), items_in_feed=20)
    assert next_poll_at(ADAPTIVE, half_hourly) == NextPoll(later(1800), 1800, PollReason.SCHEDULE)
    # A small change keeps the stored interval (no churn from jittery publishing).
    nearly = PollFacts(NOW, current_interval=1700, item_times=every(30, 20), items_in_feed=20)
    assert next_poll_at(ADAPTIVE, nearly).interval == 1700
    # Failed and not-modified polls teach nothing about the rhythm: the stored interval stands,
    # and the backoff doubles from it.
    failed = PollFacts(NOW, failures=2, current_interval=1800)
    assert next_poll_at(ADAPTIVE, failed) == NextPoll(later(3600), 1800, PollReason.BACKOFF)
    unchanged = PollFacts(NOW, current_interval=1800, item_times=every(30, 20), items_in_feed=0)
    assert next_poll_at(ADAPTIVE, unchanged).interval == 1800
    # Bounds narrowed in the config apply at once.
    narrowed = ScheduleSettings(900, IntervalBounds(60, 1200), 3600, 7200)
    assert next_poll_at(narrowed, PollFacts(NOW, current_interval=1800)).interval == 1200
    # Never polled adaptively yet: starts from the configured interval.
    assert next_poll_at(ADAPTIVE, PollFacts(NOW)).interval == 900


def test_held_back_reasons() -> None:
    assert PollReason.BACKOFF.held_back and PollReason.RETRY_AFTER.held_back and PollReason.DISABLED.held_back
    assert not PollReason.SCHEDULE.held_back


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        (FeedHealth(), "due now"),  # never polled
        (FeedHealth(next_poll_at=later(240), next_poll_reason=PollReason.SCHEDULE), "in 4 min"),
        (FeedHealth(next_poll_at=later(20), next_poll_reason=PollReason.SCHEDULE), "in 20 s"),
        (FeedHealth(next_poll_at=later(5400), next_poll_reason=PollReason.SCHEDULE), "in 1h30m"),
        (FeedHealth(next_poll_at=later(-30), next_poll_reason=PollReason.SCHEDULE), "due now"),
        (FeedHealth(next_poll_at=NOW, next_poll_reason=PollReason.REQUESTED), "due now"),
        (
            FeedHealth(next_poll_at=later(90), next_poll_reason=PollReason.RETRY_AFTER),
            "held back until 2026-11-25 12:01 UTC (Retry-After)",
        ),
        (
            FeedHealth(next_poll_at=later(2400), next_poll_reason=PollReason.BACKOFF, consecutive_failures=3),
            "held back until 2026-11-25 12:40 UTC (backoff after 3 failures)",
        ),
        (FeedHealth(disabled_at=NOW, next_poll_reason=PollReason.DISABLED), "never (disabled)"),
    ],
)
def test_newswatch_feeds_says_when_each_feed_is_next_polled(health: FeedHealth, expected: str) -> None:
    assert next_poll_text(health, NOW) == expected


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    engine = create_db_engine(database_url)
    upgrade_schema(engine)
    try:
        yield Store(engine)
    finally:
        engine.dispose()


def scheduled(store: Store, url: str, at: datetime | None, reason: PollReason = PollReason.SCHEDULE) -> int:
    """Give the stored feed `url` the schedule a poll would have written."""
    state = store.feed_state(url, url)
    health = replace(state.health, last_polled_at=NOW, next_poll_at=at, next_poll_reason=reason)
    store.save_feed_healths([FeedUpdate(state.feed_id, health, state.conditional)])
    return state.feed_id


def test_due_feeds_are_the_enabled_ones_whose_time_has_come_oldest_first(store: Store) -> None:
    scheduled(store, "https://a.example/later", later(60))
    scheduled(store, "https://a.example/late", later(-600))
    scheduled(store, "https://a.example/just-due", NOW)
    scheduled(store, "https://a.example/very-late", later(-3600))
    store.feed_states([("https://a.example/new", "New")])  # never polled: due at once
    gone_id = scheduled(store, "https://a.example/gone", None, PollReason.DISABLED)
    with store.session() as session, session.begin():
        session.execute(update(FeedRow).where(FeedRow.id == gone_id).values(disabled_at=NOW))

    due = [state.url for state in store.due_feeds(NOW, limit=10)]
    assert due == [
        "https://a.example/new",
        "https://a.example/very-late",
        "https://a.example/late",
        "https://a.example/just-due",
    ]
    assert [state.url for state in store.due_feeds(NOW, limit=2)] == due[:2]
    configured = ["https://a.example/late", "https://a.example/later", "https://a.example/gone"]
    assert [state.url for state in store.due_feeds(NOW, limit=10, among=configured)] == [
        "https://a.example/late"
    ]
    assert store.due_feeds(NOW, limit=10, among=[]) == []
    assert [state.url for state in store.due_feeds(later(60), limit=10)][-1] == "https://a.example/later"


def test_poll_now_makes_a_feed_due_at_once_and_unknown_feeds_say_so(store: Store) -> None:
    scheduled(store, "https://a.example/limited", later(7200), PollReason.RETRY_AFTER)
    assert store.due_feeds(NOW, limit=10) == []
    assert store.request_poll_now("https://a.example/limited", NOW) is True
    (due,) = store.due_feeds(NOW, limit=10)
    assert due.url == "https://a.example/limited" and due.health.next_poll_at == NOW
    assert store.request_poll_now("https://a.example/never-configured", NOW) is False


def test_changed_settings_replan_feeds_on_schedule_only(store: Store) -> None:
    hourly = scheduled(store, "https://a.example/hourly", later(3600))
    scheduled(store, "https://a.example/limited", later(3600), PollReason.RETRY_AFTER)
    scheduled(store, "https://a.example/asked", NOW, PollReason.REQUESTED)
    feeds = [
        FeedConfig(name=url, url=url, interval=600.0)
        for url in ("https://a.example/hourly", "https://a.example/limited", "https://a.example/asked")
    ]
    keeper = FeedHealthKeeper(Config(feeds=feeds), store, ManualClock(NOW))
    assert keeper.replan(feeds) == ["https://a.example/hourly"]
    states = store.feed_states([(feed.url, feed.name) for feed in feeds], register=False)
    assert states["https://a.example/hourly"].health.next_poll_at == later(600)
    assert states["https://a.example/limited"].health.next_poll_at == later(3600)  # the server's time
    assert states["https://a.example/asked"].health.next_poll_at == NOW  # the operator's request
    assert keeper.replan(feeds) == []  # nothing changed since: nothing written
    # A plan made before a poll wrote its own result does not overwrite it.
    state = store.feed_state("https://a.example/hourly", "h")
    stale = PollPlan(hourly, planned_from=later(-7200), at=later(-6600), interval=600.0)
    assert store.replan_polls([stale]) == 0
    assert store.feed_state("https://a.example/hourly", "h").health == state.health


def test_the_schedule_survives_in_the_row(store: Store) -> None:
    state = store.feed_state("https://a.example/rhythm", "Rhythm")
    health = replace(
        state.health, next_poll_at=later(1800), next_poll_reason=PollReason.BACKOFF, poll_interval=1800.0
    )
    store.save_feed_healths([FeedUpdate(state.feed_id, health, state.conditional)])
    again = Store(store.engine).feed_state("https://a.example/rhythm", "Rhythm").health
    assert (again.next_poll_at, again.next_poll_reason, again.poll_interval) == (
        later(1800),
        PollReason.BACKOFF,
        1800.0,
    )


def test_adaptive_bounds_are_validated() -> None:
    feed = {"name": "f", "url": "https://example.org/rss", "min_interval": "5m"}
    with pytest.raises(ConfigError, match="adaptive polling needs both min_interval and max_interval"):
        parse_config({"feeds": [feed]})
    with pytest.raises(ConfigError, match="min_interval is longer than max_interval"):
        parse_config({"feeds": [{**feed, "max_interval": "1m"}]})
    config = parse_config({"feeds": [{**feed, "max_interval": "2h"}]})
    assert config.feeds[0].adaptive


def test_the_daemon_stores_an_adaptive_feeds_rhythm(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    feed = LiveFeed(http_server)
    for number in range(6):  # published every 30 minutes
        feed.publish(
            Story(
                f"s{number}",
                f"Story {number}",
                f"Body of story {number}. " * 40,
                NOW - timedelta(minutes=30 * number),
            )
        )
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[
            {"name": "Live", "url": feed.url, "interval": "10m", "min_interval": "5m", "max_interval": "3h"}
        ],
    )
    daemon = Daemon(Pipeline.open(load_config(config)), config)
    store = daemon.holder.current.store
    store.feed_state(feed.url, "Live")  # registered here, so the loop below only reads
    daemon.start()
    try:
        deadline = time.monotonic() + 30
        while store.feed_state(feed.url, "Live").health.last_polled_at is None:
            assert time.monotonic() < deadline, "the feed was never polled"
            time.sleep(0.1)
    finally:
        daemon.shutdown()
    # The rhythm is kept in the feed's row, so a restart polls it at the same pace.
    health = store.feed_state(feed.url, "Live").health
    assert health.poll_interval == 1800
    assert health.last_polled_at is not None and health.next_poll_at == health.last_polled_at + timedelta(
        minutes=30
    )


def test_due_feeds_among_more_feeds_than_a_statement_can_bind(store: Store) -> None:
    """70,000 configured URLs pass both SQLite's and PostgreSQL's limit on bound parameters."""
    scheduled(store, "https://a.example/late", later(-600))
    scheduled(store, "https://a.example/very-late", later(-3600))
    scheduled(store, "https://a.example/not-configured", later(-7200))
    configured = [f"https://feeds.example/{number}" for number in range(70_000)]
    configured += ["https://a.example/late", "https://a.example/very-late"]

    due = [state.url for state in store.due_feeds(NOW, limit=10, among=configured)]

    assert due == ["https://a.example/very-late", "https://a.example/late"]
    assert [state.url for state in store.due_feeds(NOW, limit=1, among=configured)] == due[:1]


def test_threads_registering_the_same_new_feeds_at_once_all_get_the_one_row(store: Store) -> None:
    urls = [f"https://race.example/{number}" for number in range(40)]
    start = threading.Barrier(6)

    def register(one_by_one: bool) -> dict[str, int]:
        start.wait()
        if one_by_one:
            return {url: store.feed_state(url, url).feed_id for url in urls}
        return {url: state.feed_id for url, state in store.feed_states([(url, url) for url in urls]).items()}

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(register, [True, False] * 3))

    assert all(answer == answers[0] for answer in answers)
    assert len(set(answers[0].values())) == len(urls)
