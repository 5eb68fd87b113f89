"""Reading files that a calendar or a setting names: regular files only, of bounded size, never blocking.

A path written by whoever edits the calendar may be a FIFO (a read would wait forever), a device (``/dev/zero``
never ends), a directory or a huge file. :func:`read_text` opens without blocking, checks with ``fstat`` that it
holds a regular file, and reads at most ``max_bytes``; every refusal is a :class:`~alertd.errors.FileReadError`
with a one-line reason. ``within`` confines the read to a directory (``ALERTD_SECRETS_DIR``), symlinks resolved.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from alertd.errors import FileReadError

__all__ = ["SECRET_MAX_BYTES", "read_text"]

# A token, password, URL or certificate chain fits easily; anything bigger is not a secret.
SECRET_MAX_BYTES = 64 * 1024

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def read_text(path: Path, *, max_bytes: int, within: Path | None = None, encoding: str = "utf-8") -> str:
    """The text of the regular file at ``path`` (at most ``max_bytes`` bytes), or FileReadError saying why not."""
    if within is not None:
        try:
            real, root = path.resolve(strict=True), within.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise FileReadError(_cause(exc)) from None
        if not real.is_relative_to(root):
            raise FileReadError(f"it is outside ALERTD_SECRETS_DIR ({within}); move the file there")
    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting; fstat then refuses it.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise FileReadError(_cause(exc)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileReadError(f"it is {_kind(st.st_mode)}, not a regular file")
        if st.st_size > max_bytes:
            raise FileReadError(f"it is {st.st_size} bytes, more than the limit of {max_bytes}")
        chunks: list[bytes] = []
        left = max_bytes + 1  # one byte more tells a file that grew past the limit since fstat
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise FileReadError(_cause(exc)) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise FileReadError(f"it is more than the limit of {max_bytes} bytes")
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileReadError(f"it is not {encoding} text (byte {exc.start})") from None


def _cause(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
