"""Jinja2 pages from the package's templates, autoescaped, with what every page's layout needs."""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from alertd import __version__
from alertd.web.session import Session
from alertd.web.words import words

__all__ = ["SECURITY_HEADERS", "page", "render_html", "render_macro"]

# The CSS and script are named with the version, so a browser never mixes an old file with a new page.
_ASSET_VERSION = __version__
SECURITY_HEADERS = {
    # No inline script or style anywhere: the one script and stylesheet come from our own origin.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@cache
def _labels(locale: str) -> SimpleNamespace:
    # Attributes, not a mapping: Jinja tries ``getattr`` before ``[]``, and a thousand cards each asking a mapping
    # for eight labels paid for eight thousand AttributeErrors.
    return SimpleNamespace(**words(locale))


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("alertd.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(template: str, session: Session | None, *, path: str, locale: str = "en", **context: Any) -> str:
    """The HTML of ``template`` inside the layout; ``session`` None means not logged in (the login page)."""
    return (
        _environment()
        .get_template(template)
        .render(path=path, session=session, locale=locale, t=_labels(locale), asset_version=_ASSET_VERSION, **context)
    )


def render_macro(template: str, name: str, *, locale: str, **args: Any) -> Markup:
    """A piece of a page (no layout), already escaped: macro ``name`` of ``template`` called with ``args`` and
    ``t``, the labels of ``locale``. A macro call costs less than rendering a template, and a board makes many."""
    macro = getattr(_environment().get_template(template).module, name)
    return Markup(macro(t=_labels(locale), **args))


def page(
    request: Request, template: str, session: Session | None, *, status: int = 200, locale: str = "en", **context: Any
) -> HTMLResponse:
    """``template`` rendered for ``request`` as a response, with the pages' security headers."""
    html = render_html(template, session, path=request.url.path, locale=locale, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
