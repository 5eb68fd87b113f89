"""``apprise`` (optional extra ``alertd[apprise]``): deliver through any Apprise URL (``tgram://``, ``json://`` …).

Apprise is synchronous (``requests``), so each send runs on a small thread pool of its own, off the event
loop. It answers only True/False, and retries nothing here: a False becomes a transient DeliveryError whose
reason is what Apprise logged while sending, with every part of the configured URLs removed (an Apprise URL
is a credential: a bot token may even be its host). The dispatcher's retries and pacing apply as for any
channel; with several URLs, a retry goes to all of them again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise
from pydantic import ConfigDict, Field, field_validator

from alertd.channels import budget
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.channels.words import and_more
from alertd.domain import ChannelSpec, Kind, Message
from alertd.errors import DeliveryError

__all__ = ["TYPE", "AppriseChannel", "AppriseOptions", "redactor", "scheme"]

# Threads shared by every apprise channel: blocking sends must not take the loop's default pool.
WORKERS = 8
_REASON_MAX = 300
# When no service of the URLs names its own limits: Apprise's defaults for a service.
BODY_MAX = 32_768
TITLE_MAX = 250
# A digest row longer than this is cut, so one long title cannot push every other row out.
ROW_MAX = 500
# Parts of a URL shorter than this are ports, "json" and the like: hiding them would hide the reason too.
_SECRET_MIN = 4
_NOTIFY_TYPE: dict[Kind, str] = {
    "reminder": "info",
    "countdown": "info",
    "change": "warning",
    "test": "info",
    "admin": "warning",
    "ack": "success",
    "escalation": "warning",
}


def scheme(url: str) -> str:
    """``json://``: the only part of an Apprise URL shown anywhere."""
    name = url.split("://", 1)[0].lower() if "://" in url else "?"
    return f"{name}://" if name.isascii() and name.replace("+", "").isalnum() else "?://"


class AppriseOptions(Options):
    # Apprise URLs carry tokens and passwords: keep them out of reprs and validation errors.
    model_config = ConfigDict(hide_input_in_errors=True)

    urls: list[str] = Field(min_length=1, repr=False)

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: list[str]) -> list[str]:
        for number, url in enumerate(value, 1):
            if apprise.Apprise.instantiate(url) is None:
                raise ValueError(
                    f"Apprise URL {number} ({scheme(url)}) is not supported or incomplete; "
                    "check it with the apprise command line tool"
                )
        return value


def _pieces(url: str) -> set[str]:
    """Every part of ``url`` that may be a secret, raw and percent-decoded."""
    found = {url}
    _, _, rest = url.partition("://")
    found.add(rest)
    head, _, query = rest.partition("?")
    found.add(head)
    parts = urlsplit("x://" + rest)
    for value in (parts.netloc, parts.username, parts.password, parts.hostname, parts.path):
        if value:
            found.add(value)
    for token in head.replace("@", "/").replace(":", "/").split("/"):
        found.add(token)
    for _, value in parse_qsl(query, keep_blank_values=True):
        found.add(value)
    return {p for piece in found for p in (piece, unquote(piece)) if len(p) >= _SECRET_MIN}


def redactor(urls: list[str]) -> list[str]:
    """The strings to hide in any text about ``urls``, longest first (so a whole URL goes before its parts)."""
    return sorted({p for url in urls for p in _pieces(url)}, key=len, reverse=True)


def _clean(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "…")
    text = " ".join(text.split())
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"


class _Capture(logging.Handler):
    """Apprise's log records from one thread (other sends run on other threads at the same time)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())


@cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="alertd-apprise")


def _notify(urls: list[str], title: str, fit: Callable[[int], str], notify_type: str) -> tuple[bool | None, list[str]]:
    """Send once, in the calling thread; return Apprise's answer and the warnings it logged meanwhile.

    ``fit(room)`` gives the body in at most ``room`` characters: the smallest ``body_maxlen`` of the URLs'
    services (Apprise's own per-service limits), less the title where a service folds it into the body.
    """
    # async_mode off keeps every service's send (and its log records) on this thread; a fresh Apprise object
    # has no memory of an earlier send, so its own per-service throttling never sleeps.
    instance = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
    for url in urls:
        instance.add(url)
    services = list(instance)
    titles = [s.title_maxlen for s in services if s.title_maxlen > 0]
    title = budget.cut(title, min(titles, default=TITLE_MAX))
    room = min((s.body_maxlen for s in services if s.body_maxlen > 0), default=BODY_MAX)
    if any(s.title_maxlen <= 0 for s in services):
        room -= len(title) + 2
    capture = _Capture()
    logger = logging.getLogger("apprise")
    logger.addHandler(capture)
    try:
        result = instance.notify(body=fit(max(room, 1)), title=title, notify_type=notify_type, body_format="text")
    finally:
        logger.removeHandler(capture)
    return result, capture.lines


class AppriseChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._options = AppriseOptions.model_validate(dict(spec.options))
        self._secrets = redactor(self._options.urls)

    def _where(self) -> str:
        return ", ".join(dict.fromkeys(scheme(u) for u in self._options.urls))

    async def send(self, message: Message) -> str:
        title = message.title or f"alertd {message.kind}"
        body = message.text or title

        def fit(room: int) -> str:
            if message.kind != "countdown" or not message.lines:
                return budget.cut(body, room)
            rows = [budget.cut(row, ROW_MAX) for row in body.split("\n")]
            return budget.fit_list(rows, lambda shown: len(shown) <= room, lambda left: and_more(left, message.locale))

        loop = asyncio.get_running_loop()
        call = (self._options.urls, title, fit, _NOTIFY_TYPE[message.kind])
        try:
            result, lines = await loop.run_in_executor(_executor(), _notify, *call)
        # Any plugin may raise anything, and its text may hold the URL: only the type is shown.
        except Exception as exc:
            raise DeliveryError(f"apprise: {self._where()} failed ({type(exc).__name__})") from None
        if result:
            count = len(self._options.urls)
            # No "apprise:" prefix: send-test and history already name the channel and its type.
            return f"sent to {count} URL{'s' if count != 1 else ''} ({self._where()})"
        reason = _clean("; ".join(lines), self._secrets) or "Apprise logged no reason"
        if result is None:
            raise DeliveryError(f"apprise: nothing was sent to {self._where()}: {reason}", permanent=True)
        raise DeliveryError(f"apprise: sending to {self._where()} failed: {reason}")


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return AppriseChannel(spec, ctx)


# No limit common to every Apprise service is documented; each send occupies a pool thread.
TYPE = ChannelType(name="apprise", options=AppriseOptions, build=_build, concurrency=2)
