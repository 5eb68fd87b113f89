"""``/api/v1/events/{id}/ack`` over a real socket: acknowledge, read back, withdraw; tokens and odd input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa

from alertd.clock import ReplayClock
from alertd.daemon import Daemon
from alertd.storage.outbox import NOTIFICATION

from .conftest import CALENDAR, READ, READ_TOKEN, WRITE, WRITE_TOKEN, DaemonFactory

ACK_URL = "/api/v1/events/truce-expiry/ack"


@pytest.fixture
async def served(start_daemon: DaemonFactory) -> Daemon:
    clock = ReplayClock(datetime(2025, 10, 20, 12, tzinfo=UTC))
    return await start_daemon(
        clock, http_host="127.0.0.1", http_port=0, api_token=WRITE_TOKEN, api_read_token=READ_TOKEN
    )


@pytest.fixture
async def http(served: Daemon) -> AsyncIterator[httpx.AsyncClient]:
    assert served.http_address is not None
    host, port = served.http_address
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", trust_env=False) as client:
        yield client


def reminder_states(daemon: Daemon) -> set[str]:
    with daemon.engine.begin() as conn:
        query = sa.select(NOTIFICATION.c.state).where(NOTIFICATION.c.kind == "reminder")
        return set(conn.execute(query).scalars())


async def test_post_ack_records_it_and_stops_the_reminders(served: Daemon, http: httpx.AsyncClient) -> None:
    """A write-token POST acknowledges: the answer names who and how, the event reads as acknowledged."""
    answer = await http.post(ACK_URL, json={"by": "ana", "note": "filed"}, headers=WRITE)

    assert answer.status_code == 200
    assert answer.json() | {"at": None} == {
        "event_id": "truce-expiry",
        "by": "ana",
        "at": None,
        "via": "api",
        "note": "filed",
        "revoked_at": None,
        "revoked_by": None,
        "changed": True,
    }
    assert reminder_states(served) == {"cancelled"}
    event = (await http.get("/api/v1/events/truce-expiry", headers=READ)).json()
    assert event["acknowledged"] is True
    sample = served.metrics.registry.get_sample_value
    assert sample("alertd_api_writes_total", {"action": "ack"}) == 1.0
    assert sample("alertd_acknowledgements_total", {"via": "api"}) == 1.0


async def test_a_repeated_post_reports_nothing_changed(http: httpx.AsyncClient) -> None:
    await http.post(ACK_URL, json={"by": "ana"}, headers=WRITE)
    again = await http.post(ACK_URL, json={"by": "bo"}, headers=WRITE)
    assert again.status_code == 200
    assert again.json()["changed"] is False
    assert again.json()["by"] == "ana"


async def test_delete_withdraws_and_history_keeps_both(served: Daemon, http: httpx.AsyncClient) -> None:
    """DELETE brings the reminders back; GET lists the withdrawn acknowledgement with who withdrew it."""
    await http.post(ACK_URL, json={"by": "ana"}, headers=WRITE)

    answer = await http.delete(ACK_URL, params={"by": "bo"}, headers=WRITE)

    assert answer.status_code == 200
    assert answer.json()["revoked_by"] == "bo"
    assert reminder_states(served) == {"pending"}
    history = (await http.get(ACK_URL, headers=READ)).json()
    assert [(h["by"], h["revoked_by"]) for h in history] == [("ana", "bo")]


async def test_withdrawing_twice_is_a_409(http: httpx.AsyncClient) -> None:
    answer = await http.post("/api/v1/events/truce-expiry/unack", json={"by": "bo"}, headers=WRITE)
    assert answer.status_code == 409
    assert "not acknowledged" in answer.json()["error"]


async def test_the_read_token_cannot_acknowledge(served: Daemon, http: httpx.AsyncClient) -> None:
    answer = await http.post(ACK_URL, json={"by": "ana"}, headers=READ)
    assert answer.status_code == 403
    assert reminder_states(served) == {"pending"}


async def test_no_token_cannot_acknowledge(http: httpx.AsyncClient) -> None:
    assert (await http.post(ACK_URL, json={"by": "ana"})).status_code == 401


async def test_an_unknown_event_is_a_404(http: httpx.AsyncClient) -> None:
    answer = await http.post("/api/v1/events/nope/ack", json={"by": "ana"}, headers=WRITE)
    assert answer.status_code == 404
    assert "no event 'nope'" in answer.json()["error"]


@pytest.mark.parametrize("body", [{}, {"by": ""}, {"by": "x" * 201}, {"by": "ana", "note": "n" * 2001}])
async def test_a_missing_empty_or_huge_field_is_a_422(served: Daemon, http: httpx.AsyncClient, body: object) -> None:
    answer = await http.post(ACK_URL, json=body, headers=WRITE)
    assert answer.status_code == 422
    assert reminder_states(served) == {"pending"}


async def test_the_ics_feed_marks_an_acknowledged_event(http: httpx.AsyncClient) -> None:
    """The calendar feed carries X-ALERTD-ACK and no alarms for an event acknowledged with after_ack: stop."""
    await http.post(ACK_URL, json={"by": "ana"}, headers=WRITE)
    text = (await http.get("/calendar.ics", headers=READ)).text
    assert "X-ALERTD-ACK:TRUE" in text
    assert "BEGIN:VALARM" not in text


SERIES = """\
      - id: month-end
        title: Month-end report
        at: 2025-10-31T17:00
        repeat: FREQ=MONTHLY;BYDAY=-1FR
"""


async def test_an_occurrence_is_acked_by_its_id_and_the_series_id_is_refused_naming_it(
    start_daemon: DaemonFactory,
) -> None:
    """Over a real socket: ``month-end@20251128`` is acknowledged on its own; ``month-end`` answers one line
    naming the occurrence form."""
    daemon = await start_daemon(
        ReplayClock(datetime(2025, 10, 20, 12, tzinfo=UTC)),
        calendar=CALENDAR + SERIES,
        http_host="127.0.0.1",
        http_port=0,
        api_token=WRITE_TOKEN,
    )
    assert daemon.http_address is not None
    host, port = daemon.http_address
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", trust_env=False) as client:
        whole = await client.post("/api/v1/events/month-end/ack", json={"by": "ana"}, headers=WRITE)
        one = await client.post("/api/v1/events/month-end@20251128/ack", json={"by": "ana"}, headers=WRITE)
    assert whole.status_code == 400, whole.text
    assert "month-end repeats: acknowledge one occurrence, e.g. month-end@20251031" in whole.json()["error"]
    assert one.status_code == 200, one.text
    assert one.json()["event_id"] == "month-end@20251128"
