"""What every channel is: one module per service that makes exactly one delivery attempt.

A channel formats a :class:`~alertd.domain.Message` natively, sends it once and either returns a short summary
of the service's answer (shown by ``alertd send-test`` and kept in history) or raises
:class:`~alertd.errors.DeliveryError`. Only the dispatcher retries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

import httpx
from pydantic import BaseModel, ConfigDict

from alertd.domain import ChannelSpec, Message

__all__ = ["Channel", "ChannelContext", "ChannelType", "Options"]


class Options(BaseModel):
    """Base of every channel's options model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True, slots=True)
class ChannelContext:
    """What channels share: one HTTP client, the console stream, process settings."""

    http: httpx.AsyncClient
    out: TextIO
    settings: Any


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
