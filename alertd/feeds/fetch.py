"""Getting a feed's bytes: a local file (bounded, never blocking) or one conditional GET through alertd's HTTP client.

The client brings the private-target guard, the TLS rules and proxies every channel has; here are added the
validators of the last good copy (``If-None-Match`` / ``If-Modified-Since``), a byte bound and a time bound.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from alertd.channels import HttpClient, http_get
from alertd.domain import SourceSpec
from alertd.errors import DeliveryError, FeedError, FileReadError
from alertd.files import read_text

__all__ = ["ACCEPT", "Body", "fetch_feed"]

ACCEPT = "text/calendar, application/calendar+xml;q=0.1, */*;q=0.5"


@dataclass(frozen=True, slots=True)
class Body:
    """A fetch's outcome: ``content`` None means "not modified" (a 304)."""

    content: bytes | None
    etag: str | None = None
    last_modified: str | None = None


async def fetch_feed(
    source: SourceSpec,
    *,
    client: HttpClient | None,
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
    timeout: float,
    allow_private: bool,
) -> Body:
    """The feed's bytes, or "not modified"; FeedError with a one-line cause (never the URL past its host)."""
    if source.url is None:
        return Body(await _read_file(source, max_bytes=max_bytes, timeout=timeout))
    if not allow_private and urlsplit(source.url).scheme.lower() != "https":
        raise FeedError(
            f"feed {source.id!r}: plain http is refused while ALERTD_ALLOW_PRIVATE_TARGETS is false; use https"
        )
    if client is None:
        raise FeedError(f"feed {source.id!r}: no HTTP client")
    headers = {"Accept": ACCEPT}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        answer = await http_get(client, source.url, headers=headers, limit=max_bytes, timeout=timeout)
    except DeliveryError as exc:
        raise FeedError(f"feed {source.id!r}: {exc}") from None
    if answer.status_code == 304:
        return Body(None, etag, last_modified)
    if answer.status_code != 200:
        status = answer.status_code
        raise FeedError(f"feed {source.id!r}: {source.where} answered HTTP {status}; the last good copy stays")
    if len(answer.content) > max_bytes:
        raise FeedError(
            f"feed {source.id!r} is larger than {max_bytes} bytes (ALERTD_FEED_MAX_BYTES); the last good copy stays"
        )
    return Body(answer.content, answer.headers.get("etag"), answer.headers.get("last-modified"))


async def _read_file(source: SourceSpec, *, max_bytes: int, timeout: float) -> bytes:
    path = Path(source.path or "")
    try:
        # latin-1 maps every byte to one character and back: the file's bytes, read by the bounded reader.
        text = await asyncio.wait_for(
            asyncio.to_thread(read_text, path, max_bytes=max_bytes, encoding="latin-1"), timeout=timeout
        )
    except FileReadError as exc:
        raise FeedError(f"feed {source.id!r}: {exc}") from None
    except TimeoutError:
        raise FeedError(f"feed {source.id!r}: reading {path} took longer than {timeout:g}s") from None
    return text.encode("latin-1")
