"""Every channel option that is an HTTP URL accepts only http and https, refused at calendar load with file:line.

Apprise URLs are exempt by design: their scheme names the service (``tgram://``, ``mailto://``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from alertd.calendar.load import parse_calendar
from alertd.errors import CalendarError

# A valid channel of each type; every URL-valued key is swapped for a bad one in turn.
VALID: dict[str, dict[str, Any]] = {
    "webhook": {"url": "https://hooks.example.com/alertd"},
    "slack": {"token": "xoxb-" + "test-abc", "channel": "C0123ABCD", "api_base": "https://slack.example.com/api"},
    "slack-webhook": {"type": "slack", "url": "https://hooks.slack.com/services/" + "T0/B0/abc"},
    "discord": {"url": "https://discord.com/api/webhooks/1/abc", "avatar_url": "https://example.com/a.png"},
    "teams": {"url": "https://prod-00.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke"},
    "telegram": {"bot_token": "123:abc", "chat_id": 1, "api_base": "https://api.telegram.org"},
    "mattermost": {"url": "https://mm.example.com/hooks/abc", "icon_url": "https://example.com/i.png"},
    "googlechat": {"url": "https://chat.googleapis.com/v1/spaces/S/messages?key=k&token=t"},
    "ntfy": {"server": "https://ntfy.sh", "topic": "alerts"},
    "pagerduty": {"routing_key": "R" * 32, "api_base": "https://events.pagerduty.com"},
}
URL_KEYS = [
    ("webhook", "url"),
    ("slack", "api_base"),
    ("slack-webhook", "url"),
    ("discord", "url"),
    ("discord", "avatar_url"),
    ("teams", "url"),
    ("telegram", "api_base"),
    ("mattermost", "url"),
    ("mattermost", "icon_url"),
    ("googlechat", "url"),
    ("ntfy", "server"),
    ("pagerduty", "api_base"),
]
BAD = ["ftp://files.example.com/x", "file:///etc/passwd", "gopher://example.com:70/x", "javascript:alert(1)"]


def _calendar(kind: str, options: dict[str, Any]) -> str:
    options = {"type": kind.split("-")[0], **options}
    lines = [f"    {key}: {json.dumps(value)}" for key, value in options.items()]
    return "\n".join(["version: 1", "channels:", "  c:", *lines]) + "\n"


@pytest.mark.parametrize("kind", sorted(VALID))
def test_the_valid_channels_load(kind: str) -> None:
    """The baseline of each case is valid, so a failure below is the URL's."""
    calendar, _ = parse_calendar(_calendar(kind, VALID[kind]), name="calendar.yaml", environ={})
    assert calendar.channels["c"].type == kind.split("-")[0]


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize(("kind", "key"), URL_KEYS)
def test_non_http_urls_are_refused_at_load_with_file_and_line(kind: str, key: str, bad: str) -> None:
    """The error points at the key's own line and says which schemes are allowed, without echoing the URL."""
    text = _calendar(kind, {**VALID[kind], key: bad})
    with pytest.raises(CalendarError) as info:
        parse_calendar(text, name="calendar.yaml", environ={})
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.strip().startswith(f"{key}:"))
    [issue] = info.value.issues
    assert (issue.file, issue.line, issue.path) == ("calendar.yaml", line, f"channels.c.{key}")
    assert "only http and https" in issue.message
    assert bad not in str(issue)
