"""``repeat:``, ``except:`` and ``occurrences:`` of a calendar event, checked into a :class:`~alertd.domain.Series`.

An occurrence is named by the local date the rule gives it (``month-end@20260327``), and ``except:`` and
``occurrences:`` name occurrences the same way, so a moved occurrence keeps its name. Each problem is reported at
its own key's line, like every other key of the file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from alertd.calendar.rrules import RuleError, build_rule, first_occurrence
from alertd.calendar.schema import Checker, suggest
from alertd.calendar.yamlsrc import KeyPath
from alertd.domain import EVENT_STATUSES, EventSpec, Occurrence, Series
from alertd.timeexpr import zone
from alertd.workdays import IfClosed, WorkdayCalendar

__all__ = ["MAX_OCCURRENCES", "SERIES_KEYS", "check_budget", "check_series"]

SERIES_KEYS = ("repeat", "except", "occurrences")
_OCCURRENCE_KEYS = ("at", "status", "title", "notes")
# Every occurrence within the planning window is an event row with its reminders: the file's rules together may
# make at most this many in any 400 days (the default horizon), so a runaway file cannot fill the database.
MAX_OCCURRENCES = 200_000
_BUDGET_DAYS = 400
_OCCURRENCE_EXAMPLE = "{2026-03-27: {at: 2026-03-30T17:00, status: confirmed}}"
# Dates named by except:/occurrences: are checked against the rule's own dates; scanning further than this many
# occurrences to reach one would mean a date decades past the start of a daily rule.
_MAX_SCAN = 40_000

StartParser = Callable[[Checker, KeyPath, Any, str], "tuple[datetime, bool, datetime] | None"]


def _day(ck: Checker, raw: Any, path: KeyPath) -> date | None:
    text = raw.isoformat() if isinstance(raw, date) else str(raw).strip()
    try:
        if len(text) != len("2026-03-31"):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        ck.error(path, f"bad date {text!r}: name an occurrence by its date as the rule gives it, e.g. 2026-03-31")
        return None


def _rule_days(series_rule: Any, wanted: set[date]) -> set[date]:
    """Which of ``wanted`` are dates the rule gives (scanning no further than the last of them)."""
    if not wanted:
        return set()
    last = datetime.combine(max(wanted), time.max)
    found: set[date] = set()
    for count, local in enumerate(series_rule):
        if local > last or count >= _MAX_SCAN:
            break
        if local.date() in wanted:
            found.add(local.date())
    return found


def check_series(
    ck: Checker,
    path: KeyPath,
    m: dict[str, Any],
    event: EventSpec,
    parse_start: StartParser,
    *,
    workdays: WorkdayCalendar | None = None,
    if_closed: IfClosed = "none",
) -> Series | None:
    """The recurring event ``m`` (already checked as one event, ``event``, its date as written and its business-day
    offsets uncounted), or None after recording its issues."""
    for key in ("except", "occurrences"):
        if key in m and "repeat" not in m:
            ck.error((*path, key), f"{key!r} only applies to a repeating event: add 'repeat:' or remove it")
    if "repeat" not in m:
        return None
    errors = ck.error_count
    tz = zone(event.timezone)
    start = event.local_start.replace(fold=0)
    try:
        rule = build_rule(m["repeat"], start, tz)
    except RuleError as exc:
        ck.error((*path, "repeat"), str(exc))
        return None
    first = first_occurrence(rule)
    if first is None:
        ck.error((*path, "repeat"), "the rule gives no occurrence at or after 'at' (a date that never comes?)")
        return None
    if first != start:
        ck.error(
            (*path, "at"),
            f"{start:%Y-%m-%d} is not a date the rule gives; set 'at' to its first occurrence, {first:%Y-%m-%d}",
        )
        return None
    exdates = _exdates(ck, (*path, "except"), m.get("except"))
    overrides = _overrides(ck, (*path, "occurrences"), m.get("occurrences"), event, parse_start)
    named = {d: (*path, "except") for d in exdates} | {d: (*path, "occurrences", k) for d, k in overrides[1].items()}
    for day in sorted(set(named) - _rule_days(rule, set(named))):
        ck.error(named[day], f"{day} is not a date the rule gives; name an occurrence by its original date")
    for day in sorted(exdates & set(overrides[0])):
        ck.error((*path, "occurrences", overrides[1][day]), f"{day} is also in 'except': keep it in one of them")
    if ck.error_count > errors:
        return None
    return Series(
        event=event,
        rule=str(m["repeat"]).strip(),
        exdates=frozenset(exdates),
        overrides=overrides[0],
        workdays=workdays,
        if_closed=if_closed if workdays is not None else "none",
    )


def _exdates(ck: Checker, path: KeyPath, raw: Any) -> set[date]:
    if raw is None:
        return set()
    if not isinstance(raw, list):
        ck.error(path, "must be a list of dates, e.g. [2026-04-24, 2026-12-25]")
        return set()
    days = [_day(ck, item, (*path, i)) for i, item in enumerate(raw)]
    return {d for d in days if d is not None}


def _overrides(
    ck: Checker, path: KeyPath, raw: Any, event: EventSpec, parse_start: StartParser
) -> tuple[dict[date, Occurrence], dict[date, Any]]:
    """The overrides by original date, and the key each was written with (for its line)."""
    found: dict[date, Occurrence] = {}
    keys: dict[date, Any] = {}
    m = ck.mapping(raw, path, _OCCURRENCE_EXAMPLE)
    for key, value in (m or {}).items():
        day = _day(ck, key, (*path, key))
        entry = ck.mapping(value, (*path, key), "{at: 2026-03-30T17:00, status: cancelled}")
        if day is None or entry is None:
            continue
        ck.keys(entry, (*path, key), _OCCURRENCE_KEYS, ())
        if not entry:
            ck.error((*path, key), f"says nothing: give at least one of {', '.join(_OCCURRENCE_KEYS)}")
            continue
        moved = None
        if entry.get("at") is not None:
            moved = parse_start(ck, (*path, key, "at"), entry["at"], event.timezone)
        status = ck.text(entry["status"], (*path, key, "status")) if entry.get("status") is not None else None
        if status is not None and status not in EVENT_STATUSES:
            ck.error((*path, key, "status"), f"unknown status {status!r} {suggest(status, EVENT_STATUSES)}")
        title = ck.text(entry["title"], (*path, key, "title"), nonempty=True) if "title" in entry else None
        notes = ck.text(entry["notes"], (*path, key, "notes")) if entry.get("notes") is not None else None
        found[day] = Occurrence(
            local_start=moved[0] if moved else None,
            all_day=moved[1] if moved else None,
            starts_at=moved[2] if moved else None,
            status=status,
            title=title.strip() if title else None,
            notes=notes,
        )
        keys[day] = key
    return found, keys


def check_budget(ck: Checker, found: list[tuple[KeyPath, Series]]) -> None:
    """Refuse, at the rule that crosses it, recurring events that together make more than MAX_OCCURRENCES
    occurrences in their first 400 days."""
    total = 0
    for path, series in found:
        event = series.event
        rule = build_rule(series.rule, event.local_start, zone(event.timezone))
        start = event.local_start.replace(fold=0)
        total += len(rule.between(start, start + timedelta(days=_BUDGET_DAYS), inc=True))
        if total > MAX_OCCURRENCES:
            ck.error(
                (*path, "repeat"),
                f"the recurring events up to here make more than {MAX_OCCURRENCES} occurrences in 400 days, each "
                "planned as an event: use fewer or sparser rules",
            )
            return
