"""/api/v1/plan: what would be sent in a window, for file and database-owned events."""

from __future__ import annotations

import httpx

from .conftest import READ, WRITE


async def test_plan_lists_reminders_in_the_window_in_due_order(client: httpx.AsyncClient) -> None:
    """Both reminders of the file event fall in the default 30-day window, with local times."""
    body = (await client.get("/api/v1/plan", headers=READ)).json()
    assert (body["start"], body["until"]) == ("2025-10-20T12:00:00Z", "2025-11-19T12:00:00Z")
    assert [(i["offset"], i["due_at"], i["local_due_at"]) for i in body["items"]] == [
        ("3d", "2025-11-07T14:00:00Z", "2025-11-07T09:00:00-05:00"),
        ("1d", "2025-11-09T14:00:00Z", "2025-11-09T09:00:00-05:00"),
    ]


async def test_plan_honours_from_and_until(client: httpx.AsyncClient) -> None:
    """Only notifications due inside [from, until] are listed; a naive time is UTC."""
    params = {"from": "2025-11-08T00:00:00", "until": "2025-11-10T00:00:00Z"}
    body = (await client.get("/api/v1/plan", params=params, headers=READ)).json()
    assert [i["offset"] for i in body["items"]] == ["1d"]


async def test_plan_includes_database_owned_events(client: httpx.AsyncClient) -> None:
    """An event created through the API is in the plan too."""
    event = {"id": "extra", "title": "Extra deadline", "start": "2025-11-01"}
    assert (await client.post("/api/v1/events", json=event, headers=WRITE)).status_code == 201
    body = (await client.get("/api/v1/plan", headers=READ)).json()
    assert {i["event_id"] for i in body["items"]} == {"truce-expiry", "extra"}


async def test_plan_with_until_before_from_is_400(client: httpx.AsyncClient) -> None:
    """A window that ends before it starts is a client error."""
    params = {"from": "2025-11-10T00:00:00Z", "until": "2025-11-01T00:00:00Z"}
    response = await client.get("/api/v1/plan", params=params, headers=READ)
    assert (response.status_code, response.json()["error"]) == (400, "until is before from")


async def test_plan_window_longer_than_a_year_is_400(client: httpx.AsyncClient) -> None:
    """Huge windows are refused instead of tying up the daemon."""
    params = {"from": "2025-01-01T00:00:00Z", "until": "2027-01-01T00:00:00Z"}
    assert (await client.get("/api/v1/plan", params=params, headers=READ)).status_code == 400


async def test_plan_with_a_bad_instant_is_422(client: httpx.AsyncClient) -> None:
    """A from that is not an ISO 8601 instant is rejected naming the parameter."""
    response = await client.get("/api/v1/plan", params={"from": "tomorrow"}, headers=READ)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == "query.from"


async def test_plan_needs_a_token_when_one_is_configured(client: httpx.AsyncClient) -> None:
    """The plan is a read route like any other."""
    assert (await client.get("/api/v1/plan")).status_code == 401
