"""Secrets never show: a daemon with a secret in every channel fails every delivery in every way we can provoke
(connection refused, timeouts, 4xx/5xx answers that echo the request URL and headers back) against receivers on
127.0.0.1; then its logs, ``alertd history``, ``check``, ``send-test`` and the HTTP API are searched for each secret.

One daemon run serves every test of the module: each test searches one output.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web
from e2e.harness import Harness
from support.receiver import Receiver

pytestmark = pytest.mark.slow

T0 = datetime(2025, 10, 29, 23, 0, tzinfo=UTC)
MARK = "Zq7LeakMark"  # in every secret, and nowhere else, so a partial leak shows too


def _secret(name: str) -> str:
    return f"{name}-{MARK}-{name[::-1]}"


# Secrets by environment variable; the calendar names only the variables.
WEBHOOK_SECRET = "whsec_" + base64.b64encode(_secret("signing").encode()).decode()
SECRETS: dict[str, str] = {
    "HOOK_TOKEN": _secret("hooktoken"),
    "HOOK_QUERY": _secret("hookquery"),
    "HOOK_HEADER": _secret("hookheader"),
    "HOOK_SECRET": WEBHOOK_SECRET,
    "SLACK_PATH": _secret("slackhook"),
    "SLACK_BOT_TOKEN": "xoxb-" + _secret("slackbot"),
    "DISCORD_TOKEN": _secret("discord"),
    "TEAMS_SIG": _secret("teamssig"),
    "CHAT_TOKEN": _secret("gchattoken"),
    "MM_KEY": _secret("mattermost"),
    "TELEGRAM_TOKEN": "123456789:" + _secret("telegram"),
    "NTFY_TOKEN": "tk_" + _secret("ntfy"),
    "PD_KEY": f"pd{MARK}pagerduty".ljust(32, "0"),  # 32 letters and digits, as the options model wants
    "ALERTD_SMTP_PASSWORD": _secret("smtp"),
    "ALERTD_API_TOKEN": _secret("apitoken"),
    # The server key signs acknowledgement links; the signing secret checks Slack's clicks (issue 17).
    "ALERTD_SECRET_KEY": _secret("serverkey-for-links"),
    "ALERTD_SLACK_SIGNING_SECRET": _secret("slacksigning"),
}
FILE_SECRET = _secret("fromfile")  # read through `secret_file`
NEEDLES = sorted({*SECRETS.values(), FILE_SECRET, WEBHOOK_SECRET.removeprefix("whsec_"), MARK}, key=len)


class Echo(Receiver):
    """Answers ``status`` with a body that repeats the request line, every header and the body, like some
    services' error pages do; ``delay`` past the client's timeout makes a timeout."""

    def __init__(self, status: int, delay: float = 0.0) -> None:
        super().__init__()
        self.status, self.delay = status, delay

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        self.requests.append(request)  # type: ignore[arg-type]
        if self.delay:
            await asyncio.sleep(self.delay)
        echo = f"{request.method} {request.url} {request.path_qs} {dict(request.headers)} {body}"
        # Each service's error field, so every channel's own error parsing quotes the echo.
        fields = ("error", "description", "message", "detail", "error_description")
        return web.json_response({"ok": False, "errors": [echo], **dict.fromkeys(fields, echo)}, status=self.status)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _calendar(down: str, e500: str, e401: str, e404: str, slow: str) -> str:
    """Channels spread over the failure modes; every credential comes from the environment or a file."""
    return f"""
        version: 1
        timezone: UTC
        defaults:
          reminders: [0m]
          countdown: false
        channels:
          hook-500: {{type: webhook, url: "{e500}/hooks/${{HOOK_TOKEN}}?token=${{HOOK_QUERY}}",
                      secret: "${{HOOK_SECRET}}", headers: {{Authorization: "Bearer ${{HOOK_HEADER}}"}}}}
          hook-401: {{type: webhook, url: "{e401}/hooks/${{HOOK_TOKEN}}?token=${{HOOK_QUERY}}",
                      secret_file: webhook.secret}}
          hook-down: {{type: webhook, url: "{down}/hooks/${{HOOK_TOKEN}}?token=${{HOOK_QUERY}}"}}
          hook-slow: {{type: webhook, url: "{slow}/hooks/${{HOOK_TOKEN}}?token=${{HOOK_QUERY}}"}}
          slack-404: {{type: slack, url: "{e404}/services/T0/B0/${{SLACK_PATH}}"}}
          slack-bot: {{type: slack, token: "${{SLACK_BOT_TOKEN}}", channel: C0123ABCD, api_base: "{e401}/api"}}
          discord: {{type: discord, url: "{e500}/api/webhooks/1/${{DISCORD_TOKEN}}"}}
          teams: {{type: teams, url: "{e401}/workflows/1/invoke?api-version=1&sig=${{TEAMS_SIG}}"}}
          gchat: {{type: googlechat, url: "{e404}/v1/spaces/S/messages?key=k&token=${{CHAT_TOKEN}}"}}
          mm: {{type: mattermost, url: "{down}/hooks/${{MM_KEY}}"}}
          telegram: {{type: telegram, bot_token: "${{TELEGRAM_TOKEN}}", chat_id: 42, api_base: "{e401}"}}
          ntfy: {{type: ntfy, server: "{e500}", topic: alerts, token: "${{NTFY_TOKEN}}"}}
          pd: {{type: pagerduty, routing_key: "${{PD_KEY}}", api_base: "{e404}"}}
          mail: {{type: email, to: [desk@example.com]}}
        events:
          - id: summit
            title: Leaders' summit
            at: 2025-10-29T23:30
    """


class Outputs:
    """Everything the run printed or served, by source."""

    def __init__(self) -> None:
        self.text: dict[str, str] = {}
        self.channels: list[str] = []


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outputs]:
    tmp = tmp_path_factory.mktemp("secrets")
    servers = {"e500": Echo(500), "e401": Echo(401), "e404": Echo(404), "slow": Echo(200, delay=3.0)}
    for server in servers.values():
        server.start_in_thread()
    harness = Harness(tmp)
    try:
        (tmp / "webhook.secret").write_text(FILE_SECRET + "\n", encoding="utf-8")
        urls = {name: server.base_url for name, server in servers.items()}
        calendar = harness.calendar(_calendar(down=f"http://127.0.0.1:{_free_port()}", **urls))
        env = {
            **SECRETS,
            "ALERTD_HTTP_TIMEOUT": "1",
            "ALERTD_MAX_ATTEMPTS": "2",
            "ALERTD_SMTP_HOST": "127.0.0.1",
            "ALERTD_SMTP_PORT": str(_free_port()),
            "ALERTD_SMTP_USERNAME": "desk",
            "ALERTD_SMTP_FROM": "alertd@example.com",
            "ALERTD_SMTP_TIMEOUT": "2",
            "ALERTD_HTTP_PORT": "0",
            "ALERTD_LOG_LEVEL": "DEBUG",
            "ALERTD_PUBLIC_URL": "https://alertd.example.org",
        }
        out = Outputs()
        out.channels = re.findall(r"^          ([a-z0-9-]+): \{", _calendar("", "", "", "", ""), re.M)
        daemon = harness.start(calendar, replay_from=T0, speed=600, env=env)
        api = daemon.wait_for_log(r"HTTP API listening on (http://\S+)").group(1)
        _wait_for_outcomes(harness, len(out.channels))
        out.text["api"] = _api(api, SECRETS["ALERTD_API_TOKEN"])
        daemon.stop()
        out.text["log"] = daemon.stdout() + daemon.stderr()
        for fmt in ("table", "json"):
            done = harness.cli("history", "--db", harness.db_url, "--format", fmt, env=env)
            out.text[f"history-{fmt}"] = done.stdout + done.stderr
        done = harness.cli("check", str(calendar), env=env)
        out.text["check"] = done.stdout + done.stderr
        bad = harness.calendar(_calendar("ftp://x", "gopher://y", "file://z", "javascript:w", "ftp://v"), "bad.yaml")
        done = harness.cli("check", str(bad), env=env)
        out.text["check-invalid"] = done.stdout + done.stderr
        for channel in out.channels:
            done = harness.cli("send-test", channel, "--calendar", str(calendar), env=env)
            out.text[f"send-test {channel}"] = done.stdout + done.stderr
        yield out
    finally:
        harness.close()
        for server in servers.values():
            server.close()


def _wait_for_outcomes(harness: Harness, channels: int, timeout: float = 60.0) -> None:
    """Until every channel's reminder has failed at least once (has a last error) or ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = harness.cli("history", "--db", harness.db_url, "--format", "json")
        rows = json.loads(done.stdout) if done.returncode == 0 else []
        if sum(1 for r in rows if r["last_error"] or r["state"] == "sent") >= channels:
            return
        time.sleep(0.5)
    raise AssertionError(f"not every channel failed within {timeout}s")


def _api(base: str, token: str) -> str:
    """Listings and error bodies of the HTTP API, with good, wrong and missing tokens."""
    texts: list[str] = []
    for method, path, auth in [
        ("GET", "/api/v1/notifications", token),
        ("GET", "/api/v1/notifications?state=dead", token),
        ("GET", "/api/v1/events", token),
        ("GET", "/api/v1/plan", token),
        ("GET", "/api/v1/notifications?state=bogus", token),
        ("GET", "/api/v1/notifications", token + "x"),
        ("GET", "/api/v1/notifications", ""),
        ("POST", "/api/v1/events/summit/cancel", token),
        ("POST", "/api/v1/events/summit/cancel", token[:-1]),
        ("POST", "/api/v1/notifications/nope/retry", token),
        ("GET", "/readyz", ""),
        ("GET", "/metrics", ""),
        ("POST", "/api/v1/events/summit/ack", token),
        ("GET", "/api/v1/events/summit/ack", token),
        ("GET", "/ack/not-a-real-link", ""),
        ("POST", "/ack/not-a-real-link", ""),
        ("POST", "/slack/interactions", ""),
    ]:
        request = urllib.request.Request(base + path, method=method, data=b"" if method == "POST" else None)
        if auth:
            request.add_header("Authorization", f"Bearer {auth}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                texts.append(response.read().decode())
        except urllib.error.HTTPError as exc:
            texts.append(f"{exc.code} {exc.read().decode()}")
    return "\n".join(texts)


def _leaks(text: str) -> list[str]:
    """The lines of ``text`` that hold a secret (shown when a test fails, to find the culprit)."""
    return [line.strip()[:300] for line in text.splitlines() if any(needle in line for needle in NEEDLES)]


def test_the_run_failed_every_channel(outputs: Outputs) -> None:
    """The scenario worked: every channel has a failure in history, so the searches below searched something."""
    rows: list[dict[str, Any]] = json.loads(outputs.text["history-json"])
    failed = {r["channel"] for r in rows if r["last_error"]}
    assert failed >= set(outputs.channels) - {"hook-slow"}


@pytest.mark.parametrize("source", ["log", "history-table", "history-json", "check", "check-invalid", "api"])
def test_no_secret_in_output(outputs: Outputs, source: str) -> None:
    """Logs, history, check and the API never show a secret, whole or in part."""
    assert outputs.text[source].strip()
    assert _leaks(outputs.text[source]) == []


def test_no_secret_in_send_test_output(outputs: Outputs) -> None:
    """``alertd send-test`` reports each service's refusal without its credentials."""
    found = {k: _leaks(v) for k, v in outputs.text.items() if k.startswith("send-test ")}
    assert found
    assert all(v == [] for v in found.values()), found
