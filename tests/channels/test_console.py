"""The console channel: one readable block per notification on the configured stream."""

from __future__ import annotations

import io

import httpx
from support.factories import make_channel, make_message

from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.channels.console import TYPE


async def test_prints_stamp_kind_channel_title_and_indented_text(http_client: httpx.AsyncClient) -> None:
    """A notification prints its send time, kind, channel and title, then its text indented."""
    out = io.StringIO()
    channel = TYPE.build(make_channel("console", id="stdout"), ChannelContext(http=http_client, out=out, settings=None))
    answer = await channel.send(make_message(text="line one\nline two"))
    assert answer == "printed"
    assert out.getvalue() == (
        "[2025-11-09 14:00:02Z] reminder → stdout: Trade truce expires tomorrow\n    line one\n    line two\n"
    )


async def test_late_notifications_are_marked(http_client: httpx.AsyncClient) -> None:
    """A late notification says so next to its kind."""
    out = io.StringIO()
    channel = TYPE.build(make_channel("console", id="stdout"), ChannelContext(http=http_client, out=out, settings=None))
    await channel.send(make_message(late=True))
    assert out.getvalue().startswith("[2025-11-09 14:00:02Z] reminder (late) → stdout:")


def test_registered_with_one_at_a_time() -> None:
    """``console`` is registered and delivers one message at a time, so output never interleaves."""
    assert REGISTRY["console"] is TYPE
    assert TYPE.concurrency == 1
