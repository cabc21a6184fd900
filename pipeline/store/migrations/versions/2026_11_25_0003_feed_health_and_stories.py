"""feed health and story clusters: poll schedule, backoff, disabling, health alert state on feeds;
content fingerprints, MinHash signatures, LSH bands and story membership on articles

Revision ID: 0003_feed_health_and_stories
Revises: 0002_alert_delivery
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_feed_health_and_stories"
down_revision = "0002_alert_delivery"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as feeds:
        # Where a chain of permanent redirects led: polled instead of `url`, which stays the identity.
        feeds.add_column(sa.Column("moved_to", sa.String(2048)))
        # Not polled before this time (failure backoff or the server's Retry-After); NULL: on schedule.
        feeds.add_column(sa.Column("next_poll_at", sa.DateTime(timezone=True)))
        feeds.add_column(sa.Column("failing_since", sa.DateTime(timezone=True)))
        feeds.add_column(sa.Column("last_error_kind", sa.String(32)))
        feeds.add_column(sa.Column("parse_warning", sa.Text()))
        feeds.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True)))
        feeds.add_column(sa.Column("disabled_reason", sa.Text()))
        # What the operator was last told: ok, failing or silent, and since when.
        feeds.add_column(sa.Column("health_state", sa.String(16), nullable=False, server_default="ok"))
        feeds.add_column(sa.Column("health_since", sa.DateTime(timezone=True)))
    with op.batch_alter_table("articles") as articles:
        articles.add_column(sa.Column("content_fingerprint", sa.String(64)))
        articles.add_column(sa.Column("similarity_signature", sa.LargeBinary()))
        articles.add_column(sa.Column("story_id", sa.Integer()))
        articles.create_foreign_key(
            "fk_articles_story_id_articles", "articles", ["story_id"], ["id"], ondelete="SET NULL"
        )
    op.create_index("ix_articles_content_fingerprint", "articles", ["content_fingerprint"], unique=True)
    op.create_index("ix_articles_story_id", "articles", ["story_id"])
    op.create_table(
        "article_bands",
        sa.Column("band", sa.String(24), nullable=False),
        sa.Column(
            "article_id", sa.Integer(), sa.ForeignKey("articles.id", ondelete="CASCADE"), nullable=False
        ),
        sa.PrimaryKeyConstraint("band", "article_id"),
    )
    op.create_index("ix_article_bands_article_id", "article_bands", ["article_id"])
    # A feed's latest items (its publishing rhythm, for silence detection).
    op.create_index("ix_article_sources_feed_id", "article_sources", ["feed_id"])


def downgrade() -> None:
    op.drop_index("ix_article_sources_feed_id", "article_sources")
    op.drop_table("article_bands")
    op.drop_index("ix_articles_story_id", "articles")
    op.drop_index("ix_articles_content_fingerprint", "articles")
    with op.batch_alter_table("articles") as articles:
        articles.drop_constraint("fk_articles_story_id_articles", type_="foreignkey")
        articles.drop_column("story_id")
        articles.drop_column("similarity_signature")
        articles.drop_column("content_fingerprint")
    with op.batch_alter_table("feeds") as feeds:
        for column in (
            "health_since",
            "health_state",
            "disabled_reason",
            "disabled_at",
            "parse_warning",
            "last_error_kind",
            "failing_since",
            "next_poll_at",
            "moved_to",
        ):
            feeds.drop_column(column)
