"""Sessions as a whole: the store's rows and their recording files kept consistent.

- :func:`close_crashed` ends sessions a recorder left open (killed, power cut): the duration comes
  from the recording file (what reached the disk), or from the latest thing stored when the file is
  gone. A session whose file a running recorder still holds (an OS lock, see
  :func:`twitchwatch.recording.is_being_recorded`) is left alone.
- :func:`delete` removes a session from the store and its recording file when that file lives in
  the data folder's ``sessions/`` (a file the user put elsewhere with ``--out`` is theirs: kept,
  and said so).
- :func:`prune` deletes sessions that ended more than N days ago (the ``retention_days`` setting,
  0 = keep everything).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from twitchwatch.errors import FileFormatError
from twitchwatch.recording import SessionReader, is_being_recorded
from twitchwatch.store import InvalidInput

DAY = 86400.0


def close_crashed(store) -> list[tuple[int, float]]:
    """End every open session not being recorded; returns [(id, duration_s)] of those closed."""
    closed = []
    for row in store.db.read("SELECT id, started_at_unix, COALESCE(device_t0_s, 0.0) AS t0, recording_path "
                           "FROM sessions WHERE duration_s IS NULL ORDER BY id"):
        path = row["recording_path"]
        if path and Path(path).exists():
            if is_being_recorded(path):
                continue
            try:
                with SessionReader(path) as r:
                    duration = r.duration_s
            except FileFormatError:
                duration = None
        else:
            duration = None
        if duration is None:  # no readable file: up to the latest thing the store holds
            last = store.db.read(
                """SELECT MAX(t) FROM (SELECT MAX(t_s) AS t FROM events WHERE session_id = ?
                   UNION ALL SELECT MAX(t_s) FROM status WHERE session_id = ?
                   UNION ALL SELECT MAX(end_s) FROM faults WHERE session_id = ?
                   UNION ALL SELECT MAX(end_s) FROM episodes WHERE session_id = ?)""",
                (int(row["id"]),) * 4,
            )[0][0]
            duration = max(0.0, float(last) - float(row["t0"])) if last is not None else 0.0
        store.write.end_session(int(row["id"]), duration)
        closed.append((int(row["id"]), duration))
    return closed


def recording_size(session: dict) -> int | None:
    p = session.get("recording_path")
    try:
        return os.path.getsize(p) if p else None
    except OSError:
        return None


def _owned(store, path: str | None) -> bool:
    """The recording lives in the data folder's sessions/ (ours to delete)."""
    if not path:
        return False
    try:
        return Path(path).resolve().is_relative_to((store.data_dir / "sessions").resolve())
    except OSError:
        return False


def delete(store, session_id: int) -> dict:
    """Delete one session (store rows, labels, and its recording if ours). Returns what was done:
    ``{"id", "recording": path or None, "recording_deleted": bool, "bytes_freed": int}``."""
    s = store.sessions.get_session(int(session_id))
    if s is None:
        raise InvalidInput(f"no session with id {session_id}")
    path = s.get("recording_path")
    if path and Path(path).exists() and is_being_recorded(path):
        raise InvalidInput(f"session {session_id} is being recorded now ({path}); stop the recorder first")
    size = recording_size(s) or 0
    store.write.delete_session(int(session_id))
    deleted = False
    if _owned(store, path) and Path(path).exists():
        Path(path).unlink()
        deleted = True
    return {"id": int(session_id), "recording": path, "recording_deleted": deleted, "bytes_freed": size if deleted else 0}


def older_than(store, days: float, now: float | None = None) -> list[dict]:
    """Sessions that ended (or started, if still open) more than ``days`` ago, oldest first."""
    cut = (time.time() if now is None else now) - float(days) * DAY
    rows = store.db.read(
        "SELECT id FROM sessions WHERE COALESCE(ended_at_unix, started_at_unix) < ? ORDER BY started_at_unix, id", (cut,))
    return [store.sessions.get_session(int(r["id"])) for r in rows]


def prune(store, days: float, now: float | None = None) -> list[dict]:
    """Delete every session older than ``days``; returns :func:`delete`'s results."""
    return [delete(store, s["id"]) for s in older_than(store, days, now)]


def apply_retention(store) -> list[dict]:
    """Prune by the ``retention_days`` setting (nothing when it is 0)."""
    days = store.settings.get().get("retention_days", 0)
    return prune(store, days) if days else []
