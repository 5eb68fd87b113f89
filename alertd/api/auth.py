"""Bearer-token checks: ``ALERTD_API_TOKEN`` reads and writes, ``ALERTD_API_READ_TOKEN`` only reads.

With no token configured the API is open for reading and closed for writing, so a daemon started without
thinking about auth can be looked at but never changed from the network.
"""

from __future__ import annotations

import hmac
from typing import Annotated, NamedTuple

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import SecretStr

from alertd.api.deps import DaemonDep
from alertd.settings import Settings

__all__ = ["ReadAccess", "Refusal", "WriteAccess", "require_read", "require_write", "write_refusal"]

_bearer = HTTPBearer(
    auto_error=False,
    description="ALERTD_API_TOKEN (read and write) or ALERTD_API_READ_TOKEN (read only).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _matches(given: str, secret: SecretStr | None) -> bool:
    # Constant time, so response timing does not reveal how much of a guessed token was right.
    return secret is not None and hmac.compare_digest(given.encode(), secret.get_secret_value().encode())


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(status_code=401, detail=message, headers=_CHALLENGE)


def require_read(daemon: DaemonDep, credentials: Credentials) -> None:
    """Any configured token may read; with no token configured, reading needs none."""
    s = daemon.settings
    if s.api_token is None and s.api_read_token is None:
        return
    if credentials is None:
        raise _unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    given = credentials.credentials
    if _matches(given, s.api_token) or _matches(given, s.api_read_token):
        return
    raise _unauthorized("invalid bearer token")


class Refusal(NamedTuple):
    """Why a request is refused: an HTTP status and a one-line message."""

    status: int
    message: str


def write_refusal(settings: Settings, given: str | None) -> Refusal | None:
    """Why a write with bearer token ``given`` (None: no token sent) is refused, or None when it may write.

    Shared by the route dependency and the body guard, which must decide before it reads a request body.
    """
    if settings.api_token is None:
        return Refusal(403, "the API is read-only: set ALERTD_API_TOKEN to allow changes")
    if given is None:
        return Refusal(401, "missing bearer token: send 'Authorization: Bearer <token>'")
    if _matches(given, settings.api_token):
        return None
    if _matches(given, settings.api_read_token):
        return Refusal(403, "this token may only read; changes need ALERTD_API_TOKEN")
    return Refusal(401, "invalid bearer token")


def require_write(daemon: DaemonDep, credentials: Credentials) -> None:
    """Only ALERTD_API_TOKEN may write; without it the API is read-only."""
    refusal = write_refusal(daemon.settings, None if credentials is None else credentials.credentials)
    if refusal is not None:
        headers = _CHALLENGE if refusal.status == 401 else None
        raise HTTPException(status_code=refusal.status, detail=refusal.message, headers=headers)


ReadAccess = Depends(require_read)
WriteAccess = Depends(require_write)
