"""Every channel's message fits its service's limits, whatever the events hold, and says what it left out.

A digest of 0–700 events whose titles, tags, sources and notes are 0–10,000 characters of any Unicode (astral
characters, and the characters services treat as markup: ``<>&*_[]``) is sent through each channel over a real
socket to a stand-in that enforces the service's published limits (:mod:`support.standins`) and refuses what is
over, as the service would. The send must succeed, and when rows were left out the message must say how many
(``…and N more``, or ``events_omitted`` in JSON payloads). A reminder of the digest's first event must fit too.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from hypothesis import given, settings
from hypothesis import strategies as st
from support.factories import make_channel, make_event, make_line, make_message
from support.standins import Standin, telegram_visible

from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.domain import EventSpec, Message
from alertd.settings import Settings

from .profile import PROPERTY

# Rendering and sending a digest of up to 700 long events takes about a second (far more than the other
# properties' examples): 10 examples per channel locally, 25 in CI (1,000 examples elsewhere).
BUDGETS = settings(PROPERTY, max_examples=min(25, max(10, PROPERTY.max_examples // 15)))
pytestmark = pytest.mark.timeout(600)

# Characters services treat specially, astral ones (two UTF-16 units, four UTF-8 bytes), and any other.
_SPECIAL = "<>&*_[]`~|#\\\"'😀𝄞\u034f"
_CHAR = st.one_of(st.sampled_from(_SPECIAL), st.characters(blacklist_categories=("Cs", "Cc")), st.sampled_from(" \n"))
_PIECE = st.text(_CHAR, min_size=1, max_size=40)


@st.composite
def _texts(draw: st.DrawFn) -> str:
    """A text of 0–10,000 characters: a random piece repeated to a random length (long ones are the point)."""
    length = draw(st.one_of(st.integers(0, 60), st.integers(0, 10_000)))
    piece = draw(_PIECE)
    return (piece * (length // len(piece) + 1))[:length]


def _marker(i: int) -> str:
    # Letters and digits only: no service escapes them, so a shown row is found by its marker.
    return f"Qz{i:03d}zQ"


@dataclass(frozen=True, slots=True)
class Digest:
    events: tuple[EventSpec, ...]

    def __repr__(self) -> str:
        # The events are megabytes; a failure report names their shape (the seed reproduces them).
        longest = max((len(e.title) + len(e.notes or "") for e in self.events), default=0)
        return f"Digest({len(self.events)} events, longest title+notes {longest})"

    def message(self) -> Message:
        lines = tuple(
            make_line(e, seconds=86_400 * (i + 1), text=f"in {i + 1} days") for i, e in enumerate(self.events)
        )
        text = "\n".join(f"• {ln.event.title} — {ln.text} ({ln.day_text})" for ln in lines)
        return make_message(kind="countdown", title="Countdown for Sun 9 Nov", text=text, lines=lines, offset=None)

    def reminder(self) -> Message:
        event = self.events[0]
        line = make_line(event)
        return make_message(
            title=f"{event.title} tomorrow", text=f"{event.title} is tomorrow.", event=event, countdown=line
        )


@st.composite
def _digests(draw: st.DrawFn, most: int = 700) -> Digest:
    count = draw(st.integers(0, most))
    pool = draw(st.lists(_texts(), min_size=1, max_size=6))
    rng = draw(st.randoms(use_true_random=False))
    events = []
    for i in range(count):
        # Titles are one line (the calendar's titles are); notes and the rest may hold anything.
        title = _marker(i) + rng.choice(pool).replace("\n", " ")
        tags = tuple(rng.choice(pool) for _ in range(rng.choice((0, 1, 3, 40))))
        source = rng.choice([None, rng.choice(pool), "https://example.org/" + rng.choice(pool).replace(" ", "")])
        events.append(
            make_event(f"e{i}", title=title, tags=tags, source=source or None, notes=rng.choice([None, *pool]))
        )
    return Digest(tuple(events))


def _left(shown_text: str, total: int) -> tuple[int, int]:
    """How many rows a text shows (distinct markers) and how many it says it left out (0 if it says nothing)."""
    shown = len({m for m in re.findall(r"Qz(\d{3})zQ", shown_text)})
    said = re.findall(r"and (\d+) more", shown_text)
    return shown, int(said[-1]) if said else 0


def _check_counts(shown_text: str, total: int) -> None:
    shown, said = _left(shown_text, total)
    assert shown + said == total, f"{shown} rows shown, {said} said to be left out, of {total}"


# Per channel: its options for a stand-in at ``base``, and the text in which its digest rows are counted.
def _slack_text(body: dict[str, Any]) -> str:
    return "\n".join(b.get("text", {}).get("text", "") for b in body["blocks"] if b["type"] == "section") + "\n".join(
        e.get("text", "") for b in body["blocks"] if b["type"] == "context" for e in b["elements"]
    )


def _rows_text(kind: str, body: bytes) -> str:
    data = json.loads(body)
    if kind == "slack":
        return _slack_text(data)
    if kind == "discord":
        return "\n".join(e.get("description", "") for e in data["embeds"])
    if kind == "telegram":
        return telegram_visible(data["text"])
    if kind in ("mattermost",):
        return str(data["text"])
    if kind in ("ntfy", "apprise"):
        return str(data["message"])
    if kind == "googlechat":
        return json.dumps(data["cardsV2"], ensure_ascii=False)
    if kind == "teams":
        return json.dumps(data["attachments"][0]["content"]["body"][1:-1], ensure_ascii=False)
    raise AssertionError(kind)


_OPTIONS: dict[str, Callable[[str], dict[str, Any]]] = {
    "slack": lambda base: {"url": base + "/hook"},
    "discord": lambda base: {"url": base + "/api/webhooks/1/t"},
    "teams": lambda base: {"url": base + "/workflows/x?api-version=1&sig=s"},
    "telegram": lambda base: {"bot_token": "123456:AAF-t0k3n_xyz", "chat_id": -100123, "api_base": base},
    "mattermost": lambda base: {"url": base + "/hooks/k"},
    "googlechat": lambda base: {"url": base + "/v1/spaces/S/messages?key=k&token=t"},
    "ntfy": lambda base: {"server": base, "topic": "alerts"},
    "pagerduty": lambda base: {"routing_key": "R" * 32, "api_base": base},
    "webhook": lambda base: {"url": base + "/hook"},
    "apprise": lambda base: {"urls": [base.replace("http://", "json://") + "/apprise"]},
}


@pytest.fixture(scope="module")
def standins() -> Iterator[dict[str, Standin]]:
    started: dict[str, Standin] = {}
    for kind, service in [*((k, k) for k in _OPTIONS), ("slack_bot", "slack")]:
        started[kind] = Standin(service)
        started[kind].start_in_thread()
    yield started
    for standin in started.values():
        standin.close()


async def _send(kind: str, options: dict[str, Any], message: Message) -> str:
    type_name = "slack" if kind == "slack_bot" else kind
    async with httpx.AsyncClient() as client:
        spec = make_channel(type_name, id=kind, timezone="Europe/Berlin", options=options)
        channel = REGISTRY[type_name].build(spec, ChannelContext(http=client, out=io.StringIO(), settings=None))
        return await channel.send(message)


def _sent(standin: Standin, message: Message, kind: str, options: dict[str, Any]) -> list[bytes]:
    before = len(standin.requests)
    asyncio.run(_send(kind, options, message))
    assert not standin.refused, standin.refused[-1][1]
    return [r.body for r in standin.requests[before:]]


@pytest.mark.parametrize("kind", sorted(_OPTIONS))
@BUDGETS
@given(digest=_digests())
def test_http_channels_fit_their_service(standins: dict[str, Standin], kind: str, digest: Digest) -> None:
    """A digest and a reminder of random events are accepted by the channel's stand-in; the digest says how many
    rows it left out."""
    if kind == "apprise":
        pytest.importorskip("apprise")
    standin = standins[kind]
    options = _OPTIONS[kind](standin.base_url)
    (body,) = _sent(standin, digest.message(), kind, options)
    total = len(digest.events)
    if kind in ("pagerduty", "webhook"):
        data = json.loads(body)
        events = (data["payload"]["custom_details"] if kind == "pagerduty" else data).get("events", [])
        omitted = (data["payload"]["custom_details"] if kind == "pagerduty" else data).get("events_omitted", 0)
        assert len(events) + omitted == total
    elif total:
        _check_counts(_rows_text(kind, body), total)
    if digest.events:
        _sent(standin, digest.reminder(), kind, options)


@BUDGETS
# One card (one request) per event: the count does not change any card's size, only the test's time.
@given(digest=_digests(most=60))
def test_slack_bot_cards_fit_blocks(standins: dict[str, Standin], digest: Digest) -> None:
    """In bot mode every event of a digest is its own card, each accepted by the Block Kit stand-in."""
    standin = standins["slack_bot"]
    options = {"token": "xoxb-" + "1-t0k3n", "channel": "C0123ABC", "api_base": standin.base_url + "/api"}
    bodies = _sent(standin, digest.message(), "slack_bot", options)
    assert len(bodies) == len(digest.events)
    if digest.events:
        _sent(standin, digest.reminder(), "slack_bot", options)


class _Mailbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        with self.lock:
            self.received.append(bytes(envelope.content))
        return "250 Message accepted for delivery"


# A common SMTP SIZE limit (many providers refuse larger mail; aiosmtpd answers 552 above it).
SMTP_SIZE = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[_Mailbox, int]]:
    box = _Mailbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port, data_size_limit=SMTP_SIZE)
    controller.start()
    yield box, port
    controller.stop()


@BUDGETS
@given(digest=_digests())
def test_email_fits_and_counts(mailbox: tuple[_Mailbox, int], digest: Digest) -> None:
    """A digest email is accepted under the server's size limit, its parts stay under Gmail's 102 KB clipping
    size, and it says how many rows it left out."""
    box, port = mailbox
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "alertd@example.org",
        "smtp_tls": "none",
    }
    settings_ = Settings(_env_file=None, **values)

    async def send(message: Message) -> None:
        async with httpx.AsyncClient() as client:
            spec = make_channel("email", id="mail", options={"to": ["ops@example.org"]})
            ctx = ChannelContext(http=client, out=io.StringIO(), settings=settings_)
            await REGISTRY["email"].build(spec, ctx).send(message)

    for message in [digest.message(), *([digest.reminder()] if digest.events else [])]:
        with box.lock:
            box.received.clear()
        asyncio.run(send(message))
        (raw,) = box.received
        mail = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(mail, EmailMessage)
        plain = mail.get_body(("plain",))
        html = mail.get_body(("html",))
        assert plain is not None
        assert html is not None
        for part in (plain, html):
            assert len(part.get_content().encode()) <= 100_000
        if message.kind == "countdown" and digest.events:
            _check_counts(plain.get_content(), len(digest.events))


@BUDGETS
@given(digest=_digests())
def test_console_prints_every_row(digest: Digest) -> None:
    """The console has no size limit: it prints every row of the digest and leaves nothing out."""
    out = io.StringIO()
    spec = make_channel("console", id="console")
    channel = REGISTRY["console"].build(spec, ChannelContext(http=httpx.AsyncClient(), out=out, settings=None))
    asyncio.run(channel.send(digest.message()))
    shown, said = _left(out.getvalue(), len(digest.events))
    assert (shown, said) == (len(digest.events), 0)
