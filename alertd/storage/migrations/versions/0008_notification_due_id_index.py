"""notification (due_at, id) index: the dashboard's history pages through the outbox newest first, by keyset

Revision ID: 0008
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notification_due_id", "notification", ["due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_notification_due_id", table_name="notification")
