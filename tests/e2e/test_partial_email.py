"""An email the SMTP server refuses for one recipient: sent to the others, and the refusal shows in history and
the API (a real daemon process, a real aiosmtpd server on 127.0.0.1)."""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from e2e.harness import Harness

pytestmark = pytest.mark.slow

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)
TOKEN = "partial-refusal-test-token"
REFUSED = "gone@example.org"
# The reminder is due 35 virtual minutes (3.5 s at x600) after T0: room for a slow start on a loaded machine.
CALENDAR = f"""
    version: 1
    timezone: UTC
    channels:
      desk-mail: {{type: email, to: ["ops@example.org", "{REFUSED}"]}}
    events:
      - id: summit
        title: Leaders' summit
        at: 2025-10-29T23:40
        reminders: [5m]
        notify: [desk-mail]
"""


@dataclass
class Mailbox:
    """Accepts mail for everyone but REFUSED, which gets a permanent 550 at RCPT."""

    received: list[list[str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address == REFUSED:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.received.append(list(envelope.rcpt_tos))
        return "250 2.0.0 Ok: queued as 4F2A"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


def test_an_email_refused_for_one_recipient_is_sent_and_shows_the_refusal(
    e2e: Harness, mailbox: tuple[Mailbox, int]
) -> None:
    """The other recipient gets the mail; the row is ``sent`` with ``refused: gone@… (550 …)`` in ``alertd
    history`` (state ``sent (partial)``) and in the API (``partial: true``), and the daemon logs a warning."""
    box, port = mailbox
    env = {
        "ALERTD_SMTP_HOST": "127.0.0.1",
        "ALERTD_SMTP_PORT": str(port),
        "ALERTD_SMTP_TLS": "none",
        "ALERTD_SMTP_FROM": "alertd@example.org",
        "ALERTD_HTTP_PORT": "0",
        "ALERTD_API_TOKEN": TOKEN,
    }
    daemon = e2e.start(e2e.calendar(CALENDAR), replay_from=T0, env=env)
    api = daemon.wait_for_log(r"HTTP API listening on (http://\S+)").group(1)
    warning = daemon.wait_for_log(r"WARNING +sent rem:summit:5m:desk-mail:\S+ → desk-mail: (.*)", timeout=20).group(1)
    request = urllib.request.Request(
        f"{api}/api/v1/notifications?event=summit&kind=reminder", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        [listed] = json.load(answer)["items"]
    assert daemon.stop() == 0

    assert box.received == [["ops@example.org"]]
    assert "for 1 of 2 recipients" in warning
    refusal = f"refused: {REFUSED} (550 5.1.1 No such user)"
    assert (listed["state"], listed["partial"], listed["last_error"]) == ("sent", True, refusal)
    [row] = e2e.history("--event", "summit")
    assert (row["state"], row["partial"], row["last_error"]) == ("sent", True, refusal)
    table = e2e.cli("history", "--db", e2e.db_url, "--event", "summit")
    assert table.returncode == 0, table.stderr
    [line] = [line for line in table.stdout.splitlines() if "desk-mail" in line]
    assert "sent (partial)" in line
    assert refusal in line
