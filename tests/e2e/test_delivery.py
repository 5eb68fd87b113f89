"""A replayed daemon delivers to a generic webhook and a Slack-like receiver over real sockets."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from e2e.harness import Harness, Receivers

pytestmark = pytest.mark.slow

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
# 19:20 in New York is 23:20Z: the reminders are due 15 and 20 virtual minutes (1.5 s and 2 s) after T0, which
# leaves a slow start-up (the replay clock runs from the moment the process starts) a margin.
CALENDAR = f"""
    version: 1
    timezone: America/New_York
    channels:
      hook: {{type: webhook, url: "${{HOOK_URL}}", secret: "{SECRET}"}}
      team: {{type: slack, url: "${{SLACK_URL}}"}}
    events:
      - id: summit
        title: Leaders' summit
        at: 2025-10-29T19:20
        status: tentative
        tags: [trade, summit]
        source: "https://example.org/summit"
        reminders: [5m, 0m]
        notify: [hook, team]
"""


def test_webhook_and_slack_receive_every_reminder(e2e: Harness, receivers: Receivers) -> None:
    """Both reminders reach both receivers once, in due order, as signed SPEC §5 payloads and Slack blocks."""
    daemon = e2e.start(e2e.calendar(CALENDAR), replay_from=T0, env=receivers.env)
    hooks = receivers["hook"].wait_for(2, timeout=20)
    slacks = receivers["slack"].wait_for(2, timeout=20)
    daemon.wait_for_log(r"sent rem:summit:0m:team:")
    assert daemon.stop() == 0

    verified = [Webhook(SECRET).verify(r.body, r.headers) for r in hooks]
    assert [p["id"] for p in verified] == [r.headers["webhook-id"] for r in hooks]
    assert [(p["kind"], p["offset"], p["due_at"], p["late"]) for p in verified] == [
        ("reminder", "5m", "2025-10-29T23:15:00Z", False),
        ("reminder", "0m", "2025-10-29T23:20:00Z", False),
    ]
    first = verified[0]
    assert first["id"] == "rem:summit:5m:hook:20251029T231500Z"
    assert first["event"] == {
        "id": "summit",
        "title": "Leaders' summit",
        "starts_at": "2025-10-29T23:20:00Z",
        "all_day": False,
        "timezone": "America/New_York",
        "status": "tentative",
        "tags": ["trade", "summit"],
        "source": "https://example.org/summit",
    }
    # sent_at is on the replay clock: after the due instant, within the virtual minutes the test ran.
    assert "2025-10-29T23:15:00Z" <= first["sent_at"] < "2025-10-29T23:20:00Z"
    assert 0 < first["countdown"]["seconds"] <= 300
    assert first["text"].startswith(f"Leaders' summit {first['countdown']['text']}.")
    assert "Wed 29 Oct 2025 19:20 EDT (America/New_York)" in first["text"]
    assert first["change"] is None

    assert {r.path for r in slacks} == {"/services/T0/B0/slack-s3cr3t"}
    headers = [r.json()["blocks"][0]["text"]["text"] for r in slacks]
    assert headers[0].startswith("Leaders' summit — in ")
    assert headers[1] == "Leaders' summit — now"
    assert all(r.headers["content-type"] == "application/json" for r in slacks)


# One reminder at 23:15Z (1.5 s after T0) to four receivers that each misbehave in their own way; the event starts
# at 00:00Z (6 s after T0), so every retry below still fits before it.
RETRY_CALENDAR = """
    version: 1
    timezone: UTC
    channels:
      throttled: {type: webhook, url: "${THROTTLED_URL}"}
      dated: {type: webhook, url: "${DATED_URL}"}
      flaky: {type: webhook, url: "${FLAKY_URL}"}
      gone: {type: slack, url: "${GONE_URL}"}
    events:
      - id: expiry
        title: Truce expires
        at: 2025-10-30T00:00
        reminders: [45m]
        notify: [throttled, dated, flaky, gone]
"""


@dataclass(frozen=True)
class RetryRun:
    receivers: Receivers
    retry_at: float
    history: dict[str, dict[str, Any]]
    table: str


@pytest.fixture(scope="module")
def retry_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RetryRun]:
    """One daemon run against the misbehaving receivers, then its history (JSON and table)."""
    servers = Receivers("throttled", "dated", "flaky", "gone")
    harness = Harness(tmp_path_factory.mktemp("retries"))
    try:
        servers["throttled"].reply(429, "slow down", {"Retry-After": "2"})
        retry_at = float(int(time.time()) + 5)
        servers["dated"].reply(503, "maintenance", {"Retry-After": formatdate(retry_at, usegmt=True)})
        servers["flaky"].reply(500, "oops")
        servers["gone"].reply(404, "no_service")
        daemon = harness.start(harness.calendar(RETRY_CALENDAR), replay_from=T0, env=servers.env)
        for name in ("throttled", "dated", "flaky"):
            servers[name].wait_for(2, timeout=20)
            daemon.wait_for_log(rf"sent rem:expiry:45m:{name}:")
        assert daemon.stop() == 0
        rows = {r["channel"]: r for r in harness.history()}
        table = harness.cli("history", "--db", f"sqlite:///{harness.db}")
        assert table.returncode == 0, table.stderr
        yield RetryRun(servers, retry_at, rows, table.stdout)
    finally:
        harness.close()
        servers.close()


def test_retry_after_seconds_is_honoured_in_real_time(retry_run: RetryRun) -> None:
    """A 429 with ``Retry-After: 2`` is retried no sooner than 2 real seconds later (not 2 virtual seconds)."""
    first, second = retry_run.receivers["throttled"].arrivals
    # The receiver stamps arrivals from a thread of this busy test process, a few ms late at times: allow 0.05 s.
    assert 1.95 <= second - first < 5.0
    assert retry_run.history["throttled"]["state"] == "sent"
    assert retry_run.history["throttled"]["attempts"] == 2


def test_retry_after_http_date_is_read_against_the_real_clock(retry_run: RetryRun) -> None:
    """A ``Retry-After`` HTTP date is honoured in real time even though the daemon runs on a replay clock."""
    _, second = retry_run.receivers["dated"].arrivals
    # The replay clock advances with the monotonic clock while the date is wall-clock time: allow their drift.
    assert retry_run.retry_at - 0.1 <= second < retry_run.retry_at + 3.0
    assert retry_run.history["dated"]["state"] == "sent"


def test_server_error_is_retried_with_the_same_id(retry_run: RetryRun) -> None:
    """A 500 is retried soon, with the same ``webhook-id`` header and payload ``id``."""
    requests = retry_run.receivers["flaky"].requests
    assert [r.headers["webhook-id"] for r in requests] == ["rem:expiry:45m:flaky:20251029T231500Z"] * 2
    assert [r.json()["id"] for r in requests] == ["rem:expiry:45m:flaky:20251029T231500Z"] * 2
    assert retry_run.history["flaky"]["state"] == "sent"
    assert retry_run.history["flaky"]["attempts"] == 2


def test_slack_no_service_is_dead_at_once(retry_run: RetryRun) -> None:
    """Slack's 404 ``no_service`` is not retried and shows as dead, with the reason, in both history formats."""
    assert len(retry_run.receivers["gone"].requests) == 1
    row = retry_run.history["gone"]
    assert (row["state"], row["attempts"]) == ("dead", 1)
    assert "no_service" in row["last_error"]
    assert "s3cr3t" not in row["last_error"]
    (line,) = [line for line in retry_run.table.splitlines() if ":gone:" in line]
    assert "dead" in line
    assert "no_service" in line
