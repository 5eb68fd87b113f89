"""Channel registry: the type name in the calendar file → its module's :data:`TYPE`."""

from __future__ import annotations

from alertd.channels import console, slack, webhook
from alertd.channels.base import Channel, ChannelContext, ChannelType, Options

__all__ = ["REGISTRY", "Channel", "ChannelContext", "ChannelType", "Options", "channel_type"]

REGISTRY: dict[str, ChannelType] = {t.name: t for t in (console.TYPE, webhook.TYPE, slack.TYPE)}


def channel_type(name: str) -> ChannelType | None:
    """The registered channel type called ``name``, or None."""
    return REGISTRY.get(name)
