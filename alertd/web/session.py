"""Dashboard sessions: a signed, expiring cookie that a login form gives in exchange for an API token.

The cookie holds the role the token granted (``write`` or ``read``) and a random CSRF value that every form of the
session repeats; itsdangerous signs it with a key derived from the server key (``alertd.storage.purpose_key``),
so a restart or another replica on the same database accepts it. Nothing of the token itself is kept in it.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from itsdangerous import BadSignature, URLSafeTimedSerializer
from pydantic import SecretStr

from alertd.api.auth import Refusal
from alertd.settings import Settings

__all__ = ["COOKIE", "MAX_AGE", "Session", "Sessions", "role_for_token"]

COOKIE = "alertd_session"
# A working day: long enough not to interrupt, short enough that a forgotten browser stops being a way in.
MAX_AGE = 12 * 3600
# Paths a browser may post to without a write session: logging in and out change nothing in alertd.
_OPEN_POSTS = frozenset({"/login", "/logout"})


@dataclass(frozen=True, slots=True)
class Session:
    """Who is looking: ``role`` is ``write``, ``read``, or ``open`` (no token configured: read, never write)."""

    role: str
    csrf: str = ""

    @property
    def can_write(self) -> bool:
        return self.role == "write"


def _matches(given: str, secret: SecretStr | None) -> bool:
    # Constant time, like the API's bearer check.
    return secret is not None and hmac.compare_digest(given.encode(), secret.get_secret_value().encode())


def role_for_token(settings: Settings, token: str) -> str | None:
    """The role ``token`` grants (``write``/``read``), or None when it is neither configured token."""
    if _matches(token, settings.api_token):
        return "write"
    if _matches(token, settings.api_read_token):
        return "read"
    return None


def cookie_value(headers: Mapping[str, str], name: str) -> str | None:
    """The value of cookie ``name`` in a request's (lower-cased) headers, or None."""
    raw = headers.get("cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


class Sessions:
    """Issues and checks session cookies; the key is read once, on first use (the schema exists by then)."""

    def __init__(self, settings: Settings, key: Callable[[], bytes], *, max_age: int = MAX_AGE) -> None:
        self.settings = settings
        self._key = key
        self._serializer: URLSafeTimedSerializer | None = None
        self.max_age = max_age

    @property
    def open(self) -> bool:
        """No token configured: every page is readable without logging in, and nothing can be changed."""
        return self.settings.api_token is None and self.settings.api_read_token is None

    def _signer(self) -> URLSafeTimedSerializer:
        if self._serializer is None:
            self._serializer = URLSafeTimedSerializer(self._key(), salt="alertd-session")
        return self._serializer

    def issue(self, role: str) -> str:
        """A new cookie value for ``role``, with a fresh CSRF value."""
        return str(self._signer().dumps({"r": role, "c": secrets.token_urlsafe(24)}))

    def load(self, value: str | None) -> Session | None:
        """The session in a cookie value; None when missing, forged, expired or of a token no longer configured."""
        if self.open:
            return Session("open")
        if not value or len(value) > 1024:
            return None
        try:
            data = self._signer().loads(value, max_age=self.max_age)
        except BadSignature:  # SignatureExpired is one
            return None
        if not isinstance(data, dict) or data.get("r") not in ("write", "read") or not isinstance(data.get("c"), str):
            return None
        # A write session outlives nothing: once ALERTD_API_TOKEN is unset, it reads at most.
        if data["r"] == "write" and self.settings.api_token is None:
            return None
        return Session(data["r"], data["c"])

    def from_headers(self, headers: Mapping[str, str]) -> Session | None:
        return self.load(cookie_value(headers, COOKIE))

    def write_refusal(self, path: str, headers: Mapping[str, str]) -> Refusal | None:
        """For the request guard: a form post outside /api/ needs a write session, checked before the body is read."""
        if path in _OPEN_POSTS:
            return None
        if self.settings.api_token is None:
            return Refusal(403, "the dashboard is read-only: set ALERTD_API_TOKEN to allow changes")
        session = self.from_headers(headers)
        if session is None:
            return Refusal(401, "not logged in, or the session expired: log in again at /login")
        if not session.can_write:
            return Refusal(403, "this session may only read; log in with ALERTD_API_TOKEN to make changes")
        return None

    @staticmethod
    def csrf_ok(session: Session, given: str | None) -> bool:
        """Whether a form's CSRF field is this session's (the cookie is HttpOnly: another site cannot read it)."""
        return bool(session.csrf) and given is not None and hmac.compare_digest(given.encode(), session.csrf.encode())
