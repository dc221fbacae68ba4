"""The pipeline's write path: sessions and what the detector found in them, one transaction a call."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from twitchwatch.model import Alert, DetectorOutput, DeviceInfo, Fault, Mark, Status
from twitchwatch.store.db import Database
from twitchwatch.store.schema import BUSY_LABELS, EVENT_BUCKET_S, WINDOW_BUCKET_S, InvalidInput, _finite


class Writer:
    """Writes one live (or imported) session: ``create_session``, outputs as they come, ``end_session``."""

    def __init__(self, db: Database):
        self._db = db

    def create_session(
        self,
        device_info: DeviceInfo,
        source: str,
        started_at_unix: float,
        recording_path: str | os.PathLike | None = None,
        device_t0_s: float | None = None,
    ) -> int:
        """Start a session; returns its id.

        ``device_t0_s`` is the device time (s) at ``started_at_unix``; leave it None and call
        :meth:`anchor_clock` with the first chunk's time when it is not known yet (0.0 is assumed
        until then).
        """
        if not math.isfinite(float(started_at_unix)):
            raise InvalidInput(f"started_at_unix must be finite, got {started_at_unix!r}")
        info_json = json.dumps(asdict(device_info))
        rec = str(Path(recording_path).resolve()) if recording_path is not None else None

        def ins(conn):
            cur = conn.execute(
                """INSERT INTO sessions (started_at_unix, device_t0_s, source, device_id, placement,
                   firmware_version, protocol_version, device_info_json, recording_path)
                   VALUES (?,?,?,?,?,?,?,?,?)""",
                (
                    float(started_at_unix),
                    None if device_t0_s is None else float(device_t0_s),
                    str(source),
                    device_info.device_id,
                    device_info.placement,
                    device_info.firmware_version,
                    int(device_info.protocol_version),
                    info_json,
                    rec,
                ),
            )
            return int(cur.lastrowid)

        return self._db.write(ins)

    def anchor_clock(self, session_id: int, device_t_s: float, at_unix: float | None = None) -> bool:
        """Tie device time ``device_t_s`` to the session's wall-clock start, once.

        With ``at_unix`` given, the session's start is moved so that ``device_t_s`` maps to it.
        Returns True if the anchor was set now, False if the session already had one.
        """

        def upd(conn):
            if at_unix is None:
                cur = conn.execute(
                    "UPDATE sessions SET device_t0_s = ? WHERE id = ? AND device_t0_s IS NULL",
                    (float(device_t_s), int(session_id)),
                )
            else:
                cur = conn.execute(
                    "UPDATE sessions SET device_t0_s = ?, started_at_unix = ? WHERE id = ? AND device_t0_s IS NULL",
                    (float(device_t_s), float(at_unix), int(session_id)),
                )
            return cur.rowcount == 1

        return self._db.write(upd)

    def add_output(self, session_id: int, out: DetectorOutput) -> list[int]:
        """Persist one detector output (events, episodes, alerts, faults; windows are counted per
        minute and label). Returns the ids of the alerts inserted, in order."""
        if not out:
            return []
        sid = int(session_id)

        def ins(conn):
            _check_session(conn, sid)
            if out.events:
                conn.executemany(
                    "INSERT INTO events (session_id, t_s, duration_s, kind, stream, channel, amplitude) VALUES (?,?,?,?,?,?,?)",
                    [(sid, e.t_s, e.duration_s, e.kind, e.stream, e.channel, _finite(e.amplitude) or 0.0) for e in out.events],
                )
                per_minute: dict[int, list[int]] = {}
                for e in out.events:
                    c = per_minute.setdefault(int(math.floor(e.t_s / EVENT_BUCKET_S)), [0, 0])
                    c[0] += e.kind == "twitch"
                    c[1] += 1
                conn.executemany(
                    """INSERT INTO event_minutes (session_id, minute, twitches, events) VALUES (?,?,?,?)
                       ON CONFLICT(session_id, minute) DO UPDATE SET twitches = twitches + excluded.twitches,
                       events = events + excluded.events""",
                    [(sid, m, c[0], c[1]) for m, c in per_minute.items()],
                )
            if out.episodes:
                conn.executemany(
                    "INSERT INTO episodes (session_id, kind, start_s, end_s, dominant_hz, n_windows, max_level) VALUES (?,?,?,?,?,?,?)",
                    [
                        (sid, e.kind, e.start_s, e.end_s, _finite(e.dominant_hz) or 0.0, int(e.n_windows), e.max_level)
                        for e in out.episodes
                    ],
                )
            ids = [_insert_alert(conn, sid, a) for a in out.alerts]
            if out.faults:
                _insert_faults(conn, sid, out.faults)
            if out.windows:
                counts: dict[tuple[int, str], int] = {}
                for w in out.windows:
                    key = (int(math.floor(w.start_s / WINDOW_BUCKET_S)), w.label)
                    counts[key] = counts.get(key, 0) + 1
                conn.executemany(
                    """INSERT INTO window_counts (session_id, bucket, label, n) VALUES (?,?,?,?)
                       ON CONFLICT(session_id, bucket, label) DO UPDATE SET n = n + excluded.n""",
                    [(sid, b, lab, n) for (b, lab), n in counts.items()],
                )
                _insert_busy(conn, sid, out.windows)
            return ids

        return self._db.write(ins)

    def add_alert(self, session_id: int, alert: Alert) -> int:
        """Persist one alert; returns its id."""
        return self.add_output(session_id, DetectorOutput(alerts=(alert,)))[0]

    def add_faults(self, session_id: int, faults: Iterable[Fault]) -> None:
        faults = tuple(faults)
        if faults:
            self._db.write(lambda conn: (_check_session(conn, int(session_id)), _insert_faults(conn, int(session_id), faults)))

    def add_marks(self, session_id: int, marks: Iterable[Mark]) -> None:
        rows = [(int(session_id), float(m.t_s), str(m.note)) for m in marks]
        if rows:

            def ins(conn):
                _check_session(conn, int(session_id))
                conn.executemany("INSERT INTO marks (session_id, t_s, note) VALUES (?,?,?)", rows)

            self._db.write(ins)

    def add_status(self, session_id: int, status: Status | Iterable[Status]) -> None:
        items = (status,) if isinstance(status, Status) else tuple(status)
        rows = [
            (
                int(session_id),
                float(s.t_s),
                int(s.battery_pct),
                int(s.battery_mv),
                int(s.dropped_samples),
                json.dumps([bool(x) for x in s.lead_off]),
                int(s.imu_saturation_count),
            )
            for s in items
        ]
        if rows:

            def ins(conn):
                _check_session(conn, int(session_id))
                conn.executemany(
                    """INSERT INTO status (session_id, t_s, battery_pct, battery_mv, dropped_samples,
                       lead_off_json, imu_saturation_count) VALUES (?,?,?,?,?,?,?)""",
                    rows,
                )

            self._db.write(ins)

    def end_session(self, session_id: int, duration_s: float, ended_at_unix: float | None = None) -> None:
        """Close a session: its monitored duration (s) and when it ended (wall clock)."""
        d = float(duration_s)
        if not math.isfinite(d) or d < 0:
            raise InvalidInput(f"duration_s must be finite and >= 0, got {duration_s!r}")

        def upd(conn):
            _check_session(conn, int(session_id))
            row = conn.execute("SELECT started_at_unix FROM sessions WHERE id = ?", (int(session_id),)).fetchone()
            end = float(ended_at_unix) if ended_at_unix is not None else float(row[0]) + d
            conn.execute("UPDATE sessions SET duration_s = ?, ended_at_unix = ? WHERE id = ?", (d, end, int(session_id)))

        self._db.write(upd)

    def set_recording_path(self, session_id: int, path: str | os.PathLike | None) -> None:
        rec = str(Path(path).resolve()) if path is not None else None
        self._db.write(lambda c: (_check_session(c, int(session_id)), c.execute(
            "UPDATE sessions SET recording_path = ? WHERE id = ?", (rec, int(session_id)))))

    def delete_session(self, session_id: int) -> None:
        """Remove a session and everything in it (labels included). The recording file is kept."""
        self._db.write(lambda c: (_check_session(c, int(session_id)), c.execute(
            "DELETE FROM sessions WHERE id = ?", (int(session_id),))))


def _check_session(conn, sid: int) -> None:
    if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone() is None:
        raise InvalidInput(f"no session with id {sid}")

def _insert_alert(conn, sid: int, a: Alert) -> int:
    reasons = [[str(k), _finite(v)] for k, v in a.reasons]
    cur = conn.execute(
        "INSERT INTO alerts (session_id, level, kind, t_s, episode_start_s, reasons_json) VALUES (?,?,?,?,?,?)",
        (sid, a.level, a.kind, float(a.t_s), float(a.episode_start_s), json.dumps(reasons)),
    )
    return int(cur.lastrowid)

def _insert_faults(conn, sid: int, faults: tuple[Fault, ...]) -> None:
    """Insert faults; one with the kind, stream and start of a stored one is that fault
    reported again with its end known: the stored one is extended, not duplicated."""
    for f in faults:
        start, end = float(f.start_s), max(float(f.start_s), float(f.end_s))
        cur = conn.execute(
            """UPDATE faults SET end_s = MAX(end_s, ?), detail = ? WHERE session_id = ? AND kind = ?
               AND stream = ? AND ABS(start_s - ?) < 1e-6""",
            (end, f.detail, sid, f.kind, f.stream, start),
        )
        if cur.rowcount == 0:
            conn.execute(
                "INSERT INTO faults (session_id, kind, start_s, end_s, stream, detail) VALUES (?,?,?,?,?,?)",
                (sid, f.kind, start, end, f.stream, f.detail),
            )

def _insert_busy(conn, sid: int, windows) -> None:
    """Merge windows labelled BUSY_LABELS into spans per label (windows overlap by design)."""
    for w in sorted((w for w in windows if w.label in BUSY_LABELS), key=lambda w: w.start_s):
        row = conn.execute(
            "SELECT id, end_s FROM busy_spans WHERE session_id = ? AND label = ? ORDER BY end_s DESC LIMIT 1",
            (sid, w.label),
        ).fetchone()
        if row is not None and row[1] >= float(w.start_s) - 1e-6:
            conn.execute("UPDATE busy_spans SET end_s = MAX(end_s, ?) WHERE id = ?", (float(w.end_s), row[0]))
        else:
            conn.execute(
                "INSERT INTO busy_spans (session_id, label, start_s, end_s) VALUES (?,?,?,?)",
                (sid, w.label, float(w.start_s), float(w.end_s)),
            )

