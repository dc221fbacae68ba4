"""The local store: one SQLite file (WAL mode) with sessions and what the detector found in them.

Layout of the data folder (:func:`default_data_dir`)::

    $TWITCHWATCH_HOME  (or ~/.local/share/twitchwatch)
      twitchwatch.db        this store
      sessions/             session recordings (written by twitchwatch.recording)

Times
-----
Detector outputs carry seconds on the *device* clock. A session row holds the wall-clock start
``started_at_unix`` and the device time that corresponds to it, ``device_t0_s`` (0.0 unless the
caller knows better, e.g. the first chunk's ``t0_s``; see :meth:`Store.anchor_clock`). The wall time
of a device time ``t`` is ``started_at_unix + (t - device_t0_s)``. Query results give both.

Schema
------
Versioned from day one: table ``schema_version`` holds one integer; :data:`MIGRATIONS` is the
ordered list of migrations, each applied once in its own transaction. A database written by a newer
twitchwatch (higher version than this code knows) is refused with :class:`StoreError`.

Tables: sessions, events, episodes, alerts, faults, marks, status, window_counts (window labels
aggregated per session-minute), labels (one user label per alert), settings.

Labels export format (``Store.export_labels``, read by ``twitchwatch train``)
----------------------------------------------------------------------------
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

Thread safety
-------------
One SQLite connection per thread (``threading.local``); writes are serialised by a lock and run
in a single transaction each, so a failing write leaves nothing half-written. Readers (the
dashboard's worker threads) never block the writer thanks to WAL.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from twitchwatch.errors import StoreError
from twitchwatch.model import Alert, DetectorOutput, DeviceInfo, Fault, Mark, Status

DB_NAME = "twitchwatch.db"
SESSIONS_DIR = "sessions"

#: Values a user label may take.
LABELS: tuple[str, ...] = ("confirmed", "false_alarm", "unsure")
#: Longest accepted label note and "by" name, characters (a note is a sentence or two, not a file).
MAX_NOTE_CHARS = 2000
MAX_BY_CHARS = 100
#: Window labels are aggregated into buckets of this many seconds (device clock).
WINDOW_BUCKET_S = 60.0
#: Events are also counted per bucket of this many seconds (device clock) for history queries;
#: history assigns a bucket's events to the hour/day/week holding the bucket's middle, so an
#: event may land up to 30 s across an hour boundary (totals are exact).
EVENT_BUCKET_S = 60.0

#: Settings the dashboard may change, with their validators (value -> normalised value or raise).
SETTINGS: dict[str, tuple[Any, Any]] = {
    # key: (default, validator)
    "alert_sound": (True, lambda v: _validate_bool(v)),
    "stale_after_s": (3.0, lambda v: _validate_number(v, 0.5, 60.0)),
    # sessions older than this many days are deleted (store rows and recording files) when a
    # recording starts and by `twitchwatch sessions prune`; 0 keeps everything
    "retention_days": (0, lambda v: _validate_int(v, 0, 36500)),
}


class InvalidInput(StoreError, ValueError):
    """A caller passed a value the store refuses (bad label, unknown alert, ...). Nothing was written."""


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


def default_data_dir() -> Path:
    """The data folder: ``$TWITCHWATCH_HOME`` if set, else ``~/.local/share/twitchwatch``."""
    env = os.environ.get("TWITCHWATCH_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".local" / "share" / "twitchwatch"


def default_db_path(data_dir: Path | None = None) -> Path:
    return Path(data_dir if data_dir is not None else default_data_dir()) / DB_NAME


# ----------------------------------------------------------------------------------------------
# Schema migrations: append only. Never edit a migration that has shipped; add a new one.
# ----------------------------------------------------------------------------------------------
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: initial schema
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at_unix REAL NOT NULL,
            device_t0_s REAL,
            source TEXT NOT NULL DEFAULT '',
            device_id TEXT NOT NULL DEFAULT '',
            placement TEXT NOT NULL DEFAULT '',
            firmware_version TEXT NOT NULL DEFAULT '',
            protocol_version INTEGER NOT NULL DEFAULT 0,
            device_info_json TEXT NOT NULL DEFAULT '{}',
            recording_path TEXT,
            duration_s REAL,
            ended_at_unix REAL
        )""",
        """CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            t_s REAL NOT NULL, duration_s REAL NOT NULL, kind TEXT NOT NULL,
            stream TEXT NOT NULL, channel TEXT NOT NULL, amplitude REAL NOT NULL
        )""",
        "CREATE INDEX events_session_t ON events(session_id, t_s)",
        """CREATE TABLE episodes (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL, start_s REAL NOT NULL, end_s REAL NOT NULL,
            dominant_hz REAL NOT NULL, n_windows INTEGER NOT NULL, max_level TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX episodes_session_t ON episodes(session_id, start_s)",
        """CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            level TEXT NOT NULL, kind TEXT NOT NULL, t_s REAL NOT NULL,
            episode_start_s REAL NOT NULL, reasons_json TEXT NOT NULL DEFAULT '[]'
        )""",
        "CREATE INDEX alerts_session_t ON alerts(session_id, t_s)",
        """CREATE TABLE faults (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            kind TEXT NOT NULL, start_s REAL NOT NULL, end_s REAL NOT NULL,
            stream TEXT NOT NULL DEFAULT '', detail TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX faults_session_t ON faults(session_id, start_s)",
        """CREATE TABLE marks (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            t_s REAL NOT NULL, note TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX marks_session_t ON marks(session_id, t_s)",
        """CREATE TABLE status (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            t_s REAL NOT NULL, battery_pct INTEGER NOT NULL, battery_mv INTEGER NOT NULL,
            dropped_samples INTEGER NOT NULL, lead_off_json TEXT NOT NULL DEFAULT '[]',
            imu_saturation_count INTEGER NOT NULL
        )""",
        "CREATE INDEX status_session_t ON status(session_id, t_s)",
        """CREATE TABLE window_counts (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            bucket INTEGER NOT NULL, label TEXT NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (session_id, bucket, label)
        )""",
        """CREATE TABLE labels (
            alert_id INTEGER PRIMARY KEY REFERENCES alerts(id) ON DELETE CASCADE,
            label TEXT NOT NULL CHECK (label IN ('confirmed', 'false_alarm', 'unsure')),
            note TEXT NOT NULL DEFAULT '',
            labelled_at_unix REAL NOT NULL,
            labelled_by TEXT NOT NULL DEFAULT ''
        )""",
        """CREATE TABLE settings (key TEXT PRIMARY KEY, value_json TEXT NOT NULL)""",
    ),
    # 2: events counted per session-minute (device clock), so history over months is fast;
    # backfilled from the events already stored.
    (
        """CREATE TABLE event_minutes (
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            minute INTEGER NOT NULL, twitches INTEGER NOT NULL, events INTEGER NOT NULL,
            PRIMARY KEY (session_id, minute)
        )""",
        """INSERT INTO event_minutes (session_id, minute, twitches, events)
           SELECT session_id, CAST(t_s / 60 AS INTEGER) - (t_s < 0 AND t_s / 60 != CAST(t_s / 60 AS INTEGER)) AS m,
                  SUM(kind = 'twitch'), COUNT(*)
           FROM events GROUP BY session_id, m""",
    ),
    # 3: spans of windows labelled as movement, rhythmic jerking or tremor (merged runs), so a
    # twitch rate counts only isolated twitches at rest; faults are intervals (a fault reported
    # again with the same start extends the stored one).
    (
        """CREATE TABLE busy_spans (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            label TEXT NOT NULL, start_s REAL NOT NULL, end_s REAL NOT NULL
        )""",
        "CREATE INDEX busy_spans_session_t ON busy_spans(session_id, start_s)",
        "CREATE INDEX events_session_kind_t ON events(session_id, kind, t_s)",
    ),
)

#: Window labels during which a twitch is not an isolated benign twitch (it is a step, a jerk of
#: an episode, a tremor beat).
BUSY_LABELS: tuple[str, ...] = ("voluntary_movement", "rhythmic_jerking", "tremor")
#: Fault kinds whose time is not monitored time (sensor off the body, no data).
UNMONITORED_FAULTS: tuple[str, ...] = ("not_worn", "gap", "signal_lost")
#: Least monitored time for a twitch rate (per hour) to be shown, seconds; below it the rate is
#: None and the dashboard/report say there is too little time. An hour bucket needs half of this.
MIN_RATE_MONITORED_S = 3600.0

SCHEMA_VERSION = len(MIGRATIONS)


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


class Store:
    """The SQLite store. ``Store(path)`` opens (creating and migrating) the database at ``path``.

    Parameters
    ----------
    path : path of the database file; its folder is created if missing. ``":memory:"`` is not
        supported (each thread would see its own empty database); use a temporary file.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if str(path) == ":memory:":
            raise StoreError(":memory: is not supported by Store (one connection per thread); use a file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot create the store's folder: {exc.strerror or exc}") from None
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._all_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        self._migrate()

    # ------------------------------------------------------------------ connections
    @property
    def data_dir(self) -> Path:
        """The folder holding the database (recordings must live under it to be served)."""
        return self.path.parent.resolve()

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError(f"{self.path}: store is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(str(self.path), timeout=10.0, isolation_level=None, check_same_thread=False)
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA busy_timeout = 10000")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot open the store: {exc}") from None
            self._local.conn = conn
            with self._conns_lock:
                self._all_conns.append(conn)
        return conn

    def close(self) -> None:
        """Close every connection this store opened (from any thread)."""
        with self._conns_lock:
            conns, self._all_conns = self._all_conns, []
        for c in conns:
            try:
                c.close()
            except sqlite3.Error:
                pass
        self._closed = True

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _write(self, fn, *args):
        """Run ``fn(conn, *args)`` inside one IMMEDIATE transaction; roll back on any error."""
        with self._write_lock:
            conn = self._conn()
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot write: {exc}") from None
            try:
                result = fn(conn, *args)
                conn.execute("COMMIT")
                return result
            except BaseException as exc:
                conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"{self.path}: write failed: {exc}") from None
                raise

    def _read(self, sql: str, params: Iterable = ()) -> list[sqlite3.Row]:
        try:
            return self._conn().execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: query failed: {exc}") from None

    def _migrate(self) -> None:
        conn = self._conn()
        try:
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"{self.path}: not a twitchwatch store or corrupt: {exc}") from None
        if str(mode).lower() != "wal":
            self.close()
            raise StoreError(f"{self.path}: cannot switch the store to WAL mode (got {mode})")

        def apply(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (0)")
                version = 0
            else:
                version = int(row[0])
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: store has schema version {version}, this twitchwatch knows up to "
                    f"{SCHEMA_VERSION}; upgrade twitchwatch"
                )
            for v in range(version, SCHEMA_VERSION):
                for stmt in MIGRATIONS[v]:
                    conn.execute(stmt)
                conn.execute("UPDATE schema_version SET version = ?", (v + 1,))

        try:
            self._write(apply)
        except StoreError:
            self.close()
            raise

    @property
    def schema_version(self) -> int:
        return int(self._read("SELECT version FROM schema_version")[0][0])

    # ------------------------------------------------------------------ writing
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

        return self._write(ins)

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

        return self._write(upd)

    def add_output(self, session_id: int, out: DetectorOutput) -> list[int]:
        """Persist one detector output (events, episodes, alerts, faults; windows are counted per
        minute and label). Returns the ids of the alerts inserted, in order."""
        if not out:
            return []
        sid = int(session_id)

        def ins(conn):
            self._check_session(conn, sid)
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
            ids = [self._insert_alert(conn, sid, a) for a in out.alerts]
            if out.faults:
                self._insert_faults(conn, sid, out.faults)
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
                self._insert_busy(conn, sid, out.windows)
            return ids

        return self._write(ins)

    def add_alert(self, session_id: int, alert: Alert) -> int:
        """Persist one alert; returns its id."""
        return self.add_output(session_id, DetectorOutput(alerts=(alert,)))[0]

    def add_faults(self, session_id: int, faults: Iterable[Fault]) -> None:
        faults = tuple(faults)
        if faults:
            self._write(lambda conn: (self._check_session(conn, int(session_id)), self._insert_faults(conn, int(session_id), faults)))

    def add_marks(self, session_id: int, marks: Iterable[Mark]) -> None:
        rows = [(int(session_id), float(m.t_s), str(m.note)) for m in marks]
        if rows:

            def ins(conn):
                self._check_session(conn, int(session_id))
                conn.executemany("INSERT INTO marks (session_id, t_s, note) VALUES (?,?,?)", rows)

            self._write(ins)

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
                self._check_session(conn, int(session_id))
                conn.executemany(
                    """INSERT INTO status (session_id, t_s, battery_pct, battery_mv, dropped_samples,
                       lead_off_json, imu_saturation_count) VALUES (?,?,?,?,?,?,?)""",
                    rows,
                )

            self._write(ins)

    def end_session(self, session_id: int, duration_s: float, ended_at_unix: float | None = None) -> None:
        """Close a session: its monitored duration (s) and when it ended (wall clock)."""
        d = float(duration_s)
        if not math.isfinite(d) or d < 0:
            raise InvalidInput(f"duration_s must be finite and >= 0, got {duration_s!r}")

        def upd(conn):
            self._check_session(conn, int(session_id))
            row = conn.execute("SELECT started_at_unix FROM sessions WHERE id = ?", (int(session_id),)).fetchone()
            end = float(ended_at_unix) if ended_at_unix is not None else float(row[0]) + d
            conn.execute("UPDATE sessions SET duration_s = ?, ended_at_unix = ? WHERE id = ?", (d, end, int(session_id)))

        self._write(upd)

    def set_recording_path(self, session_id: int, path: str | os.PathLike | None) -> None:
        rec = str(Path(path).resolve()) if path is not None else None
        self._write(lambda c: (self._check_session(c, int(session_id)), c.execute(
            "UPDATE sessions SET recording_path = ? WHERE id = ?", (rec, int(session_id)))))

    def delete_session(self, session_id: int) -> None:
        """Remove a session and everything in it (labels included). The recording file is kept."""
        self._write(lambda c: (self._check_session(c, int(session_id)), c.execute(
            "DELETE FROM sessions WHERE id = ?", (int(session_id),))))

    @staticmethod
    def _check_session(conn, sid: int) -> None:
        if conn.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone() is None:
            raise InvalidInput(f"no session with id {sid}")

    @staticmethod
    def _insert_alert(conn, sid: int, a: Alert) -> int:
        reasons = [[str(k), _finite(v)] for k, v in a.reasons]
        cur = conn.execute(
            "INSERT INTO alerts (session_id, level, kind, t_s, episode_start_s, reasons_json) VALUES (?,?,?,?,?,?)",
            (sid, a.level, a.kind, float(a.t_s), float(a.episode_start_s), json.dumps(reasons)),
        )
        return int(cur.lastrowid)

    @staticmethod
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

    @staticmethod
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

    # ------------------------------------------------------------------ labels
    def set_label(self, alert_id: int, label: str, note: str = "", by: str = "", at_unix: float | None = None) -> dict:
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

        self._write(upsert)
        return {"alert_id": alert_id, "label": label, "note": note, "labelled_at_unix": when, "labelled_by": by}

    def clear_label(self, alert_id: int) -> bool:
        """Remove an alert's label; True if there was one."""
        return self._write(lambda c: c.execute("DELETE FROM labels WHERE alert_id = ?", (int(alert_id),)).rowcount == 1)

    def get_label(self, alert_id: int) -> dict | None:
        rows = self._read("SELECT * FROM labels WHERE alert_id = ?", (int(alert_id),))
        return dict(rows[0]) if rows else None

    # ------------------------------------------------------------------ settings
    def get_settings(self) -> dict[str, Any]:
        out = {k: d for k, (d, _) in SETTINGS.items()}
        for r in self._read("SELECT key, value_json FROM settings"):
            if r["key"] in SETTINGS:
                out[r["key"]] = json.loads(r["value_json"])
        return out

    def update_settings(self, changes: dict[str, Any]) -> dict[str, Any]:
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
        self._write(lambda c: c.executemany(
            "INSERT INTO settings (key, value_json) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value_json = excluded.value_json",
            [(k, json.dumps(v)) for k, v in clean.items()]))
        return self.get_settings()

    # ------------------------------------------------------------------ queries
    _SESSION_COLS = """s.id, s.started_at_unix, COALESCE(s.device_t0_s, 0.0) AS device_t0_s, s.source, s.device_id,
        s.placement, s.firmware_version, s.protocol_version, s.recording_path, s.duration_s, s.ended_at_unix"""

    def list_sessions(self, limit: int = 500, offset: int = 0) -> list[dict]:
        """Sessions, newest first, with counts of what they hold."""
        rows = self._read(
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
        rows = self._read(f"SELECT {self._SESSION_COLS}, s.device_info_json FROM sessions s WHERE s.id = ?", (int(session_id),))
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
        n_events = self._read("SELECT COUNT(*) FROM events WHERE session_id = ?", (sid,))[0][0]
        step = max(1, math.ceil(n_events / max(1, max_events)))
        events = [
            dict(r) | {"t_unix": wall(r["t_s"])}
            for r in self._read(
                """SELECT id, t_s, duration_s, kind, stream, channel, amplitude FROM
                   (SELECT *, ROW_NUMBER() OVER (ORDER BY t_s) - 1 AS rn FROM events WHERE session_id = ?)
                   WHERE rn % ? = 0 ORDER BY t_s""",
                (sid, step),
            )
        ]
        episodes = [
            dict(r) | {"start_unix": wall(r["start_s"]), "end_unix": wall(r["end_s"])}
            for r in self._read(
                "SELECT id, kind, start_s, end_s, dominant_hz, n_windows, max_level FROM episodes WHERE session_id = ? ORDER BY start_s",
                (sid,),
            )
        ]
        faults = [
            dict(r) | {"start_unix": wall(r["start_s"]), "end_unix": wall(r["end_s"])}
            for r in self._read("SELECT id, kind, start_s, end_s, stream, detail FROM faults WHERE session_id = ? ORDER BY start_s", (sid,))
        ]
        marks = [
            dict(r) | {"t_unix": wall(r["t_s"])}
            for r in self._read("SELECT id, t_s, note FROM marks WHERE session_id = ? ORDER BY t_s", (sid,))
        ]
        windows = [
            {"start_s": r["bucket"] * WINDOW_BUCKET_S, "label": r["label"], "n": r["n"]}
            for r in self._read("SELECT bucket, label, n FROM window_counts WHERE session_id = ? ORDER BY bucket, label", (sid,))
        ]
        status = [
            dict(r) | {"lead_off": json.loads(r["lead_off_json"])}
            for r in self._read(
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
        if since_unix is not None:
            where.append(f"{wall_t} >= ?")
            params.append(float(since_unix))
        if until_unix is not None:
            where.append(f"{wall_t} < ?")
            params.append(float(until_unix))
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
        for r in self._read(sql, params):
            d = dict(r)
            d["reasons"] = [(k, v) for k, v in json.loads(d.pop("reasons_json"))]
            lab = d.pop("label")
            note, when, by = d.pop("note"), d.pop("labelled_at_unix"), d.pop("labelled_by")
            d["label"] = None if lab is None else {"label": lab, "note": note, "labelled_at_unix": when, "labelled_by": by}
            out.append(d)
        return out

    def get_alert(self, alert_id: int) -> dict | None:
        """One alert with its label, session and the session's recording path."""
        rows = self._read("SELECT session_id FROM alerts WHERE id = ?", (int(alert_id),))
        if not rows:
            return None
        sid = rows[0][0]
        for a in self.alerts(session_id=sid):
            if a["id"] == int(alert_id):
                a["session"] = self.get_session(sid)
                return a
        return None

    def history(
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
        base = "(s.started_at_unix - COALESCE(s.device_t0_s, 0.0))"
        rows: dict[int, dict] = {}

        def row(b: int) -> dict:
            r = rows.get(b)
            if r is None:
                r = rows[b] = {
                    "start_unix": b * width - shift,
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

        def bucket_of(expr: str) -> str:
            return f"CAST(((({expr}) + ?) / ?) AS INTEGER) - ((({expr}) + ?) < 0)"

        def grouped(table: str, tcol: str, extra_cols: str = "", extra_group: str = ""):
            return self._read(
                f"""SELECT {bucket_of(f"{base} + x.{tcol}")} AS b
                    {extra_cols}, COUNT(*) AS n
                    FROM {table} x JOIN sessions s ON s.id = x.session_id
                    WHERE {base} + x.{tcol} >= ? AND {base} + x.{tcol} < ?
                    GROUP BY b {extra_group}""",
                (shift, width, shift, lo, hi),
            )

        half = EVENT_BUCKET_S / 2
        minute_t = f"{base} + x.minute * {EVENT_BUCKET_S} + {half}"
        for r in self._read(
            f"""SELECT {bucket_of(minute_t)} AS b, SUM(x.twitches) AS tw, SUM(x.events) AS ev
                FROM event_minutes x JOIN sessions s ON s.id = x.session_id
                WHERE {minute_t} >= ? AND {minute_t} < ?
                GROUP BY b""",
            (shift, width, shift, lo, hi),
        ):
            rr = row(r["b"])
            rr["events"] += r["ev"]
            rr["twitch_events"] += r["tw"]
        emg_ids = self._emg_session_ids()
        emg_list = ",".join(str(i) for i in emg_ids) or "NULL"
        unmon = ",".join(f"'{k}'" for k in UNMONITORED_FAULTS)
        busy = ",".join(f"'{k}'" for k in BUSY_LABELS)
        for r in self._read(
            f"""SELECT {bucket_of(f"{base} + x.t_s")} AS b, COUNT(*) AS n
                FROM events x JOIN sessions s ON s.id = x.session_id
                WHERE x.kind = 'twitch' AND {base} + x.t_s >= ? AND {base} + x.t_s < ?
                  AND (x.stream = 'emg' OR s.id NOT IN ({emg_list}))
                  AND NOT EXISTS (SELECT 1 FROM busy_spans p WHERE p.session_id = x.session_id
                                  AND p.start_s <= x.t_s AND p.end_s > x.t_s)
                  AND NOT EXISTS (SELECT 1 FROM episodes p WHERE p.session_id = x.session_id
                                  AND p.kind IN ({busy}) AND p.start_s <= x.t_s AND p.end_s >= x.t_s)
                  AND NOT EXISTS (SELECT 1 FROM faults p WHERE p.session_id = x.session_id
                                  AND p.kind IN ({unmon}) AND p.start_s <= x.t_s AND p.end_s > x.t_s)
                GROUP BY b""",
            (shift, width, shift, lo, hi),
        ):
            row(r["b"])["twitches"] += r["n"]
        for r in grouped("episodes", "start_s", ", x.kind AS k", ", k"):
            row(r["b"])["episodes"][r["k"]] = r["n"]
        for r in grouped("alerts", "t_s", ", x.level AS k", ", k"):
            row(r["b"])["alerts"][r["k"]] = r["n"]
        for r in grouped("faults", "start_s"):
            row(r["b"])["faults"] += r["n"]
        for r in grouped("marks", "t_s"):
            row(r["b"])["marks"] += r["n"]

        def spread(a: float, z: float, key: str) -> None:
            a, z = max(lo, a), min(hi, z)
            while a < z:
                b = math.floor((a + shift) / width)
                seg_end = min((b + 1) * width - shift, z)
                row(b)[key] += seg_end - a
                a = seg_end

        # Monitored time: each session's span minus its not-monitored intervals, over the buckets.
        for sess in self.session_spans(lo, hi):
            for a, z in sess["monitored"]:
                spread(a, z, "monitored_s")
            for f in sess["not_monitored"]:
                spread(f["start_unix"], f["end_unix"], "not_monitored_s")
        need = min(MIN_RATE_MONITORED_S, width / 2)
        for r in rows.values():
            if r["monitored_s"] >= need:
                r["rate_per_h"] = r["twitches"] / (r["monitored_s"] / 3600.0)
        return [rows[b] for b in sorted(rows)]

    def _emg_session_ids(self) -> list[int]:
        out = []
        for r in self._read("SELECT id, device_info_json FROM sessions"):
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
        for s in self._read(
            """SELECT id, started_at_unix, COALESCE(device_t0_s, 0.0) AS t0, duration_s FROM sessions
               WHERE duration_s IS NOT NULL AND started_at_unix < ? AND started_at_unix + duration_s > ?
               ORDER BY started_at_unix, id""",
            (hi, lo),
        ):
            a0 = float(s["started_at_unix"])
            z0 = a0 + float(s["duration_s"])
            base = a0 - float(s["t0"])
            off = []
            for f in self._read(
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
        if since_unix is not None:
            where.append(f"{base} + e.start_s >= ?")
            params.append(float(since_unix))
        if until_unix is not None:
            where.append(f"{base} + e.start_s < ?")
            params.append(float(until_unix))
        kinds = tuple(kinds) if kinds is not None else None
        if kinds is not None:
            if not kinds:
                return []
            where.append(f"e.kind IN ({','.join('?' * len(kinds))})")
            params.extend(kinds)
        params.append(int(limit))
        rows = self._read(
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
        r = self._read("SELECT MIN(started_at_unix), MAX(COALESCE(ended_at_unix, started_at_unix)) FROM sessions")[0]
        return None if r[0] is None else (float(r[0]), float(r[1]))

    # ------------------------------------------------------------------ export
    def label_rows(self) -> list[dict]:
        """Every labelled alert as a training-label row (see the module docstring for the keys)."""
        out = []
        for a in self.alerts():
            if a["label"] is None:
                continue
            s = self.get_session(a["session_id"])
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

    LABEL_COLUMNS: tuple[str, ...] = (
        "alert_id", "session_id", "recording_path", "device_id", "placement", "alert_kind", "alert_level",
        "start_s", "end_s", "alert_t_s", "start_unix", "label", "note", "labelled_at_unix", "labelled_by",
    )

    def export_labels(self, path: str | os.PathLike | None = None, format: str = "json") -> str:
        """Labelled alerts as training labels, as JSON or CSV text (written to ``path`` if given).

        The format is documented in this module's docstring.
        """
        rows = self.label_rows()
        if format == "json":
            text = json.dumps({"format": "twitchwatch-labels", "version": 1, "labels": rows}, indent=1)
        elif format == "csv":
            buf = io.StringIO()
            w = csv.DictWriter(buf, fieldnames=list(self.LABEL_COLUMNS), lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
            text = buf.getvalue()
        else:
            raise InvalidInput(f"export format must be json or csv; got {format!r}")
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def read_labels(path: str | os.PathLike) -> list[dict]:
    """Read a labels file written by :meth:`Store.export_labels` (JSON or CSV, by content)."""
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
    if rows and set(Store.LABEL_COLUMNS) - set(rows[0]):
        raise StoreError(f"{p}: labels CSV lacks columns {sorted(set(Store.LABEL_COLUMNS) - set(rows[0]))}")
    for r in rows:
        for k in ("alert_id", "session_id"):
            r[k] = int(r[k])
        for k in ("start_s", "end_s", "alert_t_s", "start_unix", "labelled_at_unix"):
            r[k] = float(r[k])
    return rows
