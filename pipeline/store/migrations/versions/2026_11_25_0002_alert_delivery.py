"""alert delivery: claim leases, failed status, digest membership and digest streams

Revision ID: 0002_alert_delivery
Revises: 0001_initial_schema
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_alert_delivery"
down_revision = "0001_initial_schema"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("digest_key", sa.String(600)))
        batch.add_column(sa.Column("digest_id", sa.Integer()))
        batch.add_column(sa.Column("claimed_by", sa.String(200)))
        batch.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("failed_at", sa.DateTime(timezone=True)))
        batch.create_foreign_key(
            "fk_alerts_digest_id_alerts", "alerts", ["digest_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index("ix_alerts_digest_key_status", ["digest_key", "status"])
        batch.create_index("ix_alerts_channel_sent_at", ["channel", "sent_at"])
        batch.create_index("ix_alerts_digest_id", ["digest_id"])
    op.create_table(
        "alert_digests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(600), nullable=False, unique=True),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("schedule", sa.String(200), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("next_tick_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_tick_at", sa.DateTime(timezone=True)),
        sa.Column("last_digest_id", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("alert_digests")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index("ix_alerts_digest_id")
        batch.drop_index("ix_alerts_channel_sent_at")
        batch.drop_index("ix_alerts_digest_key_status")
        batch.drop_constraint("fk_alerts_digest_id_alerts", type_="foreignkey")
        for column in ("failed_at", "claimed_until", "claimed_by", "digest_id", "digest_key"):
            batch.drop_column(column)
