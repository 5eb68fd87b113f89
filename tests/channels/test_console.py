"""The console channel: one readable block per notification on the configured stream."""

from __future__ import annotations

import io
import os

import httpx
import pytest
from support.factories import make_channel, make_message

from alertd.channels import REGISTRY
from alertd.channels.base import ChannelContext
from alertd.channels.console import TYPE
from alertd.errors import DeliveryError


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


async def test_a_closed_pipe_is_a_permanent_one_line_failure(http_client: httpx.AsyncClient) -> None:
    """``alertd run | head``: once head has gone, printing fails for good, said in one line, not a traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    # Unbuffered, so that nothing is left to fail again when the stream is closed.
    with io.TextIOWrapper(io.FileIO(write_end, "w"), encoding="utf-8", write_through=True) as out:
        ctx = ChannelContext(http=http_client, out=out, settings=None)
        channel = TYPE.build(make_channel("console", id="out"), ctx)
        with pytest.raises(DeliveryError) as failed:
            await channel.send(make_message())
    assert str(failed.value) == "cannot print to standard output: its reader went away"
    assert failed.value.permanent


async def test_an_ack_link_is_printed_as_the_last_line(http_client: httpx.AsyncClient) -> None:
    out = io.StringIO()
    channel = TYPE.build(make_channel("console", id="stdout"), ChannelContext(http=http_client, out=out, settings=None))
    link = "https://alertd.example.org/ack/abc.def.ghi"
    await channel.send(make_message(text="line one")._replace(ack_url=link))
    assert out.getvalue().endswith(f"    line one\n    {link}\n")
