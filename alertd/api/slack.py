"""``POST /slack/interactions``: Slack's interactivity endpoint, for the "Acknowledge" button on bot cards.

Outside the bearer-token API: Slack's v0 request signature is the proof (alertd.channels.slack_verify). Forged,
stale and replayed requests get 401 and a log line naming why and from where, never the secret or signature. A
valid click records the acknowledgement (via ``slack``, by ``@user``); the notice it queues goes to the event's
channels, and the Slack bot channel's delivery of it updates the card in place ("acknowledged by @user").
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from alertd.api.deps import DaemonDep, run_db
from alertd.channels import ACK_ACTION, WINDOW_SECONDS, signature_problem
from alertd.clock import wall_now
from alertd.errors import ConflictError, UsageError
from alertd.storage import ack_event

__all__ = ["Replays", "router"]

log = logging.getLogger("alertd.http")
router = APIRouter(include_in_schema=False)
_MAX_BODY = 64 * 1024


class Replays:
    """Signatures seen in the last window (bounded): a second request with one is a replay.

    Per process; across replicas a replayed click finds the acknowledgement it made (its nonce is stored with it).
    """

    def __init__(self, limit: int = 10_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._limit = limit

    def first_time(self, key: str) -> bool:
        now = time.monotonic()
        while self._seen and (len(self._seen) >= self._limit or next(iter(self._seen.values())) < now):
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now + 2 * WINDOW_SECONDS
        return True


def _refuse(request: Request, why: str) -> JSONResponse:
    client = request.client.host if request.client else "?"
    log.warning("slack interaction from %s refused: %s", client, why)
    return JSONResponse({"error": "request not verified as Slack's", "detail": None}, status_code=401)


def _click(body: bytes) -> tuple[str, str] | None:
    """The event id and ``@user`` of an "Acknowledge" click, or None for any other interaction."""
    form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=8)
    try:
        data: Any = json.loads((form.get("payload") or ["{}"])[0])
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("type") != "block_actions":
        return None
    actions = [a for a in data.get("actions") or [] if isinstance(a, dict) and a.get("action_id") == ACK_ACTION]
    user: dict[str, Any] = data["user"] if isinstance(data.get("user"), dict) else {}
    name = next((str(user[k]) for k in ("username", "name", "id") if user.get(k)), None)
    if not actions or not isinstance(actions[0].get("value"), str) or name is None:
        return None
    return actions[0]["value"], f"@{name}"


@router.post("/slack/interactions")
async def interactions(daemon: DaemonDep, request: Request) -> Response:
    secret = daemon.settings.slack_signing_secret
    if secret is None:
        return JSONResponse(
            {"error": "Slack interactivity is not set up here: set ALERTD_SLACK_SIGNING_SECRET", "detail": None},
            status_code=404,
        )
    body = await request.body()
    if len(body) > _MAX_BODY:
        return _refuse(request, "body too large")
    given = request.headers.get("x-slack-signature", "")
    why = signature_problem(
        secret.get_secret_value().encode(),
        request.headers.get("x-slack-request-timestamp", ""),
        given,
        body,
        now=wall_now(),
    )
    if why is not None:
        return _refuse(request, why)
    replays: Replays | None = getattr(request.app.state, "slack_replays", None)
    if replays is None:
        replays = request.app.state.slack_replays = Replays()
    if not replays.first_time(given):
        return _refuse(request, "replayed (signature already used)")
    click = _click(body)
    if click is None:
        # Another kind of interaction (or another app's button): Slack only needs a 200.
        return Response(status_code=200)
    event_id, by = click
    nonce = "slack:" + hashlib.sha256(given.encode()).hexdigest()[:32]
    calendar, now = daemon.calendar, daemon.clock.now()
    try:
        _, new, report = await run_db(
            daemon,
            lambda: ack_event(
                daemon.engine, calendar, event_id=event_id, by=by, via="slack", now=now, link_nonce=nonce
            ),
        )
    except ConflictError:
        return _refuse(request, "replayed (its acknowledgement is already recorded)")
    except UsageError as exc:
        log.warning("slack acknowledgement of %r by %s not recorded: %s", event_id, by, exc)
        return Response(status_code=200)
    if new:
        log.info("acknowledged %s by %s (slack)", event_id, by)
        daemon.metrics.acknowledgements.labels("slack").inc()
        daemon.metrics.cancelled(report.cancelled_by)
        daemon.dispatcher.kick.set()
    return Response(status_code=200)
