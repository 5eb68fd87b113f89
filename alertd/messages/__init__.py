"""Messages: what each notification says, in the reader's language and zone.

The default wording of each kind (``reminder``, ``countdown``, ``change``, ``sendtest`` through ``default``), the
pieces they share (``parts``), the entry point that renders a notification (``rendering``), locale tables and CLDR
formatting (``i18n``, ``locales/``), and per-channel Jinja2 templates in a sandbox (``templates``, ``context``),
rendered in a worker process with a time, output and memory budget (``sandbox``).

May import: alertd's shared modules only (errors, clock, timeexpr, domain).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alertd.messages.context import VARIABLES, sample_message, template_context
    from alertd.messages.i18n import DEFAULT_LOCALE, LOCALES, format_day, format_time, phrases, plural, status_text
    from alertd.messages.parts import all_day_end, change_rows, reader_day, when_label
    from alertd.messages.rendering import countdown_line, format_when, render
    from alertd.messages.templates import PARTS, syntax_problem, trial_problem, unknown_variables
else:
    from alertd._exports import exports

    __getattr__ = exports(
        __name__,
        rendering=("countdown_line", "format_when", "render"),
        parts=("all_day_end", "change_rows", "reader_day", "when_label"),
        i18n=("DEFAULT_LOCALE", "LOCALES", "format_day", "format_time", "phrases", "plural", "status_text"),
        context=("VARIABLES", "sample_message", "template_context"),
        templates=("PARTS", "syntax_problem", "trial_problem", "unknown_variables"),
    )

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "PARTS",
    "VARIABLES",
    "all_day_end",
    "change_rows",
    "countdown_line",
    "format_day",
    "format_time",
    "format_when",
    "phrases",
    "plural",
    "reader_day",
    "render",
    "sample_message",
    "status_text",
    "syntax_problem",
    "template_context",
    "trial_problem",
    "unknown_variables",
    "when_label",
]
