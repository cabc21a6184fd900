"""feed poll schedule: feeds.next_poll_at becomes the one truth for when a feed is polled (indexed),
with why it is due then and the interval it runs at (adaptive polling survives a restart)

Revision ID: 0005_feed_poll_schedule
Revises: 0004_console_users_feedback
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_feed_poll_schedule"
down_revision = "0004_console_users_feedback"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as feeds:
        feeds.add_column(sa.Column("next_poll_reason", sa.String(16)))
        feeds.add_column(sa.Column("poll_interval", sa.Float()))
    op.create_index("ix_feeds_next_poll_at", "feeds", ["next_poll_at"])
    # Until now next_poll_at held only hold-backs (NULL: on the regular schedule, which lived in
    # the daemon's memory). A hold-back keeps its time and says which it is; the other feeds stay
    # NULL, due at the first start, as the old daemon polled every feed when it started.
    feeds = sa.table(
        "feeds",
        sa.column("next_poll_at", sa.DateTime(timezone=True)),
        sa.column("next_poll_reason", sa.String(16)),
        sa.column("last_error_kind", sa.String(32)),
        sa.column("disabled_at", sa.DateTime(timezone=True)),
    )
    op.execute(feeds.update().where(feeds.c.disabled_at.is_not(None)).values(next_poll_reason="disabled"))
    op.execute(
        feeds.update()
        .where(feeds.c.disabled_at.is_(None), feeds.c.next_poll_at.is_not(None))
        .values(
            next_poll_reason=sa.case(
                (feeds.c.last_error_kind == "retry_later", "retry_after"), else_="backoff"
            )
        )
    )


def downgrade() -> None:
    op.drop_index("ix_feeds_next_poll_at", "feeds")
    with op.batch_alter_table("feeds") as feeds:
        feeds.drop_column("poll_interval")
        feeds.drop_column("next_poll_reason")
