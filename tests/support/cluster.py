"""Cluster mode in tests: a config over the feed farm, real `newswatch worker` processes, and what
the database holds afterwards (articles, matches, alerts, jobs)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import yaml

from benchmarks.farm import Farm
from pipeline.cluster.database import libpq_url
from tests.support.configs import WEBHOOK_SECRET

REPO_ROOT = Path(__file__).resolve().parents[2]
# Titles are seven words drawn from the farm's sixty: about a third of the stories match one topic.
FARM_QUERIES = {"harbour": "title:harbour", "museum-strike": "title:(museum OR strike OR storm)"}


def cluster_config(
    path: Path,
    *,
    database_url: str,
    farm: Farm,
    webhook_url: str,
    smtp_port: int | None,
    cluster: dict[str, Any] | None = None,
) -> Path:
    """Every farm feed polled hourly (one due time in a test), both topics on a webhook (`hook`)
    and, with `smtp_port`, by email (`mail`)."""
    channels: dict[str, Any] = {"hook": {"type": "webhook", "url": webhook_url, "secret": WEBHOOK_SECRET}}
    if smtp_port is not None:
        channels["mail"] = {
            "type": "email",
            "to": ["analyst@example.org"],
            "from": "newswatch@example.org",
            "smtp": {"host": "127.0.0.1", "port": smtp_port, "timeout": "5s"},
        }
    document = {
        "database": database_url,
        "feeds": [
            {"name": f"farm{index:05d}", "url": url, "interval": "1h"}
            for index, url in enumerate(farm.feed_urls())
        ],
        "topics": {
            name: {"query": query, "channels": list(channels)} for name, query in FARM_QUERIES.items()
        },
        "channels": channels,
        "fetch": {"allow_private_addresses": True, "connect_timeout": "5s", "read_timeout": "10s"},
        "alerts": {"initial_backoff": "1s", "max_backoff": "2s", "lease": "5s"},
        # One extraction process for a `newswatch run` daemon in the tests; a worker extracts in its
        # own process unless `cluster` sets extraction_processes.
        "extract": {"workers": 1},
        # Quick clocks so that a killed worker's jobs come back within seconds.
        "cluster": {"sweep_every": "1s", "heartbeat": "1s", "stalled_after": "4s", **(cluster or {})},
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


class Workers:
    """`newswatch worker` processes on one config, each logging to its own file."""

    def __init__(self, config: Path, logs: Path, concurrency: int = 4) -> None:
        self.config = config
        self.logs = logs
        self.concurrency = concurrency
        self.processes: list[subprocess.Popen[bytes]] = []
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, count: int = 1) -> None:
        for _ in range(count):
            number = len(self.processes)
            with (self.logs / f"worker-{number}.log").open("wb") as log:
                self.processes.append(
                    subprocess.Popen(
                        [
                            *(sys.executable, "-m", "pipeline", "worker", "--config", str(self.config)),
                            *("--concurrency", str(self.concurrency)),
                        ],
                        cwd=REPO_ROOT,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        env={**os.environ, "PYTHONUNBUFFERED": "1"},
                    )
                )

    def alive(self) -> list[subprocess.Popen[bytes]]:
        return [process for process in self.processes if process.poll() is None]

    def kill_one(self, rng: random.Random) -> int:
        """SIGKILL a random live worker and start a new one in its place; the killed pid."""
        victim = rng.choice(self.alive())
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        self.start(1)
        return victim.pid

    def stop(self) -> None:
        for process in self.alive():
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        tails = []
        for path in sorted(self.logs.glob("worker-*.log")):
            text = path.read_text(errors="replace").splitlines()
            tails.append(f"--- {path.name}\n" + "\n".join(text[-lines:]))
        return "\n".join(tails)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def prepare_database(database_url: str) -> None:
    """newswatch's tables and the queue's, as the first worker would create them."""
    from pipeline.cluster.app import install_schema
    from pipeline.store import create_db_engine, upgrade_schema

    engine = create_db_engine(database_url)
    try:
        upgrade_schema(engine)
    finally:
        engine.dispose()
    install_schema(database_url)


def wait_until(done: Callable[[], bool], timeout: float, what: str, explain: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:g}s: {what}\n{explain()}")
        time.sleep(0.5)


@dataclass(frozen=True)
class Stored:
    articles: int
    distinct_urls: int
    matches: int
    # (article, topic) pairs stored more than once.
    repeated_matches: int
    alerts: Counter[str]
    # job status -> count, over every job the queue still holds.
    jobs: Counter[str]


def stored(database_url: str) -> Stored:
    with psycopg.connect(libpq_url(database_url)) as connection:

        def one(query: str) -> Any:
            row = connection.execute(query).fetchone()  # type: ignore[arg-type]
            assert row is not None
            return row[0]

        alerts = Counter(dict(connection.execute("SELECT status, count(*) FROM alerts GROUP BY status")))
        jobs_exist = one("SELECT to_regclass('procrastinate_jobs')") is not None
        jobs: Counter[str] = Counter()
        if jobs_exist:
            by_status = "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1"
            jobs.update(dict(connection.execute(by_status)))
        return Stored(
            articles=one("SELECT count(*) FROM articles"),
            distinct_urls=one("SELECT count(DISTINCT canonical_url) FROM articles"),
            matches=one("SELECT count(*) FROM matches"),
            repeated_matches=one(
                "SELECT count(*) FROM"
                " (SELECT article_id, topic FROM matches GROUP BY 1, 2 HAVING count(*) > 1) repeated"
            ),
            alerts=alerts,
            jobs=jobs,
        )


def pending_work(database_url: str) -> int:
    """Jobs waiting or running (the periodic ones excepted) plus alerts not yet sent."""
    with psycopg.connect(libpq_url(database_url)) as connection:
        row = connection.execute(
            "SELECT (SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
            "        AND task_name IN ('newswatch.poll_feed', 'newswatch.fetch_extract'))"
            "     + (SELECT count(*) FROM alerts WHERE status IN ('pending', 'sending'))"
        ).fetchone()
    assert row is not None
    return int(row[0])
