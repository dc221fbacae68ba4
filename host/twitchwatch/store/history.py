"""The dashboard's read model of history: counts per hour, day or week, and monitored time."""

from __future__ import annotations

import json
import math

from twitchwatch.store.db import Database
from twitchwatch.store.schema import (
    BUSY_LABELS,
    EVENT_BUCKET_S,
    MIN_RATE_MONITORED_S,
    UNMONITORED_FAULTS,
    InvalidInput,
)


#: A session's wall-clock time of device time 0, as SQL over ``sessions s``.
_BASE = "(s.started_at_unix - COALESCE(s.device_t0_s, 0.0))"


class _Buckets:
    """The rows of one history query: buckets of ``width_s`` seconds, shifted to local time."""

    def __init__(self, width_s: float, shift_s: float, lo: float, hi: float):
        self.width, self.shift, self.lo, self.hi = width_s, shift_s, lo, hi
        self.rows: dict[int, dict] = {}
        #: Parameters of :meth:`sql` followed by the [lo, hi) range.
        self.params = (shift_s, width_s, shift_s, lo, hi)

    def row(self, b: int) -> dict:
        r = self.rows.get(b)
        if r is None:
            r = self.rows[b] = {
                "start_unix": b * self.width - self.shift,
                "twitches": 0,
                "twitch_events": 0,
                "events": 0,
                "episodes": {},
                "alerts": {},
                "faults": 0,
                "marks": 0,
                "monitored_s": 0.0,
                "not_monitored_s": 0.0,
                "rate_per_h": None,
            }
        return r

    @staticmethod
    def sql(expr: str) -> str:
        """The bucket index of wall time ``expr`` (floor division in SQL; three parameters)."""
        return f"CAST(((({expr}) + ?) / ?) AS INTEGER) - ((({expr}) + ?) < 0)"

    def spread(self, a: float, z: float, key: str) -> None:
        """Add the seconds of [a, z) (clipped to the range) to ``key`` of each bucket they cover."""
        a, z = max(self.lo, a), min(self.hi, z)
        while a < z:
            b = math.floor((a + self.shift) / self.width)
            seg_end = min((b + 1) * self.width - self.shift, z)
            self.row(b)[key] += seg_end - a
            a = seg_end


class History:
    """Counts over every session by wall-clock time, and the time the sensor really watched."""

    def __init__(self, db: Database):
        self._db = db

    def counts(
        self,
        bucket: str = "day",
        since_unix: float | None = None,
        until_unix: float | None = None,
        utc_offset_s: float = 0.0,
    ) -> list[dict]:
        """Counts per hour, day or week (local time given by ``utc_offset_s``), oldest first.

        Each row: ``start_unix`` (bucket start, UTC seconds); ``twitches``: isolated twitches at
        rest (events of kind "twitch" outside movement, rhythmic-jerking and tremor windows and
        episodes and outside not-monitored time; on the EMG stream when the session has EMG, so one
        twitch seen by two sensors counts once); ``twitch_events``: every event of kind "twitch";
        ``events``, ``episodes`` (dict kind -> count, by episode start), ``alerts`` (dict level ->
        count), ``faults``, ``marks``; ``monitored_s``: session time in the bucket minus the time
        the sensor was not worn or sent no data (:data:`UNMONITORED_FAULTS`); ``not_monitored_s``:
        that excluded time; ``rate_per_h``: twitches per monitored hour, or None when the bucket
        holds too little monitored time for a rate (:data:`MIN_RATE_MONITORED_S`, half of it for
        an hour). Only buckets with session time or counts appear.
        """
        width = {"hour": 3600.0, "day": 86400.0, "week": 7 * 86400.0}.get(bucket)
        if width is None:
            raise InvalidInput(f"bucket must be hour, day or week; got {bucket!r}")
        # Weeks start on Monday: the Unix epoch was a Thursday, 3 days after a Monday.
        shift = float(utc_offset_s) + (3 * 86400.0 if bucket == "week" else 0.0)
        lo = -1e18 if since_unix is None else float(since_unix)
        hi = 1e18 if until_unix is None else float(until_unix)
        b = _Buckets(width, shift, lo, hi)
        self._count_events(b)
        self._count_twitches_at_rest(b)
        for r in self._grouped(b, "episodes", "start_s", ", x.kind AS k", ", k"):
            b.row(r["b"])["episodes"][r["k"]] = r["n"]
        for r in self._grouped(b, "alerts", "t_s", ", x.level AS k", ", k"):
            b.row(r["b"])["alerts"][r["k"]] = r["n"]
        for r in self._grouped(b, "faults", "start_s"):
            b.row(r["b"])["faults"] += r["n"]
        for r in self._grouped(b, "marks", "t_s"):
            b.row(r["b"])["marks"] += r["n"]
        # Monitored time: each session's span minus its not-monitored intervals, over the buckets.
        for sess in self.session_spans(lo, hi):
            for a, z in sess["monitored"]:
                b.spread(a, z, "monitored_s")
            for f in sess["not_monitored"]:
                b.spread(f["start_unix"], f["end_unix"], "not_monitored_s")
        need = min(MIN_RATE_MONITORED_S, width / 2)
        for r in b.rows.values():
            if r["monitored_s"] >= need:
                r["rate_per_h"] = r["twitches"] / (r["monitored_s"] / 3600.0)
        return [b.rows[k] for k in sorted(b.rows)]

    def _grouped(self, b: "_Buckets", table: str, tcol: str, extra_cols: str = "", extra_group: str = ""):
        """Rows of ``table`` counted per bucket of their wall time (``b``, ``n``, and any extra)."""
        return self._db.read(
            f"""SELECT {b.sql(f"{_BASE} + x.{tcol}")} AS b
                {extra_cols}, COUNT(*) AS n
                FROM {table} x JOIN sessions s ON s.id = x.session_id
                WHERE {_BASE} + x.{tcol} >= ? AND {_BASE} + x.{tcol} < ?
                GROUP BY b {extra_group}""",
            b.params,
        )

    def _count_events(self, b: "_Buckets") -> None:
        """Every event and every twitch, from the per-minute counts (by the minute's middle)."""
        half = EVENT_BUCKET_S / 2
        minute_t = f"{_BASE} + x.minute * {EVENT_BUCKET_S} + {half}"
        for r in self._db.read(
            f"""SELECT {b.sql(minute_t)} AS b, SUM(x.twitches) AS tw, SUM(x.events) AS ev
                FROM event_minutes x JOIN sessions s ON s.id = x.session_id
                WHERE {minute_t} >= ? AND {minute_t} < ?
                GROUP BY b""",
            b.params,
        ):
            rr = b.row(r["b"])
            rr["events"] += r["ev"]
            rr["twitch_events"] += r["tw"]

    def _count_twitches_at_rest(self, b: "_Buckets") -> None:
        """Twitches outside busy windows and episodes and outside not-monitored time (EMG first)."""
        emg_ids = self._emg_session_ids()
        emg_list = ",".join(str(i) for i in emg_ids) or "NULL"
        unmon = ",".join(f"'{k}'" for k in UNMONITORED_FAULTS)
        busy = ",".join(f"'{k}'" for k in BUSY_LABELS)
        for r in self._db.read(
            f"""SELECT {b.sql(f"{_BASE} + x.t_s")} AS b, COUNT(*) AS n
                FROM events x JOIN sessions s ON s.id = x.session_id
                WHERE x.kind = 'twitch' AND {_BASE} + x.t_s >= ? AND {_BASE} + x.t_s < ?
                  AND (x.stream = 'emg' OR s.id NOT IN ({emg_list}))
                  AND NOT EXISTS (SELECT 1 FROM busy_spans p WHERE p.session_id = x.session_id
                                  AND p.start_s <= x.t_s AND p.end_s > x.t_s)
                  AND NOT EXISTS (SELECT 1 FROM episodes p WHERE p.session_id = x.session_id
                                  AND p.kind IN ({busy}) AND p.start_s <= x.t_s AND p.end_s >= x.t_s)
                  AND NOT EXISTS (SELECT 1 FROM faults p WHERE p.session_id = x.session_id
                                  AND p.kind IN ({unmon}) AND p.start_s <= x.t_s AND p.end_s > x.t_s)
                GROUP BY b""",
            b.params,
        ):
            b.row(r["b"])["twitches"] += r["n"]

    def _emg_session_ids(self) -> list[int]:
        out = []
        for r in self._db.read("SELECT id, device_info_json FROM sessions"):
            try:
                streams = json.loads(r["device_info_json"]).get("streams", ())
            except (ValueError, AttributeError):
                continue
            if any(isinstance(st, dict) and st.get("kind") == "emg" and st.get("channels", 0) > 0 for st in streams):
                out.append(int(r["id"]))
        return out

    def session_spans(self, since_unix: float | None = None, until_unix: float | None = None) -> list[dict]:
        """Closed sessions overlapping [since, until): ``id``, ``start_unix``, ``end_unix``,
        ``not_monitored`` (the merged intervals of :data:`UNMONITORED_FAULTS`, each with
        ``kind``, ``start_unix``, ``end_unix``, ``duration_s``, clipped to the session) and
        ``monitored`` ((start, end) wall-clock intervals left)."""
        lo = -1e18 if since_unix is None else float(since_unix)
        hi = 1e18 if until_unix is None else float(until_unix)
        out = []
        for s in self._db.read(
            """SELECT id, started_at_unix, COALESCE(device_t0_s, 0.0) AS t0, duration_s FROM sessions
               WHERE duration_s IS NOT NULL AND started_at_unix < ? AND started_at_unix + duration_s > ?
               ORDER BY started_at_unix, id""",
            (hi, lo),
        ):
            a0 = float(s["started_at_unix"])
            z0 = a0 + float(s["duration_s"])
            base = a0 - float(s["t0"])
            off = []
            for f in self._db.read(
                f"""SELECT kind, start_s, end_s FROM faults WHERE session_id = ? AND end_s > start_s
                    AND kind IN ({','.join('?' * len(UNMONITORED_FAULTS))}) ORDER BY start_s""",
                (int(s["id"]), *UNMONITORED_FAULTS),
            ):
                a, z = max(a0, base + f["start_s"]), min(z0, base + f["end_s"])
                if z <= a:
                    continue
                if off and a <= off[-1]["end_unix"]:
                    last = off[-1]
                    last["end_unix"] = max(last["end_unix"], z)
                    if last["kind"] != f["kind"] and f["kind"] == "not_worn":
                        last["kind"] = "not_worn"
                    last["duration_s"] = last["end_unix"] - last["start_unix"]
                else:
                    off.append({"session_id": int(s["id"]), "kind": f["kind"], "start_unix": a, "end_unix": z,
                                "duration_s": z - a})
            mon, cur = [], a0
            for f in off:
                if f["start_unix"] > cur:
                    mon.append((cur, f["start_unix"]))
                cur = max(cur, f["end_unix"])
            if z0 > cur:
                mon.append((cur, z0))
            out.append({"id": int(s["id"]), "start_unix": a0, "end_unix": z0, "not_monitored": off, "monitored": mon})
        return out

    def not_monitored(self, since_unix: float | None = None, until_unix: float | None = None) -> list[dict]:
        """Intervals in [since, until) when a session ran but the sensor was not worn or sent no
        data, oldest first (see :meth:`session_spans`)."""
        lo = -1e18 if since_unix is None else float(since_unix)
        hi = 1e18 if until_unix is None else float(until_unix)
        return [f for s in self.session_spans(lo, hi) for f in s["not_monitored"]
                if f["end_unix"] > lo and f["start_unix"] < hi]

