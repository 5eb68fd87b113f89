"""Per-channel Jinja2 templates for message titles and texts, checked at load and rendered at send time.

``templates: {reminder: {title: "…", text: "…"}, countdown: …, change: …, test: …}`` on a channel replaces the
default wording of that kind. Templates run in Jinja2's immutable sandbox with autoescaping off (messages are plain
text; channels escape for their own markup) and ``StrictUndefined``, so a misspelt name is an error rather than
an empty string. Every template is compiled and trial-rendered when the calendar loads, so a broken one is a
``file:line`` calendar error; should one still fail on a real message's data at send time, the default rendering
is sent and a warning logged.

Rendering happens in a worker process with a time, output and memory budget (:mod:`alertd.messages.sandbox`).
A template that goes over it (one that loops only for some real event) raises TemplateError: that notification
fails rather than going out with words nobody chose, and the daemon carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from alertd.domain import ChannelSpec, Message
from alertd.errors import TemplateError
from alertd.messages.context import VARIABLES, template_context
from alertd.messages.sandbox import inspect_parts, render_parts

__all__ = ["PARTS", "apply_template", "syntax_problem", "trial_problem", "unknown_variables"]

log = logging.getLogger("alertd.templates")

PARTS = ("title", "text")


def apply_template(message: Message, channel: ChannelSpec) -> Message:
    """``message`` with the channel's template for its kind applied, or unchanged if there is none or it fails on
    the message's data. Raises TemplateError when the template goes over its budget; blocks up to a few seconds.
    """
    spec = channel.templates.get(message.kind)
    if not spec:
        return message
    try:
        rendered = render_parts({p: spec[p] for p in PARTS if p in spec}, template_context(message))
    except TemplateError as exc:
        if exc.overrun:
            raise TemplateError(f"template for {message.kind} messages on channel {channel.id}: {exc}") from None
        # Validation at load makes this rare; sending the default words beats losing the notification.
        log.warning(
            "template for %s messages on channel %s failed (%s); sent %s with the default wording",
            message.kind,
            channel.id,
            exc,
            message.id,
        )
        return message
    return message._replace(title=rendered.get("title", message.title), text=rendered.get("text", message.text))


def syntax_problem(source: str) -> tuple[int, str] | None:
    """The template's syntax error as (line within the template, reason), or None when it parses."""
    try:
        found = inspect_parts({"text": source})["text"]
    except TemplateError as exc:
        return 1, str(exc)
    if "syntax" in found:
        line, reason = found["syntax"]
        return int(line or 1), str(reason)
    return None


def unknown_variables(source: str) -> list[str]:
    """The names a (parsable) template uses that no message kind provides, sorted."""
    try:
        names = inspect_parts({"text": source})["text"].get("names", [])
    except TemplateError:
        return []  # syntax_problem, asked first, has reported it
    return sorted(set(names) - set(VARIABLES))


def trial_problem(source: str, sample: Mapping[str, Any]) -> str | None:
    """Why rendering the template with ``sample`` fails (e.g. ``event.titel``: StrictUndefined names it, or its
    budget ran out), or None."""
    try:
        render_parts({"text": source}, sample)
    except TemplateError as exc:
        return str(exc).rstrip(".")
    return None
