"""The daemon's HTTP application: the JSON API under /api/v1 and the dashboard's pages beside it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from alertd.api import create_app
from alertd.api.deps import Backend
from alertd.storage import purpose_key, server_key
from alertd.web.cache import PageCache
from alertd.web.cardhtml import CardHtml
from alertd.web.eventcache import EventCache
from alertd.web.faces import FaceMemo
from alertd.web.logincsrf import LoginTokens
from alertd.web.session import Sessions

__all__ = ["create_dashboard_app"]


def create_dashboard_app(daemon: Backend) -> FastAPI:
    """The API app of ``daemon`` with the dashboard's routes and static files mounted on it."""
    from alertd.web import acks, channels, edit, history, pages, plan

    def key() -> bytes:
        # Read once, on the first request (the schema exists by then), so replicas and restarts agree on it.
        with daemon.engine.begin() as conn:
            return purpose_key(server_key(conn, daemon.settings.secret_key), "session")

    sessions = Sessions(daemon.settings, key)
    app = create_app(daemon, page_writes=sessions.write_refusal)
    app.state.sessions = sessions
    app.state.login_tokens = LoginTokens(key)
    app.state.board_cache = PageCache()
    app.state.board_events = EventCache()
    app.state.board_faces = FaceMemo()
    app.state.board_cards = CardHtml()
    app.include_router(pages.router)
    app.include_router(history.router)
    app.include_router(channels.router)
    app.include_router(plan.router)
    app.include_router(edit.router)
    app.include_router(acks.router)
    app.mount("/static", StaticFiles(packages=[("alertd.web", "static")]), name="static")
    return app
