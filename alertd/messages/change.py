"""The default words of a change notice: a title saying what happened, what changed, then the event's (new) time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alertd.domain import EventSpec
from alertd.messages.i18n import phrases
from alertd.messages.parts import change_kind, describe_change, event_details

__all__ = ["change_words"]


def change_words(event: EventSpec, change: Mapping[str, Any], tz_name: str, locale: str) -> tuple[str, str]:
    """Title (``Moved: Truce expires``, ``Cancelled: …``; ``Changed: …`` for anything else) and text."""
    p = phrases(locale)
    sentence = describe_change(change, locale=locale)
    text = p.change_text.format(title=event.title, sentence=sentence)
    title = p.change_titles.get(change_kind(change), p.change_title).format(title=event.title)
    return title, f"{text}\n{event_details(event, tz_name, locale)}"
