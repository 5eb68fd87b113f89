"""What a calendar would send in a window, rendered exactly as it would be sent (``alertd plan``, the API)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from alertd.domain import Calendar, Message, Planned
from alertd.errors import TemplateError
from alertd.messages import render
from alertd.planning.escalation import plan_escalations
from alertd.planning.planner import digest_events, plan_countdowns, plan_reminders
from alertd.timeexpr import zone

__all__ = ["PreviewItem", "preview"]


@dataclass(frozen=True, slots=True)
class PreviewItem:
    planned: Planned
    message: Message
    local_due_at: datetime

    def as_json(self) -> dict[str, Any]:
        p = self.planned
        return {
            "id": p.id,
            "kind": p.kind,
            "event_id": p.event_id,
            "channel": p.channel,
            "due_at": p.due_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "local_due_at": self.local_due_at.isoformat(),
            "offset": p.offset,
            "title": self.message.title,
            "text": self.message.text,
        }


def preview(calendar: Calendar, *, start: datetime, end: datetime) -> list[PreviewItem]:
    """Every reminder, countdown and escalation step due in ``[start, end]``, in due order."""
    events = {e.id: e for e in calendar.events}
    planned = [p for e in calendar.events for p in plan_reminders(e, e.notify)]
    planned += plan_countdowns(calendar.events, calendar.channels, calendar.defaults.countdown)
    # An acknowledged event's steps would be cancelled when claimed: not shown.
    planned += [p for e in calendar.events if not e.acknowledged for p in plan_escalations(e)]
    items: list[PreviewItem] = []
    for p in sorted((p for p in planned if start <= p.due_at <= end), key=lambda p: (p.due_at, p.channel, p.id)):
        channel = calendar.channels[p.channel]
        spec = calendar.defaults.countdown
        digest = []
        if p.kind == "countdown" and spec is not None:
            digest = digest_events(calendar.events, channel, spec, p.due_at)
        args: dict[str, Any] = {
            "id": p.id,
            "kind": p.kind,
            "due_at": p.due_at,
            "now": p.due_at,
            "event": events.get(p.event_id or ""),
            "offset": p.offset,
            "digest": digest,
        }
        try:
            message = render(channel=channel, **args)
        except TemplateError as exc:
            # The daemon would fail this notification: show that, over the default words, instead of failing the plan.
            plain = render(channel=replace(channel, templates={}), **args)
            message = plain._replace(text=f"[not sendable: {exc}]\n{plain.text}")
        items.append(PreviewItem(planned=p, message=message, local_due_at=p.due_at.astimezone(zone(channel.timezone))))
    return items
