"""Load and validate the calendar file (SPEC §2) into a :class:`~alertd.domain.Calendar`.

Every problem in the file is reported in one pass: each check records an issue and the loader carries on with
whatever still makes sense, so a user fixes the whole file after a single ``alertd check``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from alertd.calendar.ackopts import check_after_ack, check_escalate
from alertd.calendar.channels import check_channels
from alertd.calendar.repeat import SERIES_KEYS, check_budget, check_series
from alertd.calendar.reuse import EventReuse, ReuseRound
from alertd.calendar.routes import check_routes, resolve_notify
from alertd.calendar.schema import Checker, interpolate, suggest
from alertd.calendar.sources import check_sources
from alertd.calendar.workdays import check_default_rule, check_if_closed, check_workdays, settle_event
from alertd.calendar.yamlsrc import KeyPath, YamlDoc, load_yaml
from alertd.domain import EVENT_STATUSES, Calendar, CountdownSpec, Defaults, EventSpec, Series
from alertd.environ import CALENDAR_MAX_BYTES
from alertd.errors import CalendarError, CalendarIssue, FileReadError
from alertd.files import read_text
from alertd.timeexpr import (
    Offset,
    day_start,
    is_ambiguous,
    is_nonexistent,
    localize,
    parse_offset,
    wall_clock,
    zone,
)
from alertd.workdays import IfClosed, WorkdayCalendar

if TYPE_CHECKING:
    from alertd.environ import Basics
    from alertd.settings import Settings

__all__ = ["check_calendar", "check_event", "load_calendar", "parse_calendar"]

_TOP = ("version", "timezone", "admin", "defaults", "channels", "routes", "events", "workdays", "sources")
_DEFAULTS = ("reminders", "all_day_at", "countdown", "notify", "if_closed", "after_ack", "escalate")
_EVENT = ("id", "title", "at", "timezone", "status", "tags", "source", "notes", "workdays", *_DEFAULTS, *SERIES_KEYS)
_EVENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_AT = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:\d{2})?)?$")
_AT_HELP = "write 2025-11-10 (all day), 2025-11-10T00:01 (local time) or 2025-11-10T00:01-05:00"
_FIRST_YEAR, _LAST_YEAR = 1900, 2999
_NO_DEFAULTS = Defaults(reminders=(), all_day_at=time(9, 0), countdown=None, notify=())


def load_calendar(
    path: str | Path,
    *,
    environ: Mapping[str, str] | None = None,
    settings: Settings | Basics | None = None,
    secrets: bool = True,
    reuse: EventReuse | None = None,
) -> tuple[Calendar, list[CalendarIssue]]:
    """Load the calendar at ``path``: return it and its warnings, or raise CalendarError with every issue.

    ``settings`` bounds the file's size (ALERTD_CALENDAR_MAX_BYTES) and confines ``*_file`` reads
    (ALERTD_SECRETS_DIR); without them the defaults apply and ``*_file`` may read any file. ``secrets=False`` is
    for commands that send nothing: unset ``${VAR}``s and unreadable ``*_file``s are then not errors, and the
    channels they belong to lack those options. ``reuse``, kept by a caller that reloads the file, hands unchanged
    events back as the objects the last good load built (alertd.calendar.reuse).
    """
    file = str(path)
    max_bytes = settings.calendar_max_bytes if settings is not None else CALENDAR_MAX_BYTES
    try:
        text = read_text(Path(path), max_bytes=max_bytes, encoding="utf-8-sig")  # Windows editors add a BOM
    except FileReadError as exc:
        fix = "raise ALERTD_CALENDAR_MAX_BYTES or split the file" if "limit" in str(exc) else "check the path"
        message = f"cannot read the calendar file: {exc}; {fix} (ALERTD_CALENDAR or --calendar)"
        raise CalendarError([CalendarIssue(file, 1, "", message)]) from None
    secrets_dir = settings.secrets_dir if settings is not None else None
    return parse_calendar(
        text,
        name=file,
        environ=environ,
        base_dir=Path(path).parent,
        secrets=secrets,
        secrets_dir=secrets_dir,
        reuse=reuse,
    )


def parse_calendar(
    text: str,
    *,
    name: str,
    environ: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    secrets: bool = True,
    secrets_dir: Path | None = None,
    reuse: EventReuse | None = None,
) -> tuple[Calendar, list[CalendarIssue]]:
    """Validate calendar ``text`` (``name`` in issues); ``*_file`` paths are relative to ``base_dir``; ``reuse``
    as :func:`load_calendar` takes it.

    No issue quotes a value that came from ``${VAR}`` or a ``*_file``: those are shown as ``<value of …>``.
    """
    doc = load_yaml(text, file=name)
    return check_calendar(
        doc, name=name, environ=environ, base_dir=base_dir, secrets=secrets, secrets_dir=secrets_dir, reuse=reuse
    )


def check_calendar(
    doc: YamlDoc,
    *,
    name: str,
    environ: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    secrets: bool = True,
    secrets_dir: Path | None = None,
    reuse: EventReuse | None = None,
) -> tuple[Calendar, list[CalendarIssue]]:
    """:func:`parse_calendar` of a document already read (the benchmarks build one without YAML text)."""
    ck = Checker(name, doc, secrets=secrets, secrets_dir=secrets_dir)
    raw = ck.doc.data
    if raw is None:
        ck.error((), "the calendar is empty: start with 'version: 1'")
    data = ck.mapping(interpolate(raw, (), os.environ if environ is None else environ, ck), (), "version: 1")
    data = data or {}
    ck.keys(data, (), _TOP, ["version"] if isinstance(raw, dict) else [])
    if "version" in data and (type(data["version"]) is not int or data["version"] != 1):
        ck.error(("version",), f"unsupported version {data['version']!r}: this alertd reads 'version: 1'")
    tz = ck.zone_name(data.get("timezone", "UTC"), ("timezone",)) or "UTC"
    channels, declared = check_channels(ck, data.get("channels"), tz, base_dir or Path())
    defaults = _defaults(ck, data.get("defaults"), declared)
    defaults = replace(defaults, routes=check_routes(ck, data.get("routes"), declared))
    if data.get("workdays") is not None:
        defaults = replace(defaults, workdays=check_workdays(ck, data["workdays"], ("workdays",)))
    check_default_rule(ck, defaults, data.get("workdays") is not None)
    # Everything calendar-wide that shapes an event besides its own entry (settle_event also asks whether the file
    # has a workdays section, valid or not).
    context = (tz, defaults, declared, data.get("workdays") is not None, secrets)
    round_ = reuse.begin(context) if reuse is not None else None
    events, series = _events(ck, data.get("events"), tz, defaults, declared, round_)
    admin = _admin(ck, data.get("admin"), declared)
    sources = check_sources(ck, data.get("sources"), tz, defaults, declared, base_dir or Path())
    calendar = Calendar(
        path=name,
        timezone=tz,
        defaults=defaults,
        channels=channels,
        events=events,
        admin=admin,
        series=series,
        sources=sources,
    )
    issues = ck.redacted()
    if ck.error_count:
        raise CalendarError(issues)
    if round_ is not None:
        round_.commit()
    return calendar, issues


def _admin(ck: Checker, raw: Any, declared: tuple[str, ...]) -> str | None:
    """``admin: CHANNEL``: who hears of rejected calendar edits and of channels failing and recovering."""
    if raw is None:
        return None
    name = ck.text(raw, ("admin",))
    if name is not None and name not in declared:
        ck.error(("admin",), f"unknown channel {name!r} {suggest(name, declared)}")
        return None
    return name


def _defaults(ck: Checker, raw: Any, declared: tuple[str, ...]) -> Defaults:
    path: KeyPath = ("defaults",)
    m = ck.mapping(raw, path, "{reminders: [1d, 0m]}")
    if m is None:
        return _NO_DEFAULTS
    ck.keys(m, path, _DEFAULTS, ())
    reminders: tuple[Offset, ...] = (parse_offset("1d"), parse_offset("0m"))
    if m.get("reminders") is not None:
        reminders = ck.offsets(m["reminders"], (*path, "reminders")) or ()
    at = time(9, 0)
    if m.get("all_day_at") is not None:
        at = ck.clock(m["all_day_at"], (*path, "all_day_at")) or at
    countdown = _countdown(ck, m.get("countdown", True), (*path, "countdown"))
    notify = declared
    if m.get("notify") is not None:
        notify = _notify(ck, m["notify"], (*path, "notify"), declared) or ()
    if_closed = check_if_closed(ck, m["if_closed"], (*path, "if_closed")) if "if_closed" in m else None
    after_ack = check_after_ack(ck, m["after_ack"], (*path, "after_ack")) if m.get("after_ack") is not None else None
    escalate = None
    if m.get("escalate") is not None:
        escalate = check_escalate(ck, m["escalate"], (*path, "escalate"), lambda r, p: _notify(ck, r, p, declared))
    return Defaults(
        reminders=reminders,
        all_day_at=at,
        countdown=countdown,
        notify=notify,
        if_closed=if_closed or "none",
        after_ack=after_ack or "stop",
        escalate=escalate or (),
    )


def _countdown(ck: Checker, raw: Any, path: KeyPath) -> CountdownSpec | None:
    if raw is None or raw is False:
        return None
    m = {} if raw is True else ck.mapping(raw, path, '{within: 7d, at: "09:00"} (or false)')
    if m is None:
        return None
    ck.keys(m, path, ("within", "at"), ())
    days, at = 7, time(9, 0)
    if m.get("within") is not None:
        within = ck.offset(m["within"], (*path, "within"))
        if within is not None and (within.after or within.seconds or within.days < 1):
            ck.error((*path, "within"), f"bad window {within.text!r}: write whole days, e.g. 14d or 2w")
        elif within is not None:
            days = within.days
    if m.get("at") is not None:
        at = ck.clock(m["at"], (*path, "at")) or at
    return CountdownSpec(within_days=days, at=at)


def _notify(ck: Checker, raw: Any, path: KeyPath, declared: tuple[str, ...]) -> tuple[str, ...] | None:
    ids = ck.text_list(raw, path, "[desk-slack]")
    if ids is None:
        return None
    for i, cid in enumerate(ids):
        if cid not in declared:
            hint = suggest(cid, declared)
            ck.error((*path, i), f"unknown channel {cid!r} {hint}; declare it under 'channels'")
    return tuple(dict.fromkeys(ids))


def _events(
    ck: Checker, raw: Any, tz: str, defaults: Defaults, declared: tuple[str, ...], reuse: ReuseRound | None
) -> tuple[tuple[EventSpec, ...], tuple[Series, ...]]:
    """The one-off events and the recurring ones (``repeat:``), unchanged one-off events from ``reuse``."""
    if raw is None:
        return (), ()
    if not isinstance(raw, list):
        ck.error(("events",), "must be a list of events, each starting with '- id: ...'")
        return (), ()
    seen: dict[str, int] = {}
    events: list[EventSpec] = []
    series: list[tuple[KeyPath, Series]] = []
    # An unset ${VAR} (allowed without secrets) silences errors under its key, which its text alone does not tell.
    unresolved = {u[1] for u in ck.unresolved if len(u) > 1 and u[0] == "events"}
    for i, item in enumerate(raw):
        eid = item.get("id") if isinstance(item, dict) else None
        if isinstance(eid, str) and eid in seen:
            ck.error(("events", i, "id"), f"duplicate event id {eid!r} (first on line {seen[eid]}); rename one")
        elif isinstance(eid, str):
            seen[eid] = ck.line(("events", i, "id"))
        repeating = isinstance(item, dict) and any(k in item for k in SERIES_KEYS)
        key = None
        if reuse is not None and isinstance(item, dict) and not repeating and i not in unresolved:
            key = reuse.key(item)
            same = reuse.get(key)
            if same is not None:
                events.append(same)
                continue
        issues = len(ck.issues)
        checked = _check_event(ck, ("events", i), item, tz, defaults, declared)
        event = _settled(ck, ("events", i), checked)
        if checked is not None and event is not None and repeating:
            # The series keeps the date as written and its Nbd uncounted: each occurrence is settled on its own.
            days = checked.workdays
            found = check_series(ck, ("events", i), item, checked.event, _start, workdays=days, if_closed=checked.rule)
            if found is not None:
                series.append((("events", i), found))
        elif event is not None:
            events.append(event)
            if reuse is not None and key is not None and len(ck.issues) == issues:
                reuse.keep(key, event)
    check_budget(ck, series)
    return tuple(events), tuple(s for _, s in series)


class _Checked(NamedTuple):
    """An event before its working-day calendar is applied, and what applying it takes."""

    event: EventSpec
    workdays: WorkdayCalendar | None
    rule: IfClosed
    own_reminders: bool
    own_rule: bool


def check_event(
    ck: Checker, path: KeyPath, raw: Any, cal_tz: str, defaults: Defaults, declared: tuple[str, ...]
) -> EventSpec | None:
    return _settled(ck, path, _check_event(ck, path, raw, cal_tz, defaults, declared))


def _settled(ck: Checker, path: KeyPath, checked: _Checked | None) -> EventSpec | None:
    if checked is None:
        return None
    event, workdays, rule, own_reminders, own_rule = checked
    return settle_event(ck, path, event, workdays, rule, own_reminders=own_reminders, own_rule=own_rule)


def _check_event(
    ck: Checker, path: KeyPath, raw: Any, cal_tz: str, defaults: Defaults, declared: tuple[str, ...]
) -> _Checked | None:
    m = ck.mapping(raw, path, "{id: truce-expiry, title: ..., at: 2025-11-10}")
    if m is None:
        return None
    ck.keys(m, path, _EVENT, ("id", "title", "at"))
    errors = ck.error_count

    def opt(key: str, check: Callable[..., Any], *args: Any) -> Any:
        return check(m[key], (*path, key), *args) if m.get(key) is not None else None

    eid = ck.text(m["id"], (*path, "id")) if "id" in m else None
    if eid is not None and not _EVENT_ID.match(eid):
        ck.error((*path, "id"), f"bad event id {eid!r}: use a-z, 0-9 and '-', e.g. truce-expiry")
    title = ck.text(m["title"], (*path, "title"), nonempty=True) if "title" in m else None
    tz = opt("timezone", ck.zone_name) or cal_tz
    status = opt("status", ck.text) or "confirmed"
    if status not in EVENT_STATUSES:
        ck.error((*path, "status"), f"unknown status {status!r} {suggest(status, EVENT_STATUSES)}")
    tags = opt("tags", ck.text_list, "[trade, deadline]") or ()
    source, notes = opt("source", ck.text), opt("notes", ck.text)
    reminders: tuple[Offset, ...] | None = opt("reminders", ck.offsets)
    notify = opt("notify", lambda raw, p: _notify(ck, raw, p, declared))
    all_day_at = opt("all_day_at", ck.clock) or defaults.all_day_at
    countdown = opt("countdown", ck.boolean)
    after_ack = opt("after_ack", lambda raw, p: check_after_ack(ck, raw, p))
    escalate = opt("escalate", lambda raw, p: check_escalate(ck, raw, p, lambda r, q: _notify(ck, r, q, declared)))
    start = _start(ck, (*path, "at"), m["at"], tz) if "at" in m else None
    workdays = opt("workdays", lambda raw, p: check_workdays(ck, raw, p)) or defaults.workdays
    own_rule = opt("if_closed", lambda raw, p: check_if_closed(ck, raw, p))
    if ck.error_count > errors or start is None or eid is None or title is None:
        return None
    local_start, all_day, starts_at = start
    event = EventSpec(
        id=eid,
        title=title.strip(),
        local_start=local_start,
        all_day=all_day,
        timezone=tz,
        starts_at=starts_at,
        status=status,
        tags=tags,
        source=source,
        notes=notes,
        reminders=defaults.reminders if reminders is None else reminders,
        notify=resolve_notify(defaults.notify if notify is None else notify, defaults.routes, tags, status),
        all_day_at=all_day_at,
        countdown=countdown is not False,
        after_ack=after_ack or defaults.after_ack,
        escalate=defaults.escalate if escalate is None else escalate,
    )
    rule = own_rule or defaults.if_closed
    return _Checked(event, workdays, rule, reminders is not None, own_rule is not None)


def _start(ck: Checker, path: KeyPath, raw: Any, tz_name: str) -> tuple[datetime, bool, datetime] | None:
    """The event's wall-clock start in its zone, whether it is all-day, and its exact UTC instant.

    A date is an all-day event starting at the first instant of that day. A time with an offset (or ``Z``) is the
    instant written; one without is read in the zone, where a time that never happens (DST gap) is an error and
    one that happens twice (fold) means the first, with a warning.
    """
    text = raw.strip() if isinstance(raw, str) else repr(raw)
    try:
        if not _AT.match(text):
            raise ValueError(text)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        ck.error(path, f"bad date/time {text!r}: {_AT_HELP}")
        return None
    if not _FIRST_YEAR <= parsed.year <= _LAST_YEAR:
        # Zone conversion and reminder offsets (up to 10 years) would leave datetime's range near year 1 or 9999.
        ck.error(path, f"date {text!r} is out of range: use a year from {_FIRST_YEAR} to {_LAST_YEAR}")
        return None
    tz = zone(tz_name)
    if len(text) == len("2025-11-10"):
        try:
            return parsed, True, day_start(parsed.date(), tz)
        except ValueError as exc:
            ck.error(path, f"{exc}; choose another date")
            return None
    if parsed.tzinfo is not None:
        # Any offset is taken as written, also one the zone never uses (a source's "00:01 ET" on an event kept in
        # Asia/Shanghai): it names one instant, which messages then show in the event's zone.
        instant = parsed.astimezone(UTC)
        return wall_clock(instant, tz), False, instant
    if is_nonexistent(parsed, tz):
        fix = localize(parsed, tz).astimezone(tz).strftime("%H:%M")
        ck.error(
            path,
            f"{text} does not exist in {tz_name} (clocks jump forward); use {fix} or give an explicit offset",
        )
        return None
    if is_ambiguous(parsed, tz):
        first, second = (_utc_offset(parsed.replace(tzinfo=tz, fold=fold)) for fold in (0, 1))
        ck.warn(
            path,
            f"{text} happens twice in {tz_name} (clocks go back); using the first occurrence "
            f"(UTC{first}); append {second} to mean the second",
        )
    return parsed, False, localize(parsed, tz)


def _utc_offset(moment: datetime) -> str:
    """``-05:00``, as a calendar time writes its offset."""
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:5]}" + (f":{text[5:]}" if text[5:] else "")
