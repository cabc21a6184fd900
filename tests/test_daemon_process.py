"""`newswatch run` as a real subprocess: publication-to-alert latency, and SIGKILL mid-cycle."""

from __future__ import annotations

import os
import random
import signal
import string
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipeline.config import parse_config
from pipeline.match import Matcher
from pipeline.store import create_db_engine
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
