"""The login form and the board (``/``), plus ``/live``, the revision the pages poll for live updates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from alertd.web.access import form_fields, safe_next, sessions_of, viewer_of
from alertd.web.board import STATUSES, build_board
from alertd.web.cache import PageCache
from alertd.web.cardhtml import CardHtml
from alertd.web.eventcache import EventCache
from alertd.web.logincsrf import LOGIN_COOKIE, LoginTokens
from alertd.web.queries import live_revision, next_sends
from alertd.web.render import SECURITY_HEADERS, page, render_html
from alertd.web.session import COOKIE, Sessions, role_for_token
from alertd.web.viewer import pick_locale

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _login_page(request: Request, *, next: str, error: str = "", status: int = 200) -> Response:
    """The login form with its CSRF token, in a cookie scoped to /login and in the form (kept while still valid)."""
    tokens: LoginTokens = request.app.state.login_tokens
    token = request.cookies.get(LOGIN_COOKIE)
    kept = token is not None and tokens.valid(token)
    if token is None or not kept:
        token = tokens.issue()
    locale = pick_locale(request.headers.get("accept-language"))
    response = page(request, "login.html", None, status=status, locale=locale, next=next, error=error, csrf=token)
    if kept:
        return response
    response.set_cookie(
        LOGIN_COOKIE,
        str(token),
        max_age=tokens.max_age,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    if sessions_of(request).open:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next=safe_next(next))


@router.post("/login")
async def login(request: Request) -> Response:
    sessions = sessions_of(request)
    fields = await form_fields(request)
    target = safe_next(fields.get("next"))
    if sessions.open:
        return RedirectResponse(target, status_code=303)
    tokens: LoginTokens = request.app.state.login_tokens
    if not tokens.matches(request.cookies.get(LOGIN_COOKIE), fields.get("csrf")):
        # Posted from another site, or from a form older than an hour: nothing is checked, no session is made.
        error = "this login form has expired or was not sent from this site; paste the token again"
        return _login_page(request, next=target, error=error, status=403)
    role = role_for_token(request.app.state.daemon.settings, fields.get("token", "").strip())
    if role is None:
        error = "that is neither ALERTD_API_TOKEN nor ALERTD_API_READ_TOKEN; paste one of the daemon's tokens"
        return _login_page(request, next=target, error=error, status=401)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        sessions.issue(role),
        max_age=sessions.max_age,
        httponly=True,
        samesite="strict",
        # uvicorn reports https for a request a trusted proxy (FORWARDED_ALLOW_IPS) says came over HTTPS.
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    viewer = viewer_of(request)
    if isinstance(viewer, Response):
        # No session to end (expired, or none): the login form is where the button would lead anyway.
        return viewer
    fields = await form_fields(request)
    # Only the session's own form may end it: another site's post could otherwise log people out at will.
    if viewer.session.role != "open" and not Sessions.csrf_ok(viewer.session, fields.get("csrf")):
        message = "the form's CSRF token is missing or stale: reload the page and log out again"
        return page(request, "refused.html", viewer.session, status=403, locale=viewer.locale, message=message)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="strict")
    return response


@router.get("/")
async def board(
    request: Request,
    tag: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    series: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    viewer = viewer_of(request)
    if isinstance(viewer, Response):
        return viewer
    daemon, readers = viewer.daemon, viewer.readers
    now = daemon.clock.now()
    chosen_status = status if status in STATUSES else None
    rev = await readers.run(daemon, live_revision, daemon.read_engine, daemon.calendar)
    # Countdowns are worded to the minute, so a page is good for the minute it was rendered in.
    minute = now.replace(second=0, microsecond=0)
    key = (rev, viewer.zone, viewer.locale, minute, tag, chosen_status, series, viewer.session.role)
    cache: PageCache = request.app.state.board_cache
    html = cache.get(key)
    if html is None:
        kept: EventCache = request.app.state.board_events
        events = await readers.run(daemon, kept.events, daemon.read_engine)
        sends = await readers.run(daemon, next_sends, daemon.read_engine)
        result = build_board(
            events,
            now=now,
            zone=viewer.zone,
            locale=viewer.locale,
            next_sends=sends,
            tag=tag or None,
            status=chosen_status,
            series=series or None,
            faces=request.app.state.board_faces,
        )
        cards: CardHtml = request.app.state.board_cards
        html = render_html(
            "board.html",
            viewer.session,
            path=request.url.path,
            locale=viewer.locale,
            board=result,
            upcoming_html=cards.render(result.upcoming, locale=viewer.locale, series=series or ""),
            folded_html=cards.render(result.folded, locale=viewer.locale, series=series or ""),
            zone=viewer.zone,
            tag=tag or "",
            status_filter=chosen_status or "",
            statuses=STATUSES,
            series=series or "",
        )
        cache.put(key, html)
    return HTMLResponse(html, headers=SECURITY_HEADERS)


@router.get("/live")
async def live(request: Request) -> Response:
    viewer = viewer_of(request)
    if isinstance(viewer, Response):
        return JSONResponse({"error": "not logged in", "detail": None}, status_code=401)
    daemon = viewer.daemon
    rev = await viewer.readers.run(daemon, live_revision, daemon.read_engine, daemon.calendar)
    return JSONResponse({"rev": rev}, headers={"Cache-Control": "no-store"})
