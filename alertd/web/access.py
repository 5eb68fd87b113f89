"""Who is asking, in what language and zone, and what their form says: shared by every dashboard route."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, quote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from alertd.api.deps import Backend, Readers
from alertd.web.render import page
from alertd.web.session import COOKIE, Session, Sessions
from alertd.web.viewer import TZ_COOKIE, pick_locale, pick_zone

__all__ = ["Viewer", "form_fields", "form_writer", "refuse_form", "safe_next", "sessions_of", "viewer_of"]

# A dashboard form has a handful of short fields; anything beyond is not ours and is not parsed.
_MAX_FIELDS = 32


@dataclass(frozen=True, slots=True)
class Viewer:
    session: Session
    locale: str
    # The browser's zone when it told us one (query ?tz= or the cookie the page script sets), else None.
    zone: str | None
    daemon: Backend
    readers: Readers


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.sessions
    return sessions


def safe_next(value: str | None) -> str:
    """A path on this site to return to after logging in; anything else (another site, ``//host``) is ``/``."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 512:
        return "/"
    return value


def viewer_of(request: Request) -> Viewer | RedirectResponse:
    """The viewer of a page, or a redirect to the login form when a token is configured and no session is."""
    session = sessions_of(request).load(request.cookies.get(COOKIE))
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return Viewer(
        session=session,
        locale=pick_locale(request.headers.get("accept-language")),
        zone=pick_zone(request.query_params.get("tz"), request.cookies.get(TZ_COOKIE)),
        daemon=request.app.state.daemon,
        readers=request.app.state.readers,
    )


async def form_fields(request: Request) -> dict[str, str]:
    """An url-encoded form's fields (first value of each); the body was bounded by the request guard."""
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        parsed = parse_qs(body, keep_blank_values=True, max_num_fields=_MAX_FIELDS)
    except ValueError:
        # More fields than any of our forms has: not a form of ours, so none of it counts (its CSRF field neither).
        return {}
    return {k: v[0] for k, v in parsed.items()}


def refuse_form(request: Request, viewer: Viewer, fields: dict[str, str]) -> Response | None:
    """A refusal page when the viewer may not write or the form's CSRF field is missing or not this session's."""
    if not viewer.session.can_write:
        return _refusal(request, viewer, 403, "this session may only read; log in with ALERTD_API_TOKEN to change")
    if not Sessions.csrf_ok(viewer.session, fields.get("csrf")):
        return _refusal(
            request, viewer, 403, "the form's CSRF token is missing or stale: reload the page and submit it again"
        )
    return None


async def form_writer(request: Request) -> tuple[Viewer, dict[str, str]] | Response:
    """The viewer and fields of a form post that may change something, or the page that answers instead: the login
    redirect, or a refusal (a read-only session, a missing or stale CSRF token)."""
    viewer = viewer_of(request)
    if isinstance(viewer, Response):
        return viewer
    fields = await form_fields(request)
    refusal = refuse_form(request, viewer, fields)
    return (viewer, fields) if refusal is None else refusal


def _refusal(request: Request, viewer: Viewer, status: int, message: str) -> HTMLResponse:
    return page(request, "refused.html", viewer.session, status=status, locale=viewer.locale, message=message)
