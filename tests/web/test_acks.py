"""The event page's Acknowledge and Withdraw forms: write sessions with the form's CSRF token only, recorded via
"dashboard", shown as a chip with who and when on the event page and on the board's card."""

from __future__ import annotations

import httpx
import sqlalchemy as sa

from alertd.daemon import Daemon
from alertd.storage import NOTIFICATION
from alertd.storage.ackrows import ACK

from .conftest import READ_TOKEN, SEED, WRITE_TOKEN, WebDaemon, client_for, csrf_of, log_in

_N = NOTIFICATION.c


def _acks(daemon: Daemon) -> list[tuple[str, str, str | None, bool]]:
    with daemon.engine.connect() as conn:
        rows = conn.execute(sa.select(ACK).order_by(ACK.c.id))
        return [(r.by, r.via, r.note, r.revoked_at is None) for r in rows]


def _pending_reminders(daemon: Daemon) -> int:
    with daemon.engine.connect() as conn:
        query = sa.select(sa.func.count()).where(
            _N.event_id == "truce-expiry", _N.kind == "reminder", _N.state == "pending"
        )
        return int(conn.execute(query).scalar_one())


async def _ack(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    csrf = csrf_of((await client.get("/events/truce-expiry")).text)
    return await client.post("/events/truce-expiry/ack", data={"csrf": csrf, **fields})


async def test_acknowledging_records_who_via_dashboard_and_stops_the_reminders(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    await log_in(client, WRITE_TOKEN)
    assert _pending_reminders(daemon) > 0

    answer = await _ack(client, by="ana", note="extension announced")

    assert (answer.status_code, answer.headers["location"]) == (303, "/events/truce-expiry?done=acked")
    assert _acks(daemon) == [("ana", "dashboard", "extension announced", True)]
    assert _pending_reminders(daemon) == 0


async def test_the_event_page_shows_the_acknowledgement_as_a_chip_with_who_and_when(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    await log_in(client, WRITE_TOKEN)
    html = (await client.get((await _ack(client, by="ana", note="filed")).headers["location"])).text
    assert '<span class="chip chip-acknowledged">acknowledged</span> by <strong>ana</strong>' in html
    assert "at 2025-10-31 12:00 UTC via dashboard: <q>filed</q>" in html
    assert 'id="unack-form"' in html
    assert 'id="ack-form"' not in html
    assert "Acknowledged: its remaining reminders" in html


async def test_the_confirmation_reads_in_the_viewers_language(daemon: Daemon, client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    target = (await _ack(client, by="ana")).headers["location"]
    html = (await client.get(target, headers={"accept-language": "fr-FR,fr;q=0.9"})).text
    assert "Acquitté : ses rappels" in html
    assert "Acknowledged: its remaining reminders" not in html


async def test_the_board_card_shows_the_acknowledged_chip(daemon: Daemon, client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    assert "chip-acknowledged" not in (await client.get("/")).text
    await _ack(client, by="ana")
    assert '<span class="chip chip-acknowledged">✓ acknowledged</span>' in (await client.get("/")).text


async def test_withdrawing_brings_the_reminders_back_and_the_form_again(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    await log_in(client, WRITE_TOKEN)
    await _ack(client, by="ana")
    csrf = csrf_of((await client.get("/events/truce-expiry")).text)

    answer = await client.post("/events/truce-expiry/unack", data={"csrf": csrf, "by": "bo"})

    assert (answer.status_code, answer.headers["location"]) == (303, "/events/truce-expiry?done=unacked")
    assert _acks(daemon) == [("ana", "dashboard", None, False)]
    assert _pending_reminders(daemon) > 0
    html = (await client.get("/events/truce-expiry")).text
    assert 'id="ack-form"' in html
    assert "chip-acknowledged" not in html


async def test_a_read_session_sees_no_form_and_its_post_is_refused(daemon: Daemon, client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/events/truce-expiry")).text
    assert 'id="ack-form"' not in html
    assert "Log in with <code>ALERTD_API_TOKEN</code> to acknowledge it" in html
    answer = await client.post("/events/truce-expiry/ack", data={"csrf": "x", "by": "mallory"})
    assert answer.status_code == 403
    assert _acks(daemon) == []


async def test_a_missing_or_stale_csrf_token_is_refused(daemon: Daemon, client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    for fields in ({"by": "mallory"}, {"by": "mallory", "csrf": "stale"}):
        answer = await client.post("/events/truce-expiry/ack", data=fields)
        assert answer.status_code == 403
        assert "CSRF token is missing or stale" in answer.text
    assert _acks(daemon) == []


async def test_an_empty_name_or_a_huge_note_is_one_line_on_a_page(daemon: Daemon, client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    empty = await _ack(client, by="   ")
    assert empty.status_code == 422
    assert "an empty name is refused" in empty.text
    huge = await _ack(client, by="ana", note="x" * 5000)
    assert huge.status_code == 422
    assert "keep it to 2000" in huge.text
    assert "Traceback" not in empty.text + huge.text
    assert _acks(daemon) == []


async def test_an_unknown_event_and_an_unacked_withdrawal_are_refused(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    await log_in(client, WRITE_TOKEN)
    csrf = csrf_of((await client.get("/events/truce-expiry")).text)
    unknown = await client.post("/events/nope/ack", data={"csrf": csrf, "by": "ana"})
    assert unknown.status_code == 404
    assert "no event &#39;nope&#39;" in unknown.text
    withdrawn = await client.post("/events/truce-expiry/unack", data={"csrf": csrf, "by": "ana"})
    assert withdrawn.status_code == 409
    assert "is not acknowledged; nothing to undo" in withdrawn.text


async def test_acknowledging_counts_in_the_metrics_by_the_dashboard_path(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    await log_in(client, WRITE_TOKEN)
    await _ack(client, by="ana")
    metrics = (await client.get("/metrics")).text
    assert 'alertd_acknowledgements_total{via="dashboard"} 1.0' in metrics


SERIES = """
  - id: month-end
    title: Month-end report
    at: 2025-10-31T17:00
    repeat: FREQ=MONTHLY;BYDAY=-1FR
"""


async def test_one_occurrence_of_a_recurring_event_is_acknowledged_from_its_page(start_web: WebDaemon) -> None:
    """The occurrence's page (``/events/month-end@20251128``) acknowledges that occurrence only."""
    daemon = await start_web(calendar=SEED.read_text(encoding="utf-8") + SERIES, api_token=WRITE_TOKEN)
    async with client_for(daemon) as client:
        await log_in(client, WRITE_TOKEN)
        csrf = csrf_of((await client.get("/events/month-end@20251128")).text)
        answer = await client.post("/events/month-end%4020251128/ack", data={"csrf": csrf, "by": "ana"})
        assert answer.headers["location"] == "/events/month-end@20251128?done=acked"
        assert "chip-acknowledged" in (await client.get(answer.headers["location"])).text
        assert "chip-acknowledged" not in (await client.get("/events/month-end@20251226")).text
