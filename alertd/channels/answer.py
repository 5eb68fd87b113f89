"""A receiver's answer as channels read it: an ``httpx.Response`` made from an aiohttp answer, its body read up to
a byte bound.

Only a verdict and an excerpt are ever read from an answer, so past :data:`MAX_ANSWER` bytes the rest is not kept:
the connection is closed instead of reading on (a hostile or broken receiver streaming gigabytes costs nothing).
Bodies are kept as sent: the client asks for ``identity`` and never decodes ``Content-Encoding``, so a compression
bomb is just a megabyte of bytes.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import httpx

__all__ = ["MAX_ANSWER", "Answer", "read_bounded"]

MAX_ANSWER = 1024 * 1024
_CHUNK = 64 * 1024


async def read_bounded(response: aiohttp.ClientResponse, limit: int = MAX_ANSWER) -> bytes:
    """Up to ``limit`` bytes of the body; when there is more, the connection is closed rather than drained."""
    parts: list[bytes] = []
    size = 0
    stream = response.content
    while size < limit:
        chunk = await stream.read(min(_CHUNK, limit - size))
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)
        size += len(chunk)
    if not stream.at_eof():
        # Reading on to keep the connection would let the receiver choose how long and how much.
        response.close()
    return b"".join(parts)


class Answer(httpx.Response):
    """An answer whose httpx Headers and Request are built only when someone asks for them (error messages do; a
    delivered notification does not)."""

    def __init__(
        self,
        url: str,
        status: int,
        raw_headers: list[tuple[str, str]],
        content: bytes,
        *,
        version: str = "HTTP/1.1",
        reason: str = "",
    ) -> None:
        self.sent_to = url
        self._raw_headers = raw_headers
        self._headers: httpx.Headers | None = None
        self.content_type = next((value for name, value in raw_headers if name.lower() == "content-type"), "")
        extensions: dict[str, Any] = {"http_version": version.encode("ascii", "replace")}
        if reason:
            extensions["reason_phrase"] = reason.encode("latin-1", "replace")
        # What httpx.Response.__init__ sets, for a body already whole and kept as sent (no decoder pipeline).
        self.status_code = status
        self._request = None
        self.next_request = None
        self.extensions = extensions
        self.history = []
        self.default_encoding = "utf-8"
        self.stream = httpx.ByteStream(content)
        self._content = content
        self._num_bytes_downloaded = len(content)
        self.is_stream_consumed = self.is_closed = True

    @property
    def headers(self) -> httpx.Headers:
        if self._headers is None:
            self._headers = httpx.Headers(self._raw_headers)
        return self._headers

    @headers.setter
    def headers(self, value: Any) -> None:
        self._headers = httpx.Headers(value)

    @property
    def request(self) -> httpx.Request:
        if self._request is None:
            self._request = httpx.Request("POST", self.sent_to)
        return self._request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value
