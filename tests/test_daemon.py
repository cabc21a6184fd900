"""The daemon in-process: live reload, refusing bad edits, retention, and shutdown."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from pipeline.config import load_config
from pipeline.cycle import Pipeline
from pipeline.daemon import Daemon
from tests.support.configs import write_test_config
from tests.support.feeds import RSS_HEADERS, rss
from tests.support.livefeed import LiveFeed, Story
from tests.support.servers import LocalHTTPServer, RecordedRequest, Response, SmtpSink

RAMEN_BODY = (
    "A nine-seat ramen counter in Tokyo kept its Michelin star for a tenth year.\n\n"
    "The owner said the broth takes fourteen hours and there is no shortcut. "
) * 3


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.fixture
def live_feed(http_server: LocalHTTPServer) -> LiveFeed:
    return LiveFeed(http_server)


@pytest.fixture
def daemon_config(tmp_path: Path, database_url: str, live_feed: LiveFeed, smtp_sink: SmtpSink) -> Path:
    return write_test_config(
        tmp_path / "newswatch.yaml",
        database_url=database_url,
        feeds=[{"name": "Live", "url": live_feed.url, "interval": "0.5s"}],
        smtp_port=smtp_sink.port,
    )


@pytest.fixture
def daemon(daemon_config: Path) -> Iterator[Daemon]:
    instance = Daemon(Pipeline.open(load_config(daemon_config)), daemon_config)
    instance.start()
    yield instance
    instance.shutdown()


def edit_config(path: Path, change: Callable[[dict], None]) -> None:
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


def add_ramen_topic(document: dict) -> None:
    document["topics"]["ramen-watch"] = {"any": ["ramen"], "channels": ["test-email"]}


def test_adding_a_topic_while_running_starts_matching_with_it(
    daemon: Daemon, daemon_config: Path, live_feed: LiveFeed, smtp_sink: SmtpSink
) -> None:
    live_feed.publish(Story("ramen-1", "Ramen counter keeps its star", RAMEN_BODY))
    wait_for(lambda: len(live_feed.server.requests_to("/articles/ramen-1")) == 1)
    time.sleep(0.5)
    assert smtp_sink.messages == []  # no topic for ramen yet

    matcher_before = daemon.holder.current.matcher
    edit_config(daemon_config, add_ramen_topic)
    wait_for(lambda: "ramen-watch" in daemon.config.topics)
    assert daemon.holder.current.matcher is not matcher_before

    live_feed.publish(Story("ramen-2", "Another ramen shop earns a star", RAMEN_BODY))
    wait_for(lambda: len(smtp_sink.messages) == 1)
    assert "ramen-watch" in smtp_sink.messages[0].subject
    assert "Another ramen shop" in smtp_sink.messages[0].subject


def test_an_invalid_edit_is_refused_and_the_daemon_keeps_working(
    daemon: Daemon,
    daemon_config: Path,
    live_feed: LiveFeed,
    smtp_sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    edit_config(daemon_config, add_ramen_topic)
    wait_for(lambda: "ramen-watch" in daemon.config.topics)

    def break_it(document: dict) -> None:
        document["topics"]["ramen-watch"]["channels"] = ["no-such-channel"]
        document["feeds"][0]["interval"] = "whenever"

    edit_config(daemon_config, break_it)
    wait_for(lambda: "config reload refused" in caplog.text)
    assert "topics.ramen-watch.channels[0]: unknown channel 'no-such-channel'" in caplog.text
    assert "feeds[0].interval: 'whenever' is not a duration" in caplog.text
    # Still running on the previous config: polling and alerting continue.
    live_feed.publish(Story("ramen-3", "Ramen news after a bad edit", RAMEN_BODY))
    wait_for(lambda: len(smtp_sink.messages) == 1)
    assert "ramen-watch" in smtp_sink.messages[0].subject


def test_reload_adds_and_removes_feeds(
    daemon: Daemon, daemon_config: Path, http_server: LocalHTTPServer
) -> None:
    second = LiveFeed(http_server, "/second.xml", "Second feed")
    matcher_before = daemon.holder.current.matcher

    def swap_feeds(document: dict) -> None:
        document["feeds"] = [{"name": "Second", "url": second.url, "interval": "0.5s"}]

    edit_config(daemon_config, swap_feeds)
    wait_for(lambda: len(http_server.requests_to("/second.xml")) >= 2)
    polls_of_first = len(http_server.requests_to("/live.xml"))
    time.sleep(1.5)
    assert len(http_server.requests_to("/live.xml")) <= polls_of_first + 1  # one may have been in flight
    # No job per feed: one tick asks the store for due feeds among the configured ones.
    assert "poll-tick" in [job.id for job in daemon.scheduler.get_jobs()]
    assert not [job.id for job in daemon.scheduler.get_jobs() if job.id.startswith("feed:")]
    # Topics did not change, so the compiled matcher was kept rather than rebuilt.
    assert daemon.holder.current.matcher is matcher_before


def test_a_shortened_interval_applies_at_once_after_a_reload(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    feed = LiveFeed(http_server, "/hourly.xml")
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[{"name": "Hourly", "url": feed.url, "interval": "1h"}],
    )
    daemon = Daemon(Pipeline.open(load_config(config)), config)
    daemon.start()
    try:
        wait_for(lambda: len(http_server.requests_to("/hourly.xml")) == 1)
        time.sleep(0.5)
        assert len(http_server.requests_to("/hourly.xml")) == 1  # next due in an hour

        def every_second(document: dict) -> None:
            document["feeds"][0]["interval"] = "1s"

        edit_config(config, every_second)
        # Planned again from the last poll: it is overdue under the new interval, so polled now.
        wait_for(lambda: len(http_server.requests_to("/hourly.xml")) >= 3, timeout=10)
    finally:
        daemon.shutdown()


class SlowHost:
    """Feeds on one host that answer slowly, recording how many requests were in flight at once."""

    # Three times the quick feed's interval: a quick poll held up behind a slow one would show as a gap
    # of seconds, far above the scheduling jitter of a loaded CI machine.
    ANSWER_SECONDS = 3.0

    def __init__(self, server: LocalHTTPServer, feeds: int) -> None:
        self.in_flight: Counter[str] = Counter()
        self.most_at_once = 0
        self.most_per_feed = 0
        self._lock = threading.Lock()
        self.urls = [server.add(f"/slow-{number}.xml", self._serve) for number in range(feeds)]

    def _serve(self, request: RecordedRequest) -> Response:
        with self._lock:
            self.in_flight[request.path] += 1
            self.most_at_once = max(self.most_at_once, self.in_flight.total())
            self.most_per_feed = max(self.most_per_feed, self.in_flight[request.path])
        time.sleep(self.ANSWER_SECONDS)
        with self._lock:
            self.in_flight[request.path] -= 1
        return Response(200, rss([], "Slow"), RSS_HEADERS)


def test_polls_respect_the_per_host_limit_without_holding_up_other_hosts(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer
) -> None:
    slow = SlowHost(http_server, feeds=8)
    quick_server = LocalHTTPServer().start()
    polled_at: list[float] = []

    def quick(_request: RecordedRequest) -> Response:
        polled_at.append(time.monotonic())
        return Response(200, rss([], "Quick"), RSS_HEADERS)

    try:
        quick_url = quick_server.add("/quick.xml", quick)
        feeds = [{"name": f"Slow {n}", "url": url, "interval": "1s"} for n, url in enumerate(slow.urls)]
        config = write_test_config(
            tmp_path / "c.yaml",
            database_url=database_url,
            feeds=[*feeds, {"name": "Quick", "url": quick_url, "interval": "1s"}],
            extra={
                "fetch": {
                    "allow_private_addresses": True,
                    "fetch_pages": False,
                    "max_connections": 3,
                    "max_per_host": 2,
                }
            },
        )
        daemon = Daemon(Pipeline.open(load_config(config)), config)
        daemon.start()
        try:
            time.sleep(7)
        finally:
            daemon.shutdown()
    finally:
        quick_server.stop()
    # Eight feeds on the slow host, two requests there at a time at most, and never one feed twice.
    assert slow.most_at_once == 2 and slow.most_per_feed == 1
    # The third worker stays free for the other host: its feed keeps its 1 s interval (plus a tick and
    # some jitter), never waiting for a slow answer to free a worker.
    gaps = [later - earlier for earlier, later in itertools.pairwise(polled_at)]
    assert len(polled_at) >= 3 and max(gaps) < SlowHost.ANSWER_SECONDS - 0.5, gaps


def test_a_poll_the_store_cannot_record_is_not_repeated_at_every_tick(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import text

    feed = LiveFeed(http_server, "/unrecorded.xml")
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[{"name": "Unrecorded", "url": feed.url, "interval": "5s"}],
    )
    pipeline = Pipeline.open(load_config(config))
    pipeline.store.feed_states([(feed.url, "Unrecorded")])
    # A real failing write: the database refuses every update of the feeds table.
    with pipeline.store.engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(
                text("CREATE TRIGGER refuse BEFORE UPDATE ON feeds BEGIN SELECT RAISE(ABORT, 'refused'); END")
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                    "$$ BEGIN RAISE EXCEPTION 'refused'; END $$"
                )
            )
            connection.execute(
                text("CREATE TRIGGER refuse BEFORE UPDATE ON feeds FOR EACH ROW EXECUTE FUNCTION refuse()")
            )
    daemon = Daemon(pipeline, config)
    daemon.start()
    try:
        wait_for(lambda: "its poll could not be recorded; next try in 5s" in caplog.text)
        time.sleep(3)  # a dozen ticks at least (every 0.5 s)
    finally:
        daemon.shutdown()
    # Still due in the database, but left alone for its interval rather than polled at every tick.
    assert len(http_server.requests_to("/unrecorded.xml")) == 1


def worker_pids(pipeline: Pipeline) -> set[int]:
    executor = pipeline.extractor._executor
    return set(executor._processes) if executor is not None else set()


def test_a_topic_edit_swaps_the_matcher_and_keeps_fetcher_workers_and_channels(
    daemon: Daemon, daemon_config: Path
) -> None:
    before = daemon.holder.current
    wait_for(lambda: len(worker_pids(before)) == before.extractor.workers > 0)
    pids = worker_pids(before)

    edit_config(daemon_config, add_ramen_topic)
    wait_for(lambda: "ramen-watch" in daemon.config.topics)
    after = daemon.holder.current
    assert after is not before and after.matcher is not before.matcher
    assert after.fetcher is before.fetcher and after.extractor is before.extractor
    assert after.channels is before.channels
    # The same worker processes, still running after the old pipeline was closed: nothing restarted.
    assert worker_pids(after) == pids


def test_a_channel_edit_rebuilds_the_channels_and_an_extract_edit_the_workers(
    daemon: Daemon, daemon_config: Path
) -> None:
    first = daemon.holder.current

    def slower_smtp(document: dict) -> None:
        document["channels"]["test-email"]["smtp"]["timeout"] = "7s"

    edit_config(daemon_config, slower_smtp)
    wait_for(lambda: daemon.holder.current is not first)
    second = daemon.holder.current
    assert second.channels is not first.channels
    assert second.fetcher is first.fetcher and second.extractor is first.extractor
    assert second.matcher is first.matcher

    def longer_extraction(document: dict) -> None:
        document["extract"] = {"timeout": "90s"}

    edit_config(daemon_config, longer_extraction)
    wait_for(lambda: daemon.holder.current is not second)
    third = daemon.holder.current
    assert third.extractor is not second.extractor and third.extractor.timeout == 90
    assert third.fetcher is second.fetcher and third.channels is second.channels
    assert third.matcher is second.matcher


def test_retention_prunes_old_unmatched_articles_only(database_url: str) -> None:
    from sqlalchemy import update

    from pipeline.models import Article, ExtractionMethod
    from pipeline.store import Store, create_db_engine, upgrade_schema
    from pipeline.store.tables import ArticleRow
    from tests.support.alerts import verdict

    engine = create_db_engine(database_url)
    upgrade_schema(engine)
    store = Store(engine)
    feed = store.feed_state("https://example.org/feed", "Feed")
    urls = [f"https://example.org/{name}" for name in ("old-unmatched", "old-matched", "new-unmatched")]
    matched = verdict("usfj")  # a real match (of the seed article), stored with these articles
    for url in urls:
        article = Article(url, url, url, "body", None, None, "en", "Feed", ExtractionMethod.PAGE)
        store.save_article(article, feed.feed_id, [matched] if "-matched" in url else [], [])
    long_ago = datetime.now(UTC) - timedelta(days=100)
    with store.session() as session, session.begin():
        session.execute(update(ArticleRow).where(ArticleRow.url.in_(urls[:2])).values(first_seen_at=long_ago))

    assert store.prune_unmatched_articles(older_than=datetime.now(UTC) - timedelta(days=90)) == 1
    assert set(store.known_article_ids(urls)) == set(urls[1:])
    engine.dispose()


def test_shutdown_stops_between_entries_and_the_next_start_finishes_the_feed(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import func, select

    from pipeline.store.tables import ArticleRow
    from tests.support.servers import Response

    feed = LiveFeed(http_server)
    for number in range(20):
        feed.publish(Story(f"slow-{number}", f"Slow story {number}", f"Story {number} text. " * 40))
        page = http_server.routes[f"/articles/slow-{number}"]
        assert isinstance(page, Response)
        page.delay = 0.4
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[{"name": "Slow", "url": feed.url, "interval": "1h"}],
    )

    def stored(daemon: Daemon) -> int:
        with daemon.holder.current.store.session() as session:
            return int(session.scalar(select(func.count(ArticleRow.id))) or 0)

    first = Daemon(Pipeline.open(load_config(config)), config)
    first.start()
    wait_for(lambda: stored(first) >= 3)
    started = time.monotonic()
    first.shutdown()
    assert time.monotonic() - started < 5  # one page at most, not the 17 left
    assert "entries left for the next start" in caplog.text
    assert 3 <= stored(first) < 20

    second = Daemon(Pipeline.open(load_config(config)), config)
    second.start()
    try:
        wait_for(lambda: stored(second) == 20, timeout=30)
    finally:
        second.shutdown()


def test_a_daemon_on_sqlite_never_imports_psycopg() -> None:
    # The daemon imports its cluster-presence check on every database; on SQLite psycopg would be
    # 9 MB of its resident memory and about 0.4 s of its start-up, never used (issue 16).
    probe = (
        "import sys\n"
        "import pipeline.daemon\n"
        "from pipeline.cluster.presence import presence_for\n"
        "from pipeline.config import Config\n"
        "config = Config.model_validate({'database': 'sqlite:///unused.db', 'feeds': []})\n"
        "assert presence_for(config) is None\n"
        "print('psycopg' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
