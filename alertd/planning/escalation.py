"""Escalation steps as planned notifications: each fires only if the event is still unacknowledged at its instant.

Planning is unconditional: whether a step is still wanted is decided when it is sent, inside the claim
(:mod:`alertd.storage.acks`), so an acknowledgement made one second before the instant wins on every replica.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from alertd.domain import Escalation, EventSpec, Planned
from alertd.timeexpr import apply_offset, shift, zone

__all__ = ["MAX_REPEATS", "escalation_instants", "plan_escalations"]

# A step that repeats after the start (``at: +1h, repeat: 30m``) has no start to stop at: it stops after this many
# sends; one before the start repeats until the start, but never more often than this either.
MAX_REPEATS = 48


def _first(event: EventSpec, step: Escalation) -> datetime:
    tz = zone(event.timezone)
    if not event.all_day:
        return shift(event.starts_at, tz, step.at)
    # An all-day event counts from all_day_at on its date, as its reminders do (but keeps the exact instant: a
    # step that repeats every 30 minutes must not snap to one time of day).
    return apply_offset(datetime.combine(event.local_start.date(), event.all_day_at), tz, step.at)


def escalation_instants(event: EventSpec, step: Escalation) -> list[datetime]:
    """When ``step`` of ``event`` fires: its instant, then every ``repeat`` until the start (or MAX_REPEATS)."""
    first = _first(event, step)
    found = [first]
    if step.repeat is None:
        return found
    every = timedelta(days=step.repeat.days, seconds=step.repeat.seconds)
    if every <= timedelta(0):
        return found
    while len(found) <= MAX_REPEATS:
        following = found[-1] + every
        if first < event.starts_at <= following:
            break
        found.append(following)
    return found


def plan_escalations(event: EventSpec) -> Iterator[Planned]:
    """Every escalation notification of ``event`` (nothing for postponed, cancelled or acknowledged events)."""
    # An acknowledged event's steps would only be cancelled when claimed; a re-plan (a file edit, a feed refresh)
    # must not queue them again. Withdrawing the acknowledgement plans them afresh.
    if not event.active or event.acknowledged:
        return
    for index, step in enumerate(event.escalate):
        for count, due in enumerate(escalation_instants(event, step)):
            stamp = due.strftime("%Y%m%dT%H%M%SZ")
            for channel in step.notify:
                yield Planned(
                    id=f"esc:{event.id}:{index}:{channel}:{stamp}",
                    kind="escalation",
                    channel=channel,
                    due_at=due,
                    event_id=event.id,
                    offset=step.at.text,
                    payload={"step": index, "repeat": count},
                )
