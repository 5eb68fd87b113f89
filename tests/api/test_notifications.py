"""/api/v1/notifications: filters, cursor paging, retry of dead/missed ones, cancel of queued ones."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from alertd.daemon import Daemon
from alertd.storage.outbox import NOTIFICATION

from .conftest import READ, WRITE


def set_state(daemon: Daemon, state: str) -> str:
    """Put the file event's 3-day reminder in ``state``, as the dispatcher would have; return its id.

    The calendar has one event (2025-11-10, all day, New York) with reminders 3d and 1d on ``console``.
    """
    with daemon.engine.begin() as conn:
        id = conn.execute(sa.select(NOTIFICATION.c.id).where(NOTIFICATION.c.offset == "3d")).scalar_one()
        conn.execute(NOTIFICATION.update().where(NOTIFICATION.c.id == id).values(state=state, attempts=1))
    return str(id)


async def test_list_returns_rows_in_due_order(client: httpx.AsyncClient) -> None:
    """Without filters every notification is listed, earliest due first."""
    body = (await client.get("/api/v1/notifications", headers=READ)).json()
    assert [(n["offset"], n["state"]) for n in body["items"]] == [("3d", "pending"), ("1d", "pending")]
    assert body["items"][0]["due_at"] == "2025-11-07T14:00:00Z"
    assert body["next_cursor"] is None


async def test_list_filters_by_state(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """``state`` keeps only notifications in that state."""
    id = set_state(daemon, "dead")
    body = (await client.get("/api/v1/notifications", params={"state": "dead"}, headers=READ)).json()
    assert [n["id"] for n in body["items"]] == [id]


async def test_list_filters_by_channel_and_kind(client: httpx.AsyncClient) -> None:
    """Filters combine: an unknown channel or a kind with no rows gives an empty page."""
    params = {"channel": "console", "kind": "countdown"}
    assert (await client.get("/api/v1/notifications", params=params, headers=READ)).json()["items"] == []


async def test_cursor_pages_through_every_row_once(client: httpx.AsyncClient) -> None:
    """limit=1 with next_cursor walks all rows without repeating one."""
    first = (await client.get("/api/v1/notifications", params={"limit": 1}, headers=READ)).json()
    params = {"limit": 1, "cursor": first["next_cursor"]}
    second = (await client.get("/api/v1/notifications", params=params, headers=READ)).json()
    assert [n["offset"] for n in first["items"] + second["items"]] == ["3d", "1d"]
    assert second["next_cursor"] is None


async def test_bad_cursor_is_400(client: httpx.AsyncClient) -> None:
    """A cursor that was not made by the API is a client error."""
    response = await client.get("/api/v1/notifications", params={"cursor": "not-a-cursor"}, headers=READ)
    assert response.status_code == 400
    assert response.json()["error"].startswith("bad cursor")


async def test_unknown_state_filter_is_422(client: httpx.AsyncClient) -> None:
    """An unknown state is rejected rather than silently matching nothing."""
    response = await client.get("/api/v1/notifications", params={"state": "lost"}, headers=READ)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == "query.state"


async def test_limit_out_of_range_is_422(client: httpx.AsyncClient) -> None:
    """limit must be between 1 and 1000."""
    assert (await client.get("/api/v1/notifications", params={"limit": 0}, headers=READ)).status_code == 422


async def test_retry_of_a_dead_notification_queues_it_now(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """A dead notification becomes pending, due now, with the same id."""
    id = set_state(daemon, "dead")
    response = await client.post(f"/api/v1/notifications/{id}/retry", headers=WRITE)
    body = response.json()
    assert (response.status_code, body["id"], body["state"]) == (200, id, "pending")
    assert body["next_at"] == "2025-10-20T12:00:00Z"


async def test_retry_of_a_missed_notification_queues_it(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """A missed notification can be retried too."""
    id = set_state(daemon, "missed")
    response = await client.post(f"/api/v1/notifications/{id}/retry", headers=WRITE)
    assert response.json()["state"] == "pending"


async def test_retry_of_a_pending_notification_is_409(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """Only dead or missed notifications can be retried; the answer says what state it is in."""
    id = set_state(daemon, "pending")
    response = await client.post(f"/api/v1/notifications/{id}/retry", headers=WRITE)
    assert response.status_code == 409
    assert "is pending" in response.json()["error"]


async def test_retry_of_an_unknown_notification_is_404(client: httpx.AsyncClient) -> None:
    """An unknown id is 404."""
    assert (await client.post("/api/v1/notifications/nope/retry", headers=WRITE)).status_code == 404


async def test_cancel_of_a_pending_notification_cancels_it(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """A pending notification can be cancelled."""
    id = set_state(daemon, "pending")
    response = await client.post(f"/api/v1/notifications/{id}/cancel", headers=WRITE)
    assert (response.status_code, response.json()["state"]) == (200, "cancelled")


async def test_cancel_counts_a_cancelled_outcome(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """An operator's cancel shows in alertd_notification_outcomes_total{state="cancelled"}, by kind and channel,
    and the write is counted under the action ``cancel-notification``."""
    id = set_state(daemon, "pending")
    await client.post(f"/api/v1/notifications/{id}/cancel", headers=WRITE)
    labels = {"kind": "reminder", "channel": "console", "state": "cancelled"}
    assert daemon.metrics.registry.get_sample_value("alertd_notification_outcomes_total", labels) == 1.0
    writes = {"action": "cancel-notification"}
    assert daemon.metrics.registry.get_sample_value("alertd_api_writes_total", writes) == 1.0


async def test_cancel_of_a_sent_notification_is_409(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """A notification already sent cannot be cancelled."""
    id = set_state(daemon, "sent")
    response = await client.post(f"/api/v1/notifications/{id}/cancel", headers=WRITE)
    assert response.status_code == 409
    assert "is sent" in response.json()["error"]


async def test_cancel_of_an_unknown_notification_is_404(client: httpx.AsyncClient) -> None:
    """An unknown id is 404."""
    assert (await client.post("/api/v1/notifications/nope/cancel", headers=WRITE)).status_code == 404
