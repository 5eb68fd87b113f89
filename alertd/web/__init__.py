"""The web dashboard: server-rendered pages over the API's storage, for people rather than programs.

A login form exchanging an API token for a signed session cookie (``session``, ``access``), the viewer's language
and zone (``viewer``), the board's cards (``board``), the history page (``history``), what the pages read
(``queries``), Jinja2 rendering (``render``), and the app that mounts all of it beside the API (``app``).

May import: everything up to and including :mod:`alertd.api`.
"""

from __future__ import annotations

from alertd.web.app import create_dashboard_app

__all__ = ["create_dashboard_app"]
