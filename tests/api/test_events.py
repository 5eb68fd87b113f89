"""/api/v1/events: every event readable; database-owned ones editable; provisioned ones 409 naming the file."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from alertd.daemon import Daemon

from .conftest import READ, WRITE

SUMMIT = {
    "id": "follow-up-summit",
    "title": "Follow-up summit",
    "start": "2025-11-20T10:00",
    "timezone": "Asia/Seoul",
    "status": "tentative",
    "tags": ["trade"],
}


async def create(client: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/events", json={**SUMMIT, **changes}, headers=WRITE)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_list_shows_provisioned_events_as_read_only_with_their_file(client: httpx.AsyncClient) -> None:
    """A file event is listed with read_only true and the calendar's file name (not its folder)."""
    [event] = (await client.get("/api/v1/events", headers=READ)).json()
    assert (event["id"], event["owner"], event["read_only"], event["file"]) == (
        "truce-expiry",
        "file",
        True,
        "calendar.yaml",
    )
    assert (event["start"], event["all_day"], event["starts_at"]) == ("2025-11-10", True, "2025-11-10T05:00:00Z")


async def test_get_unknown_event_is_404_json(client: httpx.AsyncClient) -> None:
    """An unknown id answers 404 in the API's error shape."""
    response = await client.get("/api/v1/events/no-such-event", headers=READ)
    assert response.status_code == 404
    assert set(response.json()) == {"error", "detail"}
    assert "no-such-event" in response.json()["error"]


async def test_create_stores_a_database_owned_event(client: httpx.AsyncClient) -> None:
    """POST creates an editable event, readable afterwards by id."""
    created = await create(client)
    assert (created["owner"], created["read_only"], created["starts_at"]) == ("db", False, "2025-11-20T01:00:00Z")
    fetched = await client.get("/api/v1/events/follow-up-summit", headers=READ)
    assert fetched.json() == created


async def test_create_keeps_the_instant_of_an_explicit_offset(client: httpx.AsyncClient) -> None:
    """A start written 01:30-05:00 (New York's second 01:30 on 2 Nov 2025) is stored at 06:30Z, and its ``start``
    reads back as that instant, so sending it back does not move the event."""
    created = await create(client, start="2025-11-02T01:30-05:00", timezone="America/New_York")
    assert (created["start"], created["starts_at"]) == ("2025-11-02T01:30:00-05:00", "2025-11-02T06:30:00Z")
    patched = await client.patch(
        f"/api/v1/events/{SUMMIT['id']}", json={"start": created["start"], "title": "Renamed"}, headers=WRITE
    )
    assert patched.json()["starts_at"] == "2025-11-02T06:30:00Z"


async def test_create_queues_the_new_events_reminders(client: httpx.AsyncClient) -> None:
    """A created event's reminders are in the outbox at once."""
    await create(client)
    page = await client.get("/api/v1/notifications", params={"event": SUMMIT["id"], "kind": "reminder"}, headers=READ)
    assert [n["offset"] for n in page.json()["items"]] == ["3d", "1d"]


async def test_create_with_a_taken_id_is_409(client: httpx.AsyncClient) -> None:
    """Creating an event with a provisioned event's id is a conflict naming the file."""
    response = await client.post("/api/v1/events", json={**SUMMIT, "id": "truce-expiry"}, headers=WRITE)
    assert response.status_code == 409
    assert "calendar.yaml" in response.json()["error"]


async def test_create_with_an_invalid_start_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    """A start the calendar file would reject is rejected the same way, naming ``start``."""
    response = await client.post("/api/v1/events", json={**SUMMIT, "start": "next tuesday"}, headers=WRITE)
    assert response.status_code == 422
    assert "start" in response.json()["error"]


async def test_create_with_an_unknown_field_is_422(client: httpx.AsyncClient) -> None:
    """Unknown fields are refused, as in the calendar file."""
    response = await client.post("/api/v1/events", json={**SUMMIT, "colour": "red"}, headers=WRITE)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == "body.colour"


async def test_create_with_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    """A body that is not JSON is a client error, not a server error."""
    response = await client.post(
        "/api/v1/events", content=b"{not json", headers={**WRITE, "Content-Type": "application/json"}
    )
    assert response.status_code == 422


async def test_patch_changes_only_the_given_fields(client: httpx.AsyncClient) -> None:
    """PATCH with a title keeps the start, zone and status."""
    await create(client)
    response = await client.patch("/api/v1/events/follow-up-summit", json={"title": "Summit, round two"}, headers=WRITE)
    body = response.json()
    assert (body["title"], body["start"], body["status"]) == ("Summit, round two", "2025-11-20T10:00:00", "tentative")


async def test_patch_of_a_null_title_is_422(client: httpx.AsyncClient) -> None:
    """A required field cannot be cleared."""
    await create(client)
    response = await client.patch("/api/v1/events/follow-up-summit", json={"title": None}, headers=WRITE)
    assert response.status_code == 422


async def test_move_replans_and_queues_a_change_notice(client: httpx.AsyncClient) -> None:
    """Moving an event changes its start and queues a change notice to its channels."""
    await create(client)
    moved = await client.post("/api/v1/events/follow-up-summit/move", json={"start": "2025-11-24T15:00"}, headers=WRITE)
    assert moved.json()["starts_at"] == "2025-11-24T06:00:00Z"
    page = await client.get("/api/v1/notifications", params={"event": SUMMIT["id"], "kind": "change"}, headers=READ)
    assert len(page.json()["items"]) == 2  # one for "added", one for "moved"


async def test_move_into_the_past_is_refused_with_a_one_line_reason(client: httpx.AsyncClient) -> None:
    """A year typo (2024 for 2025) would drop every reminder: 422 naming the start, the clock and how to force it;
    the event stays where it was."""
    await create(client)
    moved = await client.post("/api/v1/events/follow-up-summit/move", json={"start": "2024-11-24T15:00"}, headers=WRITE)
    assert moved.status_code == 422
    error = moved.json()["error"]
    assert error.startswith("event 'follow-up-summit': start: 2024-11-24T15:00:00 (Asia/Seoul) is in the past")
    assert "now 2025-10-20 12:00Z" in error
    assert '"force": true' in error
    assert "\n" not in error
    event = (await client.get("/api/v1/events/follow-up-summit", headers=READ)).json()
    assert event["starts_at"] == "2025-11-20T01:00:00Z"


async def test_move_into_the_past_with_force_is_accepted(client: httpx.AsyncClient) -> None:
    """``force: true`` moves the event anyway."""
    await create(client)
    body = {"start": "2024-11-24T15:00", "force": True}
    moved = await client.post("/api/v1/events/follow-up-summit/move", json=body, headers=WRITE)
    assert (moved.status_code, moved.json()["starts_at"]) == (200, "2024-11-24T06:00:00Z")


async def test_patch_of_a_start_in_the_past_needs_force(client: httpx.AsyncClient) -> None:
    """PATCH changing the start is a move too: refused into the past, accepted with ``?force=true``."""
    await create(client)
    url, body = "/api/v1/events/follow-up-summit", {"start": "2024-11-20T10:00"}
    assert (await client.patch(url, json=body, headers=WRITE)).status_code == 422
    forced = await client.patch(url, json=body, params={"force": "true"}, headers=WRITE)
    assert (forced.status_code, forced.json()["starts_at"]) == (200, "2024-11-20T01:00:00Z")


async def test_an_all_day_event_may_move_to_today(client: httpx.AsyncClient) -> None:
    """An all-day event is current all its day: moving it to today (in its zone) is not refused."""
    await create(client)
    moved = await client.post(
        "/api/v1/events/follow-up-summit/move", json={"start": "2025-10-20", "timezone": "UTC"}, headers=WRITE
    )
    assert (moved.status_code, moved.json()["starts_at"]) == (200, "2025-10-20T00:00:00Z")


async def test_a_past_event_can_still_be_edited_in_other_fields(client: httpx.AsyncClient) -> None:
    """Only a new start is checked: renaming an event already in the past is not refused."""
    await create(client, start="2025-10-01T10:00")
    response = await client.patch("/api/v1/events/follow-up-summit", json={"title": "Summit (held)"}, headers=WRITE)
    assert (response.status_code, response.json()["title"]) == (200, "Summit (held)")


@pytest.mark.parametrize(("action", "status"), [("confirm", "confirmed"), ("cancel", "cancelled")])
async def test_status_actions_set_the_status(client: httpx.AsyncClient, action: str, status: str) -> None:
    """confirm and cancel set the event's status."""
    await create(client)
    response = await client.post(f"/api/v1/events/follow-up-summit/{action}", headers=WRITE)
    assert (response.status_code, response.json()["status"]) == (200, status)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PATCH", "/api/v1/events/truce-expiry", {"title": "Renamed"}),
        ("POST", "/api/v1/events/truce-expiry/move", {"start": "2025-11-12"}),
        ("POST", "/api/v1/events/truce-expiry/confirm", None),
        ("POST", "/api/v1/events/truce-expiry/cancel", None),
    ],
)
async def test_provisioned_events_are_409_naming_the_file(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, str] | None
) -> None:
    """Every change to a file event is refused with 409 telling to edit the calendar file."""
    response = await client.request(method, path, json=body, headers=WRITE)
    assert response.status_code == 409
    assert "calendar.yaml" in response.json()["error"]


async def test_change_to_an_unknown_event_is_404(client: httpx.AsyncClient) -> None:
    """Moving an id that does not exist is 404, not 409."""
    response = await client.post("/api/v1/events/nope/move", json={"start": "2025-11-12"}, headers=WRITE)
    assert response.status_code == 404


async def test_cancelling_an_event_counts_its_cancelled_reminders(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """Cancelling an event cancels its two pending reminders: outcomes{state="cancelled"} grows by two, and the
    write is counted under the verb ``cancel`` like every other action (add, update, move, confirm)."""
    await create(client, notify=["console"], reminders=["3d", "1d"])
    await client.post("/api/v1/events/follow-up-summit/cancel", headers=WRITE)
    sample = daemon.metrics.registry.get_sample_value
    labels = {"kind": "reminder", "channel": "console", "state": "cancelled"}
    assert sample("alertd_notification_outcomes_total", labels) == 2.0
    assert sample("alertd_api_writes_total", {"action": "cancel"}) == 1.0
    assert sample("alertd_api_writes_total", {"action": "add"}) == 1.0
    assert sample("alertd_api_writes_total", {"action": "cancelled"}) is None


async def test_create_with_escalation_steps_plans_them_and_keep_leaves_reminders_after_an_ack(
    client: httpx.AsyncClient,
) -> None:
    """``after_ack`` and ``escalate`` per database-owned event, as a file event has them."""
    step = {"at": "2d", "unless": "acknowledged", "notify": ["console"]}
    await create(client, after_ack="keep", escalate=[step])
    query = {"event": SUMMIT["id"], "kind": "escalation"}
    steps = (await client.get("/api/v1/notifications", params=query, headers=READ)).json()["items"]
    assert [(n["offset"], n["state"]) for n in steps] == [("2d", "pending")]

    assert (await client.post(f"/api/v1/events/{SUMMIT['id']}/ack", json={"by": "ana"}, headers=WRITE)).is_success

    query["kind"] = "reminder"
    reminders = (await client.get("/api/v1/notifications", params=query, headers=READ)).json()["items"]
    assert {n["state"] for n in reminders} == {"pending"}


async def test_patch_adds_an_escalation_step_and_refuses_an_unknown_channel(client: httpx.AsyncClient) -> None:
    await create(client)
    url = f"/api/v1/events/{SUMMIT['id']}"
    bad = await client.patch(url, json={"escalate": [{"at": "1d", "notify": ["pager"]}]}, headers=WRITE)
    assert bad.status_code == 422
    assert "pager" in bad.json()["error"]
    good = await client.patch(url, json={"escalate": [{"at": "1d", "notify": ["console"]}]}, headers=WRITE)
    assert good.status_code == 200, good.text
    query = {"event": SUMMIT["id"], "kind": "escalation"}
    steps = (await client.get("/api/v1/notifications", params=query, headers=READ)).json()["items"]
    assert [n["offset"] for n in steps] == ["1d"]
