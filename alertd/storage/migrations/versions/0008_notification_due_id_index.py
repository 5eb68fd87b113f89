"""notification (due_at, id) indexes: the dashboard's history pages through the outbox newest first, by keyset,
also within one channel or one event

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_notification_due_id", "notification", ["due_at", "id"])
    op.create_index("ix_notification_channel_due_id", "notification", ["channel", "due_at", "id"])
    op.create_index("ix_notification_event_due_id", "notification", ["event_id", "due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_notification_event_due_id", table_name="notification")
    op.drop_index("ix_notification_channel_due_id", table_name="notification")
    op.drop_index("ix_notification_due_id", table_name="notification")
