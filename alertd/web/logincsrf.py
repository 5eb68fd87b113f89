"""The login form's CSRF token, before there is a session: a signed double-submit cookie.

Without it another site could post its own token to ``/login`` and sign the browser into the attacker's session
(login CSRF). The form page sets a random value, signed with a key derived from the server key, as an HttpOnly,
SameSite=Strict cookie scoped to ``/login`` and repeats it in a hidden field; a login is accepted only when both
arrive, agree and the signature holds. Another site can neither read the cookie nor make the browser send it, and
cannot forge a value of its own.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["LOGIN_COOKIE", "LOGIN_MAX_AGE", "LoginTokens"]

LOGIN_COOKIE = "alertd_login"
# Time enough to find and paste a token; a form left open longer is simply sent again.
LOGIN_MAX_AGE = 3600


class LoginTokens:
    """Issues and checks login-form tokens; the key is read once, on first use, and shared by the replicas."""

    def __init__(self, key: Callable[[], bytes], *, max_age: int = LOGIN_MAX_AGE) -> None:
        self._key = key
        self._serializer: URLSafeTimedSerializer | None = None
        self.max_age = max_age

    def _signer(self) -> URLSafeTimedSerializer:
        if self._serializer is None:
            self._serializer = URLSafeTimedSerializer(self._key(), salt="alertd-login-csrf")
        return self._serializer

    def issue(self) -> str:
        return str(self._signer().dumps(secrets.token_urlsafe(24)))

    def valid(self, value: str | None) -> bool:
        """Whether ``value`` is a token this daemon (or a replica) issued and has not expired."""
        if not value or len(value) > 256:
            return False
        try:
            self._signer().loads(value, max_age=self.max_age)
        except BadSignature:  # SignatureExpired is one
            return False
        return True

    def matches(self, cookie: str | None, field: str | None) -> bool:
        """Whether a login post carries the same valid token in its cookie and its form."""
        if not cookie or not field or not self.valid(cookie):
            return False
        return hmac.compare_digest(cookie.encode(), field.encode())
