"""``console``: print notifications to standard output (the default channel)."""

from __future__ import annotations

from alertd.channels.base import Channel, ChannelContext, ChannelType
from alertd.domain import ChannelSpec, Message

__all__ = ["TYPE", "ConsoleChannel"]


class ConsoleChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._out = ctx.out

    async def send(self, message: Message) -> str:
        late = " (late)" if message.late else ""
        stamp = message.sent_at.strftime("%Y-%m-%d %H:%M:%SZ")
        body = message.text.replace("\n", "\n    ")
        self._out.write(f"[{stamp}] {message.kind}{late} → {self.spec.id}: {message.title}\n    {body}\n")
        self._out.flush()
        return "printed"


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return ConsoleChannel(spec, ctx)


TYPE = ChannelType(name="console", options=None, build=_build, concurrency=1)
