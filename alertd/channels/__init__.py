"""Channels: one module per service, each making exactly one delivery attempt, and the registry that finds them.

The calendar's ``type`` name → its module's :data:`TYPE` (:data:`REGISTRY`); a type whose optional extra is not
installed (``apprise``) is simply absent. Beside the services: the shared protocol (``base``), the one HTTP client
(``client``: bounded ``answer``, private-target ``guard``) and its classification of answers (``http``,
``answers``, ``retry_after``), secret scrubbing (``scrub``) and the state channels keep between sends (``state``).

May import: alertd's shared modules and :mod:`alertd.messages` (the words and formats a service's layout uses).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from alertd.channels.base import Channel, ChannelContext, ChannelType, Options

if TYPE_CHECKING:
    from alertd.channels.client import HttpClient
    from alertd.channels.http import make_client
    from alertd.channels.scrub import ScrubbedChannel, channel_secrets
    from alertd.channels.state import MemoryState, state_key
else:
    from alertd._exports import exports

    __getattr__ = exports(
        __name__,
        client=("HttpClient",),
        http=("make_client",),
        scrub=("ScrubbedChannel", "channel_secrets"),
        state=("MemoryState", "state_key"),
    )

__all__ = [
    "MODULES",
    "REGISTRY",
    "Channel",
    "ChannelContext",
    "ChannelType",
    "HttpClient",
    "MemoryState",
    "Options",
    "ScrubbedChannel",
    "channel_secrets",
    "channel_type",
    "make_client",
    "registry",
    "state_key",
]

# Type name → module in this package (each defines TYPE). Optional ones may fail to import for a missing extra.
MODULES: dict[str, str] = {
    "console": "console",
    "webhook": "webhook",
    "slack": "slack",
    "email": "email",
    "discord": "discord",
    "teams": "teams",
    "telegram": "telegram",
    "mattermost": "mattermost",
    "googlechat": "googlechat",
    "ntfy": "ntfy",
    "pagerduty": "pagerduty",
    "apprise": "apprise_channel",
}
_OPTIONAL = {"apprise"}


@cache
def registry() -> dict[str, ChannelType]:
    """Every channel type that can be used in this installation, by name."""
    found: dict[str, ChannelType] = {}
    for name, module in MODULES.items():
        try:
            mod = importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError:
            # A missing optional extra (``pip install 'alertd[apprise]'``) hides its type; anything else is a bug.
            if name in _OPTIONAL:
                continue
            raise
        kind: ChannelType = mod.TYPE
        found[kind.name] = kind
    return found


# Filled at import: every channel module is small, and a bad one should fail at start, not at first send.
REGISTRY: dict[str, ChannelType] = registry()


def channel_type(name: str) -> ChannelType | None:
    """The registered channel type called ``name``, or None."""
    return registry().get(name)
