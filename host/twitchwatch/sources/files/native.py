"""The native session format (``.twr``), read by helper D's :class:`twitchwatch.recording.SessionReader`,
which offers the FileSource interface itself. Imported lazily."""

from __future__ import annotations

from pathlib import Path

from twitchwatch.errors import FileFormatError


def read_native(path: Path, placement: str | None = None):
    try:
        from twitchwatch.recording import SessionReader
    except ImportError as exc:
        raise FileFormatError(f"{path}: native session files need twitchwatch.recording ({exc})") from None
    return SessionReader(path, placement=placement)


def looks_native(path: Path) -> bool:
    """True when the file starts with the session format's magic bytes."""
    try:
        from twitchwatch.recording import MAGIC
    except ImportError:
        return False
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False
