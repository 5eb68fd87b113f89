"""Slack bot mode: one countdown card per event per Slack channel, kept current with ``chat.update``.

The first notification about an event posts its card (``chat.postMessage``) and stores the message's ``ts`` in
the channel state (the database in the daemon), so every replica and every restart updates the same card.
Countdown digests update each listed event's card instead of posting a digest; reminders and change notices
update the card and are also posted as replies in its thread.

One delivery may take several API calls, and each step is safe to repeat: with the ``ts`` stored, a retry
updates the card instead of posting another. Two replicas that both post a card for a new event race on
``put_if_absent``; the loser deletes its own copy (``chat.delete``; a message without replies disappears
without a trace) and updates the winner's, so the channel ends up with one card and nobody's thread is split.
Slack answers errors with HTTP 200 and ``{"ok": false, "error": …}``; :func:`check` classifies them.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import httpx

from alertd.channels import http
from alertd.channels.base import ChannelContext, ChannelState
from alertd.channels.retry_after import parse_retry_after
from alertd.channels.slack_blocks import card, payload, reply
from alertd.channels.state import MemoryState, state_key
from alertd.domain import ChannelSpec, CountdownLine, EventSpec, Message
from alertd.errors import DeliveryError
from alertd.messages import countdown_line

__all__ = ["ERRORS", "SlackApiError", "SlackBotChannel", "card_key", "check"]

log = logging.getLogger("alertd.channels.slack")

_TOKEN = "check the channel's token (Slack app → OAuth & Permissions → Bot User OAuth Token)"
_REINSTALL = "reinstall the Slack app and use its new bot token"
_FORMAT = "Slack rejected the message format; this is an alertd bug, please report it"
_RESTRICTED = "a workspace admin restricts posting in this channel; ask them or use another channel"
_RETRY = "Slack had a temporary problem"
# error → (permanent, what it means and what to do). Sources: the chat.postMessage/chat.update method pages.
ERRORS: dict[str, tuple[bool, str]] = {
    "not_authed": (True, f"no token reached Slack; {_TOKEN}"),
    "invalid_auth": (True, f"the token is not valid; {_TOKEN}"),
    "account_inactive": (True, f"the token belongs to a deactivated user or bot; {_REINSTALL}"),
    "token_revoked": (True, f"the token was revoked; {_REINSTALL}"),
    "token_expired": (True, f"the token expired (token rotation is on); {_REINSTALL} without rotation"),
    "no_permission": (True, f"the token may not post here; {_TOKEN}"),
    "missing_scope": (True, "the Slack app lacks the chat:write scope; add it and reinstall the app"),
    "channel_not_found": (
        True,
        "the Slack channel does not exist or the bot cannot see it; check the channel id (invite the bot to a "
        "private channel)",
    ),
    "not_in_channel": (True, "the bot is not in the channel; /invite it there or add the chat:write.public scope"),
    "is_archived": (True, "the Slack channel is archived; unarchive it or use another channel"),
    "restricted_action": (True, _RESTRICTED),
    "restricted_action_read_only_channel": (True, _RESTRICTED),
    "restricted_action_thread_only_channel": (True, _RESTRICTED),
    "restricted_action_non_threadable_channel": (True, _RESTRICTED),
    "ekm_access_denied": (True, "the workspace's encryption keys deny access; ask a Slack admin"),
    "as_user_not_supported": (True, _FORMAT),
    "msg_too_long": (True, _FORMAT),
    "msg_blocks_too_long": (True, _FORMAT),
    "no_text": (True, _FORMAT),
    "invalid_blocks": (True, _FORMAT),
    "invalid_blocks_format": (True, _FORMAT),
    "too_many_attachments": (True, _FORMAT),
    "invalid_arguments": (True, _FORMAT),
    "invalid_array_arg": (True, _FORMAT),
    "invalid_charset": (True, _FORMAT),
    "invalid_json": (True, _FORMAT),
    "json_not_object": (True, _FORMAT),
    "invalid_post_type": (True, _FORMAT),
    "missing_post_type": (True, _FORMAT),
    "cant_update_message": (True, "the stored card is not this bot's message"),
    "edit_window_closed": (True, "the workspace no longer allows editing the card"),
    "message_not_found": (True, "the card was deleted"),
    "ratelimited": (False, "Slack asks to slow down"),
    "request_timeout": (False, _RETRY),
    "internal_error": (False, _RETRY),
    "fatal_error": (False, _RETRY),
    "service_unavailable": (False, _RETRY),
    "team_added_to_org": (False, "the workspace is being moved into an organisation"),
    # Slack: "the workspace is undergoing an enterprise migration and will not be available until it completes".
    "org_login_required": (False, "the workspace is being migrated by Slack"),
}
# The card cannot be updated: post a new one and remember that instead.
_CARD_GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})


class SlackApiError(DeliveryError):
    """A Slack Web API call failed; ``code`` is Slack's error string (``ratelimited``, ``invalid_auth``…)."""

    def __init__(self, message: str, *, code: str | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.code = code


def _error_code(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    code = data.get("error") if isinstance(data, dict) else None
    return http.one_line(code, 80) if isinstance(code, str) else None


def check(method: str, response: httpx.Response, *, now: datetime) -> dict[str, Any]:
    """The answer of a Web API call when it is ``ok: true``; otherwise raise the fitting SlackApiError."""
    status = response.status_code
    where = f"slack {method}"
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"), now)
        wait = f"; retry after {retry_after:g}s" if retry_after is not None else ""
        raise SlackApiError(
            f"{where}: ratelimited (HTTP 429): Slack asks to slow down{wait}",
            code=_error_code(response) or "ratelimited",
            retry_after=retry_after,
            status=status,
        )
    if not 200 <= status < 300:
        try:
            http.classify(response, now=now)
        except DeliveryError as exc:
            raise SlackApiError(
                f"{where}: {exc}", code=None, permanent=exc.permanent, retry_after=exc.retry_after, status=status
            ) from None
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("ok"), bool):
        said = http.excerpt(response) or "an empty body"
        raise SlackApiError(f"{where}: unexpected answer (HTTP {status}): {said}", code=None, status=status)
    if data["ok"]:
        return data
    code = str(data.get("error") or "unknown")
    permanent, hint = ERRORS.get(code, (False, "an error alertd does not know"))
    retry_after = None if permanent else parse_retry_after(response.headers.get("retry-after"), now)
    raise SlackApiError(
        f"{where}: {code}: {hint}", code=code, permanent=permanent, retry_after=retry_after, status=status
    )


def card_key(channel_id: str, slack_channel: str, event_id: str) -> str:
    """Where the ``ts`` of an event's card is stored."""
    return state_key("slack", "card", channel_id, slack_channel, event_id)


class SlackBotChannel:
    """Bot mode of the ``slack`` channel type (``token`` + ``channel``)."""

    def __init__(
        self,
        spec: ChannelSpec,
        ctx: ChannelContext,
        *,
        token: str,
        channel: str,
        api_base: str,
        broadcast: bool = False,
    ) -> None:
        self.spec = spec
        self._http = ctx.client()
        self._token = token
        self._channel = channel
        self._api = api_base.rstrip("/")
        self._broadcast = broadcast
        # Cards get an "Acknowledge" button only where alertd can take the click (a signing secret is set).
        self._interactive = getattr(ctx.settings, "slack_signing_secret", None) is not None
        # Without the daemon's database (one-shot commands) cards are remembered for this process only.
        self._state: ChannelState = ctx.state if ctx.state is not None else MemoryState()

    async def send(self, message: Message) -> str:
        tz = self.spec.timezone
        if message.kind == "countdown":
            return await self._digest(message)
        event = message.event
        if event is None:
            data = await self._call("chat.postMessage", {**payload(message, channel_timezone=tz), **self._where()})
            return f"posted to {self._channel} (ts {data['ts']})"
        removed = message.kind == "change" and (message.change or {}).get("type") == "removed"
        line = message.countdown or countdown_line(event, message.sent_at, tz, locale=message.locale)
        # An acknowledgement notice's first line says who: the card shows it in place of the countdown.
        acked = message.text.split("\n", 1)[0] if message.kind == "ack" else None
        ts, how = await self._show_card(
            event, line, now=message.sent_at, locale=message.locale, removed=removed, acked_text=acked
        )
        body: dict[str, Any] = {**reply(message, channel_timezone=tz), **self._where(), "thread_ts": ts}
        if self._broadcast:
            body["reply_broadcast"] = True
        data = await self._call("chat.postMessage", body)
        return f"card {ts} {how} in {self._channel}; reply {data['ts']} in its thread"

    async def _digest(self, message: Message) -> str:
        counts = {"created": 0, "updated": 0, "re-created": 0}
        # Each card is stored once it exists, so a retry after a failure half-way only updates the earlier ones.
        for line in message.lines:
            _, how = await self._show_card(line.event, line, now=message.sent_at, locale=message.locale)
            counts[how] += 1
        done = [f"{n} card{'' if n == 1 else 's'} {how}" for how, n in counts.items() if n]
        return f"{', '.join(done) or 'no cards'} in {self._channel}"

    def _where(self) -> dict[str, Any]:
        # Unfurling the source link would put a large preview under every card and reply.
        return {"channel": self._channel, "unfurl_links": False, "unfurl_media": False}

    async def _show_card(
        self,
        event: EventSpec,
        line: CountdownLine,
        *,
        now: datetime,
        locale: str,
        removed: bool = False,
        acked_text: str | None = None,
    ) -> tuple[str, str]:
        """Bring the event's card up to date (posting it if needed); return its ts and what was done."""
        content = card(
            event,
            line,
            channel_timezone=self.spec.timezone,
            now=now,
            removed=removed,
            locale=locale,
            ack_button=self._interactive,
            acked_text=acked_text,
        )
        key = card_key(self.spec.id, self._channel, event.id)
        ts = await self._state.get(key)
        if ts is not None:
            try:
                await self._call("chat.update", {"channel": self._channel, "ts": ts, **content})
                return ts, "updated"
            except SlackApiError as exc:
                if exc.code not in _CARD_GONE:
                    raise
                log.warning(
                    "slack %s: card %s of %s is gone (%s); posting a new one", self.spec.id, ts, event.id, exc.code
                )
            new = await self._post_card(content)
            winner = await self._state.replace(key, ts, new)
            how = "re-created"
        else:
            new = await self._post_card(content)
            winner = await self._state.put_if_absent(key, new)
            how = "created"
        if winner != new:
            await self._lost_race(new, winner, content)
            return winner, "updated"
        return new, how

    async def _post_card(self, content: dict[str, Any]) -> str:
        data = await self._call("chat.postMessage", {**content, **self._where()})
        return str(data["ts"])

    async def _lost_race(self, ours: str, winner: str, content: dict[str, Any]) -> None:
        """Another replica stored its card first: remove ours and bring theirs up to date."""
        try:
            await self._call("chat.delete", {"channel": self._channel, "ts": ours})
        except DeliveryError as exc:
            # The notification itself is fine; a stray copy of the card is only clutter, so it does not fail it.
            log.warning("slack %s: could not delete duplicate card %s: %s", self.spec.id, ours, exc)
        await self._call("chat.update", {"channel": self._channel, "ts": winner, **content})

    async def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        """One Web API call; the token goes only in the Authorization header and never into an error."""
        headers = {
            "authorization": f"Bearer {self._token}",
            # JSON bodies without a charset draw a missing_charset warning.
            "content-type": "application/json; charset=utf-8",
        }
        try:
            response, now = await http.post_json(self._http, f"{self._api}/{method}", body, headers=headers)
            data = check(method, response, now=now)
        except SlackApiError as exc:
            raise SlackApiError(
                self._scrub(str(exc)),
                code=exc.code,
                permanent=exc.permanent,
                retry_after=exc.retry_after,
                status=exc.status,
            ) from None
        except DeliveryError as exc:
            raise SlackApiError(
                self._scrub(f"slack {method}: {exc}"),
                code=None,
                permanent=exc.permanent,
                retry_after=exc.retry_after,
                status=exc.status,
            ) from None
        if method == "chat.postMessage" and not isinstance(data.get("ts"), str):
            raise SlackApiError(f"slack {method}: the answer has no message ts", code=None)
        return data

    def _scrub(self, text: str) -> str:
        return text.replace(self._token, "xoxb-…")
