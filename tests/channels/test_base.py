"""The channel context: the shared HTTP client is given, or built once when a channel first asks for it."""

from __future__ import annotations

import io

import httpx
import pytest

from alertd.channels import ChannelContext


def test_a_given_client_is_the_one_channels_get() -> None:
    client = httpx.AsyncClient()
    ctx = ChannelContext(http=client, out=io.StringIO(), settings=None)
    assert ctx.client() is client
    assert ctx.built_client() is None  # its owner is whoever gave it


def test_a_client_is_built_once_on_first_use() -> None:
    """With make_http, nothing is built until a channel asks; then every channel shares the one client."""
    made: list[httpx.AsyncClient] = []

    def make() -> httpx.AsyncClient:
        made.append(httpx.AsyncClient())
        return made[-1]

    ctx = ChannelContext(http=None, out=io.StringIO(), settings=None, make_http=make)
    assert ctx.built_client() is None
    first = ctx.client()
    assert ctx.client() is first
    assert made == [first]
    assert ctx.built_client() is first


def test_without_a_client_or_a_way_to_build_one_an_http_channel_is_refused() -> None:
    ctx = ChannelContext(http=None, out=io.StringIO(), settings=None)
    with pytest.raises(TypeError, match="needs http or make_http"):
        ctx.client()
