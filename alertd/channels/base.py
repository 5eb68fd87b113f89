"""What every channel is: one module per service that makes exactly one delivery attempt.

A channel formats a :class:`~alertd.domain.Message` natively, sends it once and either returns a short summary
of the service's answer (shown by ``alertd send-test`` and kept in history) or raises
:class:`~alertd.errors.DeliveryError`. Only the dispatcher retries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from pydantic import BaseModel, ConfigDict

from alertd.domain import ChannelSpec, Message

if TYPE_CHECKING:
    from alertd.channels.client import HttpClient

__all__ = ["Channel", "ChannelContext", "ChannelState", "ChannelType", "Options"]


class Options(BaseModel):
    """Base of every channel's options model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


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

    http: HttpClient
    out: TextIO
    settings: Any
    # Durable across restarts and replicas when the daemon provides it; None for one-shot commands.
    state: ChannelState | None = None


class Channel(Protocol):
    spec: ChannelSpec

    async def send(self, message: Message) -> str:
        """Deliver ``message`` once; return the service's answer in a few words or raise DeliveryError."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelType:
    """A registry entry: how to validate a channel's options and how to build it."""

    name: str
    options: type[Options]
    build: Callable[[ChannelSpec, ChannelContext], Channel]
    # Deliveries in flight at once towards one channel of this type.
    concurrency: int = 10
    # The service's documented sustained rate towards one channel (sends per second) and the burst it tolerates;
    # the dispatcher paces each channel with a token bucket. None = no documented limit.
    rate: float | None = None
    burst: int = 1
