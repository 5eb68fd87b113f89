"""Per-channel Jinja2 templates for message titles and texts, checked at load and rendered at send time.

``templates: {reminder: {title: "…", text: "…"}, countdown: …, change: …, test: …}`` on a channel replaces the
default wording of that kind. Templates run in Jinja2's immutable sandbox with autoescaping off (messages are plain
text; channels escape for their own markup) and ``StrictUndefined``, so a misspelt name is an error rather than
an empty string. Every template is compiled and trial-rendered when the calendar loads, so a broken one is a
``file:line`` calendar error; should one still fail at send time, the default rendering is sent and a warning
logged: a template problem never costs a notification.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from alertd.domain import ChannelSpec, Message
from alertd.messages.context import VARIABLES, template_context

__all__ = ["PARTS", "apply_template", "syntax_problem", "trial_problem", "unknown_variables"]

log = logging.getLogger("alertd.templates")

PARTS = ("title", "text")
# trim_blocks/lstrip_blocks: a {% if %} on its own line leaves no blank line behind in a multi-line text.
_ENV = ImmutableSandboxedEnvironment(autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=512)
def _compiled(source: str) -> Template:
    return _ENV.from_string(source)


def _render(source: str, context: Mapping[str, Any]) -> str:
    return _compiled(source).render(context).strip()


def apply_template(message: Message, channel: ChannelSpec) -> Message:
    """``message`` with the channel's template for its kind applied, or unchanged if there is none or it fails."""
    spec = channel.templates.get(message.kind)
    if not spec:
        return message
    try:
        context = template_context(message)
        title = _render(spec["title"], context) if "title" in spec else message.title
        text = _render(spec["text"], context) if "text" in spec else message.text
    except Exception as exc:
        # Validation at load makes this rare; sending the default words beats losing the notification.
        log.warning(
            "template for %s messages on channel %s failed (%s: %s); sent %s with the default wording",
            message.kind,
            channel.id,
            type(exc).__name__,
            exc,
            message.id,
        )
        return message
    return message._replace(title=title, text=text)


def syntax_problem(source: str) -> tuple[int, str] | None:
    """The template's syntax error as (line within the template, reason), or None when it parses."""
    try:
        _ENV.parse(source)
    except TemplateSyntaxError as exc:
        return exc.lineno, (exc.message or "").rstrip(".")
    return None


def unknown_variables(source: str) -> list[str]:
    """The names a (parsable) template uses that no message kind provides, sorted."""
    return sorted(meta.find_undeclared_variables(_ENV.parse(source)) - set(VARIABLES))


def trial_problem(source: str, sample: Mapping[str, Any]) -> str | None:
    """Why rendering the template with ``sample`` fails (e.g. ``event.titel``: StrictUndefined names it), or None."""
    try:
        _compiled(source).render(sample)
    except Exception as exc:
        return str(exc).rstrip(".")
    return None
