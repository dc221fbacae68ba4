"""The store's schema: where the file lives, its tables and migrations, and the constants they share.

Schema
------
Versioned from day one: table ``schema_version`` holds one integer; :data:`MIGRATIONS` is the
ordered list of migrations, each applied once in its own transaction. A database written by a newer
twitchwatch (higher version than this code knows) is refused with :class:`StoreError`.

Tables: sessions, events, episodes, alerts, faults, marks, status, window_counts (window labels
aggregated per session-minute), event_minutes (events per session-minute), busy_spans, labels (one
user label per alert), settings.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from twitchwatch.errors import StoreError

DB_NAME = "twitchwatch.db"
SESSIONS_DIR = "sessions"

#: Window labels are aggregated into buckets of this many seconds (device clock).
WINDOW_BUCKET_S = 60.0
#: Events are also counted per bucket of this many seconds (device clock) for history queries;
#: history assigns a bucket's events to the hour/day/week holding the bucket's middle, so an
#: event may land up to 30 s across an hour boundary (totals are exact).
EVENT_BUCKET_S = 60.0


class InvalidInput(StoreError, ValueError):
    """A caller passed a value the store refuses (bad label, unknown alert, ...). Nothing was written."""


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

