"""The native session format, read by helper D's :class:`twitchwatch.recording.SessionReader`.

Imported lazily so the other readers work while (or where) the recording module is absent.
"""

from __future__ import annotations

from pathlib import Path

from twitchwatch.errors import FileFormatError


def read_native(path: Path, placement: str | None = None):
    try:
        from twitchwatch.recording import SessionReader
    except ImportError as exc:
        raise FileFormatError(f"{path}: native session files need twitchwatch.recording ({exc})") from None
    try:
        reader = SessionReader(path, placement=placement)
    except TypeError:  # a SessionReader without a placement override
        reader = SessionReader(path)
        if placement is not None:
            from dataclasses import replace

            from .base import resolve_placement

            reader.device_info = replace(reader.device_info, placement=resolve_placement(reader.device_info.placement, placement))
    return reader
