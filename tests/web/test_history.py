"""``/history``: keyset paging, filters, and the retry/cancel forms (session, role and CSRF checked)."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa

from alertd.api.notifications import decode_cursor
from alertd.daemon import Daemon
from alertd.storage import NOTIFICATION
from alertd.web.history import read_page

from .conftest import READ_TOKEN, WRITE_TOKEN, csrf_of, log_in

_N = NOTIFICATION.c


def _all_ids(daemon: Daemon) -> list[str]:
    with daemon.engine.connect() as conn:
        rows = conn.execute(sa.select(_N.id).order_by(_N.due_at.desc(), _N.id.desc())).scalars()
        return list(rows)


def _pending_id(daemon: Daemon) -> str:
    with daemon.engine.connect() as conn:
        found: str = conn.execute(sa.select(_N.id).where(_N.state == "pending").limit(1)).scalar_one()
    return found


async def test_paging_by_keyset_visits_every_row_once_newest_first(daemon: Daemon) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = read_page(daemon.read_engine, cursor=cursor, limit=3)
        seen.extend(r.id for r in page.rows)
        if page.next_cursor is None:
            break
        cursor = decode_cursor(page.next_cursor)
    assert len(seen) > 6
    assert seen == _all_ids(daemon)


@pytest.mark.parametrize(
    ("column", "index"),
    [
        (None, "ix_notification_due_id"),
        ("channel", "ix_notification_channel_due_id"),
        ("event_id", "ix_notification_event_due_id"),
    ],
)
async def test_a_page_reads_an_index_in_due_order_without_sorting_the_outbox(
    daemon: Daemon, column: str | None, index: str
) -> None:
    query = sa.select(_N.id).order_by(_N.due_at.desc(), _N.id.desc()).limit(51)
    if column is not None:
        query = query.where(_N[column] == "x")
    with daemon.read_engine.connect() as conn:
        compiled = query.compile(conn, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}"))
    assert index in plan
    assert "TEMP B-TREE" not in plan


async def test_the_text_filter_treats_percent_and_underscore_literally(daemon: Daemon) -> None:
    assert read_page(daemon.read_engine, text="%").rows == []
    assert read_page(daemon.read_engine, text="truce-expiry").rows


async def test_filters_narrow_the_page_and_links_keep_them(daemon: Daemon, client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/history", params={"event": "truce-expiry", "state": "pending"})).text
    assert "truce-expiry" in html
    assert "us-100pct-tariff" not in html


async def test_a_stale_page_link_says_so_and_shows_the_newest(client: httpx.AsyncClient) -> None:
    await log_in(client, READ_TOKEN)
    answer = await client.get("/history", params={"after": "not-a-cursor"})
    assert answer.status_code == 200
    assert "not valid any more" in answer.text


async def test_a_read_session_sees_no_action_buttons_and_its_posts_are_refused(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    await log_in(client, READ_TOKEN)
    html = (await client.get("/history")).text
    assert "/cancel" not in html
    refused = await client.post(f"/history/{_pending_id(daemon)}/cancel", data={"csrf": "x"})
    assert refused.status_code == 403
    assert "may only read" in refused.json()["error"]


async def test_cancelling_without_the_csrf_field_is_refused_and_changes_nothing(
    daemon: Daemon, client: httpx.AsyncClient
) -> None:
    await log_in(client, WRITE_TOKEN)
    target = _pending_id(daemon)
    refused = await client.post(f"/history/{target}/cancel", data={})
    assert refused.status_code == 403
    assert "CSRF token is missing or stale" in refused.text
    forged = await client.post(f"/history/{target}/cancel", data={"csrf": "guessed"})
    assert forged.status_code == 403
    with daemon.engine.connect() as conn:
        assert conn.execute(sa.select(_N.state).where(_N.id == target)).scalar_one() == "pending"


async def test_cancelling_with_the_sessions_csrf_cancels_and_says_so(daemon: Daemon, client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    target = _pending_id(daemon)
    csrf = csrf_of((await client.get("/history")).text)
    done = await client.post(f"/history/{target}/cancel", data={"csrf": csrf, "back": "/history"})
    assert done.status_code == 303
    landing = await client.get(done.headers["location"])
    assert f"{target}: cancelled" in landing.text
    with daemon.engine.connect() as conn:
        assert conn.execute(sa.select(_N.state).where(_N.id == target)).scalar_one() == "cancelled"


async def test_retrying_a_pending_notification_shows_the_apis_reason(daemon: Daemon, client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    target = _pending_id(daemon)
    csrf = csrf_of((await client.get("/history")).text)
    done = await client.post(f"/history/{target}/retry", data={"csrf": csrf})
    landing = await client.get(done.headers["location"])
    assert "only dead or missed ones can be retried" in landing.text


async def test_an_action_returns_to_the_same_filtered_page(daemon: Daemon, client: httpx.AsyncClient) -> None:
    await log_in(client, WRITE_TOKEN)
    page = (await client.get("/history", params={"state": "pending", "event": "truce-expiry"})).text
    target = page.split('action="/history/', 1)[1].split("/cancel", 1)[0]
    done = await client.post(
        f"/history/{target}/cancel", data={"csrf": csrf_of(page), "back": "/history?state=pending&event=truce-expiry"}
    )
    assert done.headers["location"].startswith("/history?state=pending&event=truce-expiry&done=")
    assert 'name="back" value="/history?state=pending&amp;event=truce-expiry"' in page
