"""Cluster mode on the real PostgreSQL server: real `newswatch worker` processes over the local feed
farm, the sweep, and what is stored and alerted afterwards (pipeline/cluster/)."""

from __future__ import annotations

import asyncio
import io
import json
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

import psycopg
import pytest
import yaml
from procrastinate import App

from benchmarks.farm import Farm, FarmSpec, page_path
from pipeline.cli import main
from pipeline.cluster.app import build_app, install_schema
from pipeline.cluster.database import libpq_url
from pipeline.cluster.defer import TransactionalDeferrer
from pipeline.cluster.jobs import entry_arguments, entry_from_arguments, host_lock
from pipeline.cluster.presence import ClusterPresence
from pipeline.cluster.status import count_live_workers, read_status
from pipeline.cluster.sweep import NEVER_POLLED, PollOrder, SweepReport, already_polled, sweep
from pipeline.cluster.tasks import (
    DELIVER_ALERTS,
    FETCH_EXTRACT,
    SWEEP_LIMIT,
    Runtime,
    defer_delivery,
    every,
    poll_and_hand_off,
    prune_finished,
    run_sweep,
    sweep_due,
    wire_pipeline,
)
from pipeline.cluster.worker import worker_config
from pipeline.config import Config, ConfigError, FeedConfig, load_config, parse_config
from pipeline.cycle import Pipeline
from pipeline.daemon import Daemon
from pipeline.feedhealth import FeedStateBuffer
from pipeline.match import Matcher
from pipeline.models import FeedEntry
from pipeline.store import Store, create_db_engine
from tests.support.cluster import (
    REPO_ROOT,
    Workers,
    cluster_config,
    pending_work,
    prepare_database,
    stored,
    wait_until,
)
from tests.support.servers import SmtpSink, WebhookReceiver, free_port


def cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_run_refuses_cluster_settings_on_sqlite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "newswatch.yaml"
    config.write_text(f"database: sqlite:///{tmp_path / 'n.db'}\ncluster:\n  concurrency: 2\n")
    code, _ = cli("run", "--config", str(config))
    error = capsys.readouterr().err
    assert code == 2
    assert "cluster: cluster mode needs PostgreSQL" in error and "sqlite" in error
    assert "remove the cluster section" in error
    code, _ = cli("worker", "--config", str(config))
    assert code == 2 and "database: cluster mode needs PostgreSQL" in capsys.readouterr().err


T = TypeVar("T")

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last_polled_at", "polled_before", "answered"),
    [
        (None, NEVER_POLLED, False),
        (NOON, NEVER_POLLED, True),
        (NOON, NOON.isoformat(), False),
        (NOON + timedelta(microseconds=1), NOON.isoformat(), True),
        (NOON - timedelta(hours=1), NOON.isoformat(), False),
    ],
)
def test_a_poll_order_is_answered_by_a_poll_after_its_sweep_looked(
    last_polled_at: datetime | None, polled_before: str, answered: bool
) -> None:
    assert already_polled(last_polled_at, polled_before) is answered


def test_the_sweep_orders_configured_due_feeds_and_counts_what_the_queue_refused() -> None:
    configured = {url: FeedConfig(name=url, url=url) for url in ("http://a.test/f", "http://b.test/f")}
    due = [("http://a.test/f", None), ("http://gone.test/f", NOON), ("http://b.test/f", NOON)]
    queued: list[PollOrder] = []
    report = sweep(due, configured, lambda order: queued.append(order) is None and len(queued) == 1)
    assert queued == [
        PollOrder("http://a.test/f", NEVER_POLLED),
        PollOrder("http://b.test/f", NOON.isoformat()),
    ]
    assert report == SweepReport(due=3, deferred=1, already_queued=1, not_configured=1)


def test_job_arguments_and_locks() -> None:
    entry = FeedEntry("http://a.test/1", "Title", "Sum", NOON, "Ann", "guid-1", "en")
    assert entry_from_arguments(json.loads(json.dumps(entry_arguments(entry)))) == entry
    assert host_lock("https://News.Example.org/a?b") == "host:news.example.org:443"
    assert host_lock("http://127.0.0.2:8080/x") == "host:127.0.0.2:8080"
    assert host_lock(None) is None and host_lock("urn:x") is None
    assert every(5) == "* * * * * */5" and every(60) == "* * * * * 0"


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        (
            {"sweep_every": "7s"},
            "cluster.sweep_every: must be a whole number of seconds that divides a minute",
        ),
        ({"heartbeat": "30s"}, "cluster: heartbeat (30s) must be shorter than stalled_after (30s)"),
        ({"concurrency": 0}, "cluster.concurrency"),
        ({"workers": 2}, "cluster.workers: unknown key 'workers'; this section takes concurrency"),
    ],
)
def test_cluster_settings_are_checked_with_their_key(section: dict[str, object], problem: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"database": "postgresql://db/newswatch", "cluster": section})
    assert problem in str(raised.value)


def test_cluster_settings_default_when_the_section_is_empty() -> None:
    settings = parse_config({"cluster": {}}).cluster
    assert settings is not None and (settings.concurrency, settings.sweep_every) == (4, 10.0)
    assert settings.extraction_processes == 1
    assert parse_config({}).cluster is None


def test_a_worker_sizes_its_extraction_by_the_cluster_section_not_by_extract_workers() -> None:
    # extract.workers sizes `newswatch run`'s pool; a worker has one extraction process unless
    # cluster.extraction_processes says otherwise (0: in its own threads).
    shared = {"database": "postgresql://db/newswatch", "extract": {"workers": 3, "timeout": "7s"}}
    by_default = worker_config(parse_config(shared))
    assert (by_default.extract.workers, by_default.extract.timeout) == (1, 7.0)
    in_threads = worker_config(parse_config({**shared, "cluster": {"extraction_processes": 0}}))
    assert in_threads.extract.workers == 0
    assert parse_config(shared).extract.workers == 3


@pytest.mark.postgres
def test_jobs_finished_longer_ago_than_kept_are_pruned(postgres_url: str) -> None:
    install_schema(postgres_url)
    app = build_app(postgres_url)
    with app.open():
        ids = {
            name: app.configure_task(name).defer(number=1)
            for name in ("test.old_success", "test.old_failure", "test.recent", "test.waiting")
        }
    with psycopg.connect(libpq_url(postgres_url), autocommit=True) as connection:
        for name, status in (
            ("test.old_success", "succeeded"),
            ("test.old_failure", "failed"),
            ("test.recent", "succeeded"),
        ):
            connection.execute("SELECT procrastinate_finish_job_v1(%s, %s, false)", (ids[name], status))
        old = [ids["test.old_success"], ids["test.old_failure"], ids["test.waiting"]]
        # Two hours ago: the old jobs ended then (and the waiting one was deferred then).
        connection.execute(
            "UPDATE procrastinate_events SET at = now() - interval '2 hours' WHERE job_id = ANY(%s)", (old,)
        )

        asyncio.run(_prune(app, keep_seconds=3600))
        left = {row[0] for row in connection.execute("SELECT task_name FROM procrastinate_jobs")}
    assert left == {"test.recent", "test.waiting"}


async def _prune(app: App, keep_seconds: float) -> None:
    async with app.open_async():
        await prune_finished(app.job_manager, keep_seconds)


@pytest.mark.postgres
def test_the_queues_connections_run_in_autocommit_and_one_the_server_closed_is_replaced(
    postgres_url: str,
) -> None:
    """The pool skips the check's round trip for a connection in use a moment ago, but not for one
    the server closed since (a restart, `pg_terminate_backend`): the next queries still run."""
    install_schema(postgres_url)
    app = build_app(postgres_url)

    async def scenario() -> list[int]:
        async with app.open_async():
            pool = app.connector.pool  # type: ignore[attr-defined]
            # The pool hands its connections out in turn: these queries use each of them once.
            for _ in range(pool.max_size):
                await app.job_manager.list_jobs_async()
            async with pool.connection() as connection:
                assert connection.autocommit
            with psycopg.connect(libpq_url(postgres_url), autocommit=True) as admin:
                closed = admin.execute(
                    "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                ).fetchone()
            assert closed is not None and closed[0] == pool.max_size
            await asyncio.sleep(0.5)
            return [len(await app.job_manager.list_jobs_async()) for _ in range(2 * pool.max_size)]

    assert asyncio.run(scenario()) == [0] * 8


@pytest.mark.postgres
def test_a_successful_job_is_deleted_and_a_failed_one_kept(postgres_url: str) -> None:
    install_schema(postgres_url)
    app = build_app(postgres_url)

    @app.task(name="test.fine")
    def fine() -> None:
        return None

    @app.task(name="test.broken")
    def broken() -> None:
        raise RuntimeError("broken on purpose")

    with app.open():
        fine.defer()
        broken.defer()
    app.run_worker(wait=False, install_signal_handlers=False, listen_notify=False)
    with psycopg.connect(libpq_url(postgres_url)) as connection:
        left = connection.execute("SELECT task_name, status FROM procrastinate_jobs").fetchall()
    assert left == [("test.broken", "failed")]


def jobs_of(database_url: str, task: str) -> Counter[str]:
    """The queue's jobs of `task`, counted by queueing lock."""
    with psycopg.connect(libpq_url(database_url)) as connection:
        rows = connection.execute(
            "SELECT queueing_lock FROM procrastinate_jobs WHERE task_name = %s", (task,)
        ).fetchall()
    return Counter(row[0] for row in rows)


@contextmanager
def one_feed_cluster(
    tmp_path: Path, postgres_url: str, webhook_receiver: WebhookReceiver
) -> Iterator[tuple[Farm, Config]]:
    """A farm of one feed of three items, and a cluster config on a prepared PostgreSQL database."""
    with Farm(FarmSpec(feeds=1, items=3, hosts=1, use_corpus=False)) as farm:
        config = load_config(
            cluster_config(
                tmp_path / "newswatch.yaml",
                database_url=postgres_url,
                farm=farm,
                webhook_url=webhook_receiver.hook_url,
                smtp_port=None,
            )
        )
        prepare_database(postgres_url)
        yield farm, config


class KilledBeforeCommit(Exception):
    """Raised inside a transaction after its jobs were deferred, as a worker dying there would."""


@pytest.mark.postgres
def test_a_polls_item_jobs_commit_and_roll_back_with_its_recorded_result(
    tmp_path: Path, postgres_url: str, webhook_receiver: WebhookReceiver
) -> None:
    with (
        one_feed_cluster(tmp_path, postgres_url, webhook_receiver) as (_farm, config),
        Pipeline.open(config) as pipeline,
    ):
        runtime = Runtime(config, pipeline, wire_pipeline(pipeline, TransactionalDeferrer(), True))
        feed = config.feeds[0]

        # The poll runs, and the transaction recording it dies after deferring the item jobs.
        recorded = FeedStateBuffer(pipeline.store)
        pipeline.poll_feed(feed, pipeline.store.feed_state(feed.url, feed.name), recorded)
        found = runtime.new_items.take()
        assert len(found) == 3

        def defer_then_die(connection: object) -> None:
            runtime.new_items.defer(connection, found)
            raise KilledBeforeCommit

        with pytest.raises(KilledBeforeCommit):
            recorded.flush(also=defer_then_die)
        assert jobs_of(postgres_url, FETCH_EXTRACT) == Counter()
        # Nor was the poll recorded: the feed is still due, its items still new.
        assert pipeline.store.feed_state(feed.url, feed.name).health.last_polled_at is None

        poll_and_hand_off(runtime, feed.url, NEVER_POLLED)
        jobs = jobs_of(postgres_url, FETCH_EXTRACT)
        assert len(jobs) == 3 and set(jobs.values()) == {1}
        assert pipeline.store.feed_state(feed.url, feed.name).health.last_polled_at is not None


@pytest.mark.postgres
def test_an_articles_delivery_job_commits_and_rolls_back_with_its_alerts(
    tmp_path: Path, postgres_url: str, webhook_receiver: WebhookReceiver
) -> None:
    with (
        one_feed_cluster(tmp_path, postgres_url, webhook_receiver) as (farm, config),
        Pipeline.open(config) as pipeline,
    ):
        deferrer = TransactionalDeferrer()
        wire_pipeline(pipeline, deferrer, fetch_pages=True)
        feed = config.feeds[0]
        site = farm.feed_url(0).split("/feeds/")[0]
        # Titles the `harbour` topic matches: each article queues an alert.
        entries = [
            FeedEntry(site + page_path(0, n), f"Harbour news {n}", "Summary.", None, None, None)
            for n in range(3)
        ]

        def defer_then_die(connection: object) -> None:
            defer_delivery(deferrer, connection)
            raise KilledBeforeCommit

        pipeline.store.on_alerts_queued = defer_then_die
        with pytest.raises(KilledBeforeCommit):
            pipeline.process_new_entry(feed, entries[0].link or "", entries[0])
        assert jobs_of(postgres_url, DELIVER_ALERTS) == Counter()
        assert stored(postgres_url).articles == 0 and stored(postgres_url).alerts == Counter()

        wire_pipeline(pipeline, deferrer, fetch_pages=True)
        for entry in entries:
            assert pipeline.process_new_entry(feed, entry.link or "", entry).alerts_queued == 1
        # One delivery job waits for all three articles' alerts; the refused defers of the other
        # two did not abort their transactions.
        assert jobs_of(postgres_url, DELIVER_ALERTS) == Counter({DELIVER_ALERTS: 1})
        assert stored(postgres_url).articles == 3


@pytest.mark.postgres
def test_the_daemon_stands_back_while_a_worker_is_alive_and_polls_again_after(
    tmp_path: Path, postgres_url: str, webhook_receiver: WebhookReceiver
) -> None:
    with Farm(FarmSpec(feeds=3, items=1, hosts=3, use_corpus=False)) as farm:
        config = load_config(
            cluster_config(
                tmp_path / "newswatch.yaml",
                database_url=postgres_url,
                farm=farm,
                webhook_url=webhook_receiver.hook_url,
                smtp_port=None,
            )
        )
        prepare_database(postgres_url)
        daemon = Daemon(Pipeline.open(config))
        assert daemon.cluster is not None
        daemon.cluster = ClusterPresence(postgres_url, stalled_after=30, every=0)
        daemon._sync_feeds()
        app = build_app(postgres_url)
        # A worker's registration and heartbeat, as `newswatch worker` writes them.
        worker_id = asyncio.run(_on_queue(app, app.job_manager.register_worker))
        assert daemon.standing_back()
        daemon._tick()
        time.sleep(1)
        assert farm.stats().get("feeds", 0) == 0 and daemon.pool.running() == frozenset()
        asyncio.run(_on_queue(app, partial(app.job_manager.unregister_worker, worker_id)))
        assert not daemon.standing_back()
        daemon._tick()
        wait_until(lambda: farm.stats().get("feeds", 0) == 3, 30, "the daemon's polls")
        daemon.pool.close(timeout=30)
        daemon.holder.close()


async def _on_queue(app: App, call: Callable[[], Awaitable[T]]) -> T:
    async with app.open_async():
        return await call()


@pytest.mark.postgres
@pytest.mark.slow
def test_compose_start_commands_a_daemon_and_a_worker_on_one_database_poll_each_feed_once(
    tmp_path: Path, postgres_url: str, webhook_receiver: WebhookReceiver
) -> None:
    """`docker compose up --scale worker=N` outside Docker: the `worker` service's command, then the
    `newswatch` service's (the image's CMD), on one PostgreSQL database and one config."""
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    worker_command = compose["services"]["worker"]["command"]
    assert worker_command[0] == "worker"
    port = free_port()
    with Farm(FarmSpec(feeds=20, items=2, hosts=10, use_corpus=False)) as farm:
        path = cluster_config(
            tmp_path / "newswatch.yaml",
            database_url=postgres_url,
            farm=farm,
            webhook_url=webhook_receiver.hook_url,
            smtp_port=None,
        )
        document = yaml.safe_load(path.read_text())
        document["web"] = {"listen": f"127.0.0.1:{port}"}
        path.write_text(yaml.safe_dump(document, sort_keys=False))
        with Workers(path, tmp_path / "logs") as workers:
            workers.start(1)
            wait_until(lambda: alive_workers(postgres_url) == 1, 60, "a heartbeat", workers.log_tail)
            log_path = tmp_path / "logs" / "daemon.log"
            with log_path.open("wb") as log:
                daemon = subprocess.Popen(
                    [sys.executable, "-m", "pipeline", "run", "--config", str(path)],
                    cwd=REPO_ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            try:
                wait_until(
                    lambda: stored(postgres_url).articles == 40 and pending_work(postgres_url) == 0,
                    120,
                    "the worker's polls",
                    workers.log_tail,
                )
                # The daemon serves while it stands back: its /healthz sees the cluster's polls.
                wait_until(lambda: healthz(port) == 200, 30, "the daemon's /healthz", log_path.read_text)
            finally:
                daemon.send_signal(signal.SIGTERM)
                daemon.wait(timeout=60)
        stats = farm.stats()
    output = log_path.read_text()
    assert daemon.returncode == 0, output
    assert "1 cluster workers alive: they poll the feeds; this daemon stands back" in output
    assert len(stats["feed_requests"]) == 20 and set(stats["feed_requests"].values()) == {1}
    assert stored(postgres_url).distinct_urls == 40


def alive_workers(database_url: str) -> int:
    with psycopg.connect(libpq_url(database_url)) as connection:
        return count_live_workers(connection, stalled_after=30)


def healthz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return int(response.status)
    except (urllib.error.URLError, OSError):
        return 0


def expected_matches(config: Config) -> int:
    """How many matches matching every stored article again finds; each must be the stored one."""
    matcher = Matcher.from_topics(config.topics, config.aliases)
    engine = create_db_engine(config.database)
    try:
        found = 0
        for item in Store(engine).stored_articles():
            topics = {verdict.topic for verdict in matcher.match(item.article)}
            assert topics == set(item.matched_topics), item.article.url
            found += len(topics)
        return found
    finally:
        engine.dispose()


def stored_alert_keys(config: Config) -> dict[str, set[str]]:
    engine = create_db_engine(config.database)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT channel, idempotency_key FROM alerts").all()
    finally:
        engine.dispose()
    keys: dict[str, set[str]] = {}
    for channel, key in rows:
        keys.setdefault(channel, set()).add(key)
    return keys


def delivered_keys(hook: WebhookReceiver, mail: SmtpSink | None) -> dict[str, Counter[str]]:
    delivered = {"hook": Counter(request.headers["webhook-id"] for request in hook.deliveries)}
    if mail is not None:
        delivered["mail"] = Counter(message.message["X-Newswatch-Alert"] for message in mail.messages)
    return delivered


def assert_alerted_once_per_match(
    config: Config, hook: WebhookReceiver, mail: SmtpSink | None, resends: bool
) -> None:
    matches = expected_matches(config)
    keys = stored_alert_keys(config)
    delivered = delivered_keys(hook, mail)
    assert set(keys) == set(delivered) == set(config.channels)
    for channel in delivered:
        assert len(keys[channel]) == matches, channel
        # Every stored alert arrived, and nothing else did: a resend carries the first send's key.
        assert set(delivered[channel]) == keys[channel], channel
        if not resends:
            assert max(delivered[channel].values()) == 1, channel


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_over_a_200_feed_farm(
    tmp_path: Path, postgres_url: str, webhook_receiver: WebhookReceiver, smtp_sink: SmtpSink
) -> None:
    # A page answer takes 10 ms, so two requests to one host would overlap if the lock let them.
    with Farm(FarmSpec(feeds=200, items=2, hosts=40, use_corpus=False), page_delay=0.01) as farm:
        path = cluster_config(
            tmp_path / "newswatch.yaml",
            database_url=postgres_url,
            farm=farm,
            webhook_url=webhook_receiver.hook_url,
            smtp_port=smtp_sink.port,
            # The default shape of a worker: one extraction process (the kill test covers threads).
        )
        config = load_config(path)
        prepare_database(postgres_url)
        with Workers(path, tmp_path / "logs") as workers:
            workers.start(2)
            wait_until(
                lambda: stored(postgres_url).articles == 400 and pending_work(postgres_url) == 0,
                120,
                "every story stored and alerted",
                lambda: f"{stored(postgres_url)}\n{workers.log_tail()}",
            )
            status = read_status(postgres_url, stalled_after=4)
            code, output = cli("cluster", "status", "--json", "--config", str(path))
        # SIGTERM (Workers leaving its block) stops a worker cleanly, after its running jobs.
        assert [process.returncode for process in workers.processes] == [0, 0], workers.log_tail()
        stats = farm.stats()
    result = stored(postgres_url)
    assert result.distinct_urls == 400 and result.repeated_matches == 0
    assert set(result.alerts) == {"sent"}
    assert_alerted_once_per_match(config, webhook_receiver, smtp_sink, resends=False)
    assert stats["max_in_flight_per_host"] == 1
    # Each feed was due once (hourly, never polled before): polled once.
    assert sorted(set(stats["feed_requests"].values())) == [1] and len(stats["feed_requests"]) == 200
    assert status.workers_alive == 2 and status.stalled_jobs == 0
    assert code == 0
    report = json.loads(output)
    assert report["workers_alive"] == 2 and report["stalled_jobs"] == 0
    # Successful jobs are deleted as they end (pipeline/cluster/app.py): of the 200 polls and the 400
    # items nothing is left, neither waiting nor failed.
    assert "newswatch.fetch_extract" not in report["tasks"]
    assert "newswatch.poll_feed" not in report["tasks"]


@pytest.mark.postgres
@pytest.mark.slow
def test_two_sweeps_at_once_poll_each_feed_once_per_due_time(
    tmp_path: Path, postgres_url: str, webhook_receiver: WebhookReceiver, smtp_sink: SmtpSink
) -> None:
    with Farm(FarmSpec(feeds=200, items=1, hosts=40, use_corpus=False)) as farm:
        path = cluster_config(
            tmp_path / "newswatch.yaml",
            database_url=postgres_url,
            farm=farm,
            webhook_url=webhook_receiver.hook_url,
            smtp_port=smtp_sink.port,
        )
        config = load_config(path)
        prepare_database(postgres_url)
        pipeline = Pipeline.open(config)
        deferrer = TransactionalDeferrer()
        runtime = Runtime(config, pipeline, wire_pipeline(pipeline, deferrer, fetch_pages=True))
        # Register the feeds; what a clock read before any poll, and will hand out again later.
        pipeline.store.feed_states([(feed.url, feed.name) for feed in config.feeds])
        due = pipeline.store.due_feeds(datetime.now(UTC), SWEEP_LIMIT, among=runtime.feeds)
        stale = [(state.url, state.health.last_polled_at) for state in due]
        assert len(stale) == 200

        start = threading.Barrier(2)

        def one_clock() -> None:
            start.wait()
            run_sweep(deferrer, runtime)

        threads = [threading.Thread(target=one_clock) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        # Both clocks saw all 200 feeds due; the queue holds one poll for each.
        assert stored(postgres_url).jobs["todo"] == 200

        with Workers(path, tmp_path / "logs") as workers:
            workers.start(2)
            wait_until(
                lambda: stored(postgres_url).articles == 200 and pending_work(postgres_url) == 0,
                120,
                "the first due time's polls",
                workers.log_tail,
            )
            # A clock that read the due list before those polls finished defers them again: the jobs
            # find their due time answered and fetch nothing.
            again = sweep_due(deferrer, pipeline.store, stale, runtime.feeds)
            assert again.deferred == 200
            wait_until(lambda: pending_work(postgres_url) == 0, 60, "the late clock's jobs", workers.log_tail)
        stats = farm.stats()
        pipeline.close()
    assert len(stats["feed_requests"]) == 200 and set(stats["feed_requests"].values()) == {1}
    assert stored(postgres_url).distinct_urls == 200


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_workers_killed_at_random_lose_and_repeat_nothing(
    tmp_path: Path, postgres_url: str, webhook_receiver: WebhookReceiver
) -> None:
    kills, articles = 30, 2000
    rng = random.Random(14)
    with Farm(FarmSpec(feeds=200, items=articles // 200, hosts=50, use_corpus=False)) as farm:
        path = cluster_config(
            tmp_path / "newswatch.yaml",
            database_url=postgres_url,
            farm=farm,
            webhook_url=webhook_receiver.hook_url,
            # The webhook alone: one email per alert over SMTP would make the drain the test's length.
            smtp_port=None,
            # Workers extract in their own threads: 30 restarts start 30 processes, not 60, and the
            # other shape of a worker is covered.
            cluster={"stalled_after": "3s", "extraction_processes": 0},
        )
        config = load_config(path)
        prepare_database(postgres_url)
        with Workers(path, tmp_path / "logs") as workers:
            workers.start(3)
            killed = []
            while len(killed) < kills:
                time.sleep(rng.uniform(0.5, 1.0))
                killed.append(workers.kill_one(rng))
            wait_until(
                lambda: stored(postgres_url).articles == articles and pending_work(postgres_url) == 0,
                # About a minute on an idle 2-core machine; the margin is for a busy one.
                240,
                "every article stored and alerted after the kills",
                lambda: f"{stored(postgres_url)}\n{workers.log_tail()}",
            )
            # The dead workers' jobs were all run again: none is left running for a dead worker.
            wait_until(
                lambda: read_status(postgres_url, stalled_after=3).stalled_jobs == 0,
                30,
                "no job left stalled",
            )
    assert len(killed) >= 30
    result = stored(postgres_url)
    assert result.articles == result.distinct_urls == articles
    assert result.repeated_matches == 0
    assert set(result.alerts) == {"sent"}
    assert result.jobs["doing"] == 0 and result.jobs["failed"] == 0, result.jobs
    assert_alerted_once_per_match(config, webhook_receiver, None, resends=True)
