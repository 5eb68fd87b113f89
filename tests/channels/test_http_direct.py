"""The direct path of :func:`alertd.channels.http.post`: alertd's own connections under the same client, the same
answer as httpx's."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from support.receiver import Receiver

from alertd.channels import http
from alertd.errors import DeliveryError

NOW = datetime(2025, 11, 9, 14, 0, 2, tzinfo=UTC)


async def test_plain_urls_take_the_direct_path(http_client: httpx.AsyncClient) -> None:
    """Without proxies every plain http(s) URL takes the direct path; anything else is left to httpx."""
    assert isinstance(http_client, http.AlertdClient)
    assert http_client.direct("http://127.0.0.1:9/hook")
    assert not http_client.direct("ftp://files.example.com/x")
    assert not http_client.direct("https://example.com:notaport/x")


def test_a_proxy_from_the_environment_turns_the_direct_path_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests to be proxied go through httpx's proxy mounts."""
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    client = http.make_client(5.0, trust_env=True)
    assert isinstance(client, http.AlertdClient)
    assert not client.direct("https://hooks.example.com/x")


async def test_headers_merge_like_httpx(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """The client's headers are sent; the caller's win whatever their case; the body arrives as given."""
    response = await http.post(
        http_client,
        receiver.url("/hook/s3cr3t"),
        content=b'{"a":1}',
        headers={"content-type": "application/json", "user-agent": "custom/1", "X-Extra": "yes"},
        now=NOW,
    )
    assert (response.status_code, response.text) == (200, "ok")
    (got,) = receiver.requests
    assert got.headers["user-agent"] == "custom/1"
    assert got.headers["content-type"] == "application/json"
    assert got.headers["x-extra"] == "yes"
    assert got.body == b'{"a":1}'


async def test_json_is_encoded_like_httpx(receiver: Receiver, http_client: httpx.AsyncClient) -> None:
    """``json=`` is sent compactly as UTF-8 with its content type, with the alertd User-Agent."""
    await http.post(http_client, receiver.url(), json={"é": [1, None]}, now=NOW)
    (got,) = receiver.requests
    assert got.body == '{"é":[1,null]}'.encode()
    assert got.headers["content-type"] == "application/json"
    assert got.headers["user-agent"] == http.USER_AGENT


async def test_an_error_answer_names_the_host_and_hides_the_url(
    receiver: Receiver, http_client: httpx.AsyncClient
) -> None:
    """The answer's request is built on demand, so classification and excerpts work as on the httpx path."""
    url = receiver.url("/hook/s3cr3t")
    receiver.reply(500, f"failed posting to {url}")
    response = await http.post(http_client, url, content=b"{}", now=NOW)
    assert response.request.url == httpx.URL(url)
    with pytest.raises(DeliveryError) as info:
        http.classify(response, now=NOW)
    host = receiver.base_url.split("//")[1]
    assert str(info.value) == f"HTTP 500 from {host}: failed posting to …"


async def _serve(handler: Any) -> tuple[asyncio.Server, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/hook/s3cr3t"


async def test_a_server_trickling_its_answer_is_cut_at_the_overall_deadline() -> None:
    """Each byte arrives well within the timeout, but the whole attempt may not take longer than it."""

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            for _ in range(1000):
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.05)

    server, url = await _serve(trickle)
    # A 0.3 s deadline, far shorter than the 50 s the answer would take.
    started = time.monotonic()
    try:
        async with http.make_client(0.3, trust_env=False) as client:
            assert isinstance(client, http.AlertdClient)
            assert client.direct(url)
            with pytest.raises(DeliveryError) as info:
                await http.post(client, url, content=b"{}", now=NOW)
    finally:
        server.close()
    assert time.monotonic() - started < 1.5
    assert info.value.permanent is False
    assert "s3cr3t" not in str(info.value)


async def test_a_compressed_answer_is_decoded_on_the_direct_path() -> None:
    """A gzip body (Content-Encoding) reads back as text, as httpx would give it."""
    body = gzip.compress(b'{"ok":true,"said":"hello"}')

    async def gzipped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        head = (
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()

    server, url = await _serve(gzipped)
    try:
        async with http.make_client(2.0, trust_env=False) as client:
            response = await http.post(client, url, content=b"{}", now=NOW)
    finally:
        server.close()
    assert response.json() == {"ok": True, "said": "hello"}
    assert http.json_object(response)["said"] == "hello"


async def test_a_direct_answer_has_the_servers_headers_and_charset(
    receiver: Receiver, http_client: httpx.AsyncClient
) -> None:
    """Headers are built on first use, as httpx Headers; the text and the excerpt follow the declared charset."""
    receiver.reply(200, "caf\u00e9".encode("latin-1"), {"content-type": "text/plain; charset=latin-1", "x-id": "7"})
    response = await http.post(http_client, receiver.url(), content=b"{}", now=NOW)
    assert isinstance(response.headers, httpx.Headers)
    assert (response.headers["X-Id"], response.headers.get("content-type")) == ("7", "text/plain; charset=latin-1")
    assert response.text == http.excerpt(response) == "café"
    assert response.http_version == "HTTP/1.1"
