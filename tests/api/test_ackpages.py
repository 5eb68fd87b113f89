"""One-click acknowledgement links end to end over real sockets: the daemon sends a reminder with ``ack_url`` to a
webhook on 127.0.0.1, a person opens the link (GET: a confirm page, nothing changes), submits it (POST: acked once);
changed, expired and reused links get a clear refusal page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from support.receiver import Receiver

from alertd.clock import FixedClock
from alertd.daemon import Daemon
from alertd.storage.outbox import NOTIFICATION

from .conftest import NOW, WRITE_TOKEN, DaemonFactory

PUBLIC = "https://alertd.example.org"
SECRET_KEY = "ack-page-test-" + "k" * 24
CALENDAR = """\
    version: 1
    timezone: America/New_York
    defaults: {{reminders: [3d, 1d], countdown: false, notify: [hook]}}
    channels:
      hook: {{type: webhook, url: "{url}"}}
    events:
      - id: truce-expiry
        title: US–China tariff truce expires
        at: 2025-11-10
"""


class Served:
    def __init__(self, daemon: Daemon, clock: FixedClock, http: httpx.AsyncClient) -> None:
        self.daemon, self.clock, self.http = daemon, clock, http

    def link_path(self, event_id: str = "truce-expiry", nonce: str = "n1") -> str:
        assert self.daemon.ack_links is not None
        return "/ack/" + self.daemon.ack_links.token(event_id, nonce)

    def states(self) -> set[str]:
        with self.daemon.engine.begin() as conn:
            query = sa.select(NOTIFICATION.c.state).where(NOTIFICATION.c.kind == "reminder")
            return set(conn.execute(query).scalars())


@pytest.fixture
async def served(start_daemon: DaemonFactory, receiver: Receiver) -> AsyncIterator[Served]:
    clock = FixedClock(NOW)
    daemon = await start_daemon(
        clock,
        calendar=CALENDAR.format(url=receiver.url()),
        http_host="127.0.0.1",
        http_port=0,
        api_token=WRITE_TOKEN,
        public_url=PUBLIC,
        secret_key=SECRET_KEY,
        allow_private_targets=True,
    )
    assert daemon.http_address is not None
    host, port = daemon.http_address
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", trust_env=False) as http:
        yield Served(daemon, clock, http)


def local(url: str) -> str:
    """A link as sent (public address) turned into its path on the test server."""
    assert url.startswith(PUBLIC + "/ack/")
    return url.removeprefix(PUBLIC)


async def test_a_sent_reminder_carries_a_link_that_acknowledges_after_confirming(
    served: Served, receiver: Receiver
) -> None:
    """The webhook payload's ``ack_url`` opens a confirm page; submitting it acknowledges, via "link"."""
    served.clock.set(NOW + timedelta(days=18, hours=2))  # 7 Nov 14:00Z: the 3d reminder is due
    # One dispatcher round, as the daemon's timer would run it, and the outcome stored.
    await served.daemon.dispatcher.step()
    await served.daemon.dispatcher.drain(timeout=5)
    [request] = await _arrivals(receiver, 1)
    url = request["ack_url"]

    page = await served.http.get(local(url))
    assert page.status_code == 200
    assert '<form method="post">' in page.text
    assert "US–China tariff truce expires" in page.text
    assert served.states() == {"sent", "pending"}

    done = await served.http.post(local(url), data={"by": "ana", "note": "filed"})
    assert done.status_code == 200
    assert "Acknowledged by <strong>ana</strong>" in done.text
    assert served.states() == {"sent", "cancelled"}
    answer = await served.http.get(
        "/api/v1/events/truce-expiry/ack", headers={"Authorization": "Bearer " + WRITE_TOKEN}
    )
    assert [(a["by"], a["via"], a["note"]) for a in answer.json()] == [("ana", "link", "filed")]
    sample = served.daemon.metrics.registry.get_sample_value
    assert sample("alertd_acknowledgements_total", {"via": "link"}) == 1.0


async def _arrivals(receiver: Receiver, count: int) -> list[dict[str, Any]]:
    import asyncio

    for _ in range(500):
        if len(receiver.requests) >= count:
            return [r.json() for r in receiver.requests]
        await asyncio.sleep(0.02)
    raise AssertionError(f"{len(receiver.requests)} requests arrived, wanted {count}")


async def test_get_never_changes_anything(served: Served) -> None:
    for _ in range(3):
        assert (await served.http.get(served.link_path())).status_code == 200
    assert served.states() == {"pending"}


async def test_a_used_link_is_refused_the_second_time(served: Served) -> None:
    path = served.link_path()
    assert (await served.http.post(path, data={"by": "ana"})).status_code == 200
    await served.http.delete(
        "/api/v1/events/truce-expiry/ack", params={"by": "bo"}, headers={"Authorization": "Bearer " + WRITE_TOKEN}
    )

    again = await served.http.post(path, data={"by": "eve"})
    shown = await served.http.get(path)

    assert again.status_code == 410
    assert "already used" in again.text
    assert shown.status_code == 410
    assert served.states() == {"pending"}


@pytest.mark.parametrize("cut", [1, 10])
async def test_a_changed_link_is_refused_with_a_clear_page(served: Served, cut: int) -> None:
    path = served.link_path()
    changed = path[: -cut - 5] + ("A" if path[-cut - 5] != "A" else "B") + path[-cut - 4 :]
    for answer in (await served.http.get(changed), await served.http.post(changed, data={"by": "eve"})):
        assert answer.status_code == 400
        assert "This link is not valid" in answer.text
    assert served.states() == {"pending"}


async def test_an_expired_link_is_refused(served: Served) -> None:
    path = served.link_path()
    served.clock.set(NOW + timedelta(days=14, seconds=2))
    answer = await served.http.post(path, data={"by": "ana"})
    assert answer.status_code == 410
    assert "This link has expired" in answer.text
    assert served.states() == {"pending"}


async def test_a_post_without_a_name_changes_nothing(served: Served) -> None:
    answer = await served.http.post(served.link_path(), data={"note": "x"})
    assert answer.status_code == 400
    assert "--by NAME" in answer.text or "who acknowledges" in answer.text
    assert served.states() == {"pending"}


async def test_pages_are_not_cached_framed_or_referred(served: Served) -> None:
    headers = (await served.http.get(served.link_path())).headers
    assert headers["cache-control"] == "no-store"
    assert headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["content-type"].startswith("text/html")


async def test_no_page_shows_the_server_key(served: Served) -> None:
    path = served.link_path()
    pages = [await served.http.get(path), await served.http.post(path, data={"by": "ana"}), await served.http.get(path)]
    assert all(SECRET_KEY not in p.text for p in pages)


async def test_without_a_public_url_links_are_off(start_daemon: DaemonFactory) -> None:
    daemon = await start_daemon(http_host="127.0.0.1", http_port=0)
    assert daemon.ack_links is None
    assert daemon.http_address is not None
    host, port = daemon.http_address
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", trust_env=False) as http:
        answer = await http.get("/ack/anything")
    assert answer.status_code == 404
    assert "not enabled" in answer.text


def test_link_tokens_are_kept_out_of_log_lines() -> None:
    from alertd.logs import ACK_PATH

    assert ACK_PATH.sub("/ack/<link-token>", 'GET /ack/eyJlIjo.abc.def HTTP/1.1" 200') == (
        'GET /ack/<link-token> HTTP/1.1" 200'
    )
    assert re.search(ACK_PATH, "/ack/x") is not None
