"""RFC 5545 RRULE values as alertd accepts them, parsed by python-dateutil (never expanded by hand here).

A rule is read in the event's local wall time: ``dtstart`` is the naive wall-clock start and every occurrence the
rule yields is naive too, to be placed in the zone by :func:`alertd.timeexpr.localize` (RFC 5545 §3.3.5).

Bounds: an occurrence is named by its local date, so a rule may not repeat more often than daily nor pick times of
day (``BYHOUR``…: the time comes from ``at``); ``COUNT`` and ``INTERVAL`` are capped; and the first occurrence is
searched for a bounded time, because dateutil scans to the year 9999 for a rule that matches nothing (Feb 30).
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from dateutil.rrule import rrule

__all__ = ["MAX_COUNT", "MAX_INTERVAL", "RuleError", "build_rule", "first_occurrence", "rule_until"]

MAX_COUNT = 100_000
MAX_INTERVAL = 1000
_PARTS = (
    "FREQ",
    "UNTIL",
    "COUNT",
    "INTERVAL",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
    "WKST",
)
_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_TOO_OFTEN = ("SECONDLY", "MINUTELY", "HOURLY")
_TIMES = ("BYHOUR", "BYMINUTE", "BYSECOND")
_ODD = re.compile(r"[^A-Z0-9=;,+-]")
_UNTIL = re.compile(r"^(\d{8})(?:T(\d{6})(Z?))?$")
_EXAMPLE = "e.g. FREQ=MONTHLY;BYDAY=-1FR or FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=31;COUNT=5"
# How long the search for a rule's first occurrence may take; a rule that matches nothing costs dateutil seconds.
_SEARCH_SECONDS = 2.0


def _shown(text: str) -> str:
    """A part of the rule quoted in a message, cut short: a message stays one readable line."""
    return repr(text if len(text) <= 40 else text[:40] + "…")


class RuleError(ValueError):
    """A ``repeat:`` value alertd does not accept; the message says why and how to write it."""


def _until(text: str, tz: ZoneInfo) -> datetime:
    """UNTIL as a naive local wall time: a date includes that whole local day; a UTC time is converted."""
    match = _UNTIL.match(text)
    if match is None:
        raise RuleError(
            f"bad UNTIL {_shown(text)}: write a date (UNTIL=20261231) or a UTC time (UNTIL=20261231T170000Z)"
        )
    try:
        day = datetime.strptime(match.group(1), "%Y%m%d")
        if match.group(2) is None:
            return datetime.combine(day.date(), time(23, 59, 59))
        moment = datetime.strptime(match.group(1) + match.group(2), "%Y%m%d%H%M%S")
    except ValueError:
        raise RuleError(f"bad UNTIL {_shown(text)}: not a real date or time") from None
    if match.group(3):
        return moment.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
    return moment


def build_rule(text: str, dtstart: datetime, tz: ZoneInfo) -> rrule:
    """The dateutil rule of ``repeat: text`` starting at the naive wall time ``dtstart``; RuleError otherwise."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError(f"must be an RRULE, {_EXAMPLE}")
    body = text.strip().upper().removeprefix("RRULE:")
    odd = _ODD.search(body)
    if odd is not None:
        raise RuleError(f"bad character {odd.group()!r} in the rule: write NAME=VALUE pairs joined by ';', {_EXAMPLE}")
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        name, sep, value = piece.partition("=")
        if not sep or not value:
            raise RuleError(f"bad rule part {_shown(piece)}: write NAME=VALUE pairs joined by ';', {_EXAMPLE}")
        if name in parts:
            raise RuleError(f"{name} is given twice; give it once")
        if name in _TIMES:
            raise RuleError(f"{name} is not supported: the time of day comes from 'at' (one occurrence a day)")
        if name not in _PARTS:
            raise RuleError(f"unknown rule part {_shown(name)}: use {', '.join(_PARTS)}")
        parts[name] = value
    freq = parts.get("FREQ")
    if freq is None:
        raise RuleError(f"FREQ is missing, {_EXAMPLE}")
    if freq in _TOO_OFTEN:
        raise RuleError(f"FREQ={freq} is more often than daily: alertd names each occurrence by its date")
    if freq not in _FREQS:
        raise RuleError(f"unknown FREQ {_shown(freq)}: use one of {', '.join(_FREQS)}")
    if "COUNT" in parts and "UNTIL" in parts:
        raise RuleError("COUNT and UNTIL cannot both be given (RFC 5545): keep one")
    for name, cap in (("COUNT", MAX_COUNT), ("INTERVAL", MAX_INTERVAL)):
        if name in parts and not (parts[name].isdigit() and 1 <= int(parts[name][:9]) <= cap):
            raise RuleError(f"bad {name} {_shown(parts[name])}: write a whole number from 1 to {cap}")
    until = _until(parts.pop("UNTIL"), tz) if "UNTIL" in parts else None
    # Imported here: a calendar without recurring events never needs it (alertd check stays light).
    from dateutil.rrule import rrule, rrulestr

    try:
        rule = rrulestr(";".join(f"{k}={v}" for k, v in parts.items()), dtstart=dtstart.replace(fold=0))
    except (ValueError, TypeError, IndexError, OverflowError) as exc:
        raise RuleError(f"bad rule {_shown(text.strip())}: {exc}; {_EXAMPLE}") from None
    if not isinstance(rule, rrule):
        raise RuleError(f"must be one RRULE, {_EXAMPLE}")
    if until is not None:
        if until < dtstart:
            raise RuleError(f"UNTIL {until:%Y-%m-%d %H:%M} is before 'at': nothing would happen")
        rule = rule.replace(until=until)
    return rule


def rule_until(text: str, tz: ZoneInfo) -> datetime | None:
    """The naive local wall time a valid rule's UNTIL means (the end of the day for a date), or None."""
    for piece in text.strip().upper().removeprefix("RRULE:").split(";"):
        name, _, value = piece.partition("=")
        if name == "UNTIL":
            return _until(value, tz)
    return None


def first_occurrence(rule: rrule) -> datetime | None:
    """The rule's first occurrence, or None when none was found within a bounded search.

    dateutil only stops scanning a rule that matches nothing at the year 9999 (seconds of CPU): the search runs
    in a daemon thread that is abandoned after a few seconds, finishing on its own soon after.
    """
    found: list[datetime | None] = []

    def search() -> None:
        found.append(next(iter(rule), None))

    worker = threading.Thread(target=search, name="alertd-rrule-probe", daemon=True)
    worker.start()
    worker.join(_SEARCH_SECONDS)
    return found[0] if found else None
