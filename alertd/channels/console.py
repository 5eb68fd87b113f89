"""``console``: print notifications to standard output (the default channel)."""

from __future__ import annotations

import errno
import os

from alertd.channels.base import Channel, ChannelContext, ChannelType
from alertd.domain import ChannelSpec, Message
from alertd.errors import DeliveryError

__all__ = ["TYPE", "ConsoleChannel"]


class ConsoleChannel:
    def __init__(self, spec: ChannelSpec, ctx: ChannelContext) -> None:
        self.spec = spec
        self._out = ctx.out

    async def send(self, message: Message) -> str:
        late = " (late)" if message.late else ""
        stamp = message.sent_at.strftime("%Y-%m-%d %H:%M:%SZ")
        text = message.text if message.ack_url is None else f"{message.text}\n{message.ack_url}"
        body = text.replace("\n", "\n    ")
        try:
            self._out.write(f"[{stamp}] {message.kind}{late} → {self.spec.id}: {message.title}\n    {body}\n")
            self._out.flush()
        except OSError as exc:
            # A reader that went away (alertd run | head) does not come back: no retry, and no traceback either.
            gone = exc.errno == errno.EPIPE
            cause = "its reader went away" if gone else os.strerror(exc.errno or errno.EIO)
            raise DeliveryError(f"cannot print to standard output: {cause}", permanent=gone) from None
        return "printed"


def _build(spec: ChannelSpec, ctx: ChannelContext) -> Channel:
    return ConsoleChannel(spec, ctx)


TYPE = ChannelType(name="console", options=None, build=_build, concurrency=1)
