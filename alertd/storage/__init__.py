"""Storage: the database is the source of truth, and this package is the only code that writes it.

Engines, the single-writer guard and migrations (``db``, ``migrations/``), the tables (``models``), the outbox of
planned notifications, the only writer of their rows (``outbox``), events read back (``eventrows``) and edited
through the CLI and API (``events``), the calendar file synced into rows (``sync``), channel state kept between
sends (``channel_state``) and batched SQL helpers (``bulk``).

May import: alertd's shared modules, :mod:`alertd.messages`, :mod:`alertd.channels`, :mod:`alertd.calendar` and
:mod:`alertd.planning`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alertd.storage.bulk import fetch, insert_ignoring_duplicates
    from alertd.storage.channel_state import MetaState
    from alertd.storage.db import (
        InstanceLock,
        create_engine,
        create_reader_engine,
        describe_db_error,
        is_sqlite,
        load_migrations,
        migrate,
        schema_is_current,
        sqlite_path,
    )
    from alertd.storage.eventrows import EVENT, event_from_row, load_events
    from alertd.storage.events import (
        add_event,
        current_events,
        event_as_json,
        event_revisions,
        feed_owned,
        get_event,
        list_events,
        move_event,
        planned_calendar,
        set_status,
        update_event,
    )
    from alertd.storage.feedstate import (
        FeedStatus,
        Fetched,
        claim_fetch,
        feed_statuses,
        forget_feeds,
        last_body,
        record_failure,
        record_fetched,
        set_window_end,
    )
    from alertd.storage.feedsync import drop_feed_events, sync_feed
    from alertd.storage.keys import purpose_key, server_key
    from alertd.storage.models import ACTIVE_STATES, Meta, Notification
    from alertd.storage.outbox import (
        ATTEMPT,
        DUE_CHANNEL,
        NOTIFICATION,
        Claimed,
        Outcome,
        cancel_one,
        claim,
        enqueue,
        hold,
        next_due,
        notify_due,
        reclaim,
        record,
        requeue,
        supersede_countdowns,
    )
    from alertd.storage.sync import SyncReport, events_revision, sync_calendar
else:
    from alertd._exports import exports

    __getattr__ = exports(
        __name__,
        db=(
            "InstanceLock",
            "create_engine",
            "create_reader_engine",
            "describe_db_error",
            "is_sqlite",
            "load_migrations",
            "load_migrations",
            "migrate",
            "schema_is_current",
            "sqlite_path",
        ),
        models=("ACTIVE_STATES", "Meta", "Notification"),
        bulk=("fetch", "insert_ignoring_duplicates"),
        outbox=(
            "ATTEMPT",
            "DUE_CHANNEL",
            "NOTIFICATION",
            "Claimed",
            "Outcome",
            "cancel_one",
            "claim",
            "enqueue",
            "hold",
            "next_due",
            "notify_due",
            "reclaim",
            "record",
            "requeue",
            "supersede_countdowns",
        ),
        eventrows=("EVENT", "event_from_row", "load_events"),
        feedstate=(
            "FeedStatus",
            "Fetched",
            "claim_fetch",
            "feed_statuses",
            "forget_feeds",
            "last_body",
            "record_failure",
            "record_fetched",
            "set_window_end",
        ),
        feedsync=("drop_feed_events", "sync_feed"),
        events=(
            "add_event",
            "current_events",
            "event_as_json",
            "event_revisions",
            "feed_owned",
            "get_event",
            "list_events",
            "move_event",
            "planned_calendar",
            "set_status",
            "update_event",
        ),
        sync=("SyncReport", "events_revision", "sync_calendar"),
        channel_state=("MetaState",),
        keys=("purpose_key", "server_key"),
    )

__all__ = [
    "ACTIVE_STATES",
    "ATTEMPT",
    "DUE_CHANNEL",
    "EVENT",
    "NOTIFICATION",
    "Claimed",
    "FeedStatus",
    "Fetched",
    "InstanceLock",
    "Meta",
    "MetaState",
    "Notification",
    "Outcome",
    "SyncReport",
    "add_event",
    "cancel_one",
    "claim",
    "claim_fetch",
    "create_engine",
    "create_reader_engine",
    "current_events",
    "describe_db_error",
    "drop_feed_events",
    "enqueue",
    "event_as_json",
    "event_from_row",
    "event_revisions",
    "events_revision",
    "feed_owned",
    "feed_statuses",
    "fetch",
    "forget_feeds",
    "get_event",
    "hold",
    "insert_ignoring_duplicates",
    "is_sqlite",
    "last_body",
    "list_events",
    "load_events",
    "load_migrations",
    "migrate",
    "move_event",
    "next_due",
    "notify_due",
    "planned_calendar",
    "purpose_key",
    "reclaim",
    "record",
    "record_failure",
    "record_fetched",
    "requeue",
    "schema_is_current",
    "server_key",
    "set_status",
    "set_window_end",
    "sqlite_path",
    "supersede_countdowns",
    "sync_calendar",
    "sync_feed",
    "update_event",
]
