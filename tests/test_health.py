"""Feed health: backoff, Retry-After, failing and silent incidents with one notice each (and one on
recovery), `newswatch feeds` and `newswatch feeds enable`. Pure rules first, then real servers."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from pipeline.cli import main
from pipeline.clock import ManualClock
from pipeline.config import Config, FetchConfig, HealthConfig
from pipeline.health import (
    EventKind,
    HealthPolicy,
    PollOutcome,
    after_poll,
    assess_silence,
    hold_back_reason,
    typical_gap,
)
from pipeline.models import FeedHealth, HealthState
from pipeline.schedule import PollReason, ScheduleSettings, backoff_seconds
from pipeline.store.tables import FeedRow
from tests.support.configs import write_test_config
from tests.support.feeds import RSS_HEADERS, Item, open_pipeline, rss
from tests.support.servers import LocalHTTPServer, Response, SmtpSink

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = HealthPolicy.from_config(
    Config(health=HealthConfig(failing_after=3), fetch=FetchConfig(max_backoff=3600, max_retry_after=7200))
)
INTERVAL = 600.0
SCHEDULE = ScheduleSettings(INTERVAL, None, max_backoff=3600, max_retry_after=7200)


def fail(health: FeedHealth, when: datetime, **kwargs: object) -> tuple[FeedHealth, list]:
    outcome = PollOutcome(when, 500, "http_status: HTTP 500 Internal Server Error", "http_status")
    if kwargs:
        outcome = PollOutcome(when, **kwargs)  # type: ignore[arg-type]
    return after_poll("Feed", "https://example.org/feed", health, outcome, SCHEDULE, POLICY)


def succeed(health: FeedHealth, when: datetime, new_items: int = 0) -> tuple[FeedHealth, list]:
    outcome = PollOutcome(when, 200, new_items=new_items)
    return after_poll("Feed", "https://example.org/feed", health, outcome, SCHEDULE, POLICY)


def test_backoff_doubles_from_the_second_failure_and_is_capped() -> None:
    assert [backoff_seconds(n, INTERVAL, 3600) for n in range(1, 6)] == [0, 1200, 2400, 3600, 3600]


def test_failures_back_off_raise_one_failing_notice_and_one_recovery() -> None:
    health, events = fail(FeedHealth(), T0)
    # A first failure is not held back: the feed is due again after its interval.
    assert health.consecutive_failures == 1 and not events
    assert health.next_poll_at == T0 + timedelta(minutes=10)
    assert health.next_poll_reason is PollReason.SCHEDULE
    assert hold_back_reason(health, T0 + timedelta(minutes=5)) is None
    health, events = fail(health, T0 + timedelta(minutes=10))
    assert health.next_poll_at == T0 + timedelta(minutes=30) and not events
    assert hold_back_reason(health, T0 + timedelta(minutes=15)) == "backing off until 2026-11-25 12:30 UTC"
    assert hold_back_reason(health, T0 + timedelta(minutes=30)) is None
    health, events = fail(health, T0 + timedelta(minutes=30))
    assert [event.kind for event in events] == [EventKind.FAILING]
    assert events[0].incident == T0.isoformat()
    assert "failed to fetch the feed 'Feed' 3 times in a row since 2026-11-25 12:00 UTC" in events[0].text
    assert health.health_state is HealthState.FAILING
    health, events = fail(health, T0 + timedelta(hours=2))
    assert not events  # still the same incident
    health, events = succeed(health, T0 + timedelta(hours=3))
    assert [event.kind for event in events] == [EventKind.RECOVERED]
    assert events[0].incident == T0.isoformat()
    assert "after 4 failed polls over 3 hours" in events[0].text
    assert health.consecutive_failures == 0 and health.last_error is None
    assert health.next_poll_at == T0 + timedelta(hours=3, minutes=10)
    assert health.next_poll_reason is PollReason.SCHEDULE
    assert health.health_state is HealthState.OK


def test_retry_after_is_honoured_exactly_and_capped() -> None:
    health, _ = fail(
        FeedHealth(),
        T0,
        status=429,
        error="retry_later: HTTP 429",
        error_kind="retry_later",
        retry_after=90.0,
    )
    assert health.next_poll_at == T0 + timedelta(seconds=90)
    assert hold_back_reason(health, T0 + timedelta(seconds=80)) == (
        "the server asked to wait until 2026-11-25 12:01 UTC"
    )
    assert hold_back_reason(health, T0 + timedelta(seconds=91)) is None
    health, _ = fail(
        FeedHealth(), T0, status=503, error="retry_later", error_kind="retry_later", retry_after=10**9
    )
    assert health.next_poll_at == T0 + timedelta(seconds=7200)


def test_gone_disables_and_moved_is_recorded() -> None:
    health, events = fail(FeedHealth(), T0, status=410, error="gone: HTTP 410 Gone", error_kind="gone")
    assert health.disabled_at == T0 and [event.kind for event in events] == [EventKind.DISABLED]
    assert health.next_poll_at is None and health.next_poll_reason is PollReason.DISABLED
    assert hold_back_reason(health, T0 + timedelta(days=30)) == (
        "disabled since 2026-11-25 12:00 UTC: gone: HTTP 410 Gone"
    )
    outcome = PollOutcome(T0, 200, moved_to="https://new.example.org/feed")
    health, events = after_poll("Feed", "https://example.org/feed", FeedHealth(), outcome, SCHEDULE, POLICY)
    assert health.moved_to == "https://new.example.org/feed" and [event.kind for event in events] == [
        EventKind.MOVED
    ]
    health, events = after_poll("Feed", "https://example.org/feed", health, outcome, SCHEDULE, POLICY)
    assert not events  # said once


def test_typical_gap_ignores_items_that_arrived_together() -> None:
    hourly = [T0 - timedelta(hours=hour) for hour in range(6)]
    assert typical_gap(hourly, 5) == 3600
    assert typical_gap([T0] * 10, 5) is None
    assert typical_gap(hourly[:3], 5) is None


def test_silence_is_relative_to_the_feeds_rhythm() -> None:
    policy = HealthPolicy.from_config(
        Config(health=HealthConfig(silent_after_factor=4, silent_min=3600, rhythm_min_items=5))
    )
    hourly = [T0 - timedelta(hours=hour) for hour in range(10)]
    polled = FeedHealth(last_success_at=T0, last_polled_at=T0)
    health, events = assess_silence("Feed", "u", polled, hourly, INTERVAL, T0 + timedelta(hours=3), policy)
    assert not events and health.health_state is HealthState.OK
    health, events = assess_silence("Feed", "u", polled, hourly, INTERVAL, T0 + timedelta(hours=5), policy)
    assert [event.kind for event in events] == [EventKind.SILENT]
    assert "for 5 hours, although it usually publishes every 1 hour" in events[0].text
    again, more = assess_silence("Feed", "u", health, hourly, INTERVAL, T0 + timedelta(hours=9), policy)
    assert not more and again == health
    # A feed just added whose items are old is not silent until it has been watched long enough.
    _, fresh = assess_silence(
        "Feed",
        "u",
        polled,
        hourly,
        INTERVAL,
        T0 + timedelta(hours=5),
        policy,
        watched_since=T0 + timedelta(hours=4),
    )
    assert not fresh
    daily = [T0 - timedelta(days=day) for day in range(10)]
    _, quiet = assess_silence("Feed", "u", polled, daily, INTERVAL, T0 + timedelta(hours=20), policy)
    assert not quiet  # a daily feed quiet for 20 hours is normal
    back, events = succeed(health, T0 + timedelta(hours=10), new_items=1)
    assert [event.kind for event in events] == [EventKind.PUBLISHING_AGAIN]
    assert back.health_state is HealthState.OK


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


@pytest.mark.slow
def test_failing_feed_raises_one_notice_per_incident_and_one_on_recovery(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer, smtp_sink: SmtpSink
) -> None:
    http_server.add("/flaky.xml", Response(500, b"down"))
    good = rss([Item("A story", "https://news.example.org/a", "Summary.", T0)])
    http_server.add("/steady.xml", Response(200, good, RSS_HEADERS))
    feeds = [
        # A short interval keeps the backoff between cycles short.
        {"name": "Flaky", "url": http_server.url("/flaky.xml"), "interval": "50ms"},
        {"name": "Steady", "url": http_server.url("/steady.xml")},
    ]
    extra = {"health": {"channels": ["test-email"], "failing_after": 3}}
    fetch = {"fetch_pages": False}
    # The pipeline's clock, moved past each backoff instead of sleeping through it. Ahead of the real
    # clock, so the notices (queued at the database's real time) are due when the cycle dispatches.
    clock = ManualClock()
    with open_pipeline(
        tmp_path,
        feeds,
        database_url=database_url,
        smtp_port=smtp_sink.port,
        extra=extra,
        fetch=fetch,
        clock=clock,
    ) as pipeline:
        for _ in range(5):
            pipeline.run_cycle()
            clock.advance(60)  # past the capped backoff (50 ms x 2^n, at most 800 ms)
        assert [mail.subject for mail in smtp_sink.messages] == ["[newswatch] feed 'Flaky' keeps failing"]
        text = smtp_sink.messages[0].part("text/plain")
        assert "Last error: http_status: HTTP 500 Internal Server Error" in text
        assert f"URL: {http_server.url('/flaky.xml')}" in text

        http_server.add("/flaky.xml", Response(200, rss([]), RSS_HEADERS))
        pipeline.run_cycle()
        pipeline.run_cycle()
        assert [mail.subject for mail in smtp_sink.messages][1:] == ["[newswatch] feed 'Flaky' has recovered"]

        # A new incident is a new notice.
        http_server.add("/flaky.xml", Response(500, b"down again"))
        for _ in range(3):
            pipeline.run_cycle()
            clock.advance(60)
        assert [mail.subject for mail in smtp_sink.messages][2:] == ["[newswatch] feed 'Flaky' keeps failing"]


def test_silent_feed_raises_one_notice_and_one_when_it_publishes_again(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer, smtp_sink: SmtpSink
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    # Six items an hour apart, the newest three days ago: far beyond this feed's rhythm.
    old_items = [
        Item(
            f"Story {hour}",
            f"https://news.example.org/{hour}",
            "Summary.",
            now - timedelta(days=3, hours=hour),
        )
        for hour in range(6)
    ]
    http_server.add("/quiet.xml", Response(200, rss(old_items), RSS_HEADERS))
    feeds = [{"name": "Quiet", "url": http_server.url("/quiet.xml")}]
    extra = {"health": {"channels": ["test-email"], "silent_min": "1h"}}
    fetch = {"fetch_pages": False}
    with open_pipeline(
        tmp_path, feeds, database_url=database_url, smtp_port=smtp_sink.port, extra=extra, fetch=fetch
    ) as pipeline:
        pipeline.run_cycle()
        # Just added: silence is only counted from when newswatch started watching the feed.
        assert smtp_sink.messages == []
        with pipeline.store.session() as session, session.begin():
            session.execute(update(FeedRow).values(created_at=now - timedelta(days=4)))
        pipeline.run_cycle()
        pipeline.run_cycle()
        assert [mail.subject for mail in smtp_sink.messages] == ["[newswatch] feed 'Quiet' has gone silent"]
        assert "although it usually publishes every 1 hour" in smtp_sink.messages[0].part("text/plain")
        fresh = Item("Fresh", "https://news.example.org/fresh", "Summary.", now)
        http_server.add("/quiet.xml", Response(200, rss([fresh, *old_items]), RSS_HEADERS))
        pipeline.run_cycle()
    assert [mail.subject for mail in smtp_sink.messages][1:] == [
        "[newswatch] feed 'Quiet' is publishing again"
    ]


def test_feeds_command_lists_state_and_enable_brings_a_gone_feed_back(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    http_server.add(
        "/ok.xml", Response(200, rss([Item("A", "https://news.example.org/a", "S", T0)]), RSS_HEADERS)
    )
    http_server.add("/gone.xml", Response(410, b""))
    http_server.add("/old.xml", Response(301, headers={"Location": "/ok.xml"}))
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[
            {"name": "Working", "url": http_server.url("/ok.xml")},
            {"name": "Gone", "url": http_server.url("/gone.xml")},
            {"name": "Relocated", "url": http_server.url("/old.xml")},
            {"name": "Never polled", "url": "https://news.example.org/never.xml"},
        ],
    )
    # `feeds` reads and never creates a database; `db upgrade` does.
    assert run("db", "upgrade", "--config", str(config))[0] == 0
    code, listing = run("feeds", "--config", str(config))
    assert code == 0 and "Never polled" in listing and " new " in listing

    # Poll only the local feeds (there is no network for the last one).
    write_test_config(
        tmp_path / "poll.yaml",
        database_url=database_url,
        feeds=[
            {"name": "Working", "url": http_server.url("/ok.xml")},
            {"name": "Gone", "url": http_server.url("/gone.xml")},
            {"name": "Relocated", "url": http_server.url("/old.xml")},
        ],
        extra={"fetch": {"allow_private_addresses": True, "fetch_pages": False}},
    )
    assert main(["once", "--config", str(tmp_path / "poll.yaml")], out=io.StringIO()) == 0

    code, listing = run("feeds", "--config", str(config))
    assert code == 1  # a disabled feed needs the operator
    lines = {line.split("  ")[0]: line for line in listing.splitlines()}
    assert "FEED" in lines and "STATE" in lines["FEED"] and "LAST ERROR" in lines["FEED"]
    assert " ok " in lines["Working"] and lines["Working"].split()[-1] == "-"
    assert " in 10 min " in lines["Working"]  # the default interval, from the stored next_poll_at
    assert " disabled " in lines["Gone"] and "gone: HTTP 410 Gone" in lines["Gone"]
    assert "never (disabled)" in lines["Gone"]
    assert "re-enable with: newswatch feeds enable 'Gone'" in listing
    assert f"Relocated: moved permanently to {http_server.url('/ok.xml')}" in listing

    code, output = run("feeds", "--config", str(config), "--json")
    rows = {row["name"]: row for row in map(json.loads, output.splitlines())}
    assert rows["Working"]["items_seen"] == 1 and rows["Working"]["failures"] == 0
    assert rows["Gone"]["state"] == "disabled" and rows["Gone"]["last_error_kind"] == "gone"
    assert rows["Relocated"]["moved_to"] == http_server.url("/ok.xml")

    code, output = run("feeds", "enable", "Gone", "--config", str(config))
    assert code == 0 and "feed 'Gone' enabled" in output
    code, output = run("feeds", "--config", str(config), "--json")
    rows = {row["name"]: row for row in map(json.loads, output.splitlines())}
    assert rows["Gone"]["state"] != "disabled"
    code, _ = run("feeds", "enable", "No such feed", "--config", str(config))
    assert code == 2


def test_health_channels_must_exist(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[],
        extra={"health": {"channels": ["pager"], "failing_after": 0}},
    )
    code, _ = run("check-config", "--config", str(config))
    assert code == 2
    error = capsys.readouterr().err
    assert "health.channels[0]: unknown channel 'pager'" in error
    assert "health.failing_after: Input should be greater than 0" in error
