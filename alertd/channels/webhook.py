"""PLACEHOLDER until the channels work lands: options only."""

from __future__ import annotations

from alertd.channels.base import Channel, ChannelContext, ChannelType, Options
from alertd.domain import ChannelSpec


class WebhookOptions(Options):
    url: str
    secret: str | None = None


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    raise NotImplementedError


TYPE = ChannelType(name="webhook", options=WebhookOptions, build=_build)
