"""Channels: one module per service, each making exactly one delivery attempt, and the registry that finds them.

The calendar's ``type`` name → its module's ``TYPE`` (``catalog``), each module imported only when a calendar uses
its type; a type whose optional extra is not installed (``apprise``) is known but unusable. Beside the services:
the shared protocol (``base``), the one HTTP client (``client``: bounded ``answer``, private-target ``guard``) and
its classification of answers (``http``, ``answers``, ``retry_after``), secret scrubbing (``scrub``) and the state
channels keep between sends (``state``).

May import: alertd's shared modules and :mod:`alertd.messages` (the words and formats a service's layout uses).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alertd.channels.base import Channel, ChannelContext, ChannelType, PartialAnswer
from alertd.channels.catalog import CATALOG, installed, load, usable

if TYPE_CHECKING:
    from alertd.channels.catalog import REGISTRY, registry
    from alertd.channels.client import HttpClient
    from alertd.channels.http import http_get, make_client
    from alertd.channels.optionbase import Options
    from alertd.channels.scrub import ScrubbedChannel, channel_secrets
    from alertd.channels.slack_blocks import ACK_ACTION
    from alertd.channels.slack_verify import WINDOW_SECONDS, signature_problem
    from alertd.channels.state import MemoryState, state_key
else:
    from alertd._exports import exports

    __getattr__ = exports(
        __name__,
        catalog=("REGISTRY", "registry"),
        client=("HttpClient",),
        http=("http_get", "make_client"),
        optionbase=("Options",),
        scrub=("ScrubbedChannel", "channel_secrets"),
        state=("MemoryState", "state_key"),
        slack_blocks=("ACK_ACTION",),
        slack_verify=("WINDOW_SECONDS", "signature_problem"),
    )

__all__ = [
    "ACK_ACTION",
    "CATALOG",
    "REGISTRY",
    "WINDOW_SECONDS",
    "Channel",
    "ChannelContext",
    "ChannelType",
    "HttpClient",
    "MemoryState",
    "Options",
    "PartialAnswer",
    "ScrubbedChannel",
    "channel_secrets",
    "channel_type",
    "http_get",
    "installed",
    "make_client",
    "registry",
    "signature_problem",
    "state_key",
    "usable",
]


def channel_type(name: str) -> ChannelType | None:
    """The channel type called ``name``, its module imported now; None if unknown or its extra is not installed."""
    return load(name)
