"""Notices about alertd itself for the calendar's ``admin`` channel: people, not only logs, hear about trouble.

Each notice is an outbox row like any other (retried, kept in history, sent once across replicas), with an id
stable per transition: a channel failing since one instant, its recovery from that mark, one rejected version of
the calendar file. Queuing the same transition again (another replica, another attempt) adds nothing.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa

from alertd.domain import Planned
from alertd.storage import enqueue

__all__ = ["calendar_rejected", "channel_failing", "channel_recovered"]


def _queue(conn: sa.Connection, admin: str | None, key: str, title: str, text: str, *, now: datetime) -> bool:
    if admin is None:
        return False
    notice = Planned(id=f"admin:{key}", kind="admin", channel=admin, due_at=now, payload={"title": title, "text": text})
    return enqueue(conn, [notice], now=now) > 0


def _stamp(at: datetime) -> str:
    return at.strftime("%Y%m%dT%H%M%SZ")


def channel_failing(
    conn: sa.Connection, admin: str | None, channel: str, reason: str, *, since: datetime, now: datetime
) -> bool:
    """Queue "channel X is failing since …" for ``admin``; False without an admin channel or when already queued."""
    if admin == channel:
        # It cannot tell anyone about itself; its own notices wait with its other held rows.
        return False
    text = (
        f"alertd: channel {channel} is failing since {since:%Y-%m-%d %H:%M}Z: {reason}. Its notifications are held, "
        f"not lost; fix the channel, then run 'alertd send-test {channel}' to release them."
    )
    return _queue(conn, admin, f"failing:{channel}:{_stamp(since)}", f"Channel {channel} is failing", text, now=now)


def channel_recovered(
    conn: sa.Connection, admin: str | None, channel: str, *, since: datetime, held: int, now: datetime
) -> bool:
    """Queue "channel X recovered" for the failing mark set at ``since``."""
    text = (
        f"alertd: channel {channel} recovered at {now:%Y-%m-%d %H:%M}Z (failing since {since:%Y-%m-%d %H:%M}Z); "
        f"{held} held notification{'s' if held != 1 else ''} released."
    )
    return _queue(conn, admin, f"recovered:{channel}:{_stamp(since)}", f"Channel {channel} recovered", text, now=now)


def calendar_rejected(conn: sa.Connection, admin: str | None, problems: list[str], *, now: datetime) -> bool:
    """Queue "your calendar edit was rejected: file:line reason" once per rejected version (same problems)."""
    digest = hashlib.sha256("\n".join(problems).encode()).hexdigest()[:16]
    shown = problems[:10]
    more = f"\n… and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
    text = "alertd: your calendar edit was rejected; the last good version keeps running.\n" + "\n".join(shown) + more
    return _queue(conn, admin, f"rejected:{digest}", "Calendar edit rejected", text, now=now)
