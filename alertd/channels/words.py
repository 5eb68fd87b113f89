"""Small localized pieces channels put around a message's own text: wall-clock times, "sent late", "…and N more".

The labels themselves live in each locale's phrase table (:mod:`alertd.messages.locales`); these helpers only combine
them with Babel's dates and times so that every channel words them the same way.
"""

from __future__ import annotations

from datetime import datetime

from alertd.messages import format_day, format_time, phrases, plural, status_text

__all__ = ["and_more", "moment", "sent_late", "status_word"]


def moment(local: datetime, locale: str) -> str:
    """An aware datetime as the reader's date, 24-hour time and zone abbreviation: ``Mon 10 Nov 2025 09:00 EST``."""
    return f"{format_day(local.date(), locale)} {format_time(local, locale)} {local.tzname()}"


def sent_late(due_local: datetime, locale: str) -> str:
    """The note for a message sent after its due time, e.g. ``sent late (was due Mon 10 Nov 2025 09:00 EST)``."""
    return phrases(locale).sent_late.format(when=moment(due_local, locale))


def and_more(count: int, locale: str) -> str:
    """The line that stands for ``count`` rows left out of a list: ``…and 3 more``."""
    return plural(phrases(locale).and_more, count, locale)


def status_word(status: str, locale: str) -> str:
    """An event status in the reader's language (an unknown status is shown as it is)."""
    return status_text(status, locale)
