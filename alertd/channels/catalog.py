"""Channel types by name, each imported only when a calendar uses it.

A type's module (and what it imports: the HTTP client, an SMTP client, apprise) is loaded the first time
:func:`load` is asked for that type, so ``alertd check`` on a calendar of console channels imports no network code.
A type whose optional extra is not installed is known but not installed: the calendar check says which extra to add.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alertd.channels.base import ChannelType

__all__ = ["CATALOG", "EXTRAS", "REGISTRY", "installed", "load", "registry", "usable"]

# Type name → "module:attribute" of its ChannelType.
CATALOG: dict[str, str] = {
    "console": "alertd.channels.console:TYPE",
    "webhook": "alertd.channels.webhook:TYPE",
    "slack": "alertd.channels.slack:TYPE",
    "email": "alertd.channels.email:TYPE",
    "discord": "alertd.channels.discord:TYPE",
    "teams": "alertd.channels.teams:TYPE",
    "telegram": "alertd.channels.telegram:TYPE",
    "mattermost": "alertd.channels.mattermost:TYPE",
    "googlechat": "alertd.channels.googlechat:TYPE",
    "ntfy": "alertd.channels.ntfy:TYPE",
    "pagerduty": "alertd.channels.pagerduty:TYPE",
    "apprise": "alertd.channels.apprise_channel:TYPE",
}
# Types that need an optional extra (``pip install 'alertd[NAME]'``) → the top-level module that extra provides.
EXTRAS: dict[str, str] = {"apprise": "apprise"}


def installed(name: str) -> bool:
    """Whether ``name`` is a channel type this installation can use (looked up without importing the extra)."""
    if name not in CATALOG:
        return False
    extra = EXTRAS.get(name)
    return extra is None or importlib.util.find_spec(extra) is not None


def usable() -> list[str]:
    """The names of every channel type this installation can use, sorted."""
    return sorted(name for name in CATALOG if installed(name))


def registry() -> dict[str, ChannelType]:
    """Every channel type that can be used in this installation, by name (imports every channel module)."""
    return {name: kind for name in CATALOG if (kind := load(name)) is not None}


REGISTRY: dict[str, ChannelType]


def __getattr__(name: str) -> Any:
    # REGISTRY imports every channel module: built on first use (tests, listings), then kept.
    if name == "REGISTRY":
        found = registry()
        globals()["REGISTRY"] = found
        return found
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load(name: str) -> ChannelType | None:
    """The channel type called ``name``, importing its module now; None if unknown or its extra is missing."""
    return _imported(name) if installed(name) else None


@cache
def _imported(name: str) -> ChannelType | None:
    module, _, attribute = CATALOG[name].partition(":")
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError:
        # The extra was found but does not import (a broken install): the type is unusable, as if absent.
        if name in EXTRAS:
            return None
        raise
    kind: ChannelType = getattr(loaded, attribute)
    return kind
