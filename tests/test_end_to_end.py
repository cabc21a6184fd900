"""The whole pipeline on the seed article: real HTTP, real SMTP, real webhook receiver,
real SQLite and PostgreSQL, driven through the `newswatch once` entry point."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import func, select
from standardwebhooks import Webhook

from pipeline.cli import main
from pipeline.store import create_db_engine
from pipeline.store.tables import AlertRow, ArticleRow, ArticleSourceRow, MatchRow
from tests.support.configs import WEBHOOK_SECRET, write_test_config
from tests.support.servers import FixtureSite, LocalHTTPServer, Response, SmtpSink, WebhookReceiver

SEED_PATH = "/news/2025/10/29/usfj-joint-force-headquarters-phase-two"
SEED_TITLE = "U.S. and Japan Move to Next Phase of Joint Command Upgrade Amid China’s Expanding Power"
FEED_PATH = "/feeds/pacific-security-desk.xml"
WEBHOOK_SCHEMA = json.loads((Path(__file__).parents[1] / "docs" / "webhook-payload.schema.json").read_text())


# The shipped topics the seed article matches (see test_seed_article_alerts_once_by_email_and_webhook).
# The seed article is about USFJ's reorganisation and so about the alliance; two of its paragraphs
# are on Japan's own build-up (its defence budget, missiles on the southwestern islands).
SEED_TOPICS = ["japan-defence-buildup", "us-japan-alliance", "usfj-reorganisation"]
TOPICS = len(SEED_TOPICS)


def topic_of(subject: str) -> str:
    return subject.removeprefix("[newswatch] ").split(":", 1)[0]


def run_once(config: Path) -> str:
    out = io.StringIO()
    assert main(["once", "--config", str(config)], out=out) == 0
    return out.getvalue()


def count(database_url: str, column: object) -> int:
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            return int(connection.scalar(select(func.count(column))))
    finally:
        engine.dispose()


def test_seed_article_alerts_once_by_email_and_webhook(
    tmp_path: Path,
    database_url: str,
    fixture_site: FixtureSite,
    smtp_sink: SmtpSink,
    webhook_receiver: WebhookReceiver,
) -> None:
    config = write_test_config(
        tmp_path / "newswatch.yaml",
        database_url=database_url,
        feeds=[{"name": "Pacific Security Desk", "url": fixture_site.url(FEED_PATH)}],
        smtp_port=smtp_sink.port,
        webhook_url=webhook_receiver.hook_url,
    )

    summary = run_once(config)

    assert "cycle: 1 feed, 1 fetched, 0 not modified" in summary
    assert "2 entries, 2 new, 1 matched" in summary
    # The seed article matches every shipped topic: exactly one email per topic.
    assert sorted(topic_of(mail.subject) for mail in smtp_sink.messages) == SEED_TOPICS
    mail = next(mail for mail in smtp_sink.messages if topic_of(mail.subject) == "usfj-reorganisation")
    assert SEED_TITLE in mail.subject
    text, html = mail.part("text/plain"), mail.part("text/html")
    for part in (text, html):
        assert "usfj-reorganisation" in part
        assert "Pacific Security Desk" in part
        assert "2025-10-29" in part
        assert fixture_site.url(SEED_PATH) in part
    assert "[U.S. Forces Japan]" in text
    assert "<mark>U.S. Forces Japan</mark>" in html
    assert all("Ramen" not in mail.part("text/plain") for mail in smtp_sink.messages)

    # Exactly one webhook per topic, signed so that a Standard Webhooks consumer accepts it.
    payloads = {}
    for delivery in webhook_receiver.deliveries:
        payload = Webhook(WEBHOOK_SECRET).verify(delivery.body, delivery.headers)
        jsonschema.validate(payload, WEBHOOK_SCHEMA)
        assert delivery.headers["idempotency-key"] == payload["id"]
        payloads[payload["topic"]] = payload
    assert len(webhook_receiver.deliveries) == TOPICS and sorted(payloads) == SEED_TOPICS
    payload = payloads["usfj-reorganisation"]
    assert payload["article"]["title"] == SEED_TITLE
    # The tracking parameters in the feed's link are gone from the stored, alerted URL.
    assert payload["article"]["url"] == fixture_site.url(SEED_PATH)
    assert payload["article"]["published"].startswith("2025-10-29T14:20")
    assert "USFJ" in payload["matched_terms"]
    assert payload["explanation"]["clauses"]["op"] == "and"  # the watchlist, and not a foreign title

    # Both pages were downloaded and extracted (not the feed summaries).
    assert fixture_site.requests_to(SEED_PATH)
    assert count(database_url, ArticleRow.id) == 2
    assert count(database_url, MatchRow.id) == TOPICS
    assert count(database_url, AlertRow.id) == 2 * TOPICS

    # A second cycle finds nothing new and sends nothing.
    summary = run_once(config)
    assert "0 new" in summary
    assert len(smtp_sink.messages) == TOPICS
    assert len(webhook_receiver.deliveries) == TOPICS
    assert count(database_url, ArticleRow.id) == 2


def test_article_carried_by_two_feeds_is_stored_and_alerted_once(
    tmp_path: Path, database_url: str, fixture_site: FixtureSite, smtp_sink: SmtpSink
) -> None:
    mirror = fixture_site.add_fixture("/mirror.xml", "feeds/pacific-security-desk.xml", "application/rss+xml")
    config = write_test_config(
        tmp_path / "newswatch.yaml",
        database_url=database_url,
        feeds=[
            {"name": "Pacific Security Desk", "url": fixture_site.url(FEED_PATH)},
            {"name": "Mirror", "url": mirror},
        ],
        smtp_port=smtp_sink.port,
    )
    run_once(config)
    assert count(database_url, ArticleRow.id) == 2
    assert count(database_url, ArticleSourceRow.id) == 4
    # One email per matched topic, not one per feed.
    assert sorted(topic_of(mail.subject) for mail in smtp_sink.messages) == SEED_TOPICS


def test_failed_delivery_stays_pending_and_is_retried_next_run(
    tmp_path: Path, database_url: str, fixture_site: FixtureSite, webhook_receiver: WebhookReceiver
) -> None:
    config = write_test_config(
        tmp_path / "newswatch.yaml",
        database_url=database_url,
        feeds=[{"name": "Pacific Security Desk", "url": fixture_site.url(FEED_PATH)}],
        webhook_url=webhook_receiver.hook_url,
        extra={"alerts": {"initial_backoff": "0.1s", "max_backoff": "0.1s"}},
    )
    webhook_receiver.status = 503
    # One alert per topic the seed article matches.
    assert f"{TOPICS} to retry" in run_once(config)
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(select(AlertRow.status, AlertRow.attempts, AlertRow.last_error)).all()
    assert [(status, attempts) for status, attempts, _ in rows] == [("pending", 1)] * TOPICS
    assert all("HTTP 503" in error for _, _, error in rows)

    webhook_receiver.status = 200
    # Not waiting out the backoff: `alerts retry ID` makes a pending alert due now, as an operator would.
    with engine.connect() as connection:
        pending = [str(alert_id) for alert_id in connection.scalars(select(AlertRow.id))]
    assert main(["alerts", "retry", *pending, "--config", str(config)], out=io.StringIO()) == 0
    assert f"{TOPICS} sent" in run_once(config)
    with engine.connect() as connection:
        assert connection.execute(select(AlertRow.status, AlertRow.attempts)).all() == [("sent", 2)] * TOPICS
    # Each alert's two tries carried the same idempotency key, so the receiver can tell them apart.
    keys = [request.headers["idempotency-key"] for request in webhook_receiver.deliveries]
    assert len(keys) == 2 * TOPICS and len(set(keys)) == TOPICS and all(keys.count(key) == 2 for key in keys)
    engine.dispose()


def test_broken_feeds_and_pages_are_reported_while_others_proceed(
    tmp_path: Path,
    database_url: str,
    fixture_site: FixtureSite,
    http_server: LocalHTTPServer,
    smtp_sink: SmtpSink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 404 feed, a non-XML feed and a page that times out each log a precise error;
    the good feed in the same cycle still alerts (from the feed summary where the page failed)."""
    maintenance_page = Response(
        200, b"<html><body>Service maintenance</body></html>", {"Content-Type": "text/html"}
    )
    http_server.add("/not-xml", maintenance_page)
    # The seed page is replaced by one that answers after the 2 s read timeout.
    fixture_site.add(SEED_PATH, Response(200, b"<html></html>", {"Content-Type": "text/html"}, delay=3.0))
    config = write_test_config(
        tmp_path / "newswatch.yaml",
        database_url=database_url,
        feeds=[
            {"name": "Gone", "url": http_server.url("/missing.xml")},
            {"name": "Not a feed", "url": http_server.url("/not-xml")},
            {"name": "Pacific Security Desk", "url": fixture_site.url(FEED_PATH)},
        ],
        smtp_port=smtp_sink.port,
    )
    with caplog.at_level(logging.INFO):
        summary = run_once(config)

    assert "3 feeds, 1 fetched, 0 not modified, 2 failed" in summary
    assert "feed 'Gone' (" + http_server.url("/missing.xml") + "): http_status: HTTP 404 Not Found" in summary
    assert "feed 'Not a feed'" in summary and "parse: not a feed" in summary
    logged = caplog.text
    assert "feed 'Gone'" in logged and "HTTP 404" in logged
    assert "feed 'Not a feed'" in logged and "not a feed" in logged
    assert f"article {fixture_site.url(SEED_PATH)}" in logged and "timeout" in logged
    assert "using the feed summary" in logged
    # The good feed's seed entry still matched, from its summary, and alerted.
    subjects = [mail.subject for mail in smtp_sink.messages]
    assert any("usfj-reorganisation" in subject for subject in subjects), subjects


def test_invalid_config_is_refused_before_anything_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(
        "database: sqlite:///" + str(tmp_path / "never.db") + "\n"
        "feeds:\n  - name: x\n    url: ftp://example.org/feed\n    interval: soon\n"
        "topics:\n  usfj:\n    all: [USFJ]\n    channels: [ops]\n"
    )
    assert main(["once", "--config", str(config)]) == 2
    error = capsys.readouterr().err
    assert str(config) in error
    assert "feeds[0].url: 'ftp://example.org/feed' is not an http(s) URL" in error
    assert "feeds[0].interval: 'soon' is not a duration" in error
    assert "topics.usfj.channels[0]: unknown channel 'ops'" in error
    assert not (tmp_path / "never.db").exists()
