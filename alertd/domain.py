"""Plain, immutable values shared by the loader, the planner, the renderer and the channels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, NamedTuple

from alertd.timeexpr import Offset, localize, zone
from alertd.workdays import IfClosed, WorkdayCalendar

__all__ = [
    "AFTER_ACK",
    "EVENT_STATUSES",
    "KINDS",
    "Calendar",
    "ChannelSpec",
    "CountdownLine",
    "CountdownSpec",
    "Defaults",
    "Escalation",
    "EventSpec",
    "Kind",
    "Message",
    "Occurrence",
    "Planned",
    "QuietHours",
    "RateLimit",
    "Route",
    "Series",
    "SourceSpec",
    "event_snapshot",
    "start_text",
]

Kind = Literal["reminder", "countdown", "change", "test", "admin", "ack", "escalation"]
KINDS: tuple[Kind, ...] = ("reminder", "countdown", "change", "test", "admin", "ack", "escalation")
# What an acknowledgement does to an event's remaining reminders and countdown lines.
AFTER_ACK = ("stop", "keep")
EVENT_STATUSES = ("tentative", "confirmed", "postponed", "cancelled")
# Events in these states are still going to happen, so they get reminders and countdown lines.
ACTIVE_STATUSES = frozenset({"tentative", "confirmed"})


@dataclass(frozen=True, slots=True)
class CountdownSpec:
    """Daily countdown digest: fires at ``at`` (channel zone) and lists events starting within ``within_days``."""

    within_days: int
    at: time


@dataclass(frozen=True, slots=True)
class Route:
    """A top-level ``routes`` entry: events matching every given key (any-of within a key) also notify ``notify``."""

    notify: tuple[str, ...]
    tags: tuple[str, ...] = ()
    status: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Escalation:
    """One ``escalate`` step: at ``at`` before (or after) the start, unless acknowledged, notify ``notify``; with
    ``repeat``, again every ``repeat`` until the event starts (or is acknowledged)."""

    at: Offset
    notify: tuple[str, ...]
    repeat: Offset | None = None


@dataclass(frozen=True, slots=True)
class Defaults:
    reminders: tuple[Offset, ...]
    all_day_at: time
    countdown: CountdownSpec | None
    notify: tuple[str, ...]
    # Routes live with the defaults because they are applied wherever defaults are: to file events at load time
    # and to database-owned events when their draft is resolved, so ``EventSpec.notify`` is always the full set.
    routes: tuple[Route, ...] = ()
    # The file's working-day calendar and closed-day rule (alertd.calendar.workdays), for its and the API's events.
    workdays: WorkdayCalendar | None = None
    if_closed: IfClosed = "none"
    after_ack: str = "stop"
    escalate: tuple[Escalation, ...] = ()


@dataclass(frozen=True, slots=True)
class QuietHours:
    """Local wall-clock window (channel zone) in which nothing is sent; ``start > end`` wraps past midnight."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Sustained sends per second towards one channel and the burst it tolerates (a token bucket)."""

    per_second: float
    burst: int = 1


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    """A delivery target: ``type`` picks the channel module, ``options`` are its validated settings."""

    id: str
    type: str
    timezone: str
    locale: str = "en"
    options: Mapping[str, Any] = field(default_factory=dict)
    quiet_hours: QuietHours | None = None
    # None = the channel type's documented rate (alertd.channels.base.ChannelType.rate).
    rate_limit: RateLimit | None = None
    # Per-kind Jinja2 overrides, validated at load (alertd.messages.templates):
    # {"reminder": {"title": "…", "text": "…"}, …}.
    templates: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventSpec:
    """One key date, with defaults already applied.

    ``local_start`` is the wall-clock start in ``timezone`` (midnight for all-day events); ``starts_at`` is the
    same instant in UTC. ``owner`` is ``file`` for provisioned events, ``db`` for events made by the CLI/API and
    ``feed`` for events read from an iCalendar source (their id starts with ``<source-id>:``).
    """

    id: str
    title: str
    local_start: datetime
    all_day: bool
    timezone: str
    starts_at: datetime
    status: str = "confirmed"
    tags: tuple[str, ...] = ()
    source: str | None = None
    notes: str | None = None
    reminders: tuple[Offset, ...] = ()
    notify: tuple[str, ...] = ()
    all_day_at: time = time(9, 0)
    countdown: bool = True
    owner: str = "file"
    after_ack: str = "stop"
    escalate: tuple[Escalation, ...] = ()
    # Read from the database (alertd.storage.acks keeps it): a file or draft never sets it.
    acknowledged: bool = False
    # The planning fingerprint (alertd.planning.fingerprint), kept once computed: the object is immutable, and a
    # reload that reuses an unchanged event must not digest it again. Not an argument, so ``replace`` (a new
    # object) starts without one; not compared, hashed or shown.
    memo_fingerprint: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def quiet(self) -> bool:
        """Acknowledged with ``after_ack: stop``: no more reminders or countdown lines."""
        return self.acknowledged and self.after_ack == "stop"


@dataclass(frozen=True, slots=True)
class Occurrence:
    """An ``occurrences:`` entry: what one occurrence of a series does differently (None = as the series says)."""

    local_start: datetime | None = None
    all_day: bool | None = None
    starts_at: datetime | None = None
    status: str | None = None
    title: str | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class Series:
    """A recurring file event: ``event`` is its first occurrence as written (``at``), ``rule`` a validated RFC 5545
    RRULE value, ``exdates`` and ``overrides`` keyed by the local date of an occurrence as the rule places it."""

    event: EventSpec
    rule: str
    exdates: frozenset[date] = frozenset()
    overrides: Mapping[date, Occurrence] = field(default_factory=dict)
    # Applied per occurrence (alertd.planning.recurrence): ``event`` keeps its written date and uncounted ``Nbd``.
    workdays: WorkdayCalendar | None = None
    if_closed: IfClosed = "none"


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """An iCalendar feed from the calendar's ``sources:``: where to read it (``url``, or ``path`` resolved beside the
    calendar file) and what its events get, as an event in the file would (``notify`` before routes are applied)."""

    id: str
    url: str | None
    path: str | None
    refresh: timedelta
    timezone: str
    reminders: tuple[Offset, ...]
    notify: tuple[str, ...]
    tags: tuple[str, ...] = ()
    all_day_at: time = time(9, 0)
    countdown: bool = True

    @property
    def where(self) -> str:
        """The feed's location as messages may show it: a file's name, or a URL cut to ``scheme://host/…`` (secret
        addresses carry their token in the path)."""
        if self.url is None:
            # The file's name only: API answers must not reveal the server's folders.
            return (self.path or "").replace("\\", "/").rsplit("/", 1)[-1]
        head, _, rest = self.url.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        return f"{head}://{host}/…" if rest.strip("/") != host else f"{head}://{host}/"


@dataclass(frozen=True, slots=True)
class Calendar:
    """A validated calendar file."""

    path: str
    timezone: str
    defaults: Defaults
    channels: Mapping[str, ChannelSpec]
    events: tuple[EventSpec, ...]
    # The channel that hears about alertd's own trouble (a rejected calendar edit, a failing channel), if any.
    admin: str | None = None
    # Recurring events: not in ``events``, whose occurrences (``id@YYYYMMDD``) depend on ``now``
    # (alertd.planning.recurrence expands them).
    series: tuple[Series, ...] = ()
    # iCalendar feeds whose events the database holds (owner "feed"), refreshed by the daemon.
    sources: tuple[SourceSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class Planned:
    """A notification the planner wants to exist. ``id`` is stable: it is the idempotency key."""

    id: str
    kind: Kind
    channel: str
    due_at: datetime
    event_id: str | None = None
    offset: str | None = None
    expires_at: datetime | None = None
    payload: Mapping[str, Any] | None = None


class CountdownLine(NamedTuple):
    """One event in a message, with how far away it is: ``text`` ("tomorrow") counts ``days`` to ``day``, a date in
    the reader's zone, and ``day_text`` shows that date (and the event's own, where it differs) in words.

    This and :class:`Message` are NamedTuples, immutable like the frozen dataclasses here: one of each is built
    for every delivery, and a frozen dataclass's ``__init__`` costs several times as much.
    """

    event: EventSpec
    seconds: int
    days: int
    text: str
    day: date
    day_text: str


class Message(NamedTuple):
    """A rendered notification, ready for any channel to format natively (``_replace`` makes a changed copy)."""

    id: str
    kind: Kind
    channel: str
    title: str
    text: str
    due_at: datetime
    sent_at: datetime
    late: bool = False
    event: EventSpec | None = None
    offset: str | None = None
    countdown: CountdownLine | None = None
    lines: tuple[CountdownLine, ...] = ()
    change: Mapping[str, Any] | None = None
    channel_timezone: str = "UTC"
    # The channel's locale, for channels that word their own labels around these fields.
    locale: str = "en"
    # A signed one-click acknowledgement link (alertd.delivery.links), when ALERTD_PUBLIC_URL is set.
    ack_url: str | None = None


def event_snapshot(event: EventSpec) -> dict[str, Any]:
    """What a change notice reports about an event before or after a change."""
    return {
        "title": event.title,
        "local_start": event.local_start.isoformat(),
        "all_day": event.all_day,
        "timezone": event.timezone,
        "starts_at": event.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "status": event.status,
    }


def start_text(event: EventSpec) -> str:
    """The event's start in the calendar file's syntax, reading back as the same instant: a date, a wall-clock
    time, or, for the second run of a repeated hour (which the wall clock alone does not name), with its offset."""
    if event.all_day:
        return event.local_start.date().isoformat()
    if localize(event.local_start, zone(event.timezone)) == event.starts_at:
        return event.local_start.isoformat()
    return event.starts_at.astimezone(zone(event.timezone)).isoformat()
