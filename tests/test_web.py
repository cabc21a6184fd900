"""/healthz and /metrics over real HTTP, from a running daemon; the format checked by promtool."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from pipeline.config import load_config
from pipeline.cycle import Pipeline
from pipeline.daemon import Daemon
from pipeline.match import Matcher
from pipeline.web import HealthProbes, health_report
from tests.support.articles import article
from tests.support.configs import SHIPPED_CONFIG, write_test_config
from tests.support.livefeed import LiveFeed, Story
from tests.support.servers import LocalHTTPServer, SmtpSink, free_port

DOCUMENTED_METRICS = [
    "newswatch_polls_total",
    "newswatch_fetch_errors_total",
    "newswatch_articles_total",
    "newswatch_matches_total",
    "newswatch_alerts_sent_total",
    "newswatch_alert_attempts_failed_total",
    "newswatch_fetch_seconds",
    "newswatch_extract_seconds",
    "newswatch_last_successful_poll_timestamp_seconds",
    "newswatch_config_reloads_total",
    "newswatch_alerts",
    "newswatch_feeds",
]


def probes(
    scheduler: bool = True,
    database_error: Exception | None = None,
    age_limit: float = 60,
    last_success: float | None = None,
) -> HealthProbes:
    def check_database() -> None:
        if database_error is not None:
            raise database_error

    return HealthProbes(lambda: scheduler, check_database, lambda: last_success, age_limit, time.time())


def test_health_report_states() -> None:
    status, body = health_report(probes())
    assert status == 200 and body["status"] == "ok" and body["database"] == "ok"
    status, body = health_report(probes(scheduler=False))
    assert status == 503 and "scheduler is not running" in body["problems"]
    status, body = health_report(probes(database_error=ConnectionError("refused")))
    assert status == 503 and body["database"] == "error: ConnectionError: refused"
    status, body = health_report(probes(age_limit=10), now=time.time() + 60)
    assert status == 503 and body["problems"][0].startswith("no successful poll for")
    status, body = health_report(probes(age_limit=10, last_success=time.time() - 5))
    assert status == 200 and 4 < body["last_successful_poll_age_seconds"] < 10


def test_healthz_and_metrics_over_http(
    tmp_path: Path, database_url: str, http_server: LocalHTTPServer, smtp_sink: SmtpSink
) -> None:
    feed = LiveFeed(http_server)
    title, body = "USFJ begins reorganisation into a joint force headquarters", "USFJ " * 80
    feed.publish(Story("usfj", title, body))
    shipped = load_config(SHIPPED_CONFIG)
    # One alert for each shipped topic the story matches, as the real matcher says.
    alerts = len(Matcher.from_topics(shipped.topics, shipped.aliases).match(article(title, body)))
    port = free_port()
    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[{"name": "Live", "url": feed.url, "interval": "1s"}],
        smtp_port=smtp_sink.port,
        extra={"web": {"listen": f"127.0.0.1:{port}", "max_poll_age": "5m"}},
    )
    daemon = Daemon(Pipeline.open(load_config(config)), config)
    daemon.start()
    try:
        deadline = time.monotonic() + 20
        while len(smtp_sink.messages) < alerts and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # the sent status is recorded just after the server accepts the mail
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert health.status_code == 200, health.text
        body = health.json()
        assert body["status"] == "ok" and body["scheduler_running"] and body["database"] == "ok"
        assert 0 <= body["last_successful_poll_age_seconds"] < 20

        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain")
        text = metrics.text
        for name in DOCUMENTED_METRICS:
            assert f"# HELP {name.removesuffix('_total')}" in text or f"# HELP {name}" in text, name
        assert 'newswatch_polls_total{outcome="ok"}' in text
        assert 'newswatch_matches_total{topic="usfj-reorganisation"}' in text
        assert 'newswatch_articles_total{method="page"}' in text
        assert 'newswatch_alerts_sent_total{channel="test-email"}' in text
        assert 'newswatch_fetch_seconds_count{target="feed"}' in text
        assert 'newswatch_fetch_seconds_count{target="page"}' in text
        assert "newswatch_extract_seconds_count" in text
        assert f'newswatch_alerts{{status="sent"}} {alerts}.0' in text
        assert 'newswatch_feeds{state="ok"} 1.0' in text
        assert httpx.get(f"http://127.0.0.1:{port}/nope", timeout=5).status_code == 404
    finally:
        daemon.shutdown()
    (tmp_path / "metrics.txt").write_text(text)
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian package prometheus) is not installed; format not checked by it")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_taken_port_turns_the_endpoint_off_not_the_daemon(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_test_config(
            tmp_path / "c.yaml",
            database_url=database_url,
            feeds=[],
            extra={"web": {"listen": f"127.0.0.1:{port}"}},
        )
        daemon = Daemon(Pipeline.open(load_config(config)), config)
        daemon.start()
        try:
            assert daemon.scheduler.running
            assert f"cannot serve the console, /healthz and /metrics on 127.0.0.1:{port}" in caplog.text
        finally:
            daemon.shutdown()
