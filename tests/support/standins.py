"""Stand-ins for the services alertd posts to, each enforcing the service's published size limits.

A :class:`Standin` is a :class:`~support.receiver.Receiver` that judges every request with its service's
``over`` function: a request over a limit is answered as the service answers it (Slack ``400 invalid_blocks``,
Teams ``413``, Telegram ``400 message is too long`` …) and is kept in ``refused``; any other request gets the
service's success answer. The limits are those in the protocol reference (Slack Block Kit, Discord embed limits,
Teams ~28 KB, Telegram 4096 after entity parsing, Mattermost 16,383, Google Chat 32,000 bytes, ntfy 4,096 bytes,
PagerDuty 512 KB, alertd's own webhook bound, Apprise's json:// limits).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

from support.receiver import Receiver, Recorded

__all__ = ["SERVICES", "Service", "Standin", "telegram_visible"]


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def telegram_visible(html: str) -> str:
    """The text Telegram shows for an HTML message: tags dropped, entities decoded (parsed independently)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _json(body: bytes) -> Any:
    return json.loads(body)


def _slack(body: bytes) -> str | None:
    data = _json(body)
    if len(data.get("text", "")) > 40_000:
        return "text over 40,000 characters"
    blocks = data.get("blocks", [])
    if len(blocks) > 50:
        return f"{len(blocks)} blocks (at most 50)"
    for block in blocks:
        kind = block["type"]
        if kind == "section":
            if len(block.get("text", {}).get("text", "")) > 3000:
                return "section text over 3,000 characters"
            fields = block.get("fields", [])
            if len(fields) > 10 or any(len(f["text"]) > 2000 for f in fields):
                return "section fields over 10 or over 2,000 characters"
        elif kind == "header" and len(block["text"]["text"]) > 150:
            return "header over 150 characters"
        elif kind == "context" and (
            len(block["elements"]) > 10 or any(len(e.get("text", "")) > 3000 for e in block["elements"])
        ):
            return "context over 10 elements or 3,000 characters"
    return None


def _discord(body: bytes) -> str | None:
    data = _json(body)
    if len(data.get("content") or "") > 2000:
        return "content over 2,000 characters"
    embeds = data.get("embeds", [])
    if len(embeds) > 10:
        return "over 10 embeds"
    total = 0
    for embed in embeds:
        limits = {"title": 256, "description": 4096}
        for key, limit in limits.items():
            size = len(embed.get(key, ""))
            if size > limit:
                return f"embed {key} over {limit}"
            total += size
        fields = embed.get("fields", [])
        if len(fields) > 25:
            return "over 25 fields"
        for field in fields:
            if len(field["name"]) > 256 or len(field["value"]) > 1024:
                return "field name over 256 or value over 1,024"
            total += len(field["name"]) + len(field["value"])
        footer = len(embed.get("footer", {}).get("text", ""))
        author = len(embed.get("author", {}).get("name", ""))
        if footer > 2048 or author > 256:
            return "footer over 2,048 or author over 256"
        total += footer + author
    return "embeds over 6,000 characters in all" if total > 6000 else None


def _teams(body: bytes) -> str | None:
    return f"{len(body)} bytes (about 28 KB at most)" if len(body) > 28_000 else None


def _telegram(body: bytes) -> str | None:
    text = _json(body)["text"]
    visible = telegram_visible(text) if _json(body).get("parse_mode") == "HTML" else text
    size = _utf16(visible.strip())
    return None if 1 <= size <= 4096 else f"text is {size} characters after entity parsing (1-4096)"


def _mattermost(body: bytes) -> str | None:
    size = len(_json(body).get("text", ""))
    return f"text is {size} characters (at most 16,383)" if size > 16_383 else None


def _googlechat(body: bytes) -> str | None:
    return f"{len(body)} bytes (at most 32,000)" if len(body) > 32_000 else None


def _ntfy(body: bytes) -> str | None:
    data = _json(body)
    size = len(data.get("message", "").encode())
    return f"message is {size} bytes (over 4,096 becomes an attachment)" if size > 4096 else None


def _pagerduty(body: bytes) -> str | None:
    data = _json(body)
    if len(body) > 512 * 1024:
        return f"{len(body)} bytes (at most 512 KB)"
    summary = len(data["payload"]["summary"])
    return f"summary is {summary} characters (at most 1,024)" if summary > 1024 else None


def _webhook(body: bytes) -> str | None:
    # alertd's own bound for its generic payload (docs/channels.md); receivers are not a service with limits.
    return f"{len(body)} bytes (at most 256 KiB)" if len(body) > 256 * 1024 else None


def _apprise_json(body: bytes) -> str | None:
    # Apprise's json:// service: its documented body_maxlen (32,768) and title_maxlen (250).
    data = _json(body)
    if len(data.get("message", "")) > 32_768 or len(data.get("title", "")) > 250:
        return "message over 32,768 or title over 250 characters"
    return None


@dataclass(frozen=True, slots=True)
class Service:
    """How one service judges a request body and answers it (status, body, content type)."""

    over: Callable[[bytes], str | None]
    ok: tuple[int, str]
    refused: Callable[[str], tuple[int, str]]


def _json_text(value: Any) -> str:
    return json.dumps(value)


SERVICES: dict[str, Service] = {
    "slack": Service(_slack, (200, "ok"), lambda why: (400, "invalid_blocks")),
    "discord": Service(
        _discord,
        (200, _json_text({"id": "1", "channel_id": "2"})),
        lambda why: (400, _json_text({"code": 50035, "message": f"Invalid Form Body: {why}"})),
    ),
    "teams": Service(_teams, (202, ""), lambda why: (413, "Request Entity Too Large")),
    "telegram": Service(
        _telegram,
        (200, _json_text({"ok": True, "result": {"message_id": 1, "chat": {"id": -100123}}})),
        lambda why: (
            400,
            _json_text({"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}),
        ),
    ),
    "mattermost": Service(_mattermost, (200, "ok"), lambda why: (400, _json_text({"message": why}))),
    "googlechat": Service(
        _googlechat,
        (200, _json_text({"name": "spaces/S/messages/M"})),
        lambda why: (400, _json_text({"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": why}})),
    ),
    "ntfy": Service(
        _ntfy,
        (200, _json_text({"id": "abc", "event": "message"})),
        lambda why: (413, _json_text({"code": 41301, "http": 413, "error": why})),
    ),
    "pagerduty": Service(
        _pagerduty,
        (202, _json_text({"status": "success", "message": "Event processed", "dedup_key": "k"})),
        lambda why: (
            400,
            _json_text({"status": "invalid event", "message": "Event object is invalid", "errors": [why]}),
        ),
    ),
    "webhook": Service(_webhook, (200, ""), lambda why: (413, why)),
    "apprise": Service(_apprise_json, (200, ""), lambda why: (400, why)),
}


class Standin(Receiver):
    """A receiver that enforces ``service``'s limits; Slack Web API paths answer as ``chat.postMessage`` does."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = SERVICES[service]
        self.refused: list[tuple[Recorded, str]] = []

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        recorded = Recorded(
            method=request.method,
            path=request.path,
            query=request.query_string,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=raw,
        )
        why = self.service.over(raw)
        with self._arrived:
            self.requests.append(recorded)
            if why is not None:
                self.refused.append((recorded, why))
            self._arrived.notify_all()
        api = request.path.startswith("/api/")
        if why is not None:
            status, text = (
                (200, _json_text({"ok": False, "error": "invalid_blocks"})) if api else self.service.refused(why)
            )
        elif api:
            status, text = 200, _json_text({"ok": True, "channel": "C1", "ts": "1762700000.000001"})
        else:
            status, text = self.service.ok
        kind = "application/json" if text.startswith("{") else "text/plain"
        return web.Response(status=status, text=text, content_type=kind)
