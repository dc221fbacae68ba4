"""The dashboard's read model of sessions: lists, one session's timeline, alerts and episodes.

Times: detector outputs carry seconds on the *device* clock; a session row holds the wall-clock start
``started_at_unix`` and the device time that corresponds to it, ``device_t0_s``. The wall time of a
device time ``t`` is ``started_at_unix + (t - device_t0_s)``. Query results give both.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

from twitchwatch.store.db import Database
from twitchwatch.store.schema import WINDOW_BUCKET_S


class Sessions:
    """Read-only queries over sessions and what they hold."""

    def __init__(self, db: Database):
        self._db = db

    _SESSION_COLS = """s.id, s.started_at_unix, COALESCE(s.device_t0_s, 0.0) AS device_t0_s, s.source, s.device_id,
        s.placement, s.firmware_version, s.protocol_version, s.recording_path, s.duration_s, s.ended_at_unix"""

    def list_sessions(self, limit: int = 500, offset: int = 0) -> list[dict]:
        """Sessions, newest first, with counts of what they hold."""
        rows = self._db.read(
            f"""SELECT {self._SESSION_COLS},
                (SELECT COALESCE(SUM(m.twitches), 0) FROM event_minutes m WHERE m.session_id = s.id) AS n_twitches,
                (SELECT COALESCE(SUM(m.events), 0) FROM event_minutes m WHERE m.session_id = s.id) AS n_events,
                (SELECT COUNT(*) FROM episodes e WHERE e.session_id = s.id) AS n_episodes,
                (SELECT COUNT(*) FROM alerts a WHERE a.session_id = s.id) AS n_alerts,
                (SELECT COUNT(*) FROM alerts a LEFT JOIN labels l ON l.alert_id = a.id
                   WHERE a.session_id = s.id AND l.alert_id IS NULL) AS n_unlabelled,
                (SELECT COUNT(*) FROM faults f WHERE f.session_id = s.id) AS n_faults,
                (SELECT COUNT(*) FROM marks m WHERE m.session_id = s.id) AS n_marks
               FROM sessions s ORDER BY s.started_at_unix DESC, s.id DESC LIMIT ? OFFSET ?""",
            (int(limit), int(offset)),
        )
        return [dict(r) for r in rows]

    def get_session(self, session_id: int) -> dict | None:
        rows = self._db.read(f"SELECT {self._SESSION_COLS}, s.device_info_json FROM sessions s WHERE s.id = ?", (int(session_id),))
        if not rows:
            return None
        d = dict(rows[0])
        d["device_info"] = json.loads(d.pop("device_info_json"))
        return d

    def _wall(self, session: dict):
        base = session["started_at_unix"] - session["device_t0_s"]
        return lambda t: base + t

    def timeline(self, session_id: int, max_events: int = 20000) -> dict | None:
        """Everything in one session, in device time (``t_s``) and wall time (``*_unix``).

        Returns None for an unknown session. Events beyond ``max_events`` are thinned evenly
        (``events_total`` says how many there are).
        """
        s = self.get_session(session_id)
        if s is None:
            return None
        sid = int(session_id)
        wall = self._wall(s)
        n_events = self._db.read("SELECT COUNT(*) FROM events WHERE session_id = ?", (sid,))[0][0]
        step = max(1, math.ceil(n_events / max(1, max_events)))
        events = [
            dict(r) | {"t_unix": wall(r["t_s"])}
            for r in self._db.read(
                """SELECT id, t_s, duration_s, kind, stream, channel, amplitude FROM
                   (SELECT *, ROW_NUMBER() OVER (ORDER BY t_s) - 1 AS rn FROM events WHERE session_id = ?)
                   WHERE rn % ? = 0 ORDER BY t_s""",
                (sid, step),
            )
        ]
        episodes = [
            dict(r) | {"start_unix": wall(r["start_s"]), "end_unix": wall(r["end_s"])}
            for r in self._db.read(
                "SELECT id, kind, start_s, end_s, dominant_hz, n_windows, max_level FROM episodes WHERE session_id = ? ORDER BY start_s",
                (sid,),
            )
        ]
        faults = [
            dict(r) | {"start_unix": wall(r["start_s"]), "end_unix": wall(r["end_s"])}
            for r in self._db.read("SELECT id, kind, start_s, end_s, stream, detail FROM faults WHERE session_id = ? ORDER BY start_s", (sid,))
        ]
        marks = [
            dict(r) | {"t_unix": wall(r["t_s"])}
            for r in self._db.read("SELECT id, t_s, note FROM marks WHERE session_id = ? ORDER BY t_s", (sid,))
        ]
        windows = [
            {"start_s": r["bucket"] * WINDOW_BUCKET_S, "label": r["label"], "n": r["n"]}
            for r in self._db.read("SELECT bucket, label, n FROM window_counts WHERE session_id = ? ORDER BY bucket, label", (sid,))
        ]
        status = [
            dict(r) | {"lead_off": json.loads(r["lead_off_json"])}
            for r in self._db.read(
                "SELECT t_s, battery_pct, battery_mv, dropped_samples, lead_off_json, imu_saturation_count FROM status WHERE session_id = ? ORDER BY t_s",
                (sid,),
            )
        ]
        for st in status:
            st.pop("lead_off_json")
        return {
            "session": s,
            "events": events,
            "events_total": int(n_events),
            "episodes": episodes,
            "alerts": self.alerts(session_id=sid),
            "faults": faults,
            "marks": marks,
            "windows": windows,
            "status": status,
        }

    def alerts(
        self,
        session_id: int | None = None,
        since_unix: float | None = None,
        until_unix: float | None = None,
        limit: int = 10000,
    ) -> list[dict]:
        """Alerts with their labels (None when unlabelled), oldest first."""
        where, params = [], []
        if session_id is not None:
            where.append("a.session_id = ?")
            params.append(int(session_id))
        wall_t = "(s.started_at_unix - COALESCE(s.device_t0_s, 0.0) + a.t_s)"
        _within(where, params, wall_t, since_unix, until_unix)
        sql = f"""SELECT a.id, a.session_id, a.level, a.kind, a.t_s, a.episode_start_s, a.reasons_json,
                  {wall_t} AS t_unix, s.started_at_unix - COALESCE(s.device_t0_s, 0.0) + a.episode_start_s AS episode_start_unix,
                  l.label, l.note, l.labelled_at_unix, l.labelled_by,
                  (SELECT e.end_s FROM episodes e WHERE e.session_id = a.session_id AND e.kind = a.kind
                     AND e.start_s <= a.episode_start_s + 1e-6 AND e.end_s >= a.t_s - 1e-6
                     ORDER BY e.start_s DESC LIMIT 1) AS episode_end_s
                  FROM alerts a JOIN sessions s ON s.id = a.session_id LEFT JOIN labels l ON l.alert_id = a.id
                  {'WHERE ' + ' AND '.join(where) if where else ''}
                  ORDER BY t_unix, a.id LIMIT ?"""
        params.append(int(limit))
        out = []
        for r in self._db.read(sql, params):
            d = dict(r)
            d["reasons"] = [(k, v) for k, v in json.loads(d.pop("reasons_json"))]
            lab = d.pop("label")
            note, when, by = d.pop("note"), d.pop("labelled_at_unix"), d.pop("labelled_by")
            d["label"] = None if lab is None else {"label": lab, "note": note, "labelled_at_unix": when, "labelled_by": by}
            out.append(d)
        return out

    def get_alert(self, alert_id: int) -> dict | None:
        """One alert with its label, session and the session's recording path."""
        rows = self._db.read("SELECT session_id FROM alerts WHERE id = ?", (int(alert_id),))
        if not rows:
            return None
        sid = rows[0][0]
        for a in self.alerts(session_id=sid):
            if a["id"] == int(alert_id):
                a["session"] = self.get_session(sid)
                return a
        return None

    def episodes(
        self,
        since_unix: float | None = None,
        until_unix: float | None = None,
        kinds: Iterable[str] | None = None,
        limit: int = 1000,
    ) -> list[dict]:
        """Episodes over every session by wall-clock start, oldest first, with their session's
        ``recording_path`` and wall times ``start_unix``/``end_unix``."""
        base = "(s.started_at_unix - COALESCE(s.device_t0_s, 0.0))"
        where, params = [], []
        _within(where, params, f"{base} + e.start_s", since_unix, until_unix)
        kinds = tuple(kinds) if kinds is not None else None
        if kinds is not None:
            if not kinds:
                return []
            where.append(f"e.kind IN ({','.join('?' * len(kinds))})")
            params.extend(kinds)
        params.append(int(limit))
        rows = self._db.read(
            f"""SELECT e.id, e.session_id, e.kind, e.start_s, e.end_s, e.dominant_hz, e.n_windows, e.max_level,
                {base} + e.start_s AS start_unix, {base} + e.end_s AS end_unix, s.recording_path, s.placement
                FROM episodes e JOIN sessions s ON s.id = e.session_id
                {'WHERE ' + ' AND '.join(where) if where else ''}
                ORDER BY start_unix, e.id LIMIT ?""",
            params,
        )
        return [dict(r) for r in rows]

    def span_unix(self) -> tuple[float, float] | None:
        """Wall-clock (first start, last end) over every session, or None when empty."""
        r = self._db.read("SELECT MIN(started_at_unix), MAX(COALESCE(ended_at_unix, started_at_unix)) FROM sessions")[0]
        return None if r[0] is None else (float(r[0]), float(r[1]))


def _within(where: list[str], params: list, expr: str, since_unix: float | None, until_unix: float | None) -> None:
    """Add to ``where``/``params`` the conditions since_unix <= ``expr`` < until_unix (either bound
    None: open on that side)."""
    if since_unix is not None:
        where.append(f"{expr} >= ?")
        params.append(float(since_unix))
    if until_unix is not None:
        where.append(f"{expr} < ?")
        params.append(float(until_unix))
