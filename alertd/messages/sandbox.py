"""Rendering channel templates in a separate worker process, with a time, output and memory budget.

Jinja2's sandbox stops templates from reaching Python objects but not from looping for hours or building a
gigabyte of text. Templates therefore render in one long-lived worker process (reused for every render) whose
address space is capped (``RLIMIT_AS``); a render that takes longer than :data:`TIME_LIMIT`
gets the worker killed (a new one starts on the next render), and one whose output passes :data:`OUTPUT_LIMIT`
characters stops there. Either way the caller gets a :class:`~alertd.errors.TemplateError` with a one-line reason;
the process that asked never runs template code itself, so no template can freeze or exhaust it.

Parsing and checking names (:func:`inspect_parts`) happen there too: compiling folds constant expressions, so
even ``alertd check`` never runs template code in its own process. Callers block for up to :data:`TIME_LIMIT`
seconds: the daemon calls :func:`render_parts` from a worker thread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Mapping
from functools import lru_cache
from multiprocessing.connection import Connection
from typing import Any

from alertd.errors import TemplateError

__all__ = ["MEMORY_LIMIT", "OUTPUT_LIMIT", "TIME_LIMIT", "inspect_parts", "render_parts"]

TIME_LIMIT = 2.0
OUTPUT_LIMIT = 100_000
MEMORY_LIMIT = 256 * 1024 * 1024
# Starting a worker imports Python and Jinja2 afresh: seconds on a loaded machine, and not the template's fault.
_START_TIMEOUT = 60.0
# Title and text at most OUTPUT_LIMIT characters each, JSON-escaped (up to 6 bytes a character).
_MAX_REPLY = 2 * 6 * OUTPUT_LIMIT + 4096


class _OverBudgetError(Exception):
    """Raised inside the worker when a render passes the output bound."""


def _environment() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class Bounded(ImmutableSandboxedEnvironment):
        # ``'a' * 10**9`` would build the whole string before the output count sees it.
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, int | float) and abs(right) > 100:
                raise _OverBudgetError(f"exponent {right} is too large")
            if operator == "*" and isinstance(left, int) and isinstance(right, str | list | tuple):
                left, right = right, left
            repeated = operator == "*" and isinstance(left, str | list | tuple) and isinstance(right, int)
            if repeated and len(left) * right > OUTPUT_LIMIT:
                raise _OverBudgetError(f"a repetition longer than {OUTPUT_LIMIT} characters")
            return super().call_binop(context, operator, left, right)

    # trim_blocks/lstrip_blocks: a {% if %} on its own line leaves no blank line behind in a multi-line text.
    return Bounded(autoescape=False, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _inspect(env: Any, sources: Mapping[str, str]) -> dict[str, Any]:
    """Per part: ``{"syntax": [line, reason]}`` or ``{"names": [undeclared names]}``."""
    from jinja2 import TemplateSyntaxError, meta

    found: dict[str, Any] = {}
    for part, source in sources.items():
        try:
            tree = env.parse(source)
        except TemplateSyntaxError as exc:
            found[part] = {"syntax": [exc.lineno, (exc.message or "").rstrip(".")]}
            continue
        found[part] = {"names": sorted(meta.find_undeclared_variables(tree))}
    return found


def _serve(requests: Connection, replies: Connection) -> None:
    """The worker's main loop: render requests until the pipe closes (the parent exited or replaced us)."""
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    env = _environment()
    compiled = lru_cache(maxsize=512)(env.from_string)
    replies.send_bytes(b'["ready", null]')
    while True:
        try:
            op, sources, context = json.loads(requests.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            if op == "inspect":
                # Compiling folds constant expressions (``'x'|center(10**9)``): that too happens only here.
                reply: list[Any] = ["ok", _inspect(env, sources)]
                replies.send_bytes(json.dumps(reply).encode())
                continue
            rendered = {}
            for part, source in sources.items():
                chunks: list[str] = []
                size = 0
                for chunk in compiled(source).generate(context):
                    size += len(chunk)
                    if size > OUTPUT_LIMIT:
                        raise _OverBudgetError(f"output longer than {OUTPUT_LIMIT} characters")
                    chunks.append(chunk)
                rendered[part] = "".join(chunks).strip()
            reply = ["ok", rendered]
        except _OverBudgetError as exc:
            reply = ["budget", str(exc)]
        except MemoryError:
            reply = ["budget", f"more than {MEMORY_LIMIT // (1024 * 1024)} MiB of memory"]
        except RecursionError:
            reply = ["budget", "recursion too deep"]
        except Exception as exc:
            reply = ["error", " ".join(f"{type(exc).__name__}: {exc}".split())[:300]]
        replies.send_bytes(json.dumps(reply).encode())


class _Worker:
    """One worker process (``python -m alertd.messages.sandbox``) and its pipes; renders one request at a time.

    A plain subprocess rather than multiprocessing's ``spawn``: that re-imports the caller's main script, which
    an embedding program or test runner may not guard. Requests and replies are JSON, never pickles: nothing the
    worker sends can run code here.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: Connection | None = None
        self._replies: Connection | None = None

    def call(self, op: str, sources: Mapping[str, str], context: Mapping[str, Any]) -> dict[str, Any]:
        request = json.dumps([op, dict(sources), context], default=str).encode()
        with self._lock:
            requests, replies = self._ready()
            try:
                requests.send_bytes(request)
                answered = replies.poll(TIME_LIMIT)
            except OSError:
                self._stop()
                raise TemplateError("the template worker died while rendering") from None
            if not answered:
                self._stop()
                raise TemplateError(f"the template ran longer than {TIME_LIMIT:g}s and was stopped")
            try:
                kind, value = json.loads(replies.recv_bytes(_MAX_REPLY))
            except (EOFError, OSError, ValueError):
                self._stop()
                raise TemplateError("the template worker died while rendering (out of memory?)") from None
        if kind == "ok":
            answer: dict[str, Any] = value
            return answer
        if kind == "budget":
            raise TemplateError(f"the template went over its budget: {value}")
        raise TemplateError(str(value), overrun=False)

    def _ready(self) -> tuple[Connection, Connection]:
        if self._process is not None and self._process.poll() is None and self._requests and self._replies:
            return self._requests, self._replies
        self._stop()
        process = subprocess.Popen(
            [sys.executable, "-m", "alertd.messages.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
        )
        assert process.stdin is not None
        assert process.stdout is not None
        self._process = process
        self._requests = Connection(os.dup(process.stdin.fileno()), readable=False)
        self._replies = Connection(os.dup(process.stdout.fileno()), writable=False)
        process.stdin.close()
        process.stdout.close()
        try:
            started = self._replies.poll(_START_TIMEOUT) and json.loads(self._replies.recv_bytes(64))[0] == "ready"
        except (EOFError, OSError, ValueError):
            started = False
        if not started:
            self._stop()
            raise TemplateError(f"the template worker did not start within {_START_TIMEOUT:g}s")
        return self._requests, self._replies

    def _stop(self) -> None:
        for conn in (self._requests, self._replies):
            if conn is not None:
                conn.close()
        if self._process is not None:
            self._process.kill()
            self._process.wait(5)
        self._process, self._requests, self._replies = None, None, None


_WORKER = _Worker()


def render_parts(sources: Mapping[str, str], context: Mapping[str, Any]) -> dict[str, str]:
    """Render each ``part → template source`` with ``context`` in the worker.

    Raises TemplateError: with ``overrun`` when a template went over its budget (time, output, memory), without
    when it failed on the data (an undefined name, a type error).
    """
    return {str(k): str(v) for k, v in _WORKER.call("render", sources, context).items()}


def inspect_parts(sources: Mapping[str, str]) -> dict[str, Any]:
    """Parse each template in the worker: ``{"syntax": [line, reason]}`` or ``{"names": [...]}`` per part.

    Raises TemplateError (an overrun) when even parsing and compiling goes over the budget.
    """
    return _WORKER.call("inspect", sources, {})


if __name__ == "__main__":
    import signal

    # Ctrl-C in a terminal reaches the whole process group: the daemon decides, and closes our pipe when it exits.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The pipes are stdin and stdout; anything the worker prints goes to stderr and cannot break the protocol.
    _replies = Connection(os.dup(1), readable=False)
    os.dup2(2, 1)
    _serve(Connection(0, writable=False), _replies)
