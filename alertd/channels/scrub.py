"""Defence in depth for credentials: every channel is wrapped so that nothing it reports can carry a secret.

Channels already avoid quoting URLs (see :func:`alertd.channels.http.redact`), but services answer with error
pages and JSON that may echo the request (URL, token, headers) back, and channel code quotes those answers. The
wrapper replaces every secret of the channel, and of the process settings, in the summary it returns and in the
DeliveryError it raises, so logs, ``alertd history``, ``send-test`` and the API only ever see ``…``.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from alertd.channels.base import Channel, PartialAnswer
from alertd.domain import ChannelSpec, Message
from alertd.errors import DeliveryError

__all__ = ["ScrubbedChannel", "channel_secrets", "scrub"]

log = logging.getLogger("alertd.channels")

# Option keys whose whole value is a credential, wherever it appears.
_SECRET_KEYS = re.compile(r"(^|_)(url|urls|secret|token|password|key|headers)$")
# Process settings that are credentials (SecretStr or plain).
_SETTINGS = ("smtp_password", "api_token", "api_read_token")
_MIN = 6
_MASK = "…"


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


def channel_secrets(spec: ChannelSpec, settings: Any = None) -> tuple[str, ...]:
    """Every secret string of ``spec`` and of the process ``settings``, longest first (whole before part)."""
    found: set[str] = set(_values("", dict(spec.options)))
    for name in _SETTINGS:
        value = getattr(settings, name, None)
        if value is not None and hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        if isinstance(value, str):
            found.add(value)
    if "secret" in spec.options and isinstance(spec.options["secret"], str):
        found.add(spec.options["secret"].removeprefix("whsec_"))
    decoded = {unquote(s) for s in found}
    return tuple(sorted((s for s in found | decoded if len(s) >= _MIN), key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret replaced by ``…``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class ScrubbedChannel:
    """A channel whose answers and errors never contain its (or the process's) secrets."""

    def __init__(self, inner: Channel, secrets: tuple[str, ...]) -> None:
        self.spec: ChannelSpec = inner.spec
        self.inner = inner
        self._secrets = secrets

    async def send(self, message: Message) -> str:
        try:
            answer = await self.inner.send(message)
        except DeliveryError as exc:
            # Rewritten in place: the type (e.g. a service-specific subclass) and its attributes stay.
            exc.args = (scrub(str(exc), self._secrets), *exc.args[1:])
            raise
        except Exception as exc:  # a bug in a channel: its text and traceback may quote a URL
            detail = scrub(traceback.format_exc(), self._secrets)
            log.error("channel %s crashed while sending %s:\n%s", self.spec.id, message.id, detail)
            raise DeliveryError(f"internal error: {type(exc).__name__}: {scrub(str(exc), self._secrets)}") from None
        if isinstance(answer, PartialAnswer):
            return PartialAnswer(scrub(answer, self._secrets), refused=scrub(answer.refused, self._secrets))
        return scrub(answer, self._secrets)
