"""``/channels``: each channel's health, last delivery, pacing and queue, and a send-test button.

Only a channel's id, type, zone and language are shown: its options hold URLs and tokens, so they never reach a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from alertd.api.deps import Backend
from alertd.delivery import ChannelHealth, channel_limit, failing_channels
from alertd.storage import ACTIVE_STATES, NOTIFICATION
from alertd.web.access import form_writer, viewer_of
from alertd.web.feedrows import feed_rows
from alertd.web.render import page
from alertd.web.sendtest import send_test

__all__ = ["ChannelRow", "channel_rows", "router"]

router = APIRouter(include_in_schema=False)
_N = NOTIFICATION.c


@dataclass(frozen=True, slots=True)
class ChannelRow:
    id: str
    type: str
    timezone: str
    locale: str
    failing: ChannelHealth | None
    last_sent: datetime | None
    queued: int
    # (per second, burst), worded by the page in the viewer's language; None when the channel is not paced.
    pace: tuple[float, int] | None


def channel_rows(daemon: Backend) -> list[ChannelRow]:
    """One row per channel of the loaded calendar, read from the shared database (so every replica agrees)."""
    specs = daemon.calendar.channels
    rows: list[ChannelRow] = []
    with daemon.read_engine.connect() as conn:
        failing = failing_channels(conn)
        counts = conn.execute(
            sa.select(_N.channel, sa.func.count()).where(_N.state.in_(ACTIVE_STATES)).group_by(_N.channel)
        )
        queued: dict[str, int] = {str(channel): int(count) for channel, count in counts}
        for cid in sorted(specs):
            spec = specs[cid]
            # The newest sent row by due time, through the (state, due_at) index, stopping at this channel's first.
            last = conn.execute(
                sa.select(_N.sent_at).where(_N.state == "sent", _N.channel == cid).order_by(_N.due_at.desc()).limit(1)
            ).scalar()
            limit = channel_limit(spec)
            rows.append(
                ChannelRow(
                    id=cid,
                    type=spec.type,
                    timezone=spec.timezone,
                    locale=spec.locale,
                    failing=failing.get(cid),
                    last_sent=last,
                    queued=int(queued.get(cid, 0)),
                    pace=(limit.per_second, limit.burst) if limit else None,
                )
            )
    return rows


@router.get("/channels")
async def channels(
    request: Request,
    tested: Annotated[str | None, Query(max_length=100)] = None,
    outcome: Annotated[str | None, Query(max_length=10)] = None,
    answer: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    viewer = viewer_of(request)
    if isinstance(viewer, Response):
        return viewer
    rows = await viewer.readers.run(viewer.daemon, channel_rows, viewer.daemon)
    feeds = await viewer.readers.run(viewer.daemon, feed_rows, viewer.daemon.read_engine, viewer.daemon.calendar)
    return page(
        request,
        "channels.html",
        viewer.session,
        locale=viewer.locale,
        rows=rows,
        feeds=feeds,
        tested=tested or "",
        outcome=outcome or "",
        answer=answer or "",
    )


@router.post("/channels/{channel_id}/test")
async def test_channel(request: Request, channel_id: str) -> Response:
    allowed = await form_writer(request)
    if isinstance(allowed, Response):
        return allowed
    viewer, _ = allowed
    if channel_id not in viewer.daemon.calendar.channels:
        result_ok, text = False, f"no channel {channel_id!r} in the calendar (it may have been removed by a reload)"
    else:
        result = await send_test(viewer.daemon, channel_id)
        result_ok, text = result.ok, result.text
    query = urlencode({"tested": channel_id[:100], "outcome": "ok" if result_ok else "failed", "answer": text[:400]})
    return RedirectResponse(f"/channels?{query}", status_code=303)
