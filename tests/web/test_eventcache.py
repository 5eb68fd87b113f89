"""The board's kept events: read again only where the database's marks moved, never shown older than stored."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from alertd.daemon import Daemon
from alertd.storage import EVENT as EVENT_ROWS
from alertd.storage import list_events
from alertd.web.eventcache import EventCache

from .conftest import WRITE_TOKEN

BEARER = {"Authorization": "Bearer " + WRITE_TOKEN}
EVENT = {"id": "follow-up", "title": "Follow-up talks", "start": "2025-11-20T10:00", "timezone": "Asia/Seoul"}


async def test_an_event_changed_through_the_api_is_read_again(daemon: Daemon, client: httpx.AsyncClient) -> None:
    kept = EventCache()
    assert (await client.post("/api/v1/events", json=EVENT, headers=BEARER)).status_code == 201
    first = {e.id: e for e in kept.events(daemon.engine)}
    answer = await client.patch("/api/v1/events/follow-up", json={"status": "postponed"}, headers=BEARER)
    assert answer.status_code == 200, answer.text
    second = {e.id: e for e in kept.events(daemon.engine)}
    assert (first["follow-up"].status, second["follow-up"].status) == ("confirmed", "postponed")
    # The unchanged events are the very objects kept from the first read.
    assert second["truce-expiry"] is first["truce-expiry"]


async def test_a_removed_event_leaves_the_kept_events(daemon: Daemon) -> None:
    kept = EventCache()
    assert "truce-expiry" in {e.id for e in kept.events(daemon.engine)}
    # As a reload that drops the event from the file stores it.
    with daemon.engine.begin() as conn:
        conn.execute(sa.update(EVENT_ROWS).where(EVENT_ROWS.c.id == "truce-expiry").values(removed=True))
    assert "truce-expiry" not in {e.id for e in kept.events(daemon.engine)}


async def test_the_kept_events_are_the_stored_ones_in_start_order(daemon: Daemon) -> None:
    assert EventCache().events(daemon.engine) == list_events(daemon.engine)
