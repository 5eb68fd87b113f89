"""Process signals the daemon's event loop cannot hear yet, and readers that go away.

``alertd run`` spends its first second or more importing and opening storage. Until now the default actions
applied there: a SIGHUP (a reload request) or SIGTERM killed the process silently. :class:`EarlySignals` takes the
signals first thing, remembers them, and hands them to the running daemon; :func:`reader_gone` ends a command
whose output pipe was closed (``alertd history | head``) the way ``head``'s other writers end, quietly.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from types import FrameType

from alertd.clock import wall_now

__all__ = ["PIPE_CLOSED", "EarlySignals", "reader_gone"]

# The status a shell reports for a process ended by SIGPIPE (128 + 13).
PIPE_CLOSED = 128 + signal.SIGPIPE
_STOPS = (signal.SIGTERM, signal.SIGINT)


class EarlySignals:
    """Remembers SIGTERM, SIGINT and SIGHUP until the daemon's own handlers are in place.

    The handlers only set flags: they may run between any two bytecodes of the start-up, in the middle of a
    write to stderr or a database transaction. A second stop signal leaves at once, as it does later.
    """

    def __init__(self) -> None:
        self.stop = False
        self.reload = False
        # Set once the log format is known, so that the one line written from a handler matches the others.
        self.json = False

    def install(self) -> None:
        for sig in _STOPS:
            signal.signal(sig, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_reload)

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        if self.stop:
            # Nothing has been sent yet that a drain could finish; the line is written without stderr's buffer,
            # which the interrupted code may be in the middle of using.
            os.write(2, self._line("second signal, exiting immediately").encode())
            os._exit(130)
        self.stop = True

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        self.reload = True

    def _line(self, message: str) -> str:
        if not self.json:
            return f"alertd: {message}\n"
        now = wall_now().strftime("%Y-%m-%dT%H:%M:%SZ")
        record = {"time": now, "level": "warning", "logger": "alertd.cli", "message": message}
        return json.dumps(record) + "\n"


def reader_gone() -> int:
    """End quietly after a write to a closed pipe: no traceback, nothing more written, the SIGPIPE status."""
    try:
        # Whatever is still buffered would fail again when Python flushes stdout on exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    return PIPE_CLOSED
