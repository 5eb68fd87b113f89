"""What every channel is: one module per service that makes exactly one delivery attempt.

A channel formats a :class:`~alertd.domain.Message` natively, sends it once and either returns a short summary
of the service's answer (shown by ``alertd send-test`` and kept in history) or raises
:class:`~alertd.errors.DeliveryError`. Only the dispatcher retries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from alertd.domain import ChannelSpec, Message

if TYPE_CHECKING:
    from alertd.channels.client import HttpClient
    from alertd.channels.optionbase import Options

__all__ = ["Channel", "ChannelContext", "ChannelState", "ChannelType", "Options", "PartialAnswer"]


class PartialAnswer(str):
    """An answer to a delivery that reached only some recipients (an email refused for some addresses): the
    notification is sent, and ``refused`` (who and why, e.g. ``a@x (550 5.1.1 No such user)``) stays on it."""

    refused: str

    def __new__(cls, text: str, *, refused: str) -> PartialAnswer:
        answer = super().__new__(cls, text)
        answer.refused = refused
        return answer


def __getattr__(name: str) -> Any:
    # Options (pydantic) is served from its own module on first use: console, which takes no options, needs none.
    if name == "Options":
        from alertd.channels.optionbase import Options

        globals()["Options"] = Options
        return Options
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class ChannelState(Protocol):
    """A small durable key/value store shared by every replica (e.g. which Slack message is an event's card)."""

    async def get(self, key: str) -> str | None:
        """The value stored under ``key``, or None."""
        ...

    async def put_if_absent(self, key: str, value: str) -> str:
        """Store ``value`` unless ``key`` has one already; return the value that is stored now (the winner)."""
        ...

    async def put(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``, replacing any other."""
        ...

    async def replace(self, key: str, old: str, new: str) -> str:
        """Store ``new`` if ``key`` still holds ``old`` (or nothing); return the value that is stored now."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What channels share: one HTTP client, the console stream, process settings and, in the daemon, state."""

    # The shared client, or None with ``make_http``: then :meth:`client` builds it when a channel first asks, so
    # a calendar of console channels never loads the HTTP stack.
    http: HttpClient | None
    out: TextIO
    settings: Any
    # Durable across restarts and replicas when the daemon provides it; None for one-shot commands.
    state: ChannelState | None = None
    make_http: Callable[[], HttpClient] | None = None
    _made: list[HttpClient] = field(default_factory=list, repr=False, compare=False)

    def client(self) -> HttpClient:
        """The shared HTTP client, built now on first use when the context was given ``make_http``."""
        if self.http is not None:
            return self.http
        if not self._made:
            if self.make_http is None:
                raise TypeError("ChannelContext needs http or make_http for a channel that sends over HTTP")
            self._made.append(self.make_http())
        return self._made[0]

    def built_client(self) -> HttpClient | None:
        """The client :meth:`client` built, if any: its owner closes it."""
        return self._made[0] if self._made else None


class Channel(Protocol):
    spec: ChannelSpec

    async def send(self, message: Message) -> str:
        """Deliver ``message`` once; return the service's answer in a few words or raise DeliveryError."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelType:
    """A registry entry: how to validate a channel's options and how to build it."""

    name: str
    # None: the type takes no options of its own (any key given is an error).
    options: type[Options] | None
    build: Callable[[ChannelSpec, ChannelContext], Channel]
    # Deliveries in flight at once towards one channel of this type.
    concurrency: int = 10
    # The service's documented sustained rate towards one channel (sends per second) and the burst it tolerates;
    # the dispatcher paces each channel with a token bucket. None = no documented limit.
    rate: float | None = None
    burst: int = 1
    # Why a channel of this type cannot send with these process settings (e.g. no SMTP server), for ``alertd
    # check``; None when nothing is missing.
    setup_problem: Callable[[ChannelSpec, Any], str | None] | None = None
