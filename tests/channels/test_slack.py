"""The Slack channel's options (webhook or bot) and its incoming-webhook mode, over a real socket."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from support.factories import make_channel, make_event, make_message
from support.receiver import Receiver

from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.channels.http import json_bytes
from alertd.channels.slack import TYPE, SlackChannel, SlackOptions, classify, payload
from alertd.channels.slack_bot import SlackBotChannel
from alertd.errors import DeliveryError

NOW = datetime(2025, 11, 9, 14, 0, 2, tzinfo=UTC)
TIMED = make_event(
    "vote",
    title="Council vote",
    all_day=False,
    local_start=datetime(2025, 11, 10, 9, 0),
    status="tentative",
    tags=("policy", "eu"),
    source="https://example.org/agenda?id=7&x=<y>",
)


def _channel(receiver: Receiver, client: httpx.AsyncClient, timezone: str = "UTC") -> Any:
    spec = make_channel("slack", id="team", timezone=timezone, options={"url": receiver.url("/services/T/B/t0k3n")})
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def test_registered() -> None:
    """The registry maps ``slack`` to this module."""
    assert REGISTRY["slack"] is TYPE


async def test_options_take_a_webhook_or_a_bot_and_build_the_matching_channel(http_client: httpx.AsyncClient) -> None:
    """``url`` builds the webhook channel; ``token`` + ``channel`` the bot channel with the default API base."""
    ctx = ChannelContext(http=http_client, out=io.StringIO(), settings=None)
    hook = TYPE.build(make_channel("slack", options={"url": "https://hooks.slack.com/services/T/B/x"}), ctx)
    bot_options = {"token": "xoxb-" + "test-abc", "channel": "C0123ABCD"}
    bot = TYPE.build(make_channel("slack", options=bot_options), ctx)
    assert isinstance(hook, SlackChannel)
    assert isinstance(bot, SlackBotChannel)
    assert SlackOptions.model_validate(bot_options).api_base == "https://slack.com/api"


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({}, "give url (an incoming webhook) or token and channel (a bot)"),
        (
            {"url": "https://hooks.slack.com/services/T/B/x", "token": "xoxb-1", "channel": "C0123ABCD"},
            "give either url (incoming webhook) or token and channel (bot), not both",
        ),
        ({"token": "xoxb-" + "test-abc"}, "bot mode needs both token and channel"),
        ({"token": "xoxb-" + "test-abc", "channel": "#general"}, "is not a Slack channel id"),
        ({"token": "https://hooks.slack.com/services/T/B/x", "channel": "C0123ABCD"}, "starts with xoxb-"),
        ({"token": "xoxb-" + "test-abc", "channel": "C0123ABCD", "api_base": "ftp://x"}, "only http and https"),
    ],
)
def test_options_are_validated(options: dict[str, str], error: str) -> None:
    """Exactly one mode, a bot token that looks like one, a channel id (chat.update needs ids, not names)."""
    with pytest.raises(ValidationError, match=re.escape(error)):
        SlackOptions.model_validate(options)


def test_options_hide_the_token() -> None:
    """The token is in neither the repr nor a validation error."""
    assert "s3cr3t" not in repr(SlackOptions.model_validate({"token": "xoxb-" + "s3cr3t", "channel": "C0123ABCD"}))
    with pytest.raises(ValidationError) as info:
        SlackOptions.model_validate({"token": "xoxq-" + "s3cr3t", "channel": "C0123ABCD"})
    assert "s3cr3t" not in str(info.value)


def test_options_reject_other_schemes_without_quoting_url() -> None:
    """Only http(s) webhook URLs are accepted and the error does not echo the URL."""
    with pytest.raises(ValidationError, match="only http and https Slack webhook URLs are allowed") as info:
        SlackOptions.model_validate({"url": "ftp://hooks.slack.com/services/T/B/t0k3n"})
    assert "t0k3n" not in str(info.value)
    assert "t0k3n" not in repr(SlackOptions.model_validate({"url": "https://hooks.slack.com/services/T/B/t0k3n"}))


async def test_sends_exact_payload(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """200 ``ok`` is success, answered with the webhook's host only; the receiver got the Block Kit JSON."""
    message = make_message(event=TIMED)
    answer = await _channel(receiver, http_client, "Europe/Berlin").send(message)
    # The path is the webhook's secret, so only the host appears.
    assert answer == f"HTTP 200 ok from {receiver.base_url.removeprefix('http://')}"
    (request,) = receiver.requests
    assert (request.method, request.path) == ("POST", "/services/T/B/t0k3n")
    assert request.headers["content-type"] == "application/json"
    assert request.body == json_bytes(payload(message, channel_timezone="Europe/Berlin"))


SLACK_ANSWERS: list[tuple[int, str, dict[str, str], bool, float | None, str]] = [
    (
        404,
        "no_service",
        {},
        True,
        None,
        "slack: no_service (HTTP 404): the webhook is disabled or removed; create a new one and update the channel url",
    ),
    (
        400,
        "invalid_blocks",
        {},
        True,
        None,
        "slack: invalid_blocks (HTTP 400): Slack rejected the message format",
    ),
    (429, "", {"Retry-After": "7"}, False, 7, "slack: HTTP 429 from 127.0.0.1"),
    (500, "rollup_error", {}, False, None, "slack: rollup_error (HTTP 500): Slack had an internal error"),
    (
        410,
        "channel_is_archived",
        {},
        True,
        None,
        "slack: channel_is_archived (HTTP 410): the Slack channel is archived",
    ),
    (403, "invalid_token", {}, True, None, "slack: invalid_token (HTTP 403)"),
    (400, "invalid_token", {}, True, None, "slack: invalid_token (HTTP 400)"),
    (200, "not quite", {}, False, None, "slack: unexpected answer (HTTP 200): not quite"),
    (
        503,
        "<html><b>Service Unavailable</b></html>",
        {"Content-Type": "text/html"},
        False,
        None,
        "slack: HTTP 503",
    ),
    (404, "gone", {}, True, None, "slack: HTTP 404 from 127.0.0.1"),
]


@pytest.mark.parametrize(("status", "body", "headers", "permanent", "retry_after", "start"), SLACK_ANSWERS)
async def test_slack_answers_over_socket(
    receiver: Receiver,
    http_client: httpx.AsyncClient,
    status: int,
    body: str,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
    start: str,
) -> None:
    """Slack's answers are classified by body string first, then by status, and never show the URL."""
    receiver.reply(status, body, headers)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    error = info.value
    assert (error.permanent, error.retry_after, error.status) == (permanent, retry_after, status)
    assert str(error).startswith(start)
    assert "t0k3n" not in str(error)
    assert "\n" not in str(error)


def test_error_string_wins_over_status() -> None:
    """A known error string decides even when its status would say otherwise (e.g. no_service with 500)."""
    response = httpx.Response(500, text="no_service\n", request=httpx.Request("POST", "https://hooks.slack.com/x"))
    with pytest.raises(DeliveryError) as info:
        classify(response, now=NOW)
    assert info.value.permanent is True


def test_rollup_error_honours_retry_after() -> None:
    """A transient Slack error string keeps the service's Retry-After."""
    response = httpx.Response(
        500, text="rollup_error", headers={"Retry-After": "12"}, request=httpx.Request("POST", "https://h/x")
    )
    with pytest.raises(DeliveryError) as info:
        classify(response, now=NOW)
    assert info.value.retry_after == 12


def test_an_ack_link_is_a_button_opening_it() -> None:
    link = "https://alertd.example.org/ack/abc.def.ghi"
    blocks = payload(make_message()._replace(ack_url=link))["blocks"]
    actions = [b for b in blocks if b["type"] == "actions"]
    assert actions == [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                    "url": link,
                    "action_id": "alertd_ack_link",
                }
            ],
        }
    ]
    assert not [b for b in payload(make_message())["blocks"] if b["type"] == "actions"]
