"""SQLModel tables. Every instant is stored as naive UTC and read back aware (SQLite keeps no offsets)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

__all__ = [
    "ACTIVE_STATES",
    "FINAL_STATES",
    "Acknowledgement",
    "Attempt",
    "EventRow",
    "FeedState",
    "Meta",
    "Notification",
    "UTCDateTime",
    "postgresql_partial_indexes",
]

# States a notification can still leave by being sent.
ACTIVE_STATES = ("pending", "retrying")
FINAL_STATES = ("sent", "dead", "cancelled", "missed")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC in Python, naive UTC on disk: SQLite would silently drop the offset and then sort wrongly."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; alertd stores aware UTC instants only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


# Partial indexes carry their condition for SQLite here and for PostgreSQL once a PostgreSQL engine is made
# (postgresql_partial_indexes): naming ``postgresql_where`` at import would load SQLAlchemy's PostgreSQL dialect,
# about 2.4 MiB, into every process on SQLite (the daemon on SQLite then missed its memory budget by that much).
_PARTIAL: list[sa.Index] = []


def _partial_index(name: str, *columns: str, where: str, unique: bool = False) -> sa.Index:
    index = sa.Index(name, *columns, unique=unique, sqlite_where=sa.text(where))
    _PARTIAL.append(index)
    return index


def postgresql_partial_indexes() -> None:
    """Give the partial indexes their PostgreSQL condition (the SQLite one); idempotent. Called when a PostgreSQL
    engine is made, so DDL and schema comparisons on PostgreSQL see the same indexes as the migrations make."""
    for index in _PARTIAL:
        index.dialect_kwargs["postgresql_where"] = index.dialect_options["sqlite"]["where"]


def _utc_column(*, nullable: bool = False, index: bool = False) -> Any:
    return Field(sa_type=UTCDateTime, nullable=nullable, index=index)


class EventRow(SQLModel, table=True):
    """An event as last seen: provisioned from the file (``owner='file'``) or owned by the database."""

    __tablename__ = "event"

    id: str = Field(primary_key=True, max_length=200)
    title: str
    local_start: str = Field(max_length=32)
    all_day: bool
    timezone: str = Field(max_length=64)
    starts_at: datetime = _utc_column(index=True)
    status: str = Field(max_length=16)
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    source: str | None = None
    notes: str | None = None
    reminders: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    notify: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    all_day_at: str = Field(default="09:00", max_length=5)
    countdown: bool = True
    owner: str = Field(default="file", max_length=8)
    fingerprint: str = Field(max_length=64)
    revision: int = 1
    removed: bool = False
    updated_at: datetime = _utc_column()
    # A database-owned event as the user wrote it (alertd.calendar.drafts.EventDraft), so a calendar reload can
    # re-apply changed defaults and channels to it; None for provisioned events, whose source is the file.
    draft: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    after_ack: str = Field(default="stop", max_length=8, sa_column_kwargs={"server_default": "stop"})
    # [{"at": "2d", "notify": ["pager"], "repeat": "30m" | null}, …]
    escalate: list[dict[str, Any]] | None = Field(default=None, sa_type=sa.JSON)
    # Kept by alertd.storage.acks beside the acknowledgement rows, so every reader of events sees it for free.
    acknowledged: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


class Notification(SQLModel, table=True):
    """The outbox: one row per planned delivery. ``id`` is stable and doubles as the idempotency key."""

    __tablename__ = "notification"
    __table_args__ = (
        _partial_index("ix_notification_due_active", "next_at", where="state IN ('pending', 'retrying')"),
        sa.Index("ix_notification_state_due", "state", "due_at"),
        # The dashboard's history: keyset pages in due order without sorting the outbox (or a channel's, an event's).
        sa.Index("ix_notification_due_id", "due_at", "id"),
        sa.Index("ix_notification_channel_due_id", "channel", "due_at", "id"),
        sa.Index("ix_notification_event_due_id", "event_id", "due_at", "id"),
    )

    id: str = Field(primary_key=True, max_length=300)
    kind: str = Field(max_length=16)
    event_id: str | None = Field(default=None, index=True, max_length=200)
    channel: str = Field(index=True, max_length=100)
    offset: str | None = Field(default=None, max_length=32)
    due_at: datetime = _utc_column()
    next_at: datetime = _utc_column()
    expires_at: datetime | None = _utc_column(nullable=True)
    state: str = Field(default="pending", max_length=16)
    attempts: int = 0
    locked_by: str | None = Field(default=None, max_length=100)
    locked_until: datetime | None = _utc_column(nullable=True)
    late: bool = False
    sent_at: datetime | None = _utc_column(nullable=True)
    last_error: str | None = None
    payload: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = _utc_column()
    updated_at: datetime = _utc_column()
    # Set when quiet hours or a failing channel held the row back: the instant it was released. The catch-up
    # window counts from here and the event-start expiry no longer applies, so a hold never turns into "missed".
    held_until: datetime | None = _utc_column(nullable=True)


class Attempt(SQLModel, table=True):
    """One delivery attempt and its outcome, kept for ``alertd history``."""

    __tablename__ = "attempt"

    id: int | None = Field(default=None, primary_key=True)
    notification_id: str = Field(index=True, max_length=300)
    at: datetime = _utc_column()
    outcome: str = Field(max_length=16)
    detail: str = ""
    worker: str = Field(default="", max_length=100)
    duration_ms: float = 0.0


class Meta(SQLModel, table=True):
    """Small key/value facts about the database (e.g. the last planned calendar fingerprint)."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True, max_length=100)
    value: str


class FeedState(SQLModel, table=True):
    """An iCalendar source as last fetched: its last good body (so a restart or another replica plans from it while
    the feed fails), the validators for a conditional request, and its failure, if any."""

    __tablename__ = "feed_state"

    source_id: str = Field(primary_key=True, max_length=100)
    # SHA-256 of the URL or path: a feed pointed elsewhere starts afresh, and the database never holds a secret URL.
    location: str = Field(max_length=64)
    etag: str | None = None
    last_modified: str | None = None
    body: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    body_sha256: str | None = Field(default=None, max_length=64)
    fetched_at: datetime | None = _utc_column(nullable=True)
    checked_at: datetime | None = _utc_column(nullable=True)
    # Claimed by one replica at a time: the fetch is due again at ``next_at``.
    next_at: datetime | None = _utc_column(nullable=True)
    last_error: str | None = None
    failing_since: datetime | None = _utc_column(nullable=True)
    # The end of the planning window of the last sync: occurrences later than it that appear are the window
    # rolling forward, not additions to announce.
    window_end: datetime | None = _utc_column(nullable=True)


class Acknowledgement(SQLModel, table=True):
    """Someone said an event (or one occurrence, ``x@20260331``) is handled; ``revoked_at`` undoes it.

    At most one unrevoked row per event: the partial unique index makes a second, concurrent ack a no-op.
    """

    __tablename__ = "acknowledgement"
    __table_args__ = (_partial_index("ux_acknowledgement_active", "event_id", unique=True, where="revoked_at IS NULL"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(index=True, max_length=300)
    by: str = Field(max_length=200)
    at: datetime = _utc_column()
    via: str = Field(max_length=16)
    note: str | None = None
    revoked_at: datetime | None = _utc_column(nullable=True)
    revoked_by: str | None = Field(default=None, max_length=200)
    # The nonce of the one-click link that made it (alertd.delivery.links): a link works once.
    link_nonce: str | None = Field(default=None, max_length=64, unique=True)
