"""The FastAPI application: routers, and one error shape for every failure (``{"error": ..., "detail": ...}``)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from alertd import __version__
from alertd.api.guard import PageWrites, RequestGuard
from alertd.errors import CalendarError, ConflictError, NotFoundError, StorageError, UsageError

if TYPE_CHECKING:
    from alertd.api.deps import Backend

__all__ = ["create_app"]

log = logging.getLogger("alertd.http")


def _error(status: int, message: str, detail: Any = None, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "detail": detail}, status_code=status, headers=headers)


def _where(loc: Any) -> str:
    # ("body", "start") → "body.start"; the leading "body"/"query" tells the caller where to look.
    return ".".join(str(p) for p in loc)


def _validation_detail(errors: Any) -> list[dict[str, str]]:
    # Only where and what: pydantic's "input" and "ctx" may echo the request back, tokens included.
    return [{"loc": _where(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in errors]


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _error(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}) or None)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError | ValidationError)
    detail = _validation_detail(exc.errors())
    first = detail[0] if detail else {"loc": "", "msg": "invalid request"}
    return _error(422, f"invalid request: {first['loc']}: {first['msg']}", detail)


async def _on_calendar(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CalendarError)
    return _error(422, str(exc), [str(i) for i in exc.issues])


async def _on_usage(request: Request, exc: Exception) -> JSONResponse:
    status = 404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, ConflictError) else 400
    return _error(status, str(exc))


async def _on_storage(request: Request, exc: Exception) -> JSONResponse:
    # The cause names the database (host, user, file); it goes to the log, not to whoever asked.
    log.error("%s %s: %s", request.method, request.url.path, exc)
    return _error(503, "the database is unavailable; see the daemon's log", headers={"Retry-After": "5"})


def create_app(daemon: Backend, *, page_writes: PageWrites | None = None) -> FastAPI:
    """The application serving ``daemon`` (built before the daemon starts, served once it has).

    ``page_writes`` decides form posts outside /api/ (the dashboard's); without it they need the bearer token."""
    from alertd.api import ackpages, acks, events, health, ics, notifications, plan, slack, status
    from alertd.api.deps import Readers

    app = FastAPI(
        title="alertd",
        version=__version__,
        summary="Deadline and event alerting daemon.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.daemon = daemon
    app.state.readers = Readers(daemon.settings.api_readers)
    # Outermost: Host, probes-only, token and body size are checked before any route reads the request.
    app.add_middleware(RequestGuard, settings=daemon.settings, page_writes=page_writes)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(ValidationError, _on_validation)
    app.add_exception_handler(CalendarError, _on_calendar)
    app.add_exception_handler(UsageError, _on_usage)
    app.add_exception_handler(StorageError, _on_storage)
    app.include_router(health.router)
    app.include_router(events.router, prefix="/api/v1")
    app.include_router(acks.router, prefix="/api/v1")
    app.include_router(notifications.router, prefix="/api/v1")
    app.include_router(plan.router, prefix="/api/v1")
    app.include_router(status.router, prefix="/api/v1")
    app.include_router(ics.router)
    app.include_router(ackpages.router)
    app.include_router(slack.router)
    return app
