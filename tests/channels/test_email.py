"""The email channel against a real aiosmtpd server on 127.0.0.1: STARTTLS or implicit TLS, AUTH, reply codes."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import socket
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pydantic import ValidationError
from support.factories import make_channel, make_event, make_line, make_message
from support.pki import Pki

from alertd.channels import REGISTRY, PartialAnswer
from alertd.channels.base import Channel, ChannelContext
from alertd.channels.email import TYPE, EmailOptions, build_message, parse_address, smtp_config
from alertd.domain import ChannelSpec, EventSpec, Message, event_snapshot
from alertd.errors import DeliveryError
from alertd.messages.i18n import format_day, phrases
from alertd.messages.rendering import render
from alertd.settings import Settings

USER = "alertd@example.org"
PASSWORD = "s3cret-pa55word"
SENDER = "Alerts <alertd@example.org>"
TEAM = ["ops@example.org", "Dana Ops <dana@example.org>"]


@dataclass
class Handler:
    """Records accepted mail; ``refuse`` maps a recipient to its RCPT reply, ``data_reply`` overrides DATA's."""

    refuse: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    received: list[tuple[list[str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: N802
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.data_reply is not None:
            return self.data_reply
        with self.lock:
            self.received.append((list(envelope.rcpt_tos), bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            contents = [content for _, content in self.received]
        parsed: list[EmailMessage] = []
        for content in contents:
            mail = email.message_from_bytes(content, policy=email.policy.default)
            assert isinstance(mail, EmailMessage)
            parsed.append(mail)
        return parsed


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    # handled=False makes the server answer 535 itself instead of leaving the client waiting.
    return AuthResult(success=ok, handled=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


ServerFactory = Callable[..., tuple[Handler, int]]


@pytest.fixture
def smtp_server(pki: Pki) -> Iterator[ServerFactory]:
    """Start aiosmtpd servers: ``mode`` starttls (required), tls (implicit) or plain; AUTH unless ``auth=False``."""
    started: list[Controller] = []

    def start(mode: str = "starttls", *, auth: bool = True, handler: Handler | None = None) -> tuple[Handler, int]:
        handler = handler or Handler()
        kwargs: dict[str, Any] = {}
        if auth:
            kwargs.update(authenticator=_authenticator, auth_required=True)
        if mode == "starttls":
            kwargs.update(tls_context=pki.server, require_starttls=True)
        elif mode == "tls":
            # aiosmtpd does not see implicit TLS as TLS for AUTH purposes; the connection is encrypted anyway.
            kwargs.update(ssl_context=pki.server, auth_require_tls=False)
        else:
            kwargs.update(auth_require_tls=False)
        controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), **kwargs)
        controller.start()
        started.append(controller)
        return handler, controller.port

    yield start
    for controller in started:
        controller.stop()


def _settings(port: int, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_username": USER,
        "smtp_password": PASSWORD,
        "smtp_from": SENDER,
        "smtp_tls": "starttls",
        "smtp_timeout": 10.0,
    }
    values.update(changes)
    return Settings(_env_file=None, **{k: v for k, v in values.items() if v is not None})


ChannelFactory = Callable[..., Channel]


@pytest.fixture
def make(http_client: httpx.AsyncClient) -> ChannelFactory:
    def build(settings: Settings | None, **options: Any) -> Channel:
        spec = make_channel("email", id="mail", options={"to": TEAM, **options})
        return TYPE.build(spec, ChannelContext(http=http_client, out=io.StringIO(), settings=settings))

    return build


async def _failure(channel: Channel) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        await channel.send(make_message())
    return caught.value


def test_registered() -> None:
    """The registry maps ``email`` to this module."""
    assert REGISTRY["email"] is TYPE


async def test_delivers_multipart_over_starttls_with_auth(
    smtp_server: ServerFactory, make: ChannelFactory, pki: Pki
) -> None:
    """Over required STARTTLS and AUTH, every recipient gets one multipart/alternative mail, plain text first."""
    handler, port = smtp_server("starttls")
    message = make_message(title="Trade truce expires — tomorrow, Zürich")
    await make(_settings(port, smtp_ca_file=pki.ca_file), subject_prefix="[alertd] ").send(message)

    [(rcpts, _)] = handler.received
    assert rcpts == [parse_address(a).addr_spec for a in TEAM]
    [mail] = handler.messages()
    assert mail.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in mail.iter_parts()] == ["text/plain", "text/html"]
    assert mail["Subject"] == "[alertd] " + message.title
    assert mail["From"].addresses[0].addr_spec == parse_address(SENDER).addr_spec
    assert [a.addr_spec for a in mail["To"].addresses] == rcpts
    assert mail["Date"].datetime is not None
    assert mail["Message-ID"].startswith("<")
    assert mail["Message-ID"].endswith("@example.org>")
    plain = mail.get_body(("plain",))
    assert plain is not None
    assert message.text in plain.get_content()


async def test_answer_names_refused_recipient(smtp_server: ServerFactory, make: ChannelFactory, pki: Pki) -> None:
    """A recipient refused with 550 is named in the answer while the others still get the mail."""
    refused = "nobody@example.org"
    handler, port = smtp_server("starttls", handler=Handler(refuse={refused: "550 5.1.1 No such user"}))
    channel = make(_settings(port, smtp_ca_file=pki.ca_file), to=[*TEAM, refused])

    answer = await channel.send(make_message())

    [(rcpts, _)] = handler.received
    assert refused not in rcpts
    assert len(rcpts) == len(TEAM)
    assert refused in answer
    assert "550" in answer
    assert isinstance(answer, PartialAnswer)
    assert answer.refused == f"{refused} (550 5.1.1 No such user)"


async def test_every_recipient_refused_is_permanent(smtp_server: ServerFactory, make: ChannelFactory, pki: Pki) -> None:
    """When the server refuses every recipient with 5xx, the failure is permanent and names them with the code."""
    refuse = {parse_address(a).addr_spec: "550 5.1.1 No such user" for a in TEAM}
    _, port = smtp_server("starttls", handler=Handler(refuse=refuse))

    error = await _failure(make(_settings(port, smtp_ca_file=pki.ca_file)))

    assert error.permanent
    assert error.status == 550
    assert all(address in str(error) for address in refuse)


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [
        ("451 4.3.0 Local error, try later", False),
        ("554 5.6.0 Message rejected", True),
        # RFC 5321: 552 is sent for "too many recipients" and should be treated as temporary.
        ("552 5.3.4 Too many recipients", False),
    ],
)
async def test_data_reply_code_classification(
    smtp_server: ServerFactory, make: ChannelFactory, pki: Pki, reply: str, permanent: bool
) -> None:
    """A refusal after DATA is transient for 4xx and 552, permanent for other 5xx, and carries the code."""
    _, port = smtp_server("starttls", handler=Handler(data_reply=reply))

    error = await _failure(make(_settings(port, smtp_ca_file=pki.ca_file)))

    assert error.permanent is permanent
    assert error.status == int(reply.split()[0])


async def test_wrong_password_is_permanent_and_secret(
    smtp_server: ServerFactory, make: ChannelFactory, pki: Pki
) -> None:
    """A rejected login is permanent, says which settings to check and never shows the password."""
    _, port = smtp_server("starttls")
    wrong = "wrong-" + PASSWORD

    error = await _failure(make(_settings(port, smtp_ca_file=pki.ca_file, smtp_password=wrong)))

    assert error.permanent
    assert error.status == 535
    assert "ALERTD_SMTP_PASSWORD" in str(error)
    assert wrong not in str(error)
    assert wrong not in repr(error.args)


async def test_untrusted_certificate_is_refused(smtp_server: ServerFactory, make: ChannelFactory) -> None:
    """Without the private CA configured the server's certificate fails verification: permanent, with the fix."""
    handler, port = smtp_server("starttls")

    error = await _failure(make(_settings(port)))

    assert error.permanent
    assert "ALERTD_SMTP_CA_FILE" in str(error)
    assert handler.received == []


@pytest.mark.parametrize("content", [None, "not a certificate"])
async def test_unusable_ca_file_is_permanent(make: ChannelFactory, tmp_path: Path, content: str | None) -> None:
    """A CA file that is missing or not PEM is reported as a setting to fix, before any connection."""
    ca_file = tmp_path / "ca.pem"
    if content is not None:
        ca_file.write_text(content)

    error = await _failure(make(_settings(_free_port(), smtp_ca_file=ca_file)))

    assert error.permanent
    assert "ALERTD_SMTP_CA_FILE" in str(error)


async def test_verification_can_be_turned_off(smtp_server: ServerFactory, make: ChannelFactory) -> None:
    """``ALERTD_SMTP_VERIFY=false`` accepts a certificate no trusted CA signed."""
    handler, port = smtp_server("starttls")

    await make(_settings(port, smtp_verify=False)).send(make_message())

    assert len(handler.received) == 1


# aiosmtpd warns that AUTH is allowed without STARTTLS; the implicit-TLS connection is encrypted all along.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
async def test_implicit_tls(smtp_server: ServerFactory, make: ChannelFactory, pki: Pki) -> None:
    """``ALERTD_SMTP_TLS=tls`` speaks TLS from the first byte (the port-465 style) and delivers."""
    handler, port = smtp_server("tls")

    await make(_settings(port, smtp_ca_file=pki.ca_file, smtp_tls="tls")).send(make_message())

    assert len(handler.received) == 1


async def test_server_without_starttls_is_refused(smtp_server: ServerFactory, make: ChannelFactory) -> None:
    """In starttls mode a server that does not offer STARTTLS gets nothing: no silent downgrade to plaintext."""
    handler, port = smtp_server("plain", auth=False)

    error = await _failure(make(_settings(port, smtp_username=None, smtp_password=None)))

    assert error.permanent
    assert "STARTTLS" in str(error)
    assert handler.received == []


async def test_plain_local_relay(smtp_server: ServerFactory, make: ChannelFactory) -> None:
    """``ALERTD_SMTP_TLS=none`` sends to a local relay without TLS when chosen explicitly."""
    handler, port = smtp_server("plain", auth=False)

    await make(_settings(port, smtp_tls="none", smtp_username=None, smtp_password=None)).send(make_message())

    assert len(handler.received) == 1


async def test_no_password_over_plaintext_to_remote_host(make: ChannelFactory) -> None:
    """With TLS off, credentials are never sent to a host that is not this machine."""
    settings = _settings(587, smtp_host="smtp.example.org", smtp_tls="none")

    error = await _failure(make(settings))

    assert error.permanent
    assert "unencrypted" in str(error)


async def test_connection_refused_is_transient(make: ChannelFactory) -> None:
    """Nothing listening is worth retrying."""
    error = await _failure(make(_settings(_free_port())))

    assert not error.permanent


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP server that accepts connections and never greets."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_timeout_is_transient(silent_server: int, make: ChannelFactory) -> None:
    """A server that never answers times out, and that is worth retrying."""
    error = await _failure(make(_settings(silent_server, smtp_timeout=0.2)))

    assert not error.permanent


async def test_missing_host_is_permanent(make: ChannelFactory) -> None:
    """Without ALERTD_SMTP_HOST every attempt fails permanently, naming the setting."""
    error = await _failure(make(Settings(_env_file=None, smtp_from=SENDER)))

    assert error.permanent
    assert "ALERTD_SMTP_HOST" in str(error)


def test_message_id_is_stable_per_notification() -> None:
    """Re-sends of one notification carry one Message-ID; another notification gets another."""
    sender = parse_address(SENDER)

    def mid(notification_id: str) -> str:
        return str(build_message(make_message(notification_id), sender=sender, to=TEAM)["Message-ID"])

    assert mid("rem:truce-expiry:1d:mail:20251109T140000Z") == mid("rem:truce-expiry:1d:mail:20251109T140000Z")
    assert mid("rem:truce-expiry:1d:mail:20251109T140000Z") != mid("rem:truce-expiry:2h:mail:20251110T030000Z")


def test_html_escapes_user_text() -> None:
    """Titles and text from the calendar are escaped in the HTML part; only http(s) URLs become links."""
    title = 'Vote <script>alert("x")</script> & more'
    event = make_event(title=title, source="https://example.org/a?b=1&c=2")
    message = make_message(event=event, title=title, text=f"{title} tomorrow.\nSource: {event.source}")
    mail = build_message(message, sender=parse_address(SENDER), to=TEAM)

    body = mail.get_body(("html",))
    assert body is not None
    markup = body.get_content()
    assert "<script>" not in markup
    assert "&lt;script&gt;" in markup
    assert 'href="https://example.org/a?b=1&amp;c=2"' in markup


def test_long_lines_respect_smtp_line_limit() -> None:
    """A very long non-ASCII line is transfer-encoded, so no line of the mail reaches SMTP's 998 limit."""
    text = "Ünïcode " * 500
    mail = build_message(make_message(text=text), sender=parse_address(SENDER), to=TEAM)

    wire = mail.as_bytes(policy=email.policy.SMTP)
    assert max(len(line) for line in wire.split(b"\r\n")) <= 998
    plain = mail.get_body(("plain",))
    assert plain is not None
    assert text in plain.get_content()


def test_implicit_tls_defaults_to_port_465() -> None:
    """With ``tls`` and no port set the channel connects to 465; an explicit port wins."""
    options = EmailOptions.model_validate({"to": TEAM})

    assert smtp_config(Settings(_env_file=None, smtp_tls="tls"), options).port == 465
    assert smtp_config(Settings(_env_file=None, smtp_tls="tls", smtp_port=2465), options).port == 2465


@pytest.mark.parametrize(
    "options",
    [
        {"to": []},
        {"to": ["not-an-address"]},
        {"to": ["a@example.org, b@example.org"]},
        {"to": ["ops@example.org\r\nBcc: spy@example.org"]},
        {"to": TEAM, "from": "x@"},
    ],
)
def test_options_reject_bad_addresses(options: dict[str, Any]) -> None:
    """Recipients must be single, valid, one-line addresses; ``from`` is validated too."""
    with pytest.raises(ValidationError):
        EmailOptions.model_validate(options)


def test_options_accept_from_and_prefix() -> None:
    """The calendar key ``from`` overrides the sender, and options survive the loader's dump-and-reload."""
    options = EmailOptions.model_validate({"to": "ops@example.org", "from": SENDER, "subject_prefix": "[x] "})

    assert EmailOptions.model_validate(options.model_dump()) == options
    assert smtp_config(_settings(587, smtp_from="other@example.org"), options).sender == parse_address(SENDER)


async def test_tls_mode_mismatch_is_permanent(smtp_server: ServerFactory, make: ChannelFactory, pki: Pki) -> None:
    """Implicit TLS against a STARTTLS port fails at once with a pointer to ALERTD_SMTP_TLS, not as a retry."""
    _, port = smtp_server("starttls")

    error = await _failure(make(_settings(port, smtp_ca_file=pki.ca_file, smtp_tls="tls")))

    assert error.permanent
    assert "ALERTD_SMTP_TLS" in str(error)


async def test_answer_names_the_server_and_quotes_its_data_reply(
    smtp_server: ServerFactory, make: ChannelFactory, pki: Pki
) -> None:
    """The answer says which server accepted the mail, for how many recipients, and its reply with the queue id."""
    reply = "250 2.0.0 Ok: queued as ABC123"
    _, port = smtp_server("starttls", handler=Handler(data_reply=reply))
    settings = _settings(port, smtp_ca_file=pki.ca_file)

    answer = await make(settings).send(make_message())

    assert answer == f"accepted by {settings.smtp_host} for {len(TEAM)} recipients: {reply}"
    assert PASSWORD not in answer


def test_chinese_message_has_chinese_dates_and_late_note_in_both_parts() -> None:
    """A zh channel's mail has Babel's Chinese dates and a Chinese late note in both the plain and the HTML part."""
    channel = ChannelSpec(id="mail", type="email", timezone="Asia/Shanghai", locale="zh")
    event = make_event()
    due = datetime(2025, 11, 9, 14, 0, tzinfo=UTC)
    message = render(
        id="n1", kind="reminder", channel=channel, due_at=due, now=due, event=event, offset="1d", late=True
    )
    mail = build_message(message, sender=parse_address(SENDER), to=TEAM)
    p = phrases("zh")
    plain, markup = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None
    assert markup is not None
    for part in (plain.get_content(), markup.get_content()):
        assert format_day(event.local_start.date(), "zh") in part
        assert p.sent_late.split("{", 1)[0] in part
        assert "sent late" not in part
        assert "all day" not in part
    assert '<html lang="zh">' in markup.get_content()


# --- what a mail says: as much as a Slack message ----------------------------------------------------------

TRUCE = make_event(
    status="tentative",
    local_start=datetime(2025, 11, 1),
    tags=("trade", "deadline"),
    notes="Truce first agreed in May.\nSee https://example.org/history",
)
NOTICE_AT = datetime(2025, 10, 30, 12, 0, tzinfo=UTC)


def _notice(before: EventSpec | None, after: EventSpec | None, *, locale: str = "en") -> Message:
    kind = "added" if before is None else "removed" if after is None else "changed"
    change = {
        "type": kind,
        "before": event_snapshot(before) if before else None,
        "after": event_snapshot(after) if after else None,
    }
    channel = ChannelSpec(id="mail", type="email", timezone="America/New_York", locale=locale)
    event = after or before
    return render(
        id=f"chg:{kind}", kind="change", channel=channel, due_at=NOTICE_AT, now=NOTICE_AT, event=event, payload=change
    )


async def test_a_change_mail_carries_what_changed_the_tags_and_the_notes(
    smtp_server: ServerFactory, make: ChannelFactory, pki: Pki
) -> None:
    """A moved and confirmed event's mail has, in both parts, the move and the status as before → after, the tags
    and the notes (with their link), as a Slack message shows them."""
    handler, port = smtp_server("starttls")
    moved = replace(
        TRUCE, local_start=datetime(2025, 11, 10), starts_at=datetime(2025, 11, 10, 5, tzinfo=UTC), status="confirmed"
    )
    await make(_settings(port, smtp_ca_file=pki.ca_file)).send(_notice(TRUCE, moved))

    [mail] = handler.messages()
    plain, markup = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None
    assert markup is not None
    text = plain.get_content().replace("\r\n", "\n")  # as received over SMTP
    assert (
        "What changed:\n"
        "• When: Sat 1 Nov 2025 (all day) → Mon 10 Nov 2025 (all day)\n"
        "• Status: tentative → confirmed\n\n"
        "Tags: trade, deadline\n\n"
        "Notes:\nTruce first agreed in May.\nSee https://example.org/history\n"
    ) in text
    html_part = markup.get_content()
    assert "<li>When: Sat 1 Nov 2025 (all day) → Mon 10 Nov 2025 (all day)</li>" in html_part
    assert "<p><b>Tags</b>: trade, deadline</p>" in html_part
    assert '<a href="https://example.org/history">' in html_part


CHANGES: list[tuple[str, dict[str, Any] | None, str]] = [
    ("added", None, "New: Trade truce expires"),
    (
        "moved",
        {"local_start": datetime(2025, 11, 10), "starts_at": datetime(2025, 11, 10, 5, tzinfo=UTC)},
        "Moved: Trade truce expires",
    ),
    ("confirmed", {"status": "confirmed"}, "Confirmed: Trade truce expires"),
    ("postponed", {"status": "postponed"}, "Postponed: Trade truce expires"),
    ("cancelled", {"status": "cancelled"}, "Cancelled: Trade truce expires"),
    ("removed", None, "Removed: Trade truce expires"),
    ("renamed", {"title": "Trade truce ends"}, "Changed: Trade truce ends"),
]


async def test_change_mail_subjects_say_what_happened(
    smtp_server: ServerFactory, make: ChannelFactory, pki: Pki
) -> None:
    """New, Moved, Confirmed, Postponed, Cancelled or Removed lead the subject; other edits are "Changed"."""
    handler, port = smtp_server("starttls")
    channel = make(_settings(port, smtp_ca_file=pki.ca_file))
    for kind, changes, _ in CHANGES:
        before = None if kind == "added" else TRUCE
        after = None if kind == "removed" else replace(TRUCE, **(changes or {}))
        await channel.send(_notice(before, after))
    assert [mail["Subject"] for mail in handler.messages()] == [subject for _, _, subject in CHANGES]


def test_change_subjects_are_in_the_readers_language() -> None:
    """A German mail about a cancellation is titled "Abgesagt: …"."""
    message = _notice(TRUCE, replace(TRUCE, status="cancelled"), locale="de")
    assert build_message(message, sender=parse_address(SENDER), to=TEAM)["Subject"] == "Abgesagt: Trade truce expires"


def _parts(mail: EmailMessage) -> tuple[str, str]:
    plain, page = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None
    assert page is not None
    return plain.get_content(), page.get_content()


def test_long_sections_are_cut_by_size_and_the_text_stays() -> None:
    """Notes of 60,000 ampersands (five times larger as HTML) and 2,000 tags are cut by their size, the sentence
    is kept whole, and each part stays under Gmail's 102 KB clipping size."""
    event = make_event(notes="&" * 60_000, tags=tuple(f"<tag{i}>" for i in range(2000)))
    message = make_message(event=event, text="Trade truce expires tomorrow.")
    plain, page = _parts(build_message(message, sender=parse_address(SENDER), to=TEAM))
    for part in (plain, page):
        assert len(part.encode()) <= 100_000
    assert "Trade truce expires tomorrow." in plain
    assert "&…" in plain


def test_long_digest_keeps_whole_rows_with_a_count() -> None:
    """A digest of 700 long rows keeps the rows that fit and ends with how many were left out."""
    lines = tuple(make_line(make_event(f"e{i}", title="x" * 1000)) for i in range(700))
    text = "\n".join(f"• {'x' * 1000} — tomorrow" for _ in lines)
    message = make_message(kind="countdown", offset=None, lines=lines, text=text)
    plain, _ = _parts(build_message(message, sender=parse_address(SENDER), to=TEAM))
    shown = plain.count("• ")
    assert 0 < shown < 700
    assert f"…and {700 - shown} more" in plain


class QuotingSmtp:
    """A raw SMTP server on 127.0.0.1 (no TLS) that refuses the login quoting the client's AUTH lines verbatim, as a
    verbose or broken server might: ``mechanism`` is the one it offers (PLAIN or LOGIN)."""

    def __init__(self, mechanism: str) -> None:
        self.mechanism = mechanism
        self.lines: list[str] = []

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 quoting.example ESMTP\r\n")
        try:
            while line := (await reader.readline()).decode().rstrip("\r\n"):
                self.lines.append(line)
                if line.upper().startswith(("EHLO", "HELO")):
                    writer.write(f"250-quoting.example\r\n250 AUTH {self.mechanism}\r\n".encode())
                elif line.upper().startswith("AUTH LOGIN"):
                    # The user name comes with the command (an initial response) or after a prompt.
                    user = line[len("AUTH LOGIN ") :]
                    if not user:
                        writer.write(b"334 VXNlcm5hbWU6\r\n")
                        user = (await reader.readline()).decode().strip()
                    writer.write(b"334 UGFzc3dvcmQ6\r\n")
                    password = (await reader.readline()).decode().strip()
                    self.lines += [user, password]
                    writer.write(f"535 5.7.8 refused: AUTH LOGIN {user} {password}\r\n".encode())
                elif line.upper().startswith("AUTH"):
                    writer.write(f"535 5.7.8 refused: {line}\r\n".encode())
                elif line.upper() == "QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        finally:
            writer.close()


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
async def test_the_password_is_masked_in_its_base64_forms_when_a_server_quotes_the_login(
    make: ChannelFactory, mechanism: str
) -> None:
    """AUTH PLAIN and AUTH LOGIN carry the password base64-encoded; a server quoting them leaks none of it."""
    import base64

    quoting = QuotingSmtp(mechanism)
    server = await asyncio.start_server(quoting.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        error = await _failure(make(_settings(port, smtp_tls="none")))
    finally:
        server.close()
    encoded = base64.b64encode(PASSWORD.encode()).decode()
    plain = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()
    assert any(encoded in line or plain in line for line in quoting.lines)  # the server did get them
    assert error.status == 535
    for secret in (PASSWORD, encoded, encoded.rstrip("="), plain, plain.rstrip("=")):
        assert secret not in str(error)


def test_an_ack_link_is_in_both_parts_and_a_real_link_in_html() -> None:
    link = "https://alertd.example.org/ack/abc.def.ghi"
    mail = build_message(make_message()._replace(ack_url=link), sender=parse_address(SENDER), to=TEAM)
    plain = mail.get_body(("plain",))
    page = mail.get_body(("html",))
    assert plain is not None
    assert page is not None
    assert f"Acknowledge: {link}" in plain.get_content()
    assert f'<a href="{link}">' in page.get_content()
