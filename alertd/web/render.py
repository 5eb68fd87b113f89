"""Jinja2 pages from the package's templates, autoescaped, with what every page's layout needs."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from alertd import __version__
from alertd.web.session import Session

__all__ = ["page"]

# The CSS and script are named with the version, so a browser never mixes an old file with a new page.
_ASSET_VERSION = __version__
_SECURITY_HEADERS = {
    # No inline script or style anywhere: the one script and stylesheet come from our own origin.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("alertd.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def page(
    request: Request, template: str, session: Session | None, *, status: int = 200, locale: str = "en", **context: Any
) -> HTMLResponse:
    """Render ``template`` inside the layout; ``session`` None means not logged in (the login page)."""
    html = (
        _environment()
        .get_template(template)
        .render(
            path=request.url.path,
            session=session,
            locale=locale,
            asset_version=_ASSET_VERSION,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers=_SECURITY_HEADERS)
