"""Defence in depth for credentials: every channel is wrapped so that nothing it reports can carry a secret.

Channels already avoid quoting URLs (see :func:`alertd.channels.http.redact`), but services answer with error
pages and JSON that may echo the request (URL, token, headers) back, and channel code quotes those answers. The
wrapper replaces every secret of the channel, and of the process settings, in the summary it returns and in the
DeliveryError it raises, so logs, ``alertd history``, ``send-test`` and the API only ever see ``…``.
"""

from __future__ import annotations

import base64
import logging
import re
import traceback
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from alertd.channels.base import Channel, PartialAnswer
from alertd.channels.oneline import one_line
from alertd.domain import ChannelSpec, Message
from alertd.errors import DeliveryError

__all__ = ["ScrubbedChannel", "auth_forms", "channel_secrets", "scrub"]

log = logging.getLogger("alertd.channels")

# Option keys whose whole value is a credential, wherever it appears.
_SECRET_KEYS = re.compile(r"(^|_)(url|urls|secret|token|password|key|headers)$")
# Process settings that are credentials (SecretStr or plain).
_SETTINGS = ("smtp_password", "api_token", "api_read_token")
_MIN = 6
_MASK = "…"
# A secret's start left before a cut ("…") or at the end of a text is masked from this many characters on.
_PREFIX = 4
# One line per answer or error, whatever a service put in it.
_SHOWN = 2000


def _looks_secret(piece: str) -> bool:
    # Path segments and query values of a URL: long ones, or short ones mixing letters and digits, are tokens;
    # plain words ("services", "hooks") are not worth hiding and hiding them would garble messages.
    has_digit = any(c.isdigit() for c in piece)
    has_alpha = any(c.isalpha() for c in piece)
    return len(piece) >= 16 or (len(piece) >= _MIN and has_digit and has_alpha)


def _url_pieces(url: str) -> Iterator[str]:
    """The parts of ``url`` after its host that may be credentials, raw and percent-decoded."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return
    rest = url.split(parts.netloc, 1)[-1] if parts.netloc else url
    yield from (url, rest, parts.path, parts.query)
    if parts.password:
        yield parts.password
    for segment in parts.path.split("/"):
        if _looks_secret(segment):
            yield segment
    for _, value in parse_qsl(parts.query, keep_blank_values=True):
        if _looks_secret(value):
            yield value


def _values(key: str, value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for k, v in value.items():
            # Header values are credentials whatever the header is called (Authorization, X-Api-Key…).
            yield from _values(key if key == "headers" else str(k), v)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _values(key, item)
    elif isinstance(value, str) and _SECRET_KEYS.search(key):
        yield value
        if "://" in value:
            yield from _url_pieces(value)
        if " " in value:  # "Bearer <token>", "Basic <base64>"
            yield from (word for word in value.split() if len(word) >= _MIN)


def _b64(raw: str) -> tuple[str, str]:
    encoded = base64.b64encode(raw.encode()).decode("ascii")
    return encoded, encoded.rstrip("=")


def auth_forms(username: str | None, password: str) -> tuple[str, ...]:
    """``password`` and the base64 forms it travels in when logging in to an SMTP server (AUTH LOGIN sends it
    alone; AUTH PLAIN sends ``authzid NUL user NUL password``), which a server quoting the exchange would echo."""
    forms = {password, *_b64(password)}
    if username is not None:
        for authzid in ("", username):
            forms.update(_b64(f"{authzid}\0{username}\0{password}"))
    return tuple(sorted(forms, key=len, reverse=True))


def channel_secrets(spec: ChannelSpec, settings: Any = None) -> tuple[str, ...]:
    """Every secret string of ``spec`` and of the process ``settings``, longest first (whole before part)."""
    found: set[str] = set(_values("", dict(spec.options)))
    for name in _SETTINGS:
        value = getattr(settings, name, None)
        if value is not None and hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, str):
            found.add(value)
            if name == "smtp_password":
                found.update(auth_forms(getattr(settings, "smtp_username", None), value))
    if "secret" in spec.options and isinstance(spec.options["secret"], str):
        found.add(spec.options["secret"].removeprefix("whsec_"))
    decoded = {unquote(s) for s in found}
    return tuple(sorted((s for s in found | decoded if len(s) >= _MIN), key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``…``, and the start of a secret that a cut left behind too.

    Whole secrets first; then, where the text was cut (before a ``…``, or at its end), a tail that is the first
    characters of a secret: an answer quoting a token across the 200-character cut keeps none of it.
    """
    secrets = tuple(secrets)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return _mask_cut_prefixes(text, secrets)


def _mask_cut_prefixes(text: str, secrets: tuple[str, ...]) -> str:
    ends = []
    at = text.find(_MASK)
    while at >= 0:
        ends.append(at)
        at = text.find(_MASK, at + 1)
    ends.append(len(text))
    # From the last cut back, so the positions before it stay valid as the text shrinks.
    for end in reversed(ends):
        longest = _secret_start(text[:end], secrets)
        if longest:
            text = text[: end - longest] + _MASK + text[end + (text[end : end + 1] == _MASK) :]
    return text


def _secret_start(head: str, secrets: tuple[str, ...]) -> int:
    """The length of the longest tail of ``head`` that is the start (not the whole) of a secret, or 0."""
    if not head:
        return 0
    last = head[-1]
    longest = 0
    for secret in secrets:
        # Candidate lengths end where the secret has head's last character: few, longest first.
        pos = secret.rfind(last, 0, len(secret) - 1)
        while pos >= _PREFIX - 1 and pos + 1 > longest:
            if head.endswith(secret[: pos + 1]):
                longest = pos + 1
                break
            pos = secret.rfind(last, 0, pos)
    return longest


def _shown(text: str, secrets: tuple[str, ...]) -> str:
    """What a channel's answer or error may show: secrets masked, then one bounded line (control characters of
    the receiver's text replaced), then a secret's start left at a new cut masked too."""
    masked = scrub(text, secrets)
    # Most answers are a short clean line already ("HTTP 200 from host: ok"): nothing to fold or cut.
    if len(masked) <= _SHOWN and masked.isprintable():
        return masked
    return scrub(one_line(masked, _SHOWN), secrets)


# Distinct answers a channel keeps scrubbed (they hold ids at most; a channel whose answers never repeat just
# refills it).
_KEPT_ANSWERS = 256


class ScrubbedChannel:
    """A channel whose answers and errors never contain its (or the process's) secrets."""

    def __init__(self, inner: Channel, secrets: tuple[str, ...]) -> None:
        self.spec: ChannelSpec = inner.spec
        self.inner = inner
        self._secrets = secrets
        self._answers: dict[str, str] = {}

    async def send(self, message: Message) -> str:
        try:
            answer = await self.inner.send(message)
        except DeliveryError as exc:
            # Rewritten in place: the type (e.g. a service-specific subclass) and its attributes stay.
            exc.args = (_shown(str(exc), self._secrets), *exc.args[1:])
            raise
        except Exception as exc:  # a bug in a channel: its text and traceback may quote a URL
            detail = scrub(traceback.format_exc(), self._secrets)
            log.error("channel %s crashed while sending %s:\n%s", self.spec.id, message.id, detail)
            said = _shown(str(exc), self._secrets)
            raise DeliveryError(f"internal error: {type(exc).__name__}: {said}") from None
        if isinstance(answer, PartialAnswer):
            return PartialAnswer(_shown(answer, self._secrets), refused=_shown(answer.refused, self._secrets))
        # A channel answers every delivery in the same few words ("HTTP 200 from host: ok"): each is scrubbed once.
        shown = self._answers.get(answer)
        if shown is None:
            shown = _shown(answer, self._secrets)
            if len(self._answers) >= _KEPT_ANSWERS:
                self._answers.clear()
            self._answers[answer] = shown
        return shown
