"""What the pages read from the shared database beyond events: next sends, and a revision for live updates.

Every page reads the database, not this process's memory, so any replica serves the same pages.
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa

from alertd.domain import Calendar
from alertd.storage import ACTIVE_STATES, ATTEMPT, EVENT, NOTIFICATION, Meta
from alertd.web.board import NextSend

__all__ = ["live_revision", "next_sends"]

_N = NOTIFICATION.c
_META = Meta.__table__  # type: ignore[attr-defined]


def next_sends(engine: sa.Engine) -> dict[str, NextSend]:
    """The earliest queued notification of each event (one indexed range read of the queued rows)."""
    query = (
        sa.select(_N.event_id, _N.due_at, _N.channel, _N.kind)
        .where(_N.state.in_(ACTIVE_STATES), _N.event_id.is_not(None))
        .order_by(_N.due_at, _N.id)
    )
    found: dict[str, NextSend] = {}
    with engine.connect() as conn:
        for row in conn.execute(query):
            if row.event_id not in found:
                found[row.event_id] = NextSend(row.due_at, row.channel, row.kind)
    return found


def _channels_mark(calendar: Calendar) -> str:
    # What a reload can change that the event rows do not show: the channels. Not id() or hash(): both differ
    # between replicas, and a browser polling through a load balancer would then refresh on every poll.
    specs = sorted((c.id, c.type, c.timezone, c.locale) for c in calendar.channels.values())
    return json.dumps([calendar.timezone, specs])


def live_revision(engine: sa.Engine, calendar: Calendar) -> str:
    """A short value that changes when a delivery is recorded, an event or a channel's health changes, or the
    calendar is reloaded, and is the same on every replica: the pages poll it and refresh only when it moves.
    Each part is an indexed lookup."""
    with engine.connect() as conn:
        attempts = conn.execute(sa.select(sa.func.max(ATTEMPT.c.id))).scalar()
        events = conn.execute(sa.select(sa.func.count(), sa.func.sum(EVENT.c.revision))).one()
        queued = conn.execute(sa.select(sa.func.count()).where(_N.state.in_(ACTIVE_STATES))).scalar()
        health = conn.execute(sa.select(_META.c.value).where(_META.c.key == "health_rev")).scalar()
    raw = f"{attempts}|{tuple(events)}|{queued}|{health}|{_channels_mark(calendar)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]
