"""The words of every notification, shared by all channels and by ``alertd plan``.

:func:`render` builds the default message with one renderer per kind (``alertd.messages_<kind>``) in the
channel's locale (``alertd.messages.i18n``), then applies the channel's template for that kind if it has one
(``alertd.messages.templates``). The helpers re-exported here are what channels use to word their own fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from alertd.domain import ChannelSpec, EventSpec, Kind, Message
from alertd.messages.default import render_default
from alertd.messages.i18n import format_day, relative_text
from alertd.messages.parts import countdown_line, describe_change, format_when
from alertd.timeexpr import localize, zone

__all__ = [
    "countdown_line",
    "day_window",
    "describe_change",
    "format_day",
    "format_when",
    "relative_text",
    "render",
]


def render(
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
    """Build the message for one notification as it would be sent at ``now``."""
    message = render_default(
        id=id,
        kind=kind,
        channel=channel,
        due_at=due_at,
        now=now,
        event=event,
        offset=offset,
        payload=payload,
        digest=digest,
        late=late,
    )
    if not channel.templates:
        return message
    # Jinja2 is imported only for a channel that has templates.
    from alertd.messages.templates import apply_template

    return apply_template(message, channel)


def day_window(day: date, tz_name: str, days: int) -> tuple[datetime, datetime]:
    """UTC bounds of ``days`` whole local days starting at ``day`` in ``tz_name``."""
    tz = zone(tz_name)
    start = localize(datetime.combine(day, datetime.min.time()), tz)
    end = localize(datetime.combine(day + timedelta(days=days), datetime.min.time()), tz)
    return start, end
