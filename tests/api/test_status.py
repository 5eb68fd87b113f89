"""/api/v1/calendar/status: the rejected file's issues, behind the read token."""

from __future__ import annotations

import httpx

from alertd.daemon import Daemon

from .conftest import READ, write_calendar


async def test_calendar_status_lists_the_rejected_files_issues(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """Behind the read token, the calendar status has every issue of the rejected file with its line."""
    write_calendar(daemon.calendar_path, "version: 1\ntimezone: Nowhere/Zone\n")
    await daemon._check_reload()
    response = await client.get("/api/v1/calendar/status", headers=READ)
    body = response.json()
    assert response.status_code == 200
    assert body["last_reload_ok"] is False
    assert [(i["line"], i["path"]) for i in body["issues"]] == [(2, "timezone")]
    assert "Nowhere/Zone" in body["issues"][0]["message"]


async def test_calendar_status_needs_the_read_token(daemon: Daemon, client: httpx.AsyncClient) -> None:
    """Without a token the calendar status (which quotes the file) is 401."""
    response = await client.get("/api/v1/calendar/status")
    assert response.status_code == 401
