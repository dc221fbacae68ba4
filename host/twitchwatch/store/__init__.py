"""The local store: one SQLite file (WAL mode) with sessions and what the detector found in them.

Layout of the data folder (:func:`default_data_dir`)::

    $TWITCHWATCH_HOME  (or ~/.local/share/twitchwatch)
      twitchwatch.db        this store
      sessions/             session recordings (written by twitchwatch.recording)

``Store(path)`` opens the file and hands out its parts, each over the same connection pool:

=================== ======================================================================
``store.write``     the pipeline's write path (:class:`~twitchwatch.store.writer.Writer`):
                    sessions, detector outputs, faults, marks, status
``store.sessions``  read model of sessions: lists, timelines, alerts, episodes
                    (:class:`~twitchwatch.store.sessions.Sessions`)
``store.history``   read model of history: counts per hour/day/week, monitored time
                    (:class:`~twitchwatch.store.history.History`)
``store.labels``    user labels on alerts and their export (:class:`~twitchwatch.store.labels.Labels`)
``store.settings``  the dashboard's settings (:class:`~twitchwatch.store.labels.Settings`)
=================== ======================================================================

Times
-----
Detector outputs carry seconds on the *device* clock. A session row holds the wall-clock start
``started_at_unix`` and the device time that corresponds to it, ``device_t0_s`` (0.0 unless the
caller knows better, e.g. the first chunk's ``t0_s``; see :meth:`Writer.anchor_clock`). The wall
time of a device time ``t`` is ``started_at_unix + (t - device_t0_s)``. Query results give both.

The schema and its migrations are in :mod:`twitchwatch.store.schema`, the connection handling
(one connection per thread, serialised writes) in :mod:`twitchwatch.store.db`.
"""

from __future__ import annotations

import os
from pathlib import Path

from twitchwatch.store.db import Database
from twitchwatch.store.history import History
from twitchwatch.store.labels import LABEL_COLUMNS, LABELS, SETTINGS, Labels, Settings, read_labels
from twitchwatch.store.schema import (
    BUSY_LABELS,
    DB_NAME,
    EVENT_BUCKET_S,
    MIGRATIONS,
    MIN_RATE_MONITORED_S,
    SCHEMA_VERSION,
    SESSIONS_DIR,
    UNMONITORED_FAULTS,
    WINDOW_BUCKET_S,
    InvalidInput,
    default_data_dir,
    default_db_path,
)
from twitchwatch.store.sessions import Sessions
from twitchwatch.store.writer import Writer

__all__ = [
    "BUSY_LABELS", "DB_NAME", "EVENT_BUCKET_S", "LABELS", "LABEL_COLUMNS", "MIGRATIONS", "MIN_RATE_MONITORED_S",
    "SCHEMA_VERSION", "SESSIONS_DIR", "SETTINGS", "UNMONITORED_FAULTS", "WINDOW_BUCKET_S", "History",
    "InvalidInput", "Labels", "Sessions", "Settings", "Store", "Writer", "default_data_dir", "default_db_path",
    "read_labels",
]


class Store:
    """The SQLite store. ``Store(path)`` opens (creating and migrating) the database at ``path``.

    Parameters
    ----------
    path : path of the database file; its folder is created if missing. ``":memory:"`` is not
        supported (each thread would see its own empty database); use a temporary file.
    """

    def __init__(self, path: str | os.PathLike):
        self.db = Database(path)
        self.write = Writer(self.db)
        self.sessions = Sessions(self.db)
        self.history = History(self.db)
        self.labels = Labels(self.db, self.sessions)
        self.settings = Settings(self.db)

    @property
    def path(self) -> Path:
        return self.db.path

    @property
    def data_dir(self) -> Path:
        """The folder holding the database (recordings must live under it to be served)."""
        return self.db.data_dir

    @property
    def schema_version(self) -> int:
        return self.db.schema_version

    def close(self) -> None:
        """Close every connection this store opened (from any thread)."""
        self.db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
