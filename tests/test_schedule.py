"""Adaptive polling: the interval follows a feed's publishing rhythm, within its bounds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.config import ConfigError, load_config, parse_config
from pipeline.cycle import Pipeline
from pipeline.daemon import Daemon
from pipeline.schedule import IntervalBounds, adaptive_interval, worth_rescheduling
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


def test_adaptive_bounds_are_validated() -> None:
    feed = {"name": "f", "url": "https://example.org/rss", "min_interval": "5m"}
    with pytest.raises(ConfigError, match="adaptive polling needs both min_interval and max_interval"):
        parse_config({"feeds": [feed]})
    with pytest.raises(ConfigError, match="min_interval is longer than max_interval"):
        parse_config({"feeds": [{**feed, "max_interval": "1m"}]})
    config = parse_config({"feeds": [{**feed, "max_interval": "2h"}]})
    assert config.feeds[0].adaptive


def test_the_daemon_reschedules_an_adaptive_feed(
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
    daemon.start()
    try:
        job = daemon.scheduler.get_job(f"feed:{feed.url}")
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while job.trigger.interval.total_seconds() == 600 and datetime.now(UTC) < deadline:
            time.sleep(0.1)
            job = daemon.scheduler.get_job(f"feed:{feed.url}")
    finally:
        daemon.shutdown()
    assert job.trigger.interval.total_seconds() == 1800
