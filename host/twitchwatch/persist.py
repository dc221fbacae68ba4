"""Where a live session's items are kept and shown: the recording, the store and the hub.

:class:`SessionSinks` is the fan-out of :mod:`twitchwatch.live` once an item has been read: every
item goes to the :class:`~twitchwatch.recording.SessionWriter` first (a crash of anything
downstream loses no data), then to the :class:`~twitchwatch.store.Store` (a failing store is said
once and stops storing; the recording and detection go on), then to the
:class:`~twitchwatch.hub.Hub` (never blocks). The detector is not its business.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable, TextIO, TypeVar

from twitchwatch.errors import FileFormatError
from twitchwatch.hub import Hub
from twitchwatch.model import Chunk, ConnectionChange, DetectorOutput, DeviceInfo, Fault, Mark, Status
from twitchwatch.recording import SessionWriter
from twitchwatch.store import Store

T = TypeVar("T")


class SessionSinks:
    """The recording, the store session and the hub of one live session.

    Parameters
    ----------
    recording_path : the session file to write (None: no recording)
    force : overwrite an existing recording
    store : the store (None: no store)
    hub : the hub subscribers read from
    truth : callable returning the ground-truth annotations known so far (the virtual device's),
        kept in the recording; None for real devices
    err : where the one line about a failing store goes
    """

    def __init__(self, recording_path: Path | None, force: bool, store: Store | None, hub: Hub,
                 truth: Callable[[], list] | None, err: TextIO | None = None):
        self.recording_path = recording_path
        self.force = force
        self.store = store
        self.hub = hub
        self.truth = truth
        self.err = err if err is not None else sys.stderr
        self.writer: SessionWriter | None = None
        self.session_id: int | None = None
        self.store_error: str | None = None
        self._truth_written = 0
        self._anchored = False

    def start(self, info: DeviceInfo, source_name: str, device: str) -> None:
        """The first DeviceInfo: open the recording and the store session, announce the device."""
        if self.recording_path is not None:
            try:
                self.recording_path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise FileFormatError(f"{self.recording_path}: cannot create its folder: "
                                      f"{exc.strerror or exc}") from None
            self.writer = SessionWriter(self.recording_path, info, force=self.force)
        if self.store is not None:
            try:
                self.session_id = self.store.write.create_session(info, source_name, time.time(), self.recording_path)
            except Exception as exc:
                self._store_failed(exc)
        self.hub.publish(info)
        self.hub.publish(ConnectionChange("connected", device, "streaming"))

    def device_info(self, info: DeviceInfo, changed: bool) -> None:
        """A DeviceInfo after the first; ``changed`` when it differs from the one before."""
        if changed and self.writer:
            self.writer.write_device_info(info)
        self.hub.publish(info)

    def chunk(self, chunk: Chunk) -> None:
        """Record first; anchor the store's wall clock on the first chunk; then the subscribers."""
        if self.writer:
            self.writer.write_chunk(chunk)
        if not self._anchored and self.session_id is not None:
            self._call(lambda store, sid: store.write.anchor_clock(sid, chunk.t0_s, time.time() - chunk.duration_s))
            self._anchored = True
        self.hub.publish(chunk)

    def status(self, item: Status) -> None:
        if self.writer:
            self.writer.write_status(item)
        self._call(lambda store, sid: store.write.add_status(sid, item))
        self.hub.publish(item)

    def mark(self, item: Mark) -> None:
        if self.writer:
            self.writer.write_mark(item)
        self._call(lambda store, sid: store.write.add_marks(sid, [item]))
        self.hub.publish(item)

    def fault(self, fault: Fault, onset: bool) -> None:
        """A source fault; the recording keeps a lasting one once, with its end (not its onset)."""
        if self.writer and not onset:
            self.writer.write_fault(fault)
        self._call(lambda store, sid: store.write.add_faults(sid, [fault]))
        self.hub.publish(fault)

    def output(self, out: DetectorOutput) -> None:
        if self.writer:
            self.writer.write_output(out)
        self._call(lambda store, sid: store.write.add_output(sid, out))
        self.hub.publish(out)

    def write_truth(self) -> None:
        """Ground truth that became known since the last call, into the recording."""
        if self.truth is None or self.writer is None:
            return
        anns = self.truth()
        if len(anns) > self._truth_written:
            self.writer.write_annotations(anns[self._truth_written:], kind="truth")
            self._truth_written = len(anns)

    def tick(self) -> None:
        """Give the recorder its chance to flush and fsync when no data arrives."""
        if self.writer is not None and not self.writer.closed:
            self.writer.tick()

    def close(self, stats: dict, duration_s: float) -> None:
        """Close the recording (END record with ``stats``) and end the store session.

        Raises
        ------
        TwitchwatchError : the recorder failed to close (the store session is ended first).
        """
        try:
            if self.writer is not None and not self.writer.closed:
                self.writer.close(stats)
        finally:
            self._call(lambda store, sid: store.write.end_session(sid, duration_s))

    def _call(self, call: Callable[[Store, int], T]) -> T | None:
        """``call(store, session_id)`` when storing; it cannot stop the recording: on failure, say
        so once and stop storing."""
        store, sid = self.store, self.session_id
        if store is None or sid is None or self.store_error is not None:
            return None
        try:
            return call(store, sid)
        except Exception as exc:
            self._store_failed(exc)
            return None

    def _store_failed(self, exc: Exception) -> None:
        self.store_error = f"{type(exc).__name__}: {exc}"
        print(f"twitchwatch: the store failed ({self.store_error}); recording and detection "
              "continue, the dashboard history stops here", file=self.err, flush=True)
