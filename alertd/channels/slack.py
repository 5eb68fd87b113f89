"""``slack``: post to Slack, either to an incoming webhook (``url``) or as a bot (``token`` + ``channel``).

Incoming webhook: success is HTTP 200 with the body ``ok``. Errors are bare strings whose status varies between
reports, so they are classified by the body first and by the status (:func:`alertd.channels.http.classify`) only
after that. Bot mode (one countdown card per event, updated in place) lives in :mod:`alertd.channels.slack_bot`;
the Block Kit of both modes in :mod:`alertd.channels.slack_blocks`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Self

import httpx
from pydantic import ConfigDict, Field, field_validator, model_validator

from alertd.channels import http
from alertd.channels.answers import host
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.channels.retry_after import parse_retry_after
from alertd.channels.slack_blocks import escape, payload
from alertd.channels.slack_bot import SlackBotChannel
from alertd.domain import ChannelSpec, Message
from alertd.errors import DeliveryError

__all__ = ["API_BASE", "TYPE", "SlackChannel", "SlackOptions", "classify", "escape", "payload"]

API_BASE = "https://slack.com/api"
# Conversation ids: C… public, G… private (legacy), D… direct message. Names are not enough: chat.update and
# chat.delete accept only the id.
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
_TOKEN_PREFIXES = ("xoxb-", "xoxp-")

_NEW_WEBHOOK = "create a new one and update the channel url"
_FORMAT = "Slack rejected the message format; this is an alertd bug, please report it"
# body → (permanent, what it means and what to do)
_ERRORS: dict[str, tuple[bool, str]] = {
    "no_service": (True, f"the webhook is disabled or removed; {_NEW_WEBHOOK}"),
    "no_service_id": (True, f"the webhook URL is incomplete or invalid; {_NEW_WEBHOOK}"),
    "no_active_hooks": (True, f"the webhook is disabled; {_NEW_WEBHOOK}"),
    "no_team": (True, f"the Slack workspace no longer exists; {_NEW_WEBHOOK}"),
    "team_disabled": (True, f"the Slack workspace is disabled; {_NEW_WEBHOOK}"),
    "invalid_token": (
        True,
        f"the webhook's token is no longer valid (its creator may be deactivated); {_NEW_WEBHOOK}",
    ),
    "channel_not_found": (True, f"the webhook's Slack channel no longer exists; {_NEW_WEBHOOK}"),
    "channel_is_archived": (
        True,
        "the Slack channel is archived; unarchive it or create a webhook for another channel",
    ),
    "action_prohibited": (
        True,
        "a workspace admin restricts posting to this channel; ask them or use another channel",
    ),
    "posting_to_general_channel_denied": (True, "only admins may post to this channel; use another channel"),
    "user_not_found": (True, f"the user behind the webhook no longer exists; {_NEW_WEBHOOK}"),
    "invalid_payload": (True, _FORMAT),
    "no_text": (True, _FORMAT),
    "invalid_blocks": (True, _FORMAT),
    "invalid_blocks_format": (True, _FORMAT),
    "too_many_attachments": (True, _FORMAT),
    "missing_text_or_fallback_or_attachments": (True, _FORMAT),
    "rollup_error": (False, "Slack had an internal error"),
}


class SlackOptions(Options):
    """Either ``url`` (incoming webhook) or ``token`` + ``channel`` (bot), never both."""

    # The webhook URL and the token are credentials: keep them out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    url: str | None = Field(default=None, repr=False)
    token: str | None = Field(default=None, repr=False)
    channel: str | None = None
    api_base: str = API_BASE
    # Bot mode: also show reminders and change notices in the channel, not only in the card's thread.
    broadcast: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else http.check_url(value, what="Slack webhook")

    @field_validator("token")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if not value.startswith(_TOKEN_PREFIXES) or any(c.isspace() for c in value):
            raise ValueError("a Slack bot token starts with xoxb- (Slack app → OAuth & Permissions)")
        return value

    @field_validator("channel")
    @classmethod
    def _channel(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL_ID.match(value):
            raise ValueError(
                f"{value!r} is not a Slack channel id; use the id (e.g. C0123ABCD, shown at the bottom of the "
                "channel's details), not its name"
            )
        return value

    @field_validator("api_base")
    @classmethod
    def _api_base(cls, value: str) -> str:
        return http.check_url(value, what="Slack API").rstrip("/")

    @model_validator(mode="after")
    def _one_mode(self) -> Self:
        bot = self.token is not None or self.channel is not None
        if self.url is not None and bot:
            raise ValueError("give either url (incoming webhook) or token and channel (bot), not both")
        if self.url is None and not bot:
            raise ValueError("give url (an incoming webhook) or token and channel (a bot)")
        if bot and (self.token is None or self.channel is None):
            raise ValueError("bot mode needs both token and channel")
        return self


def classify(response: httpx.Response, *, now: datetime) -> None:
    """Return for ``200 ok``; otherwise raise, judging Slack's error string before the status."""
    status = response.status_code
    body = http.excerpt(response)
    if status == 200 and body == "ok":
        return
    known = _ERRORS.get(body)
    if known is not None:
        permanent, hint = known
        retry_after = None if permanent else parse_retry_after(response.headers.get("retry-after"), now)
        raise DeliveryError(
            f"slack: {body} (HTTP {status}): {hint}",
            permanent=permanent,
            retry_after=retry_after,
            status=status,
        )
    if 200 <= status < 300:
        said = body or "an empty body"
        raise DeliveryError(f"slack: unexpected answer (HTTP {status}): {said}", status=status)
    raise http.classify_for("slack", response, now=now)


class SlackChannel:
    """Incoming-webhook mode: one POST per notification."""

    def __init__(self, spec: ChannelSpec, ctx: ChannelContext, url: str) -> None:
        self.spec = spec
        self._url = url
        self._http = ctx.client()

    async def send(self, message: Message) -> str:
        body = payload(message, channel_timezone=self.spec.timezone)
        response, now = await http.post_json(self._http, self._url, body)
        classify(response, now=now)
        # Only the host: the webhook's path is its secret.
        return f"HTTP 200 ok from {host(self._url)}"


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    options = SlackOptions.model_validate(dict(spec.options))
    if options.url is not None:
        return SlackChannel(spec, ctx, options.url)
    # The model validator guarantees both in bot mode.
    assert options.token is not None
    assert options.channel is not None
    return SlackBotChannel(
        spec,
        ctx,
        token=options.token,
        channel=options.channel,
        api_base=options.api_base,
        broadcast=options.broadcast,
    )


# Slack allows about one message per second per channel with short bursts; one send at a time per channel also
# keeps a bot's card updates for one event in order.
TYPE = ChannelType(name="slack", options=SlackOptions, build=_build, concurrency=1, rate=1.0, burst=3)
