"""Tables of the analysts' console: users, API tokens, feedback, failed sign-ins and the console's
own secrets.

They live beside `tables.py` (on the same `Base`, so the schema test compares them too) rather than
in it, so the console's schema can change without touching the pipeline's tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.store.tables import Base, UTCDateTime, utcnow

ROLES = ("read-only", "operator")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # argon2id, in the PHC string format (algorithm, parameters and salt travel with the hash).
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="read-only")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiTokenRow(Base):
    """A script's bearer token. Only its SHA-256 is kept: tokens are 32 random bytes, so a slow
    password hash would add nothing but latency to every API call."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedbackRow(Base):
    """One user's current judgement of one article for one topic (a new mark replaces the old)."""

    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("article_id", "topic", "user_id", name="uq_feedback_article_topic_user"),
        Index("ix_feedback_topic", "topic"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(200))
    relevant: Mapped[bool] = mapped_column(Boolean)
    # SET NULL: the judgement outlives the account; `user_name` still says who made it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    user_name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConsoleSecretRow(Base):
    """Random keys made on first use (session signing, per-topic feed URLs), kept in the database so
    every console process and restart agrees on them without a config change."""

    __tablename__ = "console_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))


class LoginFailureRow(Base):
    """A failed sign-in, counted once by client address and once by user name (one row each), so
    every console process sharing the database sees the same failures."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_key_failed_at", "key", "failed_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
