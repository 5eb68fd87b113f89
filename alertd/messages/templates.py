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

from alertd.calendar.schema import Checker, suggest
from alertd.calendar.yamlsrc import KeyPath, dotted
from alertd.domain import KINDS, ChannelSpec, Message
from alertd.errors import CalendarIssue
from alertd.messages.context import VARIABLES, sample_message, template_context

__all__ = ["PARTS", "apply_template", "check_templates"]

log = logging.getLogger(__name__)

PARTS = ("title", "text")
_EXAMPLE = '{reminder: {title: "{{ event.title }}: {{ countdown.text }}"}}'
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


def _line_of(ck: Checker, path: KeyPath, source: str, template_line: int) -> int:
    # A multi-line template is a YAML block scalar (``text: |``) whose first line is the one after the key.
    key_line = ck.line(path)
    return key_line + template_line if "\n" in source.rstrip("\n") else key_line


def _first_line_naming(source: str, name: str) -> int:
    for number, line in enumerate(source.splitlines(), start=1):
        if name in line:
            return number
    return 1


def _check_one(ck: Checker, source: str, path: KeyPath, sample: Mapping[str, Any]) -> bool:
    def error(template_line: int, message: str) -> None:
        line = _line_of(ck, path, source, template_line)
        ck.issues.append(CalendarIssue(ck.file, line, dotted(path), message))

    try:
        ast = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        error(exc.lineno, f"template syntax error: {(exc.message or '').rstrip('.')}; see docs/messages.md")
        return False
    unknown = sorted(meta.find_undeclared_variables(ast) - set(VARIABLES))
    for name in unknown:
        error(_first_line_naming(source, name), f"unknown template variable {name!r} {suggest(name, VARIABLES)}")
    if unknown:
        return False
    try:
        _compiled(source).render(sample)
    except Exception as exc:
        # E.g. ``event.titel`` or ``event.title`` in a countdown: StrictUndefined names the culprit.
        cause = str(exc).rstrip(".")
        error(1, f"template fails on a sample message: {cause}; see docs/messages.md for the variables of each kind")
        return False
    return True


def check_templates(ck: Checker, raw: Any, path: KeyPath, channel: ChannelSpec) -> dict[str, dict[str, str]] | None:
    """Validated ``templates:`` of ``channel`` (kind → part → source), or None after recording its errors."""
    m = ck.mapping(raw, path, _EXAMPLE)
    if m is None:
        return None
    found: dict[str, dict[str, str]] = {}
    ok = True
    for kind, parts in m.items():
        if kind not in KINDS:
            ck.error((*path, kind), f"unknown message kind {kind!r} {suggest(kind, KINDS)}")
            ok = False
            continue
        pm = ck.mapping(parts, (*path, kind), _EXAMPLE)
        if pm is None:
            ok = False
            continue
        sample = template_context(sample_message(kind, channel))
        found[kind] = {}
        for part, source in pm.items():
            where = (*path, kind, part)
            if part not in PARTS:
                ck.error(where, f"unknown template part {part!r} {suggest(part, PARTS)}")
                ok = False
            elif ck.text(source, where, nonempty=True) is None or not _check_one(ck, source, where, sample):
                ok = False
            else:
                found[kind][part] = source
    return found if ok else None
