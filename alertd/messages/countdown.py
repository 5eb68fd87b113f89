"""The default words of a countdown digest: one line per event, soonest first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from alertd.domain import CountdownLine, EventSpec
from alertd.messages.i18n import format_day, phrases
from alertd.messages.parts import countdown_line

__all__ = ["countdown_lines", "countdown_words"]


def countdown_lines(digest: Iterable[EventSpec], now: datetime, tz_name: str, locale: str) -> tuple[CountdownLine, ...]:
    lines = (countdown_line(e, now, tz_name, locale=locale) for e in digest)
    return tuple(sorted(lines, key=lambda line: line.event.starts_at))


def countdown_words(lines: Iterable[CountdownLine], day: date, locale: str) -> tuple[str, str]:
    """Title naming the channel's local day, and a bullet per event with its distance and the date it counts to."""
    p = phrases(locale)
    body = [p.countdown_line.format(title=ln.event.title, distance=ln.text, day=ln.day_text) for ln in lines]
    return p.countdown_title.format(day=format_day(day, locale)), "\n".join(body)
