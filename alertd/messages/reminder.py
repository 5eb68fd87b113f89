"""The default words of a reminder: what, how far away, and when in both zones."""

from __future__ import annotations

from alertd.domain import CountdownLine, EventSpec
from alertd.messages.i18n import phrases
from alertd.messages.parts import event_details

__all__ = ["reminder_words"]


def reminder_words(event: EventSpec, line: CountdownLine, tz_name: str, locale: str) -> tuple[str, str]:
    """Title and text, e.g. ``Truce expires — tomorrow`` / ``Truce expires tomorrow.`` + the time lines."""
    p = phrases(locale)
    title = p.reminder_title.format(title=event.title, distance=line.text)
    text = p.reminder_text.format(title=event.title, distance=line.text)
    return title, f"{text}\n{event_details(event, tz_name, locale)}"
