"""Event pages: file-owned events read-only with file:line; database-owned ones previewed, then changed."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from alertd.daemon import Daemon
from alertd.storage import NOTIFICATION

from .conftest import READ_TOKEN, SEED, WRITE_TOKEN, csrf_of, log_in

_N = NOTIFICATION.c
BEARER = {"Authorization": "Bearer " + WRITE_TOKEN}
SUMMIT = {"id": "follow-up", "title": "Follow-up talks", "start": "2025-11-20T10:00", "timezone": "Asia/Seoul"}


async def _add_summit(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/events", json=SUMMIT, headers=BEARER)).status_code == 201


def _notices(daemon: Daemon, event_id: str) -> list[str]:
    with daemon.engine.connect() as conn:
        query = sa.select(_N.channel).where(_N.event_id == event_id, _N.kind == "change")
        return list(conn.execute(query).scalars())


async def test_a_file_owned_event_shows_its_file_and_line_and_no_form(client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    line = SEED.read_text(encoding="utf-8").splitlines().index("  - id: truce-expiry") + 1
    html = (await client.get("/events/truce-expiry")).text
    assert f"<code>calendar.yaml:{line}</code>" in html
    assert 'id="change-form"' not in html


async def test_a_read_session_sees_a_database_event_without_a_form(client: httpx.AsyncClient) -> None:
    await _add_summit(client)
    await log_in(client, READ_TOKEN)
    html = (await client.get("/events/follow-up")).text
    assert "log in with <code>ALERTD_API_TOKEN</code> to change it" in html
    assert 'id="change-form"' not in html


async def test_previewing_a_move_shows_the_notice_and_reminders_and_changes_nothing(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    await _add_summit(client)
    before = _notices(daemon, "follow-up")
    await log_in(client, WRITE_TOKEN)
    csrf = csrf_of((await client.get("/events/follow-up")).text)
    fields = {"csrf": csrf, "start": "2025-11-21T10:00", "timezone": "Asia/Seoul", "status": "confirmed"}
    html = (await client.post("/events/follow-up", data={**fields, "action": "preview"})).text
    assert "A change notice to: console." in html
    # A day later: each of the five default reminders moves by a day.
    assert "Reminders added (5)" in html
    assert "Reminders cancelled (5)" in html
    assert "2025-11-20 01:00 UTC via console (1d before)" in html
    assert "Save change" in html
    assert _notices(daemon, "follow-up") == before


async def test_saving_a_move_queues_exactly_one_change_notice_per_channel(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    await _add_summit(client)
    # Adding the event queued its own notice; the move must add exactly one more per channel.
    before = _notices(daemon, "follow-up")
    await log_in(client, WRITE_TOKEN)
    csrf = csrf_of((await client.get("/events/follow-up")).text)
    fields = {"csrf": csrf, "start": "2025-11-21T10:00", "timezone": "Asia/Seoul", "status": "confirmed"}
    saved = await client.post("/events/follow-up", data={**fields, "action": "save"})
    assert saved.status_code == 303
    assert "Saved" in (await client.get(saved.headers["location"])).text
    assert _notices(daemon, "follow-up") == [*before, "console"]
    event = (await client.get("/api/v1/events/follow-up", headers=BEARER)).json()
    assert event["start"].startswith("2025-11-21T10:00")


async def test_an_invalid_start_is_shown_beside_its_field(client: httpx.AsyncClient) -> None:
    await _add_summit(client)
    await log_in(client, WRITE_TOKEN)
    csrf = csrf_of((await client.get("/events/follow-up")).text)
    answer = await client.post(
        "/events/follow-up", data={"csrf": csrf, "start": "next tuesday", "timezone": "Asia/Seoul", "action": "preview"}
    )
    assert answer.status_code == 422
    assert 'id="e-start" name="start" value="next tuesday" required aria-invalid="true"' in answer.text
    assert 'id="err-start"' in answer.text


async def test_an_unknown_zone_is_shown_beside_the_zone_field(client: httpx.AsyncClient) -> None:
    await _add_summit(client)
    await log_in(client, WRITE_TOKEN)
    csrf = csrf_of((await client.get("/events/follow-up")).text)
    answer = await client.post(
        "/events/follow-up",
        data={"csrf": csrf, "start": "2025-11-21T10:00", "timezone": "Mars/Base", "action": "preview"},
    )
    assert 'id="err-timezone"' in answer.text


async def test_a_move_into_the_past_is_refused_with_the_apis_reason(client: httpx.AsyncClient) -> None:
    await _add_summit(client)
    await log_in(client, WRITE_TOKEN)
    csrf = csrf_of((await client.get("/events/follow-up")).text)
    answer = await client.post(
        "/events/follow-up",
        data={"csrf": csrf, "start": "2024-11-21T10:00", "timezone": "Asia/Seoul", "action": "save"},
    )
    assert answer.status_code == 422
    assert "is in the past" in answer.text


async def test_creating_an_event_previews_its_reminders_then_saves_it(client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    csrf = csrf_of((await client.get("/events/new")).text)
    fields = {"csrf": csrf, "id": "new-one", "title": "New one", "start": "2025-11-25", "timezone": "Europe/Paris"}
    preview = await client.post("/events/new", data={**fields, "action": "preview"})
    assert "Reminders added (" in preview.text
    assert "2025-11-25 08:00 UTC via console (0m before)" in preview.text
    assert "Create event" in preview.text
    saved = await client.post("/events/new", data={**fields, "action": "save"})
    assert saved.headers["location"] == "/events/new-one?done=created"
    assert (await client.get("/api/v1/events/new-one", headers=BEARER)).status_code == 200


async def test_creating_an_event_with_a_taken_id_says_so_beside_the_id(client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    csrf = csrf_of((await client.get("/events/new")).text)
    fields = {"csrf": csrf, "id": "truce-expiry", "title": "Dup", "start": "2025-11-25", "action": "save"}
    answer = await client.post("/events/new", data=fields)
    assert 'id="err-id"' in answer.text
    assert "choose another id" in answer.text
