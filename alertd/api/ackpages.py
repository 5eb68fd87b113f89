"""``/ack/<token>``: the page a one-click acknowledgement link opens. GET confirms, POST acts.

Outside the bearer-token API: the signed token is the proof (alertd.delivery.links). A GET never changes state
(mail scanners and chat unfurlers open links); the page's form POSTs back to the same address with the name of
who acknowledges. A tampered, expired or used link gets a page saying so in one sentence, and what to do instead.
Pages are plain HTML with no script, not framable, not cached, and send no Referer (the token is in the URL).
"""

from __future__ import annotations

import html
from datetime import datetime
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from alertd.api.deps import Backend, DaemonDep, run_db
from alertd.delivery import LinkClaim, LinkError
from alertd.domain import EventSpec
from alertd.errors import ConflictError, NotFoundError, UsageError
from alertd.storage import LINK_USED, AckRecord, ack_event, link_target

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
}
_STYLE = "body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}"
_MAX_FORM = 8192
_REFUSED = {
    "invalid": (400, "This link is not valid: it was changed or cut short. Open it again from the message."),
    "expired": (410, "This link has expired. Acknowledge with 'alertd ack EVENT --by NAME' or the API instead."),
    "used": (410, "This link was already used; links work once. Nothing was changed."),
    "off": (404, "Acknowledgement links are not enabled on this server (ALERTD_PUBLIC_URL is not set)."),
    "gone": (404, "The event this link names no longer exists. Nothing was changed."),
}


def _page(status: int, title: str, body: str) -> HTMLResponse:
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(title)} · alertd</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(text, status_code=status, headers=_HEADERS)


def _refused(reason: str) -> HTMLResponse:
    status, sentence = _REFUSED[reason]
    return _page(status, "Link refused", f"<p>{html.escape(sentence)}</p>")


def _stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC")


def _done(event: EventSpec, record: AckRecord, *, now: bool) -> HTMLResponse:
    who = f"<strong>{html.escape(record.by)}</strong>"
    lead = "Acknowledged" if now else "Already acknowledged"
    return _page(
        200,
        f"{lead}: {event.title}",
        f"<p>{lead} by {who} at {html.escape(_stamp(record.at))}. Its remaining reminders and escalation steps "
        "are stopped, and its channels are told.</p>",
    )


def _claim(daemon: Backend, token: str) -> LinkClaim | HTMLResponse:
    if daemon.ack_links is None:
        return _refused("off")
    try:
        claim = daemon.ack_links.read(token)
    except LinkError as exc:
        return _refused(exc.reason)
    if claim.action != "ack":
        return _refused("invalid")
    return claim


async def _target(daemon: Backend, claim: LinkClaim) -> tuple[EventSpec, AckRecord | None, bool] | HTMLResponse:
    now = daemon.clock.now()

    def read() -> tuple[EventSpec, AckRecord | None, bool]:
        with daemon.read_engine.connect() as conn:
            return link_target(conn, claim.event_id, claim.nonce, now=now)

    try:
        return await run_db(daemon, read)
    except NotFoundError:
        return _refused("gone")


@router.get("/ack/{token}", response_class=HTMLResponse)
async def confirm(daemon: DaemonDep, token: str) -> HTMLResponse:
    """Show what the link would acknowledge and ask for a name; changes nothing."""
    claim = _claim(daemon, token)
    if isinstance(claim, HTMLResponse):
        return claim
    target = await _target(daemon, claim)
    if isinstance(target, HTMLResponse):
        return target
    event, record, used = target
    if used:
        return _refused("used")
    if record is not None:
        return _done(event, record, now=False)
    when = html.escape(event.starts_at.strftime("%a %d %b %Y %H:%M UTC"))
    return _page(
        200,
        f"Acknowledge: {event.title}",
        f"<p>Mark <strong>{html.escape(event.title)}</strong> (starts {when}) as handled? Its remaining "
        "reminders and escalation steps stop, and its channels are told who acknowledged it.</p>"
        '<form method="post"><p><label>Your name<br><input name="by" required maxlength="200" '
        'autocomplete="name"></label></p><p><label>Note (optional)<br><input name="note" maxlength="2000">'
        '</label></p><p><button type="submit">Acknowledge</button></p></form>',
    )


@router.post("/ack/{token}", response_class=HTMLResponse)
async def acknowledge(daemon: DaemonDep, token: str, request: Request) -> HTMLResponse:
    """Acknowledge the link's event as the name given in the form."""
    claim = _claim(daemon, token)
    if isinstance(claim, HTMLResponse):
        return claim
    body = await request.body()
    form = parse_qs(body[:_MAX_FORM].decode("utf-8", "replace"), max_num_fields=4)
    by = (form.get("by") or [""])[0]
    note = (form.get("note") or [""])[0] or None
    calendar, now = daemon.calendar, daemon.clock.now()
    try:
        record, new, report = await run_db(
            daemon,
            lambda: ack_event(
                daemon.engine,
                calendar,
                event_id=claim.event_id,
                by=by,
                via="link",
                now=now,
                note=note,
                link_nonce=claim.nonce,
            ),
        )
    except NotFoundError:
        return _refused("gone")
    except ConflictError as exc:
        return (
            _refused("used")
            if str(exc) == LINK_USED
            else _page(409, "Not acknowledged", f"<p>{html.escape(str(exc))}</p>")
        )
    except UsageError as exc:
        return _page(400, "Not acknowledged", f"<p>{html.escape(str(exc))}</p>")
    if new:
        daemon.metrics.acknowledgements.labels("link").inc()
        daemon.metrics.cancelled(report.cancelled_by)
        daemon.dispatcher.kick.set()
    target = await _target(daemon, claim)
    if isinstance(target, HTMLResponse):
        return target
    return _done(target[0], record, now=new)
