"""The built-in rendering of a notification, before any channel template: one renderer per kind."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from alertd.domain import ChannelSpec, EventSpec, Kind, Message
from alertd.messages.ack import ack_words, escalation_words
from alertd.messages.change import change_words
from alertd.messages.countdown import countdown_lines, countdown_words
from alertd.messages.parts import countdown_line
from alertd.messages.reminder import reminder_words
from alertd.messages.sendtest import sendtest_words
from alertd.timeexpr import zone

__all__ = ["render_default"]

_tuple_new = tuple.__new__
assert Message._fields[-1] == "ack_url", "Message changed: update render_default"
assert len(Message._fields) == 16, "Message changed: update render_default"


def render_default(
    *,
    id: str,
    kind: Kind,
    channel: ChannelSpec,
    due_at: datetime,
    now: datetime,
    event: EventSpec | None = None,
    offset: str | None = None,
    payload: Mapping[str, Any] | None = None,
    digest: Iterable[EventSpec] = (),
    late: bool = False,
) -> Message:
    """Build the message for one notification as it would be sent at ``now``, in the channel's locale."""
    locale, tz_name = channel.locale, channel.timezone
    if kind in ("reminder", "escalation"):
        if event is None:
            raise ValueError(f"{kind} notification {id} has no event")
        line = countdown_line(event, now, tz_name, locale=locale)
        if kind == "reminder":
            title, text = reminder_words(event, line, tz_name, locale)
        else:
            title, text = escalation_words(event, line, tz_name, locale)
        # Built as the tuple it is, in Message's field order: one message is built per delivery, and the keyword form
        # (a dict of the shared fields merged into the named tuple's constructor) cost a tenth of rendering it.
        cid = channel.id
        fields = (id, kind, cid, title, text, due_at, now, late, event, offset, line, (), None, tz_name, locale, None)
        message: Message = _tuple_new(Message, fields)
        return message
    base: dict[str, Any] = {
        "id": id,
        "kind": kind,
        "channel": channel.id,
        "due_at": due_at,
        "sent_at": now,
        "late": late,
        "offset": offset,
        "event": event,
        "channel_timezone": tz_name,
        "locale": locale,
    }
    if kind == "countdown":
        lines = countdown_lines(digest, now, tz_name, locale)
        title, text = countdown_words(lines, due_at.astimezone(zone(tz_name)).date(), locale)
        return Message(**base, title=title, text=text, lines=lines)
    if kind == "test":
        title, text = sendtest_words(channel.id, locale)
        return Message(**base, title=title, text=text)
    if kind == "admin":
        # alertd's notice about itself, worded when it was queued (alertd.delivery.admin).
        words = dict(payload or {})
        return Message(**base, title=str(words.get("title", "alertd")), text=str(words.get("text", "")))
    if event is None:
        raise ValueError(f"{kind} notification {id} has no event")
    line = countdown_line(event, now, tz_name, locale=locale)
    if kind == "change":
        change = dict(payload or {})
        title, text = change_words(event, change, tz_name, locale)
        return Message(**base | {"offset": None}, title=title, text=text, countdown=line, change=change)
    if kind == "ack":
        title, text = ack_words(event, payload or {}, tz_name, locale)
        return Message(**base | {"offset": None}, title=title, text=text, countdown=line)
    # Kind has no other value; anything else is worded as a reminder, as it always was.
    title, text = reminder_words(event, line, tz_name, locale)
    return Message(**base, title=title, text=text, countdown=line)
