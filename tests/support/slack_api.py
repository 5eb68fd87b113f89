"""A Slack-Web-API-like server for tests: ``chat.postMessage``, ``chat.update`` and ``chat.delete`` over real HTTP.

It keeps the channel's messages (``messages``: ts → body), generates increasing ``ts`` values, checks the bearer
token and answers Slack-style: HTTP 200 with ``{"ok": true, …}`` or ``{"ok": false, "error": …}``. A test
scripts failures with :meth:`SlackApi.fail` (one per call, in order); every request is in ``requests`` as with
:class:`~support.receiver.Receiver`, whose start/stop/threading it reuses.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from support.receiver import Receiver, Recorded

__all__ = ["TOKEN", "Failure", "SlackApi"]

TOKEN = "xoxb-" + "test-token-s3cr3t"


@dataclass(frozen=True, slots=True)
class Failure:
    """One scripted answer instead of the method's own: a Slack error (HTTP 200 by default) or any status."""

    error: str
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    # Calls of the method answered normally before this failure.
    skip: int = 0


class SlackApi(Receiver):
    """A fake Slack Web API; ``url()`` is its ``api_base``."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.messages: dict[str, dict[str, Any]] = {}
        self.deleted: list[str] = []
        self._failures: dict[str, deque[Failure]] = {}
        self._seq = 0

    def url(self, path: str = "/api") -> str:
        return self.base_url + path

    def fail(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        skip: int = 0,
    ) -> None:
        """Answer the next call of ``method`` (after ``skip`` normal ones) with this failure instead."""
        with self._arrived:
            failure = Failure(error, status, dict(headers or {}), body, skip)
            self._failures.setdefault(method, deque()).append(failure)

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The JSON bodies of every call of ``method``, in order."""
        with self._arrived:
            return [r.json() for r in self.requests if r.path == f"/api/{method}"]

    def _ts(self) -> str:
        self._seq += 1
        return f"{1762700000 + self._seq}.{self._seq:06d}"

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        method = request.path.removeprefix("/api/")
        with self._arrived:
            self.requests.append(
                Recorded(
                    method=request.method,
                    path=request.path,
                    query=request.query_string,
                    headers={k.lower(): v for k, v in request.headers.items()},
                    body=raw,
                )
            )
            self._arrived.notify_all()
            queued = self._failures.get(method)
            failure = queued.popleft() if queued else None
            if queued is not None and failure is not None and failure.skip:
                queued.appendleft(replace(failure, skip=failure.skip - 1))
                failure = None
            if failure is not None:
                text = failure.body if failure.body is not None else json.dumps({"ok": False, "error": failure.error})
                return web.Response(
                    status=failure.status,
                    text=text,
                    headers={"Content-Type": "application/json; charset=utf-8", **failure.headers},
                )
            answer = self._answer(method, request.headers.get("Authorization", ""), raw)
        return web.json_response(answer)

    def _answer(self, method: str, auth: str, raw: bytes) -> dict[str, Any]:
        if not auth:
            return {"ok": False, "error": "not_authed"}
        if auth != f"Bearer {self.token}":
            return {"ok": False, "error": "invalid_auth"}
        try:
            body = json.loads(raw)
        except ValueError:
            return {"ok": False, "error": "invalid_json"}
        channel = body.get("channel")
        if method == "chat.postMessage":
            ts = self._ts()
            self.messages[ts] = body
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": body.get("text", "")}}
        if method in ("chat.update", "chat.delete"):
            ts = body.get("ts")
            if ts not in self.messages:
                return {"ok": False, "error": "message_not_found"}
            if method == "chat.delete":
                del self.messages[ts]
                self.deleted.append(ts)
            else:
                self.messages[ts] = {**self.messages[ts], **body}
            return {"ok": True, "channel": channel, "ts": ts}
        return {"ok": False, "error": "unknown_method"}
