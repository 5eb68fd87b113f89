"""Locale-aware wording: countdown phrases, plurals, offsets as durations, dates and times.

Phrases come from the per-language tables in :mod:`alertd.messages.locales`; Babel decides which plural form a number
takes (CLDR rules: French says "0 jour", Chinese has one form) and renders dates and times from CLDR skeletons,
so each reader sees their own conventions ("Do., 30. Okt. 2025", "2025年10月30日周四").
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import cache, lru_cache
from importlib import import_module

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal

from alertd.messages.locales import Phrases, Plural

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "format_day",
    "format_time",
    "hour_minute",
    "offset_text",
    "phrases",
    "plural",
    "relative_text",
    "status_text",
]

DEFAULT_LOCALE = "en"
# Every locale with a phrase table in alertd/locales/; a channel may name only these.
LOCALES = ("de", "en", "es", "fr", "ja", "zh")
_OFFSET_PART = re.compile(r"(\d+)(bd|[wdhms])")


@cache
def phrases(locale: str) -> Phrases:
    """The phrase table of a shipped ``locale`` (unknown names were rejected when the calendar loaded)."""
    if locale not in LOCALES:
        raise ValueError(f"unknown locale {locale!r} (shipped: {', '.join(LOCALES)})")
    table: Phrases = import_module(f"alertd.messages.locales.{locale}").PHRASES
    return table


@cache
def _babel(locale: str) -> Locale:
    return Locale.parse(locale)


# Babel's formatters parse the locale name and walk CLDR data on every call: over half of the CPU of rendering a
# message, so each answer is kept (the inputs are few: small numbers, days and times near now).
@lru_cache(maxsize=1024)
def _number(n: int, locale: str) -> str:
    return format_decimal(n, locale=_babel(locale))


@lru_cache(maxsize=1024)
def _category(n: int, locale: str) -> str:
    form: str = _babel(locale).plural_form(n)
    return form


def plural(forms: Plural, n: int, locale: str) -> str:
    """``forms`` for ``n`` by the locale's CLDR plural rule; a category the table leaves out reads as "other"."""
    category = _category(abs(n), locale)
    pattern = forms.get(category, forms["other"])
    return pattern.format(n=_number(n, locale))


def relative_text(seconds: int, days: int, all_day: bool, locale: str = DEFAULT_LOCALE) -> str:
    """How far away an event is: ``in 3 days``, ``tomorrow``, ``today``, ``in 2 hours``, ``2 days ago``."""
    p = phrases(locale)
    if days < 0 or (not all_day and seconds < -60):
        ago = -days if all_day or seconds < -86400 else 0
        if ago:
            return p.yesterday if ago == 1 else _counted("days_ago", ago, locale)
        mins = -seconds // 60
        if mins >= 60:
            return _counted("started_hours_ago", mins // 60, locale)
        return _counted("started_minutes_ago", mins, locale)
    if days == 0:
        # Far enough ahead the exact hour count is noise; the time itself is in the message.
        if all_day or seconds >= 6 * 3600:
            return p.today
        if seconds < 60:
            return p.now
        mins = (seconds + 59) // 60
        return _counted("in_hours", round(mins / 60), locale) if mins >= 90 else _counted("in_minutes", mins, locale)
    if days == 1:
        return p.tomorrow
    return _counted("in_days", days, locale)


@lru_cache(maxsize=1024)
def _counted(field: str, n: int, locale: str) -> str:
    """:func:`plural` of the phrase table's ``field`` for ``n``: every message words a distance, and distances
    repeat (minutes or days to an event), so each is worded once."""
    forms: Plural = getattr(phrases(locale), field)
    return plural(forms, n, locale)


@lru_cache(maxsize=4096)
def format_day(day: date, locale: str = DEFAULT_LOCALE) -> str:
    """A date with its weekday in the locale's own order, e.g. ``Mon 10 Nov 2025`` or ``2025年11月10日周一``."""
    p = phrases(locale)
    if p.date_pattern is not None:
        return format_date(day, p.date_pattern, locale=_babel(locale))
    return format_skeleton(p.date_skeleton, datetime.combine(day, datetime.min.time()), locale=_babel(locale))


def format_time(moment: datetime, locale: str = DEFAULT_LOCALE) -> str:
    """The 24-hour wall-clock time of an aware ``moment`` in its own zone (desks compare times across zones)."""
    # Only the wall-clock hour and minute show, so they are the cache key (not the instant, which has a zone).
    return hour_minute(moment.hour, moment.minute, locale)


@lru_cache(maxsize=4096)
def hour_minute(hour: int, minute: int, locale: str = DEFAULT_LOCALE) -> str:
    """:func:`format_time` of a wall-clock hour and minute."""
    return format_skeleton("Hm", time(hour, minute), locale=_babel(locale))


def status_text(status: str, locale: str = DEFAULT_LOCALE) -> str:
    return phrases(locale).statuses.get(status, status)


def offset_text(offset: str | None, locale: str = DEFAULT_LOCALE) -> str:
    """A reminder offset as words: ``7d`` → ``7 days before``, ``+1d12h`` → ``1 day 12 hours after``."""
    if not offset:
        return ""
    p = phrases(locale)
    units = {"w": p.weeks, "bd": p.business_days, "d": p.days, "h": p.hours, "m": p.minutes, "s": p.seconds}
    parts = [plural(units[unit], int(n), locale) for n, unit in _OFFSET_PART.findall(offset) if int(n)]
    if not parts:
        return p.at_start
    duration = p.unit_join.join(parts)
    return (p.after if offset.startswith(("+", "-")) else p.before).format(duration=duration)
