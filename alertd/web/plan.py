"""``/plan``: the timeline of what will be sent in the next days, per channel, with local and UTC instants.

The same items as ``/api/v1/plan`` (``alertd.planning.preview`` over the stored events), marked where quiet hours
would hold a message or where its channel is failing now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from alertd.api.deps import Backend
from alertd.delivery import failing_channels, quiet_until
from alertd.planning import PreviewItem, preview
from alertd.storage import planned_calendar
from alertd.web.access import viewer_of
from alertd.web.render import page

__all__ = ["Lane", "TimelineItem", "router", "timeline"]

router = APIRouter(include_in_schema=False)
# Rendering every message of months of reminders ties up a reader thread; the API allows a year, the page 90 days.
MAX_DAYS = 90


@dataclass(frozen=True, slots=True)
class TimelineItem:
    item: PreviewItem
    held_until: datetime | None


@dataclass(frozen=True, slots=True)
class Lane:
    channel: str
    failing: str
    items: list[TimelineItem]


def timeline(daemon: Backend, start: datetime, days: int) -> list[Lane]:
    """One lane per channel with items due in ``[start, start + days]``, in due order."""
    calendar = planned_calendar(daemon.read_engine, daemon.calendar)
    items = preview(calendar, start=start, end=start + timedelta(days=days))
    with daemon.read_engine.connect() as conn:
        failing = failing_channels(conn)
    lanes: dict[str, list[TimelineItem]] = {}
    for item in items:
        spec = calendar.channels.get(item.planned.channel)
        held = None if spec is None else quiet_until(spec.quiet_hours, spec.timezone, item.planned.due_at)
        lanes.setdefault(item.planned.channel, []).append(TimelineItem(item, held))
    return [
        Lane(
            channel=cid,
            failing=f"failing since {failing[cid].since:%Y-%m-%d %H:%M}Z: {failing[cid].reason}"
            if cid in failing
            else "",
            items=lanes[cid],
        )
        for cid in sorted(lanes)
    ]


@router.get("/plan")
async def plan(request: Request, days: Annotated[int, Query(ge=1, le=MAX_DAYS)] = 14) -> Response:
    viewer = viewer_of(request)
    if isinstance(viewer, Response):
        return viewer
    daemon = viewer.daemon
    start = daemon.clock.now()
    lanes = await viewer.readers.run(daemon, timeline, daemon, start, days)
    return page(request, "plan.html", viewer.session, locale=viewer.locale, lanes=lanes, days=days, start=start)
