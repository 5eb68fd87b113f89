"""Quiet hours: a per-channel local window in which nothing is sent; what falls due inside it waits for its end.

The window is wall-clock time in the channel's zone and may wrap past midnight (22:00 → 07:00). Its end is the next
occurrence of ``to`` after the instant asked about, turned into UTC with the RFC 5545 rule for DST gaps, so a window
ending at 02:30 on a spring-forward night ends at 03:30 new time rather than never.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from alertd.domain import QuietHours
from alertd.timeexpr import localize, zone

__all__ = ["held_detail", "quiet_until"]


def _inside(local: time, quiet: QuietHours) -> bool:
    if quiet.start < quiet.end:
        return quiet.start <= local < quiet.end
    return local >= quiet.start or local < quiet.end


def quiet_until(quiet: QuietHours | None, tz_name: str, now: datetime) -> datetime | None:
    """The UTC instant the window holding ``now`` ends, or None when ``now`` is outside quiet hours."""
    if quiet is None:
        return None
    tz = zone(tz_name)
    local = now.astimezone(tz)
    if not _inside(local.time().replace(tzinfo=None), quiet):
        return None
    day = local.date() if local.time().replace(tzinfo=None) < quiet.end else local.date() + timedelta(days=1)
    end = localize(datetime.combine(day, quiet.end), tz)
    # A DST fold can put the computed end at or before ``now``; the next day's end is then the right one.
    return end if end > now else localize(datetime.combine(day + timedelta(days=1), quiet.end), tz)


def held_detail(until: datetime, tz_name: str) -> str:
    """What history shows for a held notification, in the channel's own wall-clock time."""
    return f"held by quiet hours until {until.astimezone(zone(tz_name)):%H:%M} {tz_name}"
