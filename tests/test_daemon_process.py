"""`newswatch run` as a real subprocess: publication-to-alert latency, SIGKILL mid-cycle, polling
that a slow SMTP server does not hold up, and a poll schedule that survives a restart."""

from __future__ import annotations

import os
import random
import signal
import string
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from pipeline.config import parse_config
from pipeline.match import Matcher
from pipeline.store import Store, create_db_engine
from pipeline.store.tables import AlertRow, ArticleRow, MatchRow
from tests.support.articles import article
from tests.support.configs import shipped_document, write_test_config
from tests.support.livefeed import LiveFeed, Story
from tests.support.servers import LocalHTTPServer, Response, SmtpSink

pytestmark = pytest.mark.slow

USFJ_BODY = (
    "U.S. Forces Japan (USFJ) moved on Tuesday to the next phase of its reorganization into a joint force "
    "headquarters, officials in Tokyo said.\n\nThe change will let the command plan and run operations "
    "alongside Japan's Self-Defense Forces rather than only manage the alliance. "
) * 3
OTHER_BODY = "Cherry blossoms are expected early this year in Kyoto, forecasters said on Monday. " * 8


def shipped_matches(title: str, body: str) -> int:
    """How many shipped topics a story matches, asked of the real matcher (one alert each)."""
    config = parse_config(shipped_document())
    return len(Matcher.from_topics(config.topics, config.aliases).match(article(title, body)))


def distinct(body: str, seed: int) -> str:
    """The same story line with enough different words that story clustering keeps items apart."""
    rng = random.Random(seed)
    words = (
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9))) for _ in range(200)
    )
    return f"{body}\n\nReport {seed}: {' '.join(words)}."


def start_daemon(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "run", "--config", str(config)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=45)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def test_publication_to_alert_latency(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer, smtp_sink: SmtpSink
) -> None:
    interval = 2.0
    feed = LiveFeed(http_server)
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[{"name": "Live", "url": feed.url, "interval": f"{interval}s"}],
        smtp_port=smtp_sink.port,
    )
    daemon = start_daemon(config, tmp_path / "daemon.log")
    latencies = []
    per_story = shipped_matches("USFJ reorganisation, phase 0", distinct(USFJ_BODY, 0))
    assert per_story >= 1
    try:
        wait_for(lambda: len(http_server.requests_to("/live.xml")) >= 1, timeout=30)
        for number in range(8):
            published = time.monotonic()
            feed.publish(
                Story(f"usfj-{number}", f"USFJ reorganisation, phase {number}", distinct(USFJ_BODY, number))
            )
            # The first alert for the story is what an analyst waits for.
            wait_for(lambda n=number: len(smtp_sink.messages) > n * per_story, timeout=interval + 30)
            latencies.append(time.monotonic() - published)
            time.sleep(0.3 * (number % 3))  # publish at different points of the poll cycle
        wait_for(lambda: len(smtp_sink.messages) >= 8 * per_story, timeout=30)
    finally:
        stop(daemon)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(
        f"\npublication-to-alert latency over {len(latencies)} items: "
        f"median {latencies[len(latencies) // 2]:.2f}s, p95 {p95:.2f}s, max {latencies[-1]:.2f}s "
        f"(poll interval {interval:g}s)"
    )
    assert p95 < interval + 5
    assert len({mail.message["Message-ID"] for mail in smtp_sink.messages}) == 8 * per_story


def test_sigkill_during_a_busy_cycle_loses_nothing(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer, smtp_sink: SmtpSink
) -> None:
    """Kill -9 while pages are being fetched and alerts sent; restart; every article, match and
    alert is there in the end, and any alert seen twice carries the same idempotency key."""
    feed = LiveFeed(http_server)
    items = [
        Story(
            f"item-{number}",
            f"USFJ joint force headquarters update {number}"
            if number % 3 == 0
            else f"Kyoto spring forecast {number}",
            distinct(USFJ_BODY if number % 3 == 0 else OTHER_BODY, number),
        )
        for number in range(30)
    ]
    for item in items:
        feed.publish(item)
        # Slow pages keep the cycle busy long enough to be killed in the middle of it.
        page = http_server.routes[f"/articles/{item.slug}"]
        assert isinstance(page, Response)
        page.delay = 0.15
    expected_matches = sum(
        shipped_matches(item.title, item.body) for number, item in enumerate(items) if number % 3 == 0
    )
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[{"name": "Live", "url": feed.url, "interval": "1s"}],
        smtp_port=smtp_sink.port,
    )
    log = tmp_path / "daemon.log"

    def stored_articles() -> int:
        engine = create_db_engine(database_url)
        try:
            with engine.connect() as connection:
                return int(connection.scalar(select(func.count(ArticleRow.id))) or 0)
        except Exception:  # the schema may not exist yet
            return 0
        finally:
            engine.dispose()

    # Kill while the cycle is storing articles (three different depths), then once more
    # just after the first alert went out; the last run is left to finish.
    kills = 0
    for articles_before_kill in (4, 12, 20):
        daemon = start_daemon(config, log)
        wait_for(lambda n=articles_before_kill: stored_articles() >= n, timeout=60)
        daemon.send_signal(signal.SIGKILL)
        daemon.wait()
        kills += 1
    daemon = start_daemon(config, log)
    wait_for(lambda: len(smtp_sink.messages) >= 1, timeout=60)
    daemon.send_signal(signal.SIGKILL)
    daemon.wait()
    kills += 1
    daemon = start_daemon(config, log)
    try:
        wait_for(
            lambda: len({m.message["X-Newswatch-Alert"] for m in smtp_sink.messages}) >= expected_matches, 90
        )
        time.sleep(1.0)  # a duplicate, if any, would arrive now
    finally:
        stop(daemon)

    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        articles = connection.scalar(select(func.count(ArticleRow.id)))
        matches = connection.scalar(select(func.count(MatchRow.id)))
        keys = set(connection.scalars(select(AlertRow.idempotency_key)))
        unsent = connection.scalar(select(func.count(AlertRow.id)).where(AlertRow.status != "sent"))
    engine.dispose()
    received = Counter(str(mail.message["X-Newswatch-Alert"]) for mail in smtp_sink.messages)
    for mail in smtp_sink.messages:  # the Message-ID carries the same key, for mail systems
        assert str(mail.message["X-Newswatch-Alert"]) in str(mail.message["Message-ID"])
    duplicates = {key: count for key, count in received.items() if count > 1}
    print(
        f"\nSIGKILL test: {kills} kills; articles {articles}/30, matches {matches}/{expected_matches}, "
        f"alerts received {sum(received.values())} for {len(received)} keys, "
        f"duplicates {duplicates or 'none'}"
    )
    assert articles == 30
    assert matches == expected_matches
    assert unsent == 0
    assert set(received) == keys and len(keys) == expected_matches  # nothing lost
    # A resend after a crash is possible only between sending and recording it; it keeps its key.
    assert all(key in keys for key in duplicates)


def stored_urls(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(select(ArticleRow.url)))


def test_a_slow_smtp_server_does_not_delay_polling(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    """Alerts go to an SMTP server that takes 5 s per message while four feeds keep publishing, each
    of which queues alerts: every story is stored within one poll interval of its publication
    (plus the poll's own work), because delivery has its own thread and never holds a poll."""
    interval = 1.0
    work = 1.0  # one poll's own work on a loaded 2-core machine: fetch, page, extraction, store
    feeds = [LiveFeed(http_server, f"/feed-{number}.xml", f"Feed {number}") for number in range(4)]
    slow_smtp = SmtpSink(delay=5.0).start()
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[
            {"name": f"Feed {n}", "url": feed.url, "interval": f"{interval:g}s"}
            for n, feed in enumerate(feeds)
        ],
        extra={
            # One topic, one message per matching story, to a server that keeps each for 5 s.
            "topics": {"zephyrine": {"any": ["zephyrine"], "channels": ["slow-email"]}},
            "channels": {
                "slow-email": {
                    "type": "email",
                    "to": ["analyst@example.org"],
                    "from": "newswatch@example.org",
                    "smtp": {"host": "127.0.0.1", "port": slow_smtp.port, "timeout": "30s"},
                }
            },
        },
    )
    engine = create_db_engine(database_url)
    daemon = start_daemon(config, tmp_path / "daemon.log")
    latencies: list[float] = []
    matching = 0

    def publish_round(round_number: int) -> None:
        """Every feed publishes a story, at different points of the poll cycle; each story's
        publication-to-store latency is measured from the database."""
        published: dict[str, float] = {}
        for number, feed in enumerate(feeds):
            slug = f"r{round_number}-f{number}"
            # Round 1 matches on every feed, so every feed's poll queues an alert.
            topical = "Zephyrine report" if round_number == 1 else "Kyoto forecast"
            body = distinct(
                "Zephyrine in the news. " * 8 if round_number == 1 else OTHER_BODY, 10 * round_number + number
            )
            feed.publish(Story(slug, f"{topical} {slug}", body))
            published[feed.server.url(f"/articles/{slug}")] = time.monotonic()
            time.sleep(0.23)
        deadline = time.monotonic() + 30
        while published:
            assert time.monotonic() < deadline, f"never stored: {sorted(published)}"
            for url in published.keys() & stored_urls(engine):
                latencies.append(time.monotonic() - published.pop(url))
            time.sleep(0.05)

    try:
        wait_for(lambda: all(http_server.requests_to(feed.path) for feed in feeds), timeout=30)
        # Round 0 is not measured: it starts the extraction workers, whose first page takes seconds.
        publish_round(0)
        latencies.clear()
        for round_number in range(1, 7):
            publish_round(round_number)
        matching = len(feeds)
        # Polling kept up while the SMTP server was still working through the alerts.
        busy = len(slow_smtp.messages) < matching
        wait_for(lambda: len(slow_smtp.messages) >= matching, timeout=5 * matching + 30)
    finally:
        stop(daemon)
        slow_smtp.stop()
        engine.dispose()
    latencies.sort()
    print(
        f"\npublication-to-store latency with a 5 s/message SMTP server, {len(latencies)} stories on "
        f"{len(feeds)} feeds: median {latencies[len(latencies) // 2]:.2f}s, max {latencies[-1]:.2f}s "
        f"(poll interval {interval:g}s); {matching} alerts took the SMTP server {5 * matching} s"
    )
    assert latencies[-1] < interval + work
    assert busy
    subjects = sorted(str(mail.message["Subject"]) for mail in slow_smtp.messages)
    assert len(subjects) == matching == len(set(subjects))  # each alert once


def test_the_poll_schedule_survives_a_restart(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    """A feed polled just before a restart is not polled again right after it: its next_poll_at is
    in the database. A feed the operator asked to poll now while the daemon was down is."""
    polled, asked = LiveFeed(http_server, "/polled.xml"), LiveFeed(http_server, "/asked.xml")
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[
            {"name": "Polled", "url": polled.url, "interval": "1h"},
            {"name": "Asked", "url": asked.url, "interval": "1h"},
        ],
        extra={"fetch": {"allow_private_addresses": True, "fetch_pages": False}},
    )
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, log)
    try:
        wait_for(lambda: http_server.requests_to("/polled.xml") and http_server.requests_to("/asked.xml"), 30)
        time.sleep(0.5)  # the polls' results are written
    finally:
        stop(daemon)
    engine = create_db_engine(database_url)
    try:
        store = Store(engine)
        due = store.feed_state(polled.url, "Polled").health.next_poll_at
        assert due is not None and timedelta(minutes=59) < due - datetime.now(UTC) <= timedelta(hours=1)
        assert store.request_poll_now(asked.url, datetime.now(UTC))
    finally:
        engine.dispose()

    daemon = start_daemon(config, log)
    try:
        wait_for(lambda: len(http_server.requests_to("/asked.xml")) == 2, 30)
        time.sleep(2.0)  # twenty ticks at least: long enough for a wrong re-poll to show
    finally:
        stop(daemon)
    assert len(http_server.requests_to("/polled.xml")) == 1
    assert len(http_server.requests_to("/asked.xml")) == 2
