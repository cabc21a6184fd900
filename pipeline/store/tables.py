"""SQLAlchemy tables. The schema itself is owned by the Alembic migrations in `migrations/`;
these classes must describe the same columns (a test compares them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (no time zones) and PostgreSQL alike."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class FeedRow(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(255))
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    items_seen: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Where a chain of permanent redirects led: polled instead of `url`, which stays the identity.
    moved_to: Mapped[str | None] = mapped_column(String(2048))
    # When the feed is next due (pipeline.schedule.next_poll_at), the only truth the clocks read;
    # NULL: due now (never polled) or, when disabled, never.
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Why it is due then (schedule, backoff, retry_after, disabled), and the interval it runs at now
    # (adaptive polling moves it; kept here so a restart does not forget the feed's rhythm).
    next_poll_reason: Mapped[str | None] = mapped_column(String(16))
    poll_interval: Mapped[float | None] = mapped_column(Float)
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_kind: Mapped[str | None] = mapped_column(String(32))
    parse_warning: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    # What the operator was last told: ok, failing or silent, and since when.
    health_state: Mapped[str] = mapped_column(String(16), default="ok", server_default="ok")
    health_since: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ArticleRow(Base):
    __tablename__ = "articles"
    __table_args__ = (Index("ix_articles_content_fingerprint", "content_fingerprint", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(16))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extraction_method: Mapped[str] = mapped_column(String(32))
    extraction_note: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(500))
    first_feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # SHA-256 of the body's words (pipeline.dedup): the same text under another URL is this article.
    content_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # MinHash of the title and body shingles; articles of one story share `story_id`, the id of
    # the story's first article.
    similarity_signature: Mapped[bytes | None] = mapped_column(LargeBinary)
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL", name="fk_articles_story_id_articles"), index=True
    )


class ArticleBandRow(Base):
    """LSH bands of each article's MinHash: articles sharing a band are compared as near-duplicates."""

    __tablename__ = "article_bands"
    __table_args__ = (PrimaryKeyConstraint("band", "article_id"),)

    band: Mapped[str] = mapped_column(String(24))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)


class ArticleSourceRow(Base):
    """Every feed that carried an article, so one stored article can name all its sources."""

    __tablename__ = "article_sources"
    __table_args__ = (UniqueConstraint("article_id", "feed_id", name="uq_article_sources_article_feed"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MatchRow(Base):
    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("article_id", "topic", name="uq_matches_article_topic"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(200), index=True)
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[dict[str, Any]]
    snippet: Mapped[list[Any]]
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AlertRow(Base):
    """The outbox: one row per (match, channel), written in the match's transaction.

    status: pending (waiting for its next attempt, or for its digest when `digest_key` is set),
    sending (claimed by `claimed_by` until `claimed_until`), sent, failed (gave up; kept with its
    last error until `newswatch alerts retry`), digested (carried by the digest alert `digest_id`).
    """

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_alerts_digest_key_status", "digest_key", "status"),
        Index("ix_alerts_channel_sent_at", "channel", "sent_at"),
        Index("ix_alerts_digest_id", "digest_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="match", server_default="match")
    # Set for kind "match"; notices (kind "notice") carry their content in `payload` instead.
    match_id: Mapped[int | None] = mapped_column(ForeignKey("matches.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any] | None]
    channel: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The digest stream (alert_digests.key) this alert waits for, if it is not sent on its own.
    digest_key: Mapped[str | None] = mapped_column(String(600))
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("alerts.id", ondelete="SET NULL", name="fk_alerts_digest_id_alerts")
    )
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AlertDigestRow(Base):
    """One digest stream (a channel and a cron schedule in a time zone) and when it next ticks."""

    __tablename__ = "alert_digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(600), unique=True)
    channel: Mapped[str] = mapped_column(String(200))
    schedule: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    next_tick_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The tick of the last digest sent (an empty tick sends none and leaves it).
    last_tick_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The console's tables (users, tokens, feedback) live in their own module on this Base; importing it
# here puts them in Base.metadata wherever the schema is compared or created.
from pipeline.store import console_tables  # noqa: E402, F401
