"""acknowledgement table; event.after_ack, event.escalate and event.acknowledged

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from alertd.storage.models import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=300), nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=200), nullable=True),
        sa.Column("link_nonce", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_nonce"),
    )
    op.create_index("ix_acknowledgement_event_id", "acknowledgement", ["event_id"])
    op.create_index(
        "ux_acknowledgement_active",
        "acknowledgement",
        ["event_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("after_ack", sa.String(length=8), nullable=False, server_default="stop"))
        batch_op.add_column(sa.Column("escalate", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("acknowledged", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("acknowledged")
        batch_op.drop_column("escalate")
        batch_op.drop_column("after_ack")
    op.drop_index("ux_acknowledgement_active", table_name="acknowledgement")
    op.drop_index("ix_acknowledgement_event_id", table_name="acknowledgement")
    op.drop_table("acknowledgement")
