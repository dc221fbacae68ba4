"""The store's connection to its SQLite file: one connection per thread, serialised writes, migrations.

Thread safety: one SQLite connection per thread (``threading.local``); writes are serialised by a
lock and run in a single transaction each, so a failing write leaves nothing half-written. Readers
(the dashboard's worker threads) never block the writer thanks to WAL.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from twitchwatch.errors import StoreError
from twitchwatch.store.schema import MIGRATIONS, SCHEMA_VERSION


class Database:
    """One SQLite file in WAL mode, opened (created and migrated) at ``path``."""

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

    def write(self, fn, *args):
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

    def read(self, sql: str, params: Iterable = ()) -> list[sqlite3.Row]:
        """The rows of one query."""
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
            self.write(apply)
        except StoreError:
            self.close()
            raise

    @property
    def schema_version(self) -> int:
        return int(self.read("SELECT version FROM schema_version")[0][0])

