"""Per-render cost of channel templates in the budgeted worker process, against rendering in-process.

``python -m bench.templates [--quick]`` prints both medians (microseconds per render) and their ratio; ``run``
gives the same as a :class:`~bench.common.Result` for ``bench.run``. alertd renders a reminder's title and text
through :func:`alertd.messages.sandbox.render_parts` (one JSON round trip to the worker); the baseline renders the
same two templates with Jinja2's sandbox in this process, as alertd did before templates had a budget. The
worker is started (and its templates compiled) before timing, as a running daemon's is.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from alertd.domain import ChannelSpec
from alertd.messages import sample_message, template_context
from alertd.messages.sandbox import render_parts
from bench.common import Result, median

__all__ = ["run"]

TITLE = "{{ event.title }}: {{ countdown.text }}"
TEXT = """\
{{ title }}
{% for tag in event.tags %}#{{ tag }} {% endfor %}
{{ when }}{% if late %} (late){% endif %}
{{ text }}"""
# The budgeted path may cost up to this many times the in-process render per message (both well under 1 ms).
_TARGET = 50.0


def _timed(fn: Callable[[], object], samples: int) -> list[float]:
    times: list[float] = []
    for _ in range(samples):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1e6)
    return times


def run(*, quick: bool = False) -> Result:
    samples = 200 if quick else 2000
    channel = ChannelSpec(id="desk", type="console", timezone="Europe/Paris")
    context = template_context(sample_message("reminder", channel))
    env = ImmutableSandboxedEnvironment(
        autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    title, text = env.from_string(TITLE), env.from_string(TEXT)

    def in_process() -> object:
        return title.render(context).strip(), text.render(context).strip()

    def worker() -> object:
        return render_parts({"title": TITLE, "text": TEXT}, context)

    worker()  # start the worker and compile, as a running daemon already has
    in_process()
    direct, budgeted = _timed(in_process, samples), _timed(worker, samples)
    figure, baseline = median(budgeted), median(direct)
    return Result(
        name="templates",
        figure=figure,
        baseline=baseline,
        unit="µs/render",
        target=f"ratio ≤ {_TARGET:g}",
        passed=figure / baseline <= _TARGET,
        details={"samples": samples, "worker_p90_us": sorted(budgeted)[int(0.9 * samples)]},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="200 samples instead of 2000")
    result = run(quick=parser.parse_args().quick)
    print(f"in-process median: {result.baseline:.1f} µs/render")
    print(f"worker median:     {result.figure:.1f} µs/render (p90 {result.details['worker_p90_us']:.1f})")
    print(f"ratio:             {result.ratio:.1f} (target {result.target})")


if __name__ == "__main__":
    main()
