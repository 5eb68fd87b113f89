"""The default words of an acknowledgement notice and of an escalation step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from alertd.domain import CountdownLine, EventSpec
from alertd.messages.i18n import phrases
from alertd.messages.parts import event_details

__all__ = ["ack_words", "escalation_words"]


def ack_words(event: EventSpec, notice: Mapping[str, Any], tz_name: str, locale: str) -> tuple[str, str]:
    """``Acknowledged: Truce expires`` / ``…: acknowledged by ana (cli).`` (or its withdrawal), the note, the time."""
    p = phrases(locale)
    revoked = notice.get("action") == "revoked"
    who, via = str(notice.get("by") or "?"), str(notice.get("via") or "?")
    title = (p.unack_title if revoked else p.ack_title).format(title=event.title)
    text = (p.unack_text if revoked else p.ack_text).format(title=event.title, who=who, via=via)
    note = notice.get("note")
    lines = [text, *([p.ack_note.format(note=note)] if note and not revoked else [])]
    return title, "\n".join([*lines, event_details(event, tz_name, locale)])


def escalation_words(event: EventSpec, line: CountdownLine, tz_name: str, locale: str) -> tuple[str, str]:
    """``Not acknowledged: Truce expires — in 2 days`` / ``… and nobody has acknowledged it yet.`` + the time."""
    p = phrases(locale)
    title = p.escalation_title.format(title=event.title, distance=line.text)
    text = p.escalation_text.format(title=event.title, distance=line.text)
    return title, f"{text}\n{event_details(event, tz_name, locale)}"
