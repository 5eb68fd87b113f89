"""Channel registry: the type name in the calendar file → its module's :data:`TYPE`.

Each service lives in its own module of this package; a type whose optional extra is not installed (``apprise``)
is simply absent.
"""

from __future__ import annotations

import importlib
from functools import cache

from alertd.channels.base import Channel, ChannelContext, ChannelType, Options

__all__ = ["MODULES", "REGISTRY", "Channel", "ChannelContext", "ChannelType", "Options", "channel_type", "registry"]

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
