"""Upgrading a database written by the previous release (schema 0001, newswatch 0.1.0) keeps its
data and leaves it usable by this release, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import MetaData, Table, insert, select

from pipeline.config import load_config
from pipeline.cycle import Pipeline
from pipeline.store import Store, create_db_engine, upgrade_schema
from pipeline.store.db import current_revision, head_revision
from tests.support.configs import write_test_config
from tests.support.servers import FixtureSite, SmtpSink

PREVIOUS_RELEASE = "0001_initial_schema"
WHEN = datetime(2025, 10, 29, 14, 20, tzinfo=UTC)


def write_as_previous_release(database_url: str, feed_url: str) -> None:
    """Rows as 0.1.0 wrote them: a feed with fetch state, a matched article, a sent and a pending alert."""
    engine = create_db_engine(database_url)
    upgrade_schema(engine, PREVIOUS_RELEASE)
    tables = MetaData()
    tables.reflect(engine)

    def table(name: str) -> Table:
        return tables.tables[name]

    naive = WHEN.replace(tzinfo=None) if engine.dialect.name == "sqlite" else WHEN
    with engine.begin() as connection:
        feed_id = connection.execute(
            insert(table("feeds"))
            .values(
                url=feed_url,
                name="Pacific Security Desk",
                etag='"old"',
                consecutive_failures=0,
                items_seen=2,
                created_at=naive,
                last_success_at=naive,
            )
            .returning(table("feeds").c.id)
        ).scalar_one()
        article_id = connection.execute(
            insert(table("articles"))
            .values(
                canonical_url="https://old.example.org/usfj",
                url="https://old.example.org/usfj?utm_source=x",
                title="USFJ reorganisation",
                body="U.S. Forces Japan reorganisation " * 20,
                summary="",
                extraction_method="page",
                source="Pacific Security Desk",
                first_feed_id=feed_id,
                first_seen_at=naive,
                published_at=naive,
            )
            .returning(table("articles").c.id)
        ).scalar_one()
        connection.execute(
            insert(table("article_sources")).values(
                article_id=article_id, feed_id=feed_id, url="https://old.example.org/usfj", seen_at=naive
            )
        )
        match_id = connection.execute(
            insert(table("matches"))
            .values(
                article_id=article_id,
                topic="usfj-reorganisation",
                score=9.0,
                explanation={
                    "hits": [{"field": "title", "term": "USFJ", "start": 0, "end": 4, "text": "USFJ"}]
                },
                snippet=[["USFJ", True], [" reorganisation", False]],
                matched_at=naive,
            )
            .returning(table("matches").c.id)
        ).scalar_one()
        for channel, status in (("test-email", "pending"), ("archive", "sent")):
            connection.execute(
                insert(table("alerts")).values(
                    kind="match",
                    match_id=match_id,
                    channel=channel,
                    idempotency_key=f"nw-old-{channel}",
                    status=status,
                    attempts=1 if status == "sent" else 2,
                    last_error="SMTP down" if status == "pending" else None,
                    next_attempt_at=naive,
                    created_at=naive,
                    sent_at=naive if status == "sent" else None,
                )
            )
    engine.dispose()


def test_previous_release_database_upgrades_and_keeps_working(
    tmp_path: Path, database_url: str, fixture_site: FixtureSite, smtp_sink: SmtpSink
) -> None:
    feed_url = fixture_site.url("/feeds/pacific-security-desk.xml")
    write_as_previous_release(database_url, feed_url)

    config = write_test_config(
        tmp_path / "c.yaml",
        database_url=database_url,
        feeds=[{"name": "Pacific Security Desk", "url": feed_url}],
        smtp_port=smtp_sink.port,
    )
    with Pipeline.open(load_config(config)) as pipeline:  # upgrades to head on open, like the daemon
        assert current_revision(pipeline.store.engine) == head_revision()
        store: Store = pipeline.store
        assert store.known_article_ids(["https://old.example.org/usfj"])
        state = store.feed_state(feed_url, "Pacific Security Desk")
        assert state.conditional.etag == '"old"'
        report = pipeline.run_cycle()

    # The alert that was still pending under 0.1.0 is delivered by this release, once, with its old key.
    delivered = [str(mail.message["X-Newswatch-Alert"]) for mail in smtp_sink.messages]
    assert delivered.count("nw-old-test-email") == 1
    assert "USFJ reorganisation" in smtp_sink.messages[delivered.index("nw-old-test-email")].subject
    # ...and the new cycle ran on the upgraded schema as on a fresh one.
    assert report.total("new") == 2 and not report.failed_feeds
    assert any("U.S. and Japan Move" in mail.subject for mail in smtp_sink.messages)
    engine = create_db_engine(database_url)
    try:
        with engine.connect() as connection:
            alerts = MetaData()
            alerts.reflect(engine, only=["alerts"])
            statuses = dict(
                connection.execute(
                    select(alerts.tables["alerts"].c.idempotency_key, alerts.tables["alerts"].c.status)
                ).all()
            )
        assert statuses["nw-old-archive"] == "sent"
        assert statuses["nw-old-test-email"] == "sent"
    finally:
        engine.dispose()
