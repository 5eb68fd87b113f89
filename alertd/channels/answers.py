"""The short success answers channels return (shown by ``alertd send-test`` and kept in history).

An answer names where the message went so that a reader can tell two channels apart, but only by what is safe
to show: the host of a URL (its path and query may hold a token), ids the service gave back, never a secret.
"""

from __future__ import annotations

import httpx

from alertd.channels import http

__all__ = ["EXCERPT_MAX", "host", "with_excerpt"]

# An answer is one line in a terminal or a history table; a service's full body belongs in its own logs.
EXCERPT_MAX = 80


def host(url: str) -> str:
    """``host[:port]`` of ``url`` as :func:`alertd.channels.http.redact` shows it, e.g. ``hooks.example.com``."""
    shown = http.redact(url)
    return shown.split("://", 1)[-1].split("/", 1)[0] or shown


def with_excerpt(summary: str, response: httpx.Response) -> str:
    """``summary`` followed by the start of the response body, when there is one."""
    said = http.excerpt(response, EXCERPT_MAX)
    return f"{summary}: {said}" if said else summary
