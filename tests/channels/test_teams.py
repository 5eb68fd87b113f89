"""The Teams Workflows channel: the Adaptive Card wrapper, the ~28 KB trim and Power Automate's answers."""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import ValidationError
from support.factories import make_channel, make_event, make_line, make_message
from support.receiver import Receiver
from support.standins import Standin

from alertd.calendar.load import parse_calendar
from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.channels.http import json_bytes
from alertd.channels.teams import MAX_BYTES, TYPE, TeamsOptions, card, escape, payload
from alertd.errors import DeliveryError
from alertd.messages.i18n import format_day, phrases

PATH = "/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke"
QUERY = "api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=s1gn4ture"
TIMED = make_event(
    "vote",
    title="Council vote",
    all_day=False,
    local_start=datetime(2025, 11, 10, 9, 0),
    status="tentative",
    tags=("policy",),
    source="https://example.org/agenda?id=7",
)


def _channel(receiver: Receiver, client: httpx.AsyncClient) -> Any:
    spec = make_channel("teams", id="team", timezone="Europe/Berlin", options={"url": receiver.url(f"{PATH}?{QUERY}")})
    return TYPE.build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))


def _content(body: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = body["attachments"][0]["content"]
    return content


def test_registered() -> None:
    """``teams`` is registered with a pacing rate and one send at a time."""
    assert REGISTRY["teams"] is TYPE
    assert (TYPE.rate, TYPE.concurrency) == (4.0, 1)


def test_options_reject_unknown_keys() -> None:
    """A misspelt option is an error."""
    with pytest.raises(ValidationError, match="extra"):
        TeamsOptions.model_validate({"url": "https://x.environment.api.powerplatform.com/p?sig=1", "color": "red"})


def test_legacy_connector_url_is_refused_without_quoting_it() -> None:
    """Office 365 connector URLs are retired: the error says what to do and hides the URL."""
    with pytest.raises(ValidationError, match="Workflows webhook") as info:
        TeamsOptions.model_validate({"url": "https://contoso.webhook.office.com/webhookb2/s3cr3t"})
    assert "s3cr3t" not in str(info.value)


def test_calendar_with_teams_passes_check() -> None:
    """A calendar declaring a teams channel loads without issues."""
    url = f"https://e1.environment.api.powerplatform.com:443{PATH}?{QUERY}"
    calendar, issues = parse_calendar(
        f"version: 1\nchannels:\n  team: {{type: teams, url: '{url}'}}\n", name="calendar.yaml", environ={}
    )
    assert calendar.channels["team"].options["url"] == url
    assert issues == []


def test_reminder_payload_exact() -> None:
    """The message wrapper holds one Adaptive Card 1.4: title, sentence, facts, footer and a source button."""
    message = make_message(event=TIMED, title="Council vote — tomorrow", text="Council vote **tomorrow**.\nMore")
    assert payload(message, channel_timezone="Europe/Berlin") == {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {
                            "type": "TextBlock",
                            "text": "Council vote — tomorrow",
                            "weight": "Bolder",
                            "size": "Medium",
                            "color": "Accent",
                            "wrap": True,
                        },
                        {
                            "type": "TextBlock",
                            "text": "Council vote \u034f*\u034f*tomorrow\u034f*\u034f*.",
                            "wrap": True,
                        },
                        {
                            "type": "FactSet",
                            "facts": [
                                {"title": "When", "value": "Mon 10 Nov 2025 09:00 EST (America/New_York)"},
                                {"title": "Europe/Berlin", "value": "Mon 10 Nov 2025 15:00 CET (Europe/Berlin)"},
                                {
                                    "title": "Your time",
                                    "value": "{{DATE(2025-11-10T14:00:00Z, SHORT)}} {{TIME(2025-11-10T14:00:00Z)}}",
                                },
                                {"title": "Countdown", "value": "tomorrow"},
                                {"title": "Status", "value": "tentative"},
                                {"title": "Tags", "value": "policy"},
                            ],
                        },
                        {
                            "type": "TextBlock",
                            "text": "alertd reminder · 1d",
                            "isSubtle": True,
                            "size": "Small",
                            "wrap": True,
                        },
                    ],
                    "actions": [
                        {"type": "Action.OpenUrl", "title": "Open source", "url": "https://example.org/agenda?id=7"}
                    ],
                },
            }
        ],
    }


def test_escape_keeps_word_underscores_and_breaks_lines() -> None:
    """Emphasis markers are neutralised, an underscore inside a word is not, and a newline becomes a break."""
    assert escape("New_York _x_\nnext") == "New_York \u034f_x\u034f_\n\nnext"


def test_digest_is_a_factset() -> None:
    """A countdown digest lists one fact per event with its countdown and date."""
    lines = (make_line(text="tomorrow"), make_line(TIMED, seconds=3 * 86400, text="in 3 days"))
    body = _content(payload(make_message(kind="countdown", title="Countdown", offset=None, lines=lines)))["body"]
    assert body[1]["facts"] == [
        {"title": "Trade truce expires", "value": "tomorrow (Mon 10 Nov 2025)"},
        {"title": "Council vote", "value": "in 3 days (Mon 10 Nov 2025) (tentative)"},
    ]


def test_long_text_is_trimmed_under_the_size_limit() -> None:
    """A text far over ~28 KB is cut with an ellipsis until the whole request fits."""
    body = payload(make_message(kind="test", event=None, offset=None, text="é" * 40_000))
    assert len(json_bytes(body)) <= MAX_BYTES
    assert _content(body)["body"][1]["text"].endswith("é…")


def test_long_digest_is_trimmed_with_a_count() -> None:
    """A digest over the size limit drops events from the end and says how many."""
    lines = tuple(make_line(make_event(f"e{i}", title="x" * 190)) for i in range(300))
    body = payload(make_message(kind="countdown", offset=None, lines=lines))
    facts = _content(body)["body"][1]["facts"]
    assert len(json_bytes(body)) <= MAX_BYTES
    assert facts[-1] == {"title": "…", "value": f"and {300 - (len(facts) - 1)} more"}


async def test_sends_exact_payload_with_full_query(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """The card is posted to the URL as given, query included; 202 is success."""
    receiver.reply(202, b"")
    message = make_message(event=TIMED)
    summary = await _channel(receiver, http_client).send(message)
    assert summary == "HTTP 202 accepted (the flow posts the card asynchronously)"
    (request,) = receiver.requests
    # Compared decoded: the transport may normalise %2F to / in a query, which means the same to the server.
    assert (request.path, parse_qs(request.query)) == (PATH, parse_qs(QUERY))
    assert request.body == json_bytes(payload(message, channel_timezone="Europe/Berlin"))


async def test_200_is_success_too(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """Some flows answer 200; that is a success, not a reason to retry (and post twice)."""
    receiver.reply(200, b"")
    assert await _channel(receiver, http_client).send(make_message()) == "HTTP 200 accepted"


JSON = {"Content-Type": "application/json"}
MISSING = json.dumps({"error": {"code": "MissingApiVersionParameter", "message": "The api-version is missing."}})
ANSWERS: list[tuple[int, str, dict[str, str], bool, float | None, str]] = [
    (400, MISSING, JSON, True, None, "teams: HTTP 400 MissingApiVersionParameter: the URL lost its query string"),
    (400, json.dumps({"error": {"code": "InvalidRequestContent"}}), JSON, True, None, "teams: HTTP 400 Invalid"),
    (400, "Bad payload", {}, True, None, "teams: HTTP 400 from 127.0.0.1"),
    (413, "Request Entity Too Large", {}, True, None, "teams: HTTP 413: the card is over"),
    (429, "", {"Retry-After": "20"}, False, 20, "teams: HTTP 429 Power Automate is throttling the flow"),
    (401, "", {}, True, None, "teams: HTTP 401: the workflow is deleted"),
    (403, "", {}, True, None, "teams: HTTP 403: the workflow is deleted"),
    (404, json.dumps({"error": {"code": "WorkflowNotFound"}}), JSON, True, None, "teams: HTTP 404 WorkflowNotFound"),
    (502, "", {}, False, None, "teams: HTTP 502 from 127.0.0.1"),
    (503, "", {"Retry-After": "5"}, False, 5, "teams: HTTP 503 from 127.0.0.1"),
]


@pytest.mark.parametrize(("status", "body", "headers", "permanent", "retry_after", "start"), ANSWERS)
async def test_teams_answers_over_socket(
    receiver: Receiver,
    http_client: httpx.AsyncClient,
    status: int,
    body: str,
    headers: dict[str, str],
    permanent: bool,
    retry_after: float | None,
    start: str,
) -> None:
    """Each documented Workflows answer is retry-after-N, transient or permanent, on one line without the sig."""
    receiver.reply(status, body, headers)
    with pytest.raises(DeliveryError) as info:
        await _channel(receiver, http_client).send(make_message())
    error = info.value
    assert (error.permanent, error.retry_after, error.status) == (permanent, retry_after, status)
    assert str(error).startswith(start)
    assert "s1gn4ture" not in str(error)
    assert "\n" not in str(error)


def test_chinese_message_has_chinese_facts_and_dates() -> None:
    """A zh channel's card titles its facts, button and late note in Chinese, with Babel's Chinese dates."""
    message = make_message(event=TIMED, countdown=make_line(TIMED, text="明天"), late=True)._replace(locale="zh")
    content = _content(payload(message, channel_timezone="Europe/Berlin"))
    p = phrases("zh")
    facts = content["body"][2]["facts"]
    assert [f["title"] for f in facts] == [
        p.label_when,
        "Europe/Berlin",
        p.label_your_time,
        p.label_countdown,
        p.label_status,
        p.label_tags,
    ]
    assert facts[0]["value"].startswith(format_day(date(2025, 11, 10), "zh"))
    assert facts[4]["value"] == p.statuses["tentative"]
    assert content["actions"][0]["title"] == p.open_source
    shown = json.dumps(content, ensure_ascii=False)
    for english in ("When", "Your time", "Countdown", "Status", "Tags", "Open source", "sent late", "tentative"):
        assert english not in shown


async def test_digest_of_620_long_titles_keeps_as_many_rows_as_fit(http_client: httpx.AsyncClient) -> None:
    """620 events with 200-character titles: the card keeps every row that fits (not zero), one more would be
    over the size limit, it says how many are left out, and a stand-in enforcing ~28 KB accepts it."""
    lines = tuple(make_line(make_event(f"e{i}", title=f"T{i:03d}" + "x" * 196)) for i in range(620))
    message = make_message(kind="countdown", offset=None, lines=lines)
    facts = payload(message)["attachments"][0]["content"]["body"][1]["facts"]
    kept = len(facts) - 1
    assert kept > 0
    assert facts[-1] == {"title": "…", "value": f"and {620 - kept} more"}
    wrapped = payload(message)
    wrapped["attachments"][0]["content"] = card(message, keep=kept + 1)
    assert len(json_bytes(wrapped)) > MAX_BYTES
    standin = Standin("teams")
    await standin.start()
    try:
        summary = await _channel(standin, http_client).send(message)
    finally:
        await standin.stop()
    assert summary.startswith("HTTP 202")
    assert standin.refused == []


def test_long_tags_and_source_leave_room_for_the_sentence() -> None:
    """An event with hundreds of tags and a 10,000-character plain source still gets its sentence on the card."""
    event = make_event(tags=tuple(f"tag-{i}" for i in range(600)), source="see the minutes " * 700)
    body = payload(make_message(event=event, text="Trade truce expires tomorrow."))
    assert len(json_bytes(body)) <= MAX_BYTES
    assert "Trade truce expires tomorrow." in json.dumps(body, ensure_ascii=False)


def test_an_ack_link_is_the_first_open_url_action() -> None:
    link = "https://alertd.example.org/ack/abc.def.ghi"
    content = payload(make_message()._replace(ack_url=link))["attachments"][0]["content"]
    assert content["actions"][0] == {"type": "Action.OpenUrl", "title": "Acknowledge", "url": link}
