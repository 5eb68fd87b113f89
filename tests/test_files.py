"""alertd.files.read_text: regular files only, of bounded size, optionally confined to a directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from alertd.errors import FileReadError
from alertd.files import read_text


def test_reads_a_regular_file(tmp_path: Path) -> None:
    """A small regular file is read whole."""
    (tmp_path / "a").write_text("héllo\n", encoding="utf-8")
    assert read_text(tmp_path / "a", max_bytes=100) == "héllo\n"


def test_refuses_a_fifo_without_waiting_for_a_writer(tmp_path: Path) -> None:
    """Opening a FIFO does not block; it is refused as one."""
    os.mkfifo(tmp_path / "p")
    with pytest.raises(FileReadError, match=r"^it is a FIFO \(named pipe\), not a regular file$"):
        read_text(tmp_path / "p", max_bytes=100)


def test_refuses_a_device() -> None:
    """/dev/zero is a character device, refused before any read."""
    with pytest.raises(FileReadError, match=r"^it is a character device, not a regular file$"):
        read_text(Path("/dev/zero"), max_bytes=100)


def test_refuses_a_file_over_the_bound(tmp_path: Path) -> None:
    """One byte over the bound is refused, naming the size and the bound."""
    (tmp_path / "a").write_bytes(b"x" * 101)
    with pytest.raises(FileReadError, match=r"^it is 101 bytes, more than the limit of 100$"):
        read_text(tmp_path / "a", max_bytes=100)


def test_refuses_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    """Binary content is an error naming the first bad byte."""
    (tmp_path / "a").write_bytes(b"ok\xff")
    with pytest.raises(FileReadError, match=r"^it is not utf-8 text \(byte 2\)$"):
        read_text(tmp_path / "a", max_bytes=100)


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    """The OS's reason, in one line."""
    with pytest.raises(FileReadError, match=r"^No such file or directory$"):
        read_text(tmp_path / "missing", max_bytes=100)


def test_within_refuses_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    """Confinement judges where a link leads, not where it sits."""
    (tmp_path / "inside").mkdir()
    (tmp_path / "outside").write_text("x", encoding="utf-8")
    (tmp_path / "inside" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(FileReadError, match="outside ALERTD_SECRETS_DIR"):
        read_text(tmp_path / "inside" / "link", max_bytes=100, within=tmp_path / "inside")


def test_within_allows_a_file_inside(tmp_path: Path) -> None:
    """A file in the folder (or below it) is read."""
    (tmp_path / "inside" / "sub").mkdir(parents=True)
    (tmp_path / "inside" / "sub" / "s").write_text("token", encoding="utf-8")
    assert read_text(tmp_path / "inside" / "sub" / "s", max_bytes=100, within=tmp_path / "inside") == "token"
