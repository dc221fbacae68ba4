"""User labels on alerts (and their export as training labels) and the dashboard's settings.

Labels export format (``Labels.export``, read by ``twitchwatch train``)
---------------------------------------------------------------------
JSON: ``{"format": "twitchwatch-labels", "version": 1, "labels": [row, ...]}``; CSV: one header
line then one row per label with the same keys as columns. Each row:

================= =========================================================================
key               meaning
================= =========================================================================
alert_id          store id of the alert
session_id        store id of the session
recording_path    session recording file (absolute path) or "" when none was kept
device_id         device that recorded it; placement: "foot", "ankle" or "wrist"
alert_kind        e.g. "rhythmic_jerking" or a fault kind; alert_level: "warning"|"alarm"|"fault"
start_s, end_s    the labelled span on the recording's (device) clock, seconds: the episode that
                  raised the alert (its end if known, else the alert time)
alert_t_s         when the alert was raised (device clock, s)
start_unix        wall-clock time of start_s (Unix seconds, UTC)
label             "confirmed" (it was what the alert said), "false_alarm" (it was not), "unsure"
note              free text by the person who labelled it
labelled_at_unix  when the label was set; labelled_by: who set it (free text, may be empty)
================= =========================================================================
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from pathlib import Path
from typing import Any

from twitchwatch.errors import StoreError
from twitchwatch.store.db import Database
from twitchwatch.store.schema import InvalidInput
from twitchwatch.store.sessions import Sessions

#: Values a user label may take.
LABELS: tuple[str, ...] = ("confirmed", "false_alarm", "unsure")
#: Longest accepted label note and "by" name, characters (a note is a sentence or two, not a file).
MAX_NOTE_CHARS = 2000
MAX_BY_CHARS = 100
#: Settings the dashboard may change, with their validators (value -> normalised value or raise).
SETTINGS: dict[str, tuple[Any, Any]] = {
    # key: (default, validator)
    "alert_sound": (True, lambda v: _validate_bool(v)),
    "stale_after_s": (3.0, lambda v: _validate_number(v, 0.5, 60.0)),
    # sessions older than this many days are deleted (store rows and recording files) when a
    # recording starts and by `twitchwatch sessions prune`; 0 keeps everything
    "retention_days": (0, lambda v: _validate_int(v, 0, 36500)),
}


def _validate_bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise InvalidInput(f"expected true or false, got {v!r}")
    return v


def _validate_number(v: Any, lo: float, hi: float) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        raise InvalidInput(f"expected a number in [{lo}, {hi}], got {v!r}")
    return float(v)


def _validate_int(v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v != int(v) or not lo <= v <= hi:
        raise InvalidInput(f"expected a whole number in [{lo}, {hi}], got {v!r}")
    return int(v)


LABEL_COLUMNS: tuple[str, ...] = (
    "alert_id", "session_id", "recording_path", "device_id", "placement", "alert_kind", "alert_level",
    "start_s", "end_s", "alert_t_s", "start_unix", "label", "note", "labelled_at_unix", "labelled_by",
)


class Labels:
    """One label per alert: set, clear, read, and export them as training labels."""

    def __init__(self, db: Database, sessions: Sessions):
        self._db = db
        self._sessions = sessions

    def set(self, alert_id: int, label: str, note: str = "", by: str = "", at_unix: float | None = None) -> dict:
        """Label an alert (replacing any earlier label). Returns the stored label as a dict.

        Raises :class:`InvalidInput` (a StoreError and a ValueError) for an unknown alert, a label
        not in :data:`LABELS`, or a note/by that is not text or too long; nothing is written then.
        """
        if isinstance(alert_id, bool) or not isinstance(alert_id, int):
            raise InvalidInput(f"alert id must be an integer, got {alert_id!r}")
        if label not in LABELS:
            raise InvalidInput(f"label must be one of {', '.join(LABELS)}; got {label!r}")
        if not isinstance(note, str) or len(note) > MAX_NOTE_CHARS:
            raise InvalidInput(f"note must be text of at most {MAX_NOTE_CHARS} characters")
        if not isinstance(by, str) or len(by) > MAX_BY_CHARS:
            raise InvalidInput(f"'by' must be text of at most {MAX_BY_CHARS} characters")
        if "\x00" in note or "\x00" in by:
            raise InvalidInput("note and 'by' must not contain NUL characters")
        when = time.time() if at_unix is None else float(at_unix)

        def upsert(conn):
            if conn.execute("SELECT 1 FROM alerts WHERE id = ?", (alert_id,)).fetchone() is None:
                raise InvalidInput(f"no alert with id {alert_id}")
            conn.execute(
                """INSERT INTO labels (alert_id, label, note, labelled_at_unix, labelled_by) VALUES (?,?,?,?,?)
                   ON CONFLICT(alert_id) DO UPDATE SET label = excluded.label, note = excluded.note,
                   labelled_at_unix = excluded.labelled_at_unix, labelled_by = excluded.labelled_by""",
                (alert_id, label, note, when, by),
            )

        self._db.write(upsert)
        return {"alert_id": alert_id, "label": label, "note": note, "labelled_at_unix": when, "labelled_by": by}

    def clear(self, alert_id: int) -> bool:
        """Remove an alert's label; True if there was one."""
        return self._db.write(lambda c: c.execute("DELETE FROM labels WHERE alert_id = ?", (int(alert_id),)).rowcount == 1)

    def get(self, alert_id: int) -> dict | None:
        rows = self._db.read("SELECT * FROM labels WHERE alert_id = ?", (int(alert_id),))
        return dict(rows[0]) if rows else None

    def rows(self) -> list[dict]:
        """Every labelled alert as a training-label row (see the module docstring for the keys)."""
        out = []
        for a in self._sessions.alerts():
            if a["label"] is None:
                continue
            s = self._sessions.get_session(a["session_id"])
            end = a["episode_end_s"] if a["episode_end_s"] is not None else a["t_s"]
            out.append(
                {
                    "alert_id": a["id"],
                    "session_id": a["session_id"],
                    "recording_path": s["recording_path"] or "",
                    "device_id": s["device_id"],
                    "placement": s["placement"],
                    "alert_kind": a["kind"],
                    "alert_level": a["level"],
                    "start_s": a["episode_start_s"],
                    "end_s": end,
                    "alert_t_s": a["t_s"],
                    "start_unix": a["episode_start_unix"],
                    "label": a["label"]["label"],
                    "note": a["label"]["note"],
                    "labelled_at_unix": a["label"]["labelled_at_unix"],
                    "labelled_by": a["label"]["labelled_by"],
                }
            )
        return out

    def export(self, path: str | os.PathLike | None = None, format: str = "json") -> str:
        """Labelled alerts as training labels, as JSON or CSV text (written to ``path`` if given).

        The format is documented in this module's docstring.
        """
        rows = self.rows()
        if format == "json":
            text = json.dumps({"format": "twitchwatch-labels", "version": 1, "labels": rows}, indent=1)
        elif format == "csv":
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=list(LABEL_COLUMNS), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
            text = buf.getvalue()
        else:
            raise InvalidInput(f"export format must be json or csv; got {format!r}")
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


class Settings:
    """The settings the dashboard may change (:data:`SETTINGS`), validated, stored as JSON."""

    def __init__(self, db: Database):
        self._db = db

    def get(self) -> dict[str, Any]:
        out = {k: d for k, (d, _) in SETTINGS.items()}
        for r in self._db.read("SELECT key, value_json FROM settings"):
            if r["key"] in SETTINGS:
                out[r["key"]] = json.loads(r["value_json"])
        return out

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Validate every change first, then write them all in one transaction."""
        if not isinstance(changes, dict) or not changes:
            raise InvalidInput("settings: expected a non-empty object of key: value")
        clean = {}
        for k, v in changes.items():
            if k not in SETTINGS:
                raise InvalidInput(f"unknown setting {k!r}; known: {', '.join(SETTINGS)}")
            try:
                clean[k] = SETTINGS[k][1](v)
            except InvalidInput as exc:
                raise InvalidInput(f"setting {k}: {exc}") from None
        self._db.write(lambda c: c.executemany(
            "INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json",
            [(k, json.dumps(v)) for k, v in clean.items()]))
        return self.get()


def read_labels(path: str | os.PathLike) -> list[dict]:
    """Read a labels file written by :meth:`Labels.export` (JSON or CSV, by content)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise StoreError(f"{p}: cannot read labels: {exc.strerror or exc}") from None
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise StoreError(f"{p}: not a labels file: {exc}") from None
        if doc.get("format") != "twitchwatch-labels":
            raise StoreError(f"{p}: not a twitchwatch labels file (format={doc.get('format')!r})")
        return list(doc["labels"])
    rows = list(csv.DictReader(io.StringIO(text)))
    if rows and set(LABEL_COLUMNS) - set(rows[0]):
        raise StoreError(f"{p}: labels CSV lacks columns {sorted(set(LABEL_COLUMNS) - set(rows[0]))}")
    for r in rows:
        for k in ("alert_id", "session_id"):
            r[k] = int(r[k])
        for k in ("start_s", "end_s", "alert_t_s", "start_unix", "labelled_at_unix"):
            r[k] = float(r[k])
    return rows

