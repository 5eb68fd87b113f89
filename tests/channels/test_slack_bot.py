"""Slack bot mode against a Slack-Web-API-like server on 127.0.0.1: one card per event, updates, threads, errors."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from support.factories import make_channel, make_event, make_line, make_message
from support.slack_api import TOKEN, SlackApi

from alertd.channels.base import ChannelContext
from alertd.channels.slack import TYPE
from alertd.channels.slack_blocks import card, payload, reply
from alertd.channels.slack_bot import ERRORS, SlackApiError, card_key
from alertd.channels.state import MemoryState

SLACK_CHANNEL = "C0TEST1234"
VOTE = make_event("vote", title="Council vote", all_day=False, local_start=datetime(2025, 11, 12, 9, 0))


@pytest.fixture
async def slack() -> AsyncIterator[SlackApi]:
    server = SlackApi()
    await server.start()
    yield server
    await server.stop()


def _bot(slack: SlackApi, client: httpx.AsyncClient, state: Any = None, **options: Any) -> Any:
    opts = {"token": TOKEN, "channel": SLACK_CHANNEL, "api_base": slack.url(), **options}
    spec = make_channel("slack", id="desk", options=opts)
    ctx = ChannelContext(http=client, out=io.StringIO(), settings=None, state=state or MemoryState())
    return TYPE.build(spec, ctx)


def _where() -> dict[str, Any]:
    return {"channel": SLACK_CHANNEL, "unfurl_links": False, "unfurl_media": False}


async def test_first_reminder_posts_the_card_then_replies_in_its_thread(
    slack: SlackApi, http_client: httpx.AsyncClient
) -> None:
    """Exact calls: chat.postMessage with the card, then chat.postMessage with the reply under its ts."""
    message = make_message(event=VOTE)
    answer = await _bot(slack, http_client).send(message)
    first, second = slack.requests
    assert (first.path, second.path) == ("/api/chat.postMessage", "/api/chat.postMessage")
    assert first.headers["authorization"] == f"Bearer {TOKEN}"
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    the_card = card(VOTE, message.countdown or make_line(), channel_timezone="UTC", now=message.sent_at)
    assert first.json() == {**the_card, **_where()}
    ts = next(iter(slack.messages))
    assert second.json() == {**reply(message), **_where(), "thread_ts": ts}
    assert answer == f"card {ts} created in {SLACK_CHANNEL}; reply {list(slack.messages)[1]} in its thread"


async def test_later_notifications_update_the_same_card(slack: SlackApi, http_client: httpx.AsyncClient) -> None:
    """The second notification about an event updates the stored card and replies in its thread."""
    bot = _bot(slack, http_client)
    await bot.send(make_message(event=VOTE))
    card_ts = next(iter(slack.messages))
    later = make_message(event=VOTE, countdown=make_line(VOTE, text="in 2 hours"), offset="2h")
    answer = await bot.send(later)
    (update,) = slack.calls("chat.update")
    assert update == {
        "channel": SLACK_CHANNEL,
        "ts": card_ts,
        **card(VOTE, make_line(VOTE, text="in 2 hours"), channel_timezone="UTC", now=later.sent_at),
    }
    assert [c.get("thread_ts") for c in slack.calls("chat.postMessage")] == [None, card_ts, card_ts]
    assert answer.startswith(f"card {card_ts} updated in {SLACK_CHANNEL}; reply ")


async def test_digest_updates_each_card_and_creates_missing_ones(
    slack: SlackApi, http_client: httpx.AsyncClient
) -> None:
    """A countdown digest posts no digest message: it updates the cards it has and creates the others."""
    bot = _bot(slack, http_client)
    await bot.send(make_message(event=VOTE))
    truce = make_event()
    lines = (make_line(VOTE, text="in 3 days"), make_line(truce, text="tomorrow"))
    answer = await bot.send(make_message(kind="countdown", lines=lines, offset=None))
    assert answer == f"1 card created, 1 card updated in {SLACK_CHANNEL}"
    assert [c["ts"] for c in slack.calls("chat.update")] == [next(iter(slack.messages))]
    posts = slack.calls("chat.postMessage")
    assert len(posts) == 3
    assert posts[2]["blocks"][0]["text"]["text"] == "Trade truce expires"
    assert "thread_ts" not in posts[2]


async def test_deleted_card_is_posted_again_and_replaced(slack: SlackApi, http_client: httpx.AsyncClient) -> None:
    """``message_not_found`` on update: a new card is posted and its ts replaces the old one."""
    state = MemoryState()
    await state.put(card_key("desk", SLACK_CHANNEL, "vote"), "1700000000.000001")
    answer = await _bot(slack, http_client, state).send(make_message(event=VOTE))
    new_ts = next(iter(slack.messages))
    assert await state.get(card_key("desk", SLACK_CHANNEL, "vote")) == new_ts
    assert answer.startswith(f"card {new_ts} re-created in {SLACK_CHANNEL}; reply ")
    assert slack.calls("chat.postMessage")[1]["thread_ts"] == new_ts


class _LosingState(MemoryState):
    """State in which another replica stores its card for the event just before this one does."""

    def __init__(self, winner: str) -> None:
        super().__init__()
        self.winner = winner

    async def put_if_absent(self, key: str, value: str) -> str:
        return await super().put_if_absent(key, self.winner)


async def test_losing_a_race_deletes_our_card_and_updates_the_winner(
    slack: SlackApi, http_client: httpx.AsyncClient
) -> None:
    """Two replicas posted a card: the one that lost the put_if_absent deletes its copy and uses the winner's."""
    bot = _bot(slack, http_client)
    await bot.send(make_message(kind="test", title="t", text="x", offset=None))
    winner = next(iter(slack.messages))  # a message that stands for the other replica's card
    racing = _bot(slack, http_client, _LosingState(winner))
    await racing.send(make_message(event=VOTE))
    ours = slack.deleted
    assert len(ours) == 1
    assert [c["ts"] for c in slack.calls("chat.update")] == [winner]
    assert slack.calls("chat.postMessage")[-1]["thread_ts"] == winner
    assert winner in slack.messages


async def test_a_retry_after_a_failed_reply_updates_instead_of_posting_again(
    slack: SlackApi, http_client: httpx.AsyncClient
) -> None:
    """The stored ts makes a delivery safe to repeat: the retry updates the card, then replies."""
    bot = _bot(slack, http_client)
    message = make_message(event=VOTE)
    slack.fail("chat.postMessage", "internal_error", skip=1)  # the card is posted, its thread reply fails
    with pytest.raises(SlackApiError):
        await bot.send(message)
    await bot.send(message)
    cards = [c for c in slack.calls("chat.postMessage") if "thread_ts" not in c]
    assert len(cards) == 1
    assert len(slack.calls("chat.update")) == 1
    assert len(slack.messages) == 2


async def test_test_notification_is_a_plain_message(slack: SlackApi, http_client: httpx.AsyncClient) -> None:
    """A test notification has no event: one chat.postMessage with the message's blocks, no card."""
    message = make_message(kind="test", title="alertd test notification", text="It works.", offset=None)
    answer = await _bot(slack, http_client).send(message)
    (post,) = slack.calls("chat.postMessage")
    assert post == {**payload(message), **_where()}
    assert answer == f"posted to {SLACK_CHANNEL} (ts {next(iter(slack.messages))})"


async def test_broadcast_also_shows_the_reply_in_the_channel(slack: SlackApi, http_client: httpx.AsyncClient) -> None:
    """With ``broadcast: true`` a milestone reply is also sent to the channel."""
    await _bot(slack, http_client, broadcast=True).send(make_message(event=VOTE))
    assert slack.calls("chat.postMessage")[1]["reply_broadcast"] is True


async def test_removal_notice_marks_the_card(slack: SlackApi, http_client: httpx.AsyncClient) -> None:
    """A removed event's card says it was removed."""
    change = {"type": "removed", "before": {}, "after": {}}
    await _bot(slack, http_client).send(make_message(kind="change", event=VOTE, change=change, offset=None))
    card_body = slack.calls("chat.postMessage")[0]
    assert card_body["blocks"][1]["text"]["text"].endswith(":wastebasket: removed from the calendar")


SLACK_ERRORS: list[tuple[str, bool, str]] = [
    ("invalid_auth", True, "slack chat.postMessage: invalid_auth: the token is not valid"),
    ("not_authed", True, "slack chat.postMessage: not_authed: no token reached Slack"),
    ("account_inactive", True, "slack chat.postMessage: account_inactive: the token belongs to a deactivated"),
    ("token_revoked", True, "slack chat.postMessage: token_revoked: the token was revoked"),
    ("channel_not_found", True, "slack chat.postMessage: channel_not_found: the Slack channel does not exist"),
    ("not_in_channel", True, "slack chat.postMessage: not_in_channel: the bot is not in the channel; /invite"),
    ("is_archived", True, "slack chat.postMessage: is_archived: the Slack channel is archived"),
    ("missing_scope", True, "slack chat.postMessage: missing_scope: the Slack app lacks the chat:write scope"),
    ("msg_too_long", True, "slack chat.postMessage: msg_too_long: Slack rejected the message format"),
    ("invalid_blocks", True, "slack chat.postMessage: invalid_blocks: Slack rejected the message format"),
    ("internal_error", False, "slack chat.postMessage: internal_error: Slack had a temporary problem"),
    ("fatal_error", False, "slack chat.postMessage: fatal_error: Slack had a temporary problem"),
    ("service_unavailable", False, "slack chat.postMessage: service_unavailable: Slack had a temporary problem"),
    ("request_timeout", False, "slack chat.postMessage: request_timeout: Slack had a temporary problem"),
    ("team_added_to_org", False, "slack chat.postMessage: team_added_to_org: the workspace is being moved"),
    ("something_new", False, "slack chat.postMessage: something_new: an error alertd does not know"),
]


@pytest.mark.parametrize(("error", "permanent", "start"), SLACK_ERRORS)
async def test_ok_false_errors_are_classified(
    slack: SlackApi, http_client: httpx.AsyncClient, error: str, permanent: bool, start: str
) -> None:
    """HTTP 200 with ``ok: false`` is a failure, permanent or not as the error string says."""
    slack.fail("chat.postMessage", error)
    with pytest.raises(SlackApiError) as info:
        await _bot(slack, http_client).send(make_message(event=VOTE))
    exc = info.value
    assert (exc.code, exc.permanent, exc.status) == (error, permanent, 200)
    assert str(exc).startswith(start)
    assert "s3cr3t" not in str(exc)


def test_every_documented_error_is_classified() -> None:
    """The auth, channel and payload errors of the reference are permanent, the temporary ones are not."""
    permanent = {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "channel_not_found"}
    permanent |= {"not_in_channel", "is_archived", "msg_too_long", "invalid_blocks", "no_text", "missing_scope"}
    permanent |= {"no_permission", "too_many_attachments", "invalid_arguments", "ekm_access_denied"}
    transient = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
    transient |= {"team_added_to_org"}
    assert {code for code in permanent | transient if ERRORS[code][0]} == permanent


async def test_rate_limit_is_transient_with_retry_after(slack: SlackApi, http_client: httpx.AsyncClient) -> None:
    """HTTP 429 ``ratelimited`` with Retry-After: try again after that many seconds."""
    slack.fail("chat.postMessage", "ratelimited", status=429, headers={"Retry-After": "30"})
    with pytest.raises(SlackApiError) as info:
        await _bot(slack, http_client).send(make_message(event=VOTE))
    exc = info.value
    assert (exc.code, exc.permanent, exc.retry_after, exc.status) == ("ratelimited", False, 30, 429)
    assert str(exc) == "slack chat.postMessage: ratelimited (HTTP 429): Slack asks to slow down; retry after 30s"


async def test_rate_limit_on_update_is_transient_too(slack: SlackApi, http_client: httpx.AsyncClient) -> None:
    """A 429 on chat.update is just as transient (the card stays, the retry updates it)."""
    bot = _bot(slack, http_client)
    await bot.send(make_message(event=VOTE))
    slack.fail("chat.update", "ratelimited", status=429, headers={"Retry-After": "3"})
    with pytest.raises(SlackApiError) as info:
        await bot.send(make_message(event=VOTE))
    assert (info.value.permanent, info.value.retry_after) == (False, 3)


async def test_html_5xx_is_transient(slack: SlackApi, http_client: httpx.AsyncClient) -> None:
    """A gateway error page is a temporary failure, its markup left out of the message."""
    slack.fail(
        "chat.postMessage",
        "",
        status=503,
        body="<html><b>Service Unavailable</b></html>",
        headers={"Content-Type": "text/html"},
    )
    with pytest.raises(SlackApiError) as info:
        await _bot(slack, http_client).send(make_message(event=VOTE))
    assert info.value.permanent is False
    assert str(info.value).startswith("slack chat.postMessage: HTTP 503 from 127.0.0.1")
    assert "<b>" not in str(info.value)


async def test_non_json_200_is_transient(slack: SlackApi, http_client: httpx.AsyncClient) -> None:
    """An answer that is not Slack's JSON is an unexpected answer, retried."""
    slack.fail("chat.postMessage", "", body="ok")
    with pytest.raises(SlackApiError) as info:
        await _bot(slack, http_client).send(make_message(event=VOTE))
    assert info.value.permanent is False
    assert str(info.value) == "slack chat.postMessage: unexpected answer (HTTP 200): ok"


async def test_wrong_token_is_permanent_and_not_shown(slack: SlackApi, http_client: httpx.AsyncClient) -> None:
    """A token the server does not accept gives invalid_auth; the token is not in the error."""
    bot = _bot(slack, http_client, token="xoxb-" + "wrong-s3cr3t")
    with pytest.raises(SlackApiError) as info:
        await bot.send(make_message(event=VOTE))
    assert (info.value.code, info.value.permanent) == ("invalid_auth", True)
    assert "s3cr3t" not in str(info.value)


async def test_connection_refused_is_transient(http_client: httpx.AsyncClient) -> None:
    """No server at the API base: a transient network error naming the host."""
    server = SlackApi()
    await server.start()
    base = server.url()
    await server.stop()
    spec = make_channel("slack", options={"token": TOKEN, "channel": SLACK_CHANNEL, "api_base": base})
    bot = TYPE.build(spec, ChannelContext(http=http_client, out=io.StringIO(), settings=None))
    with pytest.raises(SlackApiError) as info:
        await bot.send(make_message(event=VOTE))
    assert info.value.permanent is False
    assert str(info.value).startswith("slack chat.postMessage: connection refused by 127.0.0.1")
