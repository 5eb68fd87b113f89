"""Channel health: a permanent error from a destination marks its channel failing until a test send succeeds.

While a channel is failing its notifications stay queued (pending, never claimed, never marked missed); a
successful ``alertd send-test CHANNEL`` clears the mark and releases them. The mark lives in the ``meta`` table, so
a restart and every replica remember it, and ``health_rev`` changes with each mark or clear so a running daemon
notices a clear made by the CLI in another process.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from alertd.channels import state_key
from alertd.delivery.admin import channel_recovered
from alertd.errors import DeliveryError
from alertd.storage import ACTIVE_STATES, Meta, Notification, fetch, insert_ignoring_duplicates

__all__ = [
    "HEALTH_REV",
    "ChannelHealth",
    "clear_failing",
    "failing_channels",
    "health_revision",
    "is_destination_failure",
    "mark_failing",
    "prune_failing",
    "waiting",
]

META = Meta.__table__  # type: ignore[attr-defined]
NOTIFICATION = Notification.__table__  # type: ignore[attr-defined]
HEALTH_REV = "health_rev"
_PREFIX = "health"
# Per the protocol notes (channel-protocols §0.1), these reject one payload, not the destination: fix or truncate
# the message, but keep sending others. Every other permanent error (401/403/404/410, a bad token, a blocked bot,
# a deleted webhook) means nothing will get through until someone fixes the channel.
_PAYLOAD_STATUSES = frozenset({400, 413, 422})


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    channel: str
    since: datetime
    reason: str


def is_destination_failure(exc: DeliveryError) -> bool:
    """Whether ``exc`` says the channel itself is broken (rather than this one message)."""
    return exc.permanent and exc.status not in _PAYLOAD_STATUSES


def _key(channel: str) -> str:
    return state_key(_PREFIX, channel)


def _bump(conn: sa.Connection) -> None:
    current = conn.execute(sa.select(META.c.value).where(META.c.key == HEALTH_REV)).scalar()
    value = str(int(current or 0) + 1)
    bump = META.update().where(META.c.key == HEALTH_REV).values(value=value)
    # Replicas creating the counter at once: the second insert is ignored (not a failed transaction) and its
    # update then waits for the first. Two replicas may write the same value; it still changed.
    if (
        conn.execute(bump).rowcount == 0
        and insert_ignoring_duplicates(conn, META, [{"key": HEALTH_REV, "value": value}], key="key") == 0
    ):
        conn.execute(bump)


def health_revision(conn: sa.Connection) -> str | None:
    """Changes whenever a channel is marked failing or cleared."""
    # Straight through the driver: the dispatcher asks on every round.
    quote = conn.dialect.identifier_preparer.quote
    sql = f"SELECT {quote('value')} FROM {quote(META.name)} WHERE {quote('key')} = ?"
    rows = fetch(conn, META, sql, [("key", HEALTH_REV)], ("value",))
    value: str | None = rows[0][0] if rows else None
    return value


def mark_failing(conn: sa.Connection, channel: str, reason: str, *, now: datetime) -> bool:
    """Mark ``channel`` failing; False when it already was (the first reason and instant are kept)."""
    key = _key(channel)
    value = json.dumps({"channel": channel, "since": now.isoformat(), "reason": reason})
    # Replicas may mark the same channel at once: the second insert is ignored instead of failing the transaction
    # (which the dispatcher would report as a database outage).
    if insert_ignoring_duplicates(conn, META, [{"key": key, "value": value}], key="key") == 0:
        return False
    _bump(conn)
    return True


def failing_channels(conn: sa.Connection) -> dict[str, ChannelHealth]:
    """Every channel marked failing, by id."""
    rows = conn.execute(sa.select(META.c.value).where(META.c.key.like(f"{_PREFIX}:%")))
    found: dict[str, ChannelHealth] = {}
    for (value,) in rows:
        data = json.loads(value)
        found[data["channel"]] = ChannelHealth(data["channel"], datetime.fromisoformat(data["since"]), data["reason"])
    return found


def clear_failing(
    conn: sa.Connection, channel: str, *, now: datetime, admin: str | None = None
) -> tuple[ChannelHealth | None, int]:
    """Clear ``channel``'s mark and release its overdue queued rows; return the old mark and how many were held.
    The ``admin`` channel, if any, hears that it recovered.

    Released rows get ``held_until = now``: the catch-up window counts from the release and the event-start
    expiry is waived, so a reminder held by a broken channel is delivered (marked late) instead of missed.
    """
    mark = failing_channels(conn).get(channel)
    if mark is None:
        return None, 0
    conn.execute(META.delete().where(META.c.key == _key(channel)))
    n = NOTIFICATION.c
    released = conn.execute(
        NOTIFICATION.update()
        .where(n.channel == channel, n.state.in_(ACTIVE_STATES), n.next_at <= now)
        .values(
            next_at=now,
            held_until=now,
            last_error=f"held while channel {channel} was failing ({mark.reason}); released {now:%Y-%m-%d %H:%M}Z",
            updated_at=now,
        )
    ).rowcount
    _bump(conn)
    channel_recovered(conn, admin, channel, since=mark.since, held=released or 0, now=now)
    return mark, released or 0


def prune_failing(conn: sa.Connection, channels: Collection[str]) -> list[str]:
    """Forget the marks of channels that are no longer in the calendar (``channels``); return their ids.

    A removed channel holds nothing any more (its rows were cancelled), so it must not keep showing as failing,
    and no ``send-test`` could clear it.
    """
    gone = sorted(c for c in failing_channels(conn) if c not in channels)
    if gone:
        conn.execute(META.delete().where(META.c.key.in_([_key(c) for c in gone])))
        _bump(conn)
    return gone


def waiting(conn: sa.Connection, channels: list[str], *, now: datetime) -> dict[str, int]:
    """How many queued notifications of each of ``channels`` are already due: what a failing channel is holding."""
    if not channels:
        return {}
    n = NOTIFICATION.c
    rows = conn.execute(
        sa.select(n.channel, sa.func.count())
        .where(n.channel.in_(channels), n.state.in_(ACTIVE_STATES), n.next_at <= now)
        .group_by(n.channel)
    ).all()
    counts = {c: 0 for c in channels}
    counts.update({channel: int(count) for channel, count in rows})
    return counts
