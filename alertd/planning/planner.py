"""Pure planning: which notifications a calendar wants, with stable ids that double as idempotency keys.

Nothing here reads the clock or the database. ``plan_*`` return every notification the events imply, past or
future; the caller decides which are still worth inserting (only those due after ``now``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta

from alertd.domain import ChannelSpec, CountdownSpec, EventSpec, Planned, event_snapshot
from alertd.messages import all_day_end, reader_day
from alertd.planning.fingerprint import event_fingerprint
from alertd.planning.recurrence import series_id
from alertd.timeexpr import Offset, apply_offset, is_nonexistent, localize, shift, zone

__all__ = [
    "countdown_listed",
    "digest_events",
    "event_fingerprint",
    "plan_changes",
    "plan_countdowns",
    "plan_reminders",
    "reminder_id",
    "renames",
]


def _stamp(instant: datetime) -> str:
    # strftime("%Y%m%dT%H%M%SZ"), spelled out: it runs for every planned row (800k for a 100k-event calendar).
    i = instant
    return f"{i.year}{i.month:02d}{i.day:02d}T{i.hour:02d}{i.minute:02d}{i.second:02d}Z"


def reminder_id(event_id: str, offset: str, channel: str, due_at: datetime) -> str:
    return f"rem:{event_id}:{offset}:{channel}:{_stamp(due_at)}"


def _reminder_due(event: EventSpec, offset: Offset) -> datetime:
    """When ``offset`` before (or after) ``event`` falls.

    A timed event counts from its exact start, so a time written with an offset (the second 01:30 of a fall-back
    night) keeps its instant. An all-day event has no time of day to count hours from: the offset, counted from
    ``all_day_at`` on the event's date, picks a day, and the reminder fires at ``all_day_at`` on that day (``2h``
    and ``0m`` both mean the day itself, ``36h`` two days before).
    """
    tz = zone(event.timezone)
    if not event.all_day and is_nonexistent(event.local_start, tz):
        # An occurrence of a recurring event at a wall time the clocks skip: nominal days count from that wall
        # time, as RFC 5545 clients count an alarm's days from DTSTART's.
        return apply_offset(event.local_start, tz, offset)
    if not event.all_day:
        return shift(event.starts_at, tz, offset)
    landed = apply_offset(datetime.combine(event.local_start.date(), event.all_day_at), tz, offset)
    return localize(datetime.combine(landed.astimezone(tz).date(), event.all_day_at), tz)


def _reminders_due(event: EventSpec) -> list[tuple[Offset, datetime]]:
    """Each reminder offset of ``event`` that is planned, and when it falls.

    An all-day event gets one reminder per day: of offsets falling on the same day (the default ``2h`` and ``0m``)
    the one without an exact part is kept, else the first listed, so a reader is not told "today" twice.
    """
    if not event.all_day:
        return [(offset, _reminder_due(event, offset)) for offset in event.reminders]
    kept: dict[datetime, Offset] = {}
    for offset in event.reminders:
        due = _reminder_due(event, offset)
        if due not in kept or (kept[due].seconds and not offset.seconds):
            kept[due] = offset
    return [(offset, due) for due, offset in kept.items()]


def plan_reminders(event: EventSpec, channels: Iterable[str]) -> Iterator[Planned]:
    """Every reminder of ``event`` for each of ``channels`` (nothing for postponed, cancelled or acknowledged
    events)."""
    if not event.active or event.quiet:
        return
    for offset, due in _reminders_due(event):
        # A reminder before the start is useless once the event has begun; later ones live by the catch-up rule.
        expires = event.starts_at if due < event.starts_at else None
        stamp = _stamp(due)
        for channel in channels:
            yield Planned(
                # reminder_id(), with the instant formatted once for all channels
                id=f"rem:{event.id}:{offset.text}:{channel}:{stamp}",
                kind="reminder",
                channel=channel,
                due_at=due,
                event_id=event.id,
                offset=offset.text,
                expires_at=expires,
            )


def countdown_listed(
    event: EventSpec, digest_day: date, digest_at: datetime, spec: CountdownSpec, tz_name: str
) -> bool:
    """Whether the digest of ``digest_day`` (sent at ``digest_at``, zone ``tz_name``) lists ``event``: it has not
    started (a timed event) or is not over (an all-day one), and the reader's date it counts to is in the window."""
    if not (event.active and event.countdown) or event.quiet:
        return False
    if digest_at >= (all_day_end(event) if event.all_day else event.starts_at):
        return False
    # The date the digest's own words count to ("today", "in 3 days"), so a listed event never reads as past.
    return 0 <= (reader_day(event, digest_at, tz_name) - digest_day).days <= spec.within_days


def plan_countdowns(
    events: Iterable[EventSpec], channels: Mapping[str, ChannelSpec], spec: CountdownSpec | None
) -> list[Planned]:
    """One digest per channel per local day on which at least one subscribed event is within the window."""
    if spec is None:
        return []
    days: dict[str, set[date]] = {c: set() for c in channels}
    for event in events:
        if not (event.active and event.countdown) or event.quiet:
            continue
        for channel_id in event.notify:
            channel = channels.get(channel_id)
            if channel is None:
                continue
            tz = zone(channel.timezone)
            # From the window's length before the start's date there to the start's (all day: the end's) date.
            first = event.starts_at.astimezone(tz).date() - timedelta(days=spec.within_days)
            last = (all_day_end(event) if event.all_day else event.starts_at).astimezone(tz).date()
            for back in range((last - first).days + 1):
                day = last - timedelta(days=back)
                if countdown_listed(event, day, localize(datetime.combine(day, spec.at), tz), spec, channel.timezone):
                    days[channel_id].add(day)
    planned: list[Planned] = []
    for channel_id, wanted in days.items():
        tz = zone(channels[channel_id].timezone)
        for day in sorted(wanted):
            due = localize(datetime.combine(day, spec.at), tz)
            planned.append(
                Planned(
                    id=f"cd:{channel_id}:{day:%Y%m%d}",
                    kind="countdown",
                    channel=channel_id,
                    due_at=due,
                    # Tomorrow's digest replaces this one, so there is no point sending it after that.
                    expires_at=due + timedelta(days=1),
                    payload={"day": day.isoformat()},
                )
            )
    return planned


def _changed(before: EventSpec, after: EventSpec) -> bool:
    old, new = event_snapshot(before), event_snapshot(after)
    # starts_at too: the same wall clock may be another instant (the second 01:30 of a fall-back night).
    return any(old[k] != new[k] for k in ("title", "local_start", "starts_at", "all_day", "timezone", "status"))


def plan_changes(
    before: EventSpec | None, after: EventSpec | None, *, revision: int, now: datetime, renamed: bool = False
) -> list[Planned]:
    """Change notices for one event going from ``before`` to ``after`` (None = absent), due at ``now``.

    With ``renamed`` the two are one event whose id changed (``before.id`` → ``after.id``): one notice of type
    ``renamed``, whose snapshots carry the ids, instead of an "added" and a "removed" that would read as if the
    event were gone.
    """
    if before is None and after is None:
        return []
    if before is not None and after is not None and not renamed and not _changed(before, after):
        return []
    kind = "renamed" if renamed else "added" if before is None else "removed" if after is None else "changed"
    change = {
        "type": kind,
        "before": _snapshot(before, renamed) if before else None,
        "after": _snapshot(after, renamed) if after else None,
    }
    subject = after or before
    assert subject is not None
    targets = list(dict.fromkeys([*(after.notify if after else ()), *(before.notify if before else ())]))
    return [
        Planned(
            id=f"chg:{subject.id}:{revision}:{channel}",
            kind="change",
            channel=channel,
            due_at=now,
            event_id=subject.id,
            payload=change,
        )
        for channel in targets
    ]


def _snapshot(event: EventSpec, with_id: bool) -> dict[str, object]:
    return event_snapshot(event) | ({"id": event.id} if with_id else {})


def renames(appeared: Iterable[EventSpec], gone: Iterable[EventSpec]) -> dict[str, EventSpec]:
    """Events that only changed their id: each appearing event (by its new id) with the gone event of the same
    title and start; only pairs that nothing else could match, so two look-alikes are never guessed at."""

    def key(event: EventSpec) -> tuple[str, datetime, bool]:
        return event.title, event.starts_at, event.all_day

    def unique(events: Iterable[EventSpec]) -> dict[tuple[str, datetime, bool], EventSpec]:
        found: dict[tuple[str, datetime, bool], list[EventSpec]] = {}
        for event in events:
            found.setdefault(key(event), []).append(event)
        return {k: v[0] for k, v in found.items() if len(v) == 1}

    olds = unique(gone)
    return {new.id: olds[k] for k, new in unique(appeared).items() if k in olds}


def digest_events(
    events: Iterable[EventSpec], channel: ChannelSpec, spec: CountdownSpec, due_at: datetime
) -> list[EventSpec]:
    """The events the countdown digest of ``channel`` due at ``due_at`` lists: of a recurring event's occurrences,
    only the next one (a daily stand-up is one line, not one per day of the window)."""
    day = due_at.astimezone(zone(channel.timezone)).date()
    listed = [e for e in events if channel.id in e.notify and countdown_listed(e, day, due_at, spec, channel.timezone)]
    first: dict[str, EventSpec] = {}
    for event in listed:
        series = series_id(event.id)
        if series is not None and (series not in first or event.starts_at < first[series].starts_at):
            first[series] = event
    return [e for e in listed if series_id(e.id) is None or first[series_id(e.id) or ""] is e]
