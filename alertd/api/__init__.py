"""The HTTP side of the daemon: health, readiness, metrics and the ``/api/v1`` routes (SPEC §8).

:func:`create_app` builds the FastAPI application around a running backend (:class:`~alertd.daemon.Daemon` is one);
:class:`HttpServer` serves it with uvicorn on the daemon's own event loop.
"""

from __future__ import annotations

from alertd.api.app import create_app
from alertd.api.server import HttpServer

__all__ = ["HttpServer", "create_app"]
