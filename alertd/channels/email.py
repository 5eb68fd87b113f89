"""``email``: send a notification over SMTP as multipart/alternative, plain text first and HTML last.

A mail carries what a Slack message does: the message's text (its subject is the title, which for a change
notice says what happened: New, Moved, Confirmed, Postponed, Cancelled, Removed), then what changed, the tags and
the notes.

The server comes from the ``ALERTD_SMTP_*`` settings; a channel names its recipients (``to``) and may override
the sender (``from``) and prefix the subject (``subject_prefix``). Transport security is required unless
``ALERTD_SMTP_TLS=none`` is chosen explicitly: ``starttls`` (port 587) refuses a server that does not offer
STARTTLS, ``tls`` (port 465) speaks TLS from the first byte. Certificates are verified against the system CAs, or
against ``ALERTD_SMTP_CA_FILE`` for a private CA.

One attempt is one SMTP session. Reply codes are classified per RFC 5321 §4.2.1: 4yz is transient, 5yz permanent,
except 552, which servers send for "too many recipients" and which should be treated as transient.
"""

from __future__ import annotations

import email.policy
import hashlib
import html
import ipaddress
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiosmtplib
from pydantic import ConfigDict, Field, field_validator

from alertd.channels import budget, http
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options, PartialAnswer
from alertd.channels.scrub import auth_forms
from alertd.channels.words import and_more, sent_late
from alertd.clock import utc, wall_now
from alertd.domain import ChannelSpec, Message
from alertd.errors import DeliveryError
from alertd.messages import change_rows, phrases
from alertd.timeexpr import zone

__all__ = [
    "TYPE",
    "EmailChannel",
    "EmailOptions",
    "SmtpConfig",
    "build_message",
    "classify",
    "message_id",
    "parse_address",
    "smtp_config",
]

# Subjects are folded by the email package, but a short one reads better in every inbox list.
SUBJECT_MAX = 200
# Gmail clips a message whose HTML is over 102 KB behind "[Message clipped]"; each part stays under 100 KB so the
# whole message shows. Sections are cut by size first, then the text (a digest's rows) gets what is left.
PART_MAX = 100_000
LINE_MAX = 2_000
# Each section's share of a part, in bytes of its HTML.
CHANGES_BYTES = 20_000
TAGS_BYTES = 5_000
NOTES_BYTES = 30_000
TITLE_BYTES = 4_000
# Server replies quoted in errors and answers are cut to this many characters.
REPLY_MAX = 200
# Submission servers cap concurrent sessions per account (extra ones get 421); stay well below common caps.
CONCURRENCY = 3

# Bodies are 7-bit (non-ASCII or lines over 78 characters become quoted-printable or base64), so they pass any
# relay and never exceed SMTP's 998-character line limit (RFC 5321 §4.5.3.1.6), 8BITMIME or not.
_POLICY = email.policy.SMTP.clone(cte_type="7bit")
_URL = re.compile(r"https?://[^\s<>\"']+")
_TLS_HINT = "set ALERTD_SMTP_TLS=tls (usually port 465), or none only for a trusted local relay"


def parse_address(value: str) -> Address:
    """One mailbox, ``addr@example.org`` or ``Name <addr@example.org>``; ValueError with the reason otherwise."""
    if "\r" in value or "\n" in value:
        raise ValueError("an email address must be on one line")
    addresses: tuple[Address, ...] = ()
    defects: list[Exception] = []
    try:
        header = _POLICY.header_factory("to", value)
        addresses = tuple(getattr(header, "addresses", ()))
        defects = list(header.defects)
    except Exception:  # the header parser raises assorted errors on malformed input
        addresses = ()
    if len(addresses) != 1:
        raise ValueError(f"{value!r} is not one email address; give each recipient as its own list item")
    address = addresses[0]
    if defects or not address.username or not address.domain:
        raise ValueError(f"{value!r} is not a valid email address (write name@example.org)")
    if not address.username.isascii():
        # That would need SMTPUTF8, which few submission servers offer.
        raise ValueError(f"{value!r}: the part before @ must be ASCII")
    return address


class EmailOptions(Options):
    # ``from`` is a Python keyword: the field is ``from_`` and the calendar key is ``from``.
    model_config = ConfigDict(populate_by_name=True)

    to: list[str] = Field(min_length=1)
    from_: str | None = Field(default=None, alias="from")
    subject_prefix: str = ""

    @field_validator("to", mode="before")
    @classmethod
    def _one_to_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("to")
    @classmethod
    def _to(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for item in value:
            key = parse_address(item).addr_spec.lower()
            if key in seen:
                raise ValueError(f"{item!r} is listed twice")
            seen.add(key)
        return value

    @field_validator("from_")
    @classmethod
    def _from(cls, value: str | None) -> str | None:
        if value is not None:
            parse_address(value)
        return value

    @field_validator("subject_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("subject_prefix must be on one line")
        return value


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    """Where and how to connect; ``problem`` says why sending cannot work (reported at every attempt)."""

    host: str
    port: int
    tls: str
    username: str | None
    password: str | None
    sender: Address | None
    ca_file: Path | None
    verify: bool
    timeout: float
    problem: str | None = None

    def __repr__(self) -> str:
        # Never show the password, even in a debugger or a traceback.
        return f"SmtpConfig(host={self.host!r}, port={self.port}, tls={self.tls!r}, username={self.username!r})"


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def smtp_config(settings: Any, options: EmailOptions) -> SmtpConfig:
    """The connection settings of one channel from process settings (``ALERTD_SMTP_*``) and its options."""
    host = getattr(settings, "smtp_host", None) or ""
    tls = getattr(settings, "smtp_tls", "starttls")
    port = getattr(settings, "smtp_port", 587)
    # Implicit TLS lives on 465; the default port (587) is for STARTTLS, so follow the mode unless one was set.
    if tls == "tls" and "smtp_port" not in getattr(settings, "model_fields_set", set()):
        port = 465
    secret = getattr(settings, "smtp_password", None)
    password = None if secret is None else secret.get_secret_value()
    username = getattr(settings, "smtp_username", None) or None
    problem: str | None = None
    sender: Address | None = None
    raw_sender = options.from_ or getattr(settings, "smtp_from", None)
    if raw_sender:
        try:
            sender = parse_address(raw_sender)
        except ValueError as exc:
            problem = f"bad sender address (ALERTD_SMTP_FROM or the channel's from): {exc}"
    else:
        problem = "no sender address: set ALERTD_SMTP_FROM or the channel's from"
    if not host:
        problem = "ALERTD_SMTP_HOST is not set: name the SMTP server that sends alertd's mail"
    elif tls == "none" and username and not _loopback(host):
        problem = (
            f"refusing to send the SMTP password unencrypted to {host}: "
            "use ALERTD_SMTP_TLS=starttls or tls (none is only for a local relay)"
        )
    if password is not None and not username:
        problem = problem or "ALERTD_SMTP_PASSWORD is set but ALERTD_SMTP_USERNAME is not"
    return SmtpConfig(
        host=host,
        port=port,
        tls=tls,
        username=username,
        password=password,
        sender=sender,
        ca_file=getattr(settings, "smtp_ca_file", None),
        verify=getattr(settings, "smtp_verify", True),
        timeout=getattr(settings, "smtp_timeout", 30.0),
        problem=problem,
    )


def _tls_context(config: SmtpConfig) -> ssl.SSLContext:
    if not config.verify:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    # With a CA file only that CA is trusted (create_default_context skips the system store then).
    if config.ca_file is None:
        return ssl.create_default_context()
    try:
        return ssl.create_default_context(cafile=str(config.ca_file))
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError: not PEM, or no certificate in it
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise DeliveryError(
            f"email: ALERTD_SMTP_CA_FILE={config.ca_file} cannot be used ({reason}); give a PEM file of the CA",
            permanent=True,
        ) from None


def message_id(notification_id: str, domain: str) -> str:
    """A Message-ID that is the same for every re-send of one notification, so mail clients show it once.

    Notification ids contain ``:`` and other characters a Message-ID may not, hence the digest.
    """
    digest = hashlib.sha256(notification_id.encode("utf-8")).hexdigest()[:32]
    try:
        right = domain.encode("idna").decode("ascii") if domain else "alertd.invalid"
    except UnicodeError:
        right = "alertd.invalid"
    return f"<{digest}.alertd@{right}>"


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _footer(message: Message, timezone: str) -> str:
    note = f"alertd {message.kind}" + (f" · {message.offset}" if message.offset else "")
    if message.late:
        due = message.due_at.astimezone(zone(timezone))
        note += f" · {sent_late(due, message.locale)}"
    return note


def _linked(line: str) -> str:
    """``line`` escaped for HTML, with http(s) URLs as links (other schemes stay text)."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(line):
        url = match.group(0)
        out.append(html.escape(line[last : match.start()]))
        out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>')
        last = match.end()
    out.append(html.escape(line[last:]))
    return "".join(out)


def _sections(message: Message) -> list[tuple[str, str, list[str]]]:
    """What follows the message's own text, as Slack shows it beside: what changed (a list), tags (one line),
    notes (a block); each as (style, label, lines), each cut to its share of the size as HTML (the larger part:
    escapes and links) so that the message's own text always keeps room."""
    p = phrases(message.locale)
    locale = message.locale
    sections: list[tuple[str, str, list[str]]] = []
    rows = change_rows(message.change, message.locale) if message.change else []
    if rows:
        changed = [budget.cut(f"{label}: {old} → {new}", LINE_MAX) for label, old, new in rows]
        label = p.label_what_changed
        fitted = budget.fit_list(
            changed,
            lambda shown: _section_size("list", label, shown.split("\n"), locale) <= CHANGES_BYTES,
            lambda left: and_more(left, locale),
        )
        sections.append(("list", label, fitted.split("\n")))
    if message.ack_url is not None:
        # The signed one-click link (alertd.delivery.links): first, where a reader looks for what to do.
        sections.append(("line", p.ack_action, [message.ack_url]))
    event = message.event if message.kind != "countdown" else None
    if event is not None and event.tags:
        sections.append(_fitted("line", p.label_tags, ", ".join(event.tags), TAGS_BYTES, locale))
    if event is not None and event.notes:
        sections.append(_fitted("block", p.label_notes, event.notes, NOTES_BYTES, locale))
    return sections


def _html_bytes(text: str) -> int:
    return budget.utf8(html.escape(text))


def _section_size(style: str, label: str, lines: list[str], locale: str) -> int:
    return budget.utf8(_html_section(style, label, lines, locale))


def _fitted(style: str, label: str, text: str, room: int, locale: str) -> tuple[str, str, list[str]]:
    """A one-line or block section whose HTML is at most ``room`` bytes, its text cut with …."""

    def lines(keep: int) -> list[str]:
        cut = budget.cut(text, keep)
        return [cut] if style == "line" else cut.splitlines()

    keep = budget.fit_rows(len(text), lambda n: _section_size(style, label, lines(n), locale) <= room)
    return style, label, lines(keep)


def _plain(message: Message, footer: str, text: str) -> str:
    field_line = phrases(message.locale).field_line
    parts = [text]
    for style, label, lines in _sections(message):
        if style == "line":
            parts.append(field_line.format(label=label, value=lines[0]))
        else:
            heading = field_line.format(label=label, value="").rstrip()
            parts.append("\n".join([heading, *(f"• {line}" if style == "list" else line for line in lines)]))
    return "\n\n".join([*parts, f"-- \n{footer}\n"])


def _html_section(style: str, label: str, lines: list[str], locale: str) -> str:
    if style == "line":
        return (
            "<p>"
            + phrases(locale).field_line.format(label=f"<b>{html.escape(label)}</b>", value=_linked(lines[0]))
            + "</p>"
        )
    heading = f"<h3>{html.escape(label)}</h3>\n"
    if style == "list":
        return heading + "<ul>\n" + "\n".join(f"<li>{_linked(line)}</li>" for line in lines) + "\n</ul>"
    return heading + "<p>" + "<br>\n".join(_linked(line) for line in lines) + "</p>"


def _html(message: Message, title: str, footer: str, text: str) -> str:
    lines = text.splitlines()
    if message.kind == "countdown" and lines:
        body = "<ul>\n" + "\n".join(f"<li>{_linked(line.lstrip('• '))}</li>" for line in lines) + "\n</ul>"
    else:
        body = "<p>" + "<br>\n".join(_linked(line) for line in lines) + "</p>"
    extra = "".join("\n" + _html_section(*section, message.locale) for section in _sections(message))
    return (
        "<!DOCTYPE html>\n"
        # The language lets mail clients pick fitting fonts (Chinese and Japanese share code points).
        f'<html lang="{html.escape(message.locale, quote=True)}"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n"
        '<body style="font-family: sans-serif">\n'
        f"<h2>{html.escape(title)}</h2>\n{body}{extra}\n"
        f'<p style="color: #666; font-size: small">{html.escape(footer)}</p>\n'
        "</body></html>\n"
    )


def build_message(
    message: Message,
    *,
    sender: Address,
    to: list[str],
    subject_prefix: str = "",
    timezone: str | None = None,
) -> EmailMessage:
    """The email of one notification: headers, then text/plain and text/html alternatives."""
    tz = timezone or message.channel_timezone
    # The title is shown twice in the HTML (<title> and the heading), each escaped.
    title = budget.cut(message.title or f"alertd {message.kind}", TITLE_BYTES, measure=_html_bytes)
    footer = _footer(message, tz)
    mail = EmailMessage(policy=_POLICY)
    mail["Subject"] = _one_line(subject_prefix + title, SUBJECT_MAX)
    mail["From"] = sender
    mail["To"] = [parse_address(item) for item in to]
    # Real time, not the (possibly virtual) ``sent_at``: receiving servers judge the Date against their clock.
    mail["Date"] = format_datetime(utc(wall_now()))
    mail["Message-ID"] = message_id(message.id, sender.domain)
    # RFC 3834: an automatic message; vacation responders and the like should not answer it.
    mail["Auto-Submitted"] = "auto-generated"
    mail["X-Auto-Response-Suppress"] = "All"
    text = _text(message, title, footer)
    mail.set_content(_plain(message, footer, text))
    mail.add_alternative(_html(message, title, footer, text), subtype="html")
    return mail


def _text(message: Message, title: str, footer: str) -> str:
    """The message's own text as far as both parts stay within :data:`PART_MAX` bytes beside the sections
    (already cut on their own): a digest keeps whole rows, then "…and N more"."""

    def fits(text: str) -> bool:
        plain, page = _plain(message, footer, text), _html(message, title, footer, text)
        # Mail carries line breaks as CRLF, so each counts two bytes.
        return all(budget.utf8(part) + part.count("\n") <= PART_MAX for part in (plain, page))

    if message.kind == "countdown" and message.lines:
        rows = [budget.cut(row, LINE_MAX) for row in message.text.split("\n")]
        return budget.fit_list(rows, fits, lambda left: and_more(left, message.locale))
    keep = budget.fit_rows(len(message.text), lambda n: fits(budget.cut(message.text, n)))
    return budget.cut(message.text, keep)


def _reply(code: int, text: str, secret: tuple[str, ...]) -> str:
    # Servers do not echo credentials, but a misbehaving one (quoting the AUTH exchange, base64 and all) must not
    # put them in alertd's history: masked before the cut, so no part of one survives it.
    for form in secret:
        text = text.replace(form, "***")
    said = http.one_line(text, REPLY_MAX)
    return f"{code} {said}".rstrip()


def _code_is_permanent(code: int) -> bool:
    # RFC 5321 §4.2.1: 5yz is permanent, except 552 used for "too many recipients" (should be 452).
    return 500 <= code < 600 and code != 552


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def classify(exc: BaseException, *, stage: str, config: SmtpConfig) -> DeliveryError:
    """The DeliveryError for an exception raised while ``stage`` (connecting, starting TLS, logging in, sending)."""
    where = f"{config.host}:{config.port}"
    secret = auth_forms(config.username, config.password) if config.password else ()
    for cause in _chain(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            reason = cause.verify_message or cause.reason or "verification failed"
            return DeliveryError(
                f"email: the certificate of {where} could not be verified ({reason}); "
                "set ALERTD_SMTP_CA_FILE to the CA that signed it",
                permanent=True,
            )
        if isinstance(cause, ssl.SSLError):
            return DeliveryError(
                f"email: TLS with {where} failed while {stage} ({cause.reason or cause}); "
                f"check that ALERTD_SMTP_TLS={config.tls} is what port {config.port} speaks",
                permanent=True,
            )
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        refused = [(r.recipient, r.code, r.message) for r in exc.recipients]
        permanent = all(_code_is_permanent(code) for _, code, _ in refused)
        listed = "; ".join(f"{rcpt} ({_reply(code, text, secret)})" for rcpt, code, text in refused)
        # Whether a refusal is temporary is the dispatcher's to say; only a permanent one needs a hint.
        hint = "; check the channel's to addresses" if permanent else ""
        first = refused[0][1] if refused else None
        return DeliveryError(
            f"email: {where} refused every recipient: {listed}{hint}", permanent=permanent, status=first
        )
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        said = _reply(exc.code, exc.message, secret)
        if _code_is_permanent(exc.code):
            return DeliveryError(
                f"email: {where} rejected the login of {config.username!r} ({said}); "
                "check ALERTD_SMTP_USERNAME and ALERTD_SMTP_PASSWORD",
                permanent=True,
                status=exc.code,
            )
        return DeliveryError(f"email: login to {where} failed for now ({said})", status=exc.code)
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        said = _reply(exc.code, exc.message, secret)
        permanent = _code_is_permanent(exc.code)
        hint = "; set ALERTD_SMTP_FROM (or from) to an address the account may send as" if permanent else ""
        return DeliveryError(
            f"email: {where} refused the sender {exc.sender} ({said}){hint}", permanent=permanent, status=exc.code
        )
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        said = _reply(exc.code, exc.message, secret)
        permanent = _code_is_permanent(exc.code)
        hint = "; the server will not take this message as it is" if permanent else ""
        return DeliveryError(
            f"email: {where} answered {said} while {stage}{hint}", permanent=permanent, status=exc.code
        )
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return DeliveryError(f"email: {where} did not answer in time while {stage}")
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError | ConnectionError | OSError):
        return DeliveryError(f"email: cannot reach {where} while {stage} ({http.one_line(str(exc), REPLY_MAX)})")
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return DeliveryError(f"email: {where} cannot take this message: {exc}", permanent=True)
    if isinstance(exc, aiosmtplib.SMTPException) and stage == "starting TLS":
        return DeliveryError(f"email: {where} does not offer STARTTLS; {_TLS_HINT}", permanent=True)
    if isinstance(exc, aiosmtplib.SMTPException) and stage == "logging in":
        return DeliveryError(
            f"email: {where} does not offer AUTH ({exc}); unset ALERTD_SMTP_USERNAME or use another server",
            permanent=True,
        )
    return DeliveryError(f"email: {where} failed while {stage}: {http.one_line(str(exc), REPLY_MAX)}", permanent=True)


def _refusals(errors: Mapping[str, Any], secret: tuple[str, ...]) -> str:
    return "; ".join(f"{rcpt} ({_reply(reply.code, reply.message, secret)})" for rcpt, reply in errors.items())


class EmailChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = EmailOptions.model_validate(dict(spec.options))
        self._config = smtp_config(ctx.settings, self._options)
        self._recipients = [parse_address(item).addr_spec for item in self._options.to]

    async def send(self, message: Message) -> str:
        config = self._config
        if config.problem is not None or config.sender is None:
            raise DeliveryError(f"email: {config.problem}", permanent=True)
        mail = build_message(
            message,
            sender=config.sender,
            to=self._options.to,
            subject_prefix=self._options.subject_prefix,
            timezone=self.spec.timezone,
        )
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            use_tls=config.tls == "tls",
            # STARTTLS is driven below, so that a server without it is refused instead of silently skipped.
            start_tls=False,
            tls_context=None if config.tls == "none" else _tls_context(config),
            timeout=config.timeout,
        )
        stage = "connecting"
        try:
            await client.connect()
            if config.tls == "starttls":
                stage = "starting TLS"
                await client.starttls()
            if config.username:
                stage = "logging in"
                await client.login(config.username, config.password or "")
            stage = "sending"
            errors, said = await client.send_message(mail, sender=config.sender.addr_spec, recipients=self._recipients)
        except aiosmtplib.SMTPException as exc:
            client.close()
            raise classify(exc, stage=stage, config=config) from None
        except (OSError, TimeoutError) as exc:
            client.close()
            raise classify(exc, stage=stage, config=config) from None
        except BaseException:
            # Cancelled (e.g. the daemon is draining): drop the connection rather than leave it open.
            client.close()
            raise
        # The mail is accepted: a failed goodbye must not turn it into a failure (and a duplicate on retry).
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()
        total = len(self._recipients)
        # aiosmtplib raises unless DATA was answered 250, so the code is known; the text often names the queue id.
        forms = auth_forms(config.username, config.password) if config.password else ()
        reply = _reply(250, said, forms)
        if errors:
            accepted = total - len(errors)
            refused = _refusals(errors, forms)
            text = f"accepted by {config.host} for {accepted} of {total} recipients: {reply}; refused: {refused}"
            return PartialAnswer(text, refused=refused)
        return f"accepted by {config.host} for {total} recipient{'' if total == 1 else 's'}: {reply}"


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return EmailChannel(spec, ctx)


# SMTP has no documented send rate of its own (provider quotas differ), so only concurrency is bounded.
def _setup_problem(spec: ChannelSpec, settings: Any) -> str | None:
    return smtp_config(settings, EmailOptions.model_validate(spec.options)).problem


TYPE = ChannelType(
    name="email", options=EmailOptions, build=_build, concurrency=CONCURRENCY, setup_problem=_setup_problem
)
