"""The live pipeline: source -> recorder -> detector -> store -> subscribers (asyncio).

One task reads the source into a bounded queue (when the queue is full the source waits: nothing
the device sent is dropped here); one task takes items in order and, for each chunk,

1. hands it to the :class:`~twitchwatch.recording.SessionWriter` (before anything else: a detector
   crash loses no data),
2. publishes it to the :class:`~twitchwatch.hub.Hub` (never blocks: each subscriber has its own
   bounded queue and loses its own oldest items, counted),
3. runs the detector, then persists what became final (recording, store) and publishes it.

Alerts are printed to stdout as they happen and, with ``on_alert``, passed as one JSON line on the
stdin of a shell command that runs in the background (the pipeline never waits for it).
Ctrl-C (SIGINT/SIGTERM) or ``duration_s`` stop it cleanly: the detector is finished, the recording
closed (END record, fsync) and the store session ended.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

from twitchwatch.core.run import Analyser, feed
from twitchwatch.errors import TwitchwatchError
from twitchwatch.hub import Hub
from twitchwatch.model import (Alert, Chunk, ConnectionChange, DetectorFailure, DetectorOutput, DeviceInfo, Fault,
                               Mark, Status, is_fault_onset)
from twitchwatch.persist import SessionSinks
from twitchwatch.recording import format_clock
from twitchwatch.sources.base import Source
from twitchwatch.store import Store

#: Items waiting between the source and the detector. A block is ~20-125 ms of one stream, so
#: 4096 items is minutes of data: enough to ride out a slow disk or a GC pause, still bounded.
INPUT_QUEUE_ITEMS = 4096
#: Items (chunks, faults) held for the detector while it is being built (loading a model takes
#: seconds); ~20 chunks/s at the default rates, so this covers minutes. Beyond it, chunks are
#: recorded but not analysed, and counted.
DETECTOR_HOLD_ITEMS = 8192
#: At most this many --on-alert commands run at once; more alerts wait their turn in a task
#: (never the pipeline).
MAX_HOOKS_RUNNING = 4
#: How often the recorder is given a chance to flush/fsync when no data arrives, seconds.
RECORDER_TICK_S = 0.5
#: When the source ends while the detector is still being built, wait this long for it, seconds.
BUILD_WAIT_S = 120.0
#: How long to wait for running --on-alert commands at shutdown, seconds.
HOOK_GRACE_S = 5.0


@dataclass
class LiveSummary:
    """What a live session did."""

    session_id: int | None = None
    recording_path: str | None = None
    device: str = ""
    t_first_s: float | None = None
    t_last_s: float | None = None
    chunks: int = 0
    samples: int = 0
    events: int = 0
    episodes: int = 0
    alerts: list[Alert] = field(default_factory=list)
    faults: int = 0
    marks: int = 0
    reconnects: int = 0
    hooks_run: int = 0
    hooks_failed: int = 0
    detector_error: str | None = None
    undetected_chunks: int = 0
    subscriber_drops: dict = field(default_factory=dict)  # subscriber name -> items it lost (its own backlog)
    store_error: str | None = None
    error: str | None = None
    stopped_by: str = ""

    @property
    def duration_s(self) -> float:
        if self.t_first_s is None or self.t_last_s is None:
            return 0.0
        return max(0.0, self.t_last_s - self.t_first_s)


def alert_line(alert: Alert, t_origin_s: float = 0.0, device: str = "") -> str:
    """One readable line for an alert."""
    level = alert.level.upper()
    reasons = ", ".join(f"{k}={v:.3g}" for k, v in alert.reasons)
    when = time.strftime("%H:%M:%S")
    where = f" [{device}]" if device else ""
    since = format_clock(alert.episode_start_s - t_origin_s)
    text = f"{when} {level:<7} {alert.kind} at {format_clock(alert.t_s - t_origin_s)} (since {since}){where}"
    return text + (f": {reasons}" if reasons else "")


def alert_json(alert: Alert, device: str = "", session_id: int | None = None) -> dict:
    return {
        "type": "alert",
        "level": alert.level,
        "kind": alert.kind,
        "t": alert.t_s,
        "episode_start": alert.episode_start_s,
        "reasons": {k: v for k, v in alert.reasons},
        "device": device,
        "session": session_id,
        "wall_time_unix": time.time(),
    }


class DetectorSlot:
    """The pipeline's detector: built off the event loop, fed through :func:`core.run.feed`.

    Loading a model takes seconds and the loop must keep reading the device meanwhile (a blocked
    loop lets the device's buffer overflow), so the factory runs in a worker thread. Items that
    arrive meanwhile are held (bounded) and fed in order once it is ready. A detector that raises
    is a :class:`~twitchwatch.model.DetectorFailure`: published once, and detection stops while
    recording goes on.
    """

    def __init__(self, factory: Callable[[DeviceInfo], Analyser], on_output: Callable[[DetectorOutput], None],
                 on_failure: Callable[[str], None], summary: "LiveSummary"):
        self.factory = factory
        self.on_output = on_output
        self.on_failure = on_failure
        self.summary = summary
        self.detector: Analyser | None = None
        self.building: asyncio.Future | None = None
        self.build_error: Callable[[TwitchwatchError], bool] = lambda exc: False
        self._held: list[Chunk | Fault] = []  # input waiting for the detector, oldest first

    def build(self, info: DeviceInfo) -> None:
        self.building = asyncio.get_running_loop().run_in_executor(None, self.factory, info)
        self.building.add_done_callback(self._adopt)

    def _adopt(self, fut: asyncio.Future) -> None:
        self.building = None
        if fut.cancelled():
            return
        exc = fut.exception()
        if exc is not None:  # e.g. a missing or untrusted model: end the run with its message
            if not isinstance(exc, TwitchwatchError):
                exc = TwitchwatchError(f"cannot build the detector: {type(exc).__name__}: {exc}")
            if not self.build_error(exc):
                self._held.clear()
                self.summary.detector_error = str(exc)
            return
        self.detector = fut.result()
        held, self._held = self._held, []
        for item in held:
            self.feed(item)

    def feed(self, item: Chunk | Fault) -> None:
        if self.building is not None:
            if len(self._held) < DETECTOR_HOLD_ITEMS:
                self._held.append(item)
            elif isinstance(item, Chunk):
                self.summary.undetected_chunks += 1
            return
        self._guard(lambda detector: feed(detector, item))

    def finish(self) -> None:
        """The end (or a change of rates): what the detector still holds becomes final."""
        if self.building is not None:  # stopped before the detector was ready
            self.building.cancel()
            self.building = None
            self.summary.undetected_chunks += sum(1 for item in self._held if isinstance(item, Chunk))
            self._held.clear()
        self._guard(lambda detector: detector.finish())
        self.detector = None

    def _guard(self, call: Callable[[Analyser], DetectorOutput]) -> None:
        if self.detector is None or self.summary.detector_error is not None:
            return
        try:
            out = call(self.detector)
        except Exception as exc:  # a detector bug must not stop the recording
            self.summary.detector_error = f"{type(exc).__name__}: {exc}"
            self.on_failure(self.summary.detector_error)
            return
        self.on_output(out)


class AlertHooks:
    """``--on-alert CMD``: each alert as one JSON line on the stdin of a shell command, run in
    the background in alert order, at most :data:`MAX_HOOKS_RUNNING` at once."""

    def __init__(self, command: str, summary: "LiveSummary", info: Callable[[str], None]):
        self.command = command
        self.summary = summary
        self._info = info
        self._tasks: set[asyncio.Task] = set()
        self._slots = asyncio.Semaphore(MAX_HOOKS_RUNNING)
        self._last: asyncio.Task | None = None

    def spawn(self, alert: Alert) -> None:
        payload = (json.dumps(alert_json(alert, self.summary.device, self.summary.session_id)) + "\n").encode()
        task = asyncio.get_running_loop().create_task(self._run(payload, self._last))
        self._last = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, payload: bytes, previous: asyncio.Task | None = None) -> None:
        if previous is not None and not previous.done():
            # hooks start in alert order: wait for the previous one (bounded: a hung command
            # cannot hold the later alerts back for long)
            await asyncio.wait({previous}, timeout=HOOK_GRACE_S)
        async with self._slots:
            try:
                proc = await asyncio.create_subprocess_shell(
                    self.command, stdin=asyncio.subprocess.PIPE, stdout=None, stderr=None)
                await proc.communicate(payload)
                self.summary.hooks_run += 1
                if proc.returncode:
                    self.summary.hooks_failed += 1
                    self._info(f"--on-alert command exited with status {proc.returncode}")
            except OSError as exc:
                self.summary.hooks_failed += 1
                self._info(f"--on-alert command could not run: {exc}")

    async def wait(self) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=HOOK_GRACE_S)


class LivePipeline:
    """Wire a source to the recorder, the detector, the store and the hub.

    Parameters
    ----------
    source : a :class:`~twitchwatch.sources.base.Source` (DeviceInfo first)
    detector_factory : DeviceInfo -> Detector (``core.detector.make_detector`` with options bound)
    recording_path : the session file to write (None: no recording)
    force : overwrite an existing recording
    store : the :class:`~twitchwatch.store.Store` (None: no store)
    hub : a Hub to publish to (None: a private one)
    on_alert : shell command run with each alert as JSON on stdin
    out : where alert lines go (stdout); info lines go to ``err`` (stderr)
    truth : callable returning ground-truth annotations known so far (the virtual device's), to
        keep in the recording; None for real devices
    source_name : how to name the source in the store and messages
    """

    def __init__(self, source: Source, detector_factory: Callable[[DeviceInfo], Analyser], *,
                 recording_path: str | Path | None = None, force: bool = False, store: Store | None = None,
                 hub: Hub | None = None, on_alert: str | None = None, out: TextIO | None = None,
                 err: TextIO | None = None, truth: Callable[[], list] | None = None, source_name: str = "",
                 queue_items: int = INPUT_QUEUE_ITEMS):
        self.source = source
        recording = Path(recording_path) if recording_path is not None else None
        self.hub = hub if hub is not None else Hub()
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.sinks = SessionSinks(recording, force, store, self.hub, truth, self.err)
        self.source_name = source_name
        self.queue_items = queue_items
        self.summary = LiveSummary(recording_path=str(recording) if recording else None)
        self.detector = DetectorSlot(detector_factory, self._output, self._detector_failed, self.summary)
        self.detector.build_error = self._build_failed
        self.hooks = AlertHooks(on_alert, self.summary, self._info) if on_alert else None
        self.device_info: DeviceInfo | None = None
        self.started = asyncio.Event()  # set once the first DeviceInfo has been handled
        self.items_processed = 0
        self._draining = False
        self._queue: asyncio.Queue | None = None
        self._build_failure: TwitchwatchError | None = None  # the detector could not be built: end the run
        self._open_faults: dict[tuple, Fault] = {}  # lasting faults begun, not ended yet

    # ---- run --------------------------------------------------------------------------------

    async def run(self, duration_s: float | None = None, stop: asyncio.Event | None = None) -> LiveSummary:
        """Run until the source ends, ``stop`` is set or ``duration_s`` wall seconds pass.

        Raises the source's TwitchwatchError (missing port, protocol version...) after closing
        the recording and the store session cleanly.
        """
        queue: asyncio.Queue = asyncio.Queue(self.queue_items)
        self._queue = queue
        stopper = asyncio.create_task(_stop_after(stop or asyncio.Event(), duration_s), name="live-stop")
        helpers = [stopper, asyncio.create_task(self._read(queue), name="live-source"),
                   asyncio.create_task(self._tick_recorder(), name="live-recorder-tick")]
        error: BaseException | None = None
        try:
            error = await self._loop(queue, stopper)
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            try:
                await self.source.aclose()
            except Exception:
                pass
            self._drain(queue)
            self._finish()
            if self.hooks is not None:
                await self.hooks.wait()
            self.summary.subscriber_drops = {sub.name or f"subscriber {i}": sub.dropped
                                             for i, sub in enumerate(self.hub.subscribers) if sub.dropped}
            self.hub.close()
        if error is not None:
            raise error
        return self.summary

    async def _loop(self, queue: asyncio.Queue, stopper: asyncio.Task) -> BaseException | None:
        """Items in order until the source ends, fails or a stop; the error that ends it, if any."""
        while True:
            if self._build_failure is not None:  # whatever is still queued is drained (recorded) after
                self.summary.error = str(self._build_failure)
                self.summary.stopped_by = self.summary.stopped_by or "error"
                return self._build_failure
            if stopper.done():  # checked first: a backlog must not delay a stop
                self.summary.stopped_by = stopper.result()
                return None
            get = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({get, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if get not in done:
                get.cancel()
                self.summary.stopped_by = stopper.result()
                return None
            kind, item = get.result()
            if kind == "item":
                self._process(item)
                continue
            if kind == "end" and self.detector.building is not None:
                # a short file or a fast source ended while the model was still loading: its
                # data is all here, so let the detector see it (a stop still ends this wait)
                await asyncio.wait({self.detector.building, stopper}, timeout=BUILD_WAIT_S,
                                   return_when=asyncio.FIRST_COMPLETED)
                await asyncio.sleep(0)  # let the build's done-callback adopt the detector
                if self.detector.building is None:
                    queue.put_nowait(("end", None))  # after a build error, if any
                    continue
            if kind == "error":
                self.summary.error = str(item)
            self.summary.stopped_by = self.summary.stopped_by or ("error" if kind == "error" else "source ended")
            return item if kind == "error" else None

    def _drain(self, queue: asyncio.Queue) -> None:
        """What was already read was sent by the device, so it is recorded (and stored), but not
        run through the detector, so a stop is prompt even with a backlog."""
        self._draining = True
        try:
            while not queue.empty():
                kind, item = queue.get_nowait()
                if kind == "item":
                    self._process(item)
        except TwitchwatchError as exc:  # the recorder itself failed (disk full): still end cleanly
            self._info(str(exc))
        if self.summary.undetected_chunks:
            self._info(f"stopped with a backlog: {self.summary.undetected_chunks} chunk(s) recorded "
                       "but not analysed (replay the recording to analyse them)")

    async def _tick_recorder(self) -> None:
        """Flush and fsync the recording on time even when no data arrives (device silent or
        unplugged), so what was received is on disk within about a second."""
        while True:
            await asyncio.sleep(RECORDER_TICK_S)
            try:
                self.sinks.tick()
            except TwitchwatchError as exc:
                self._info(str(exc))
                return

    async def _read(self, queue: asyncio.Queue) -> None:
        try:
            async for item in self.source:
                await queue.put(("item", item))
            await queue.put(("end", None))
        except asyncio.CancelledError:
            raise
        except TwitchwatchError as exc:
            await queue.put(("error", exc))
        except Exception as exc:  # a bug in a source: report it as one line, keep what we have
            await queue.put(("error", TwitchwatchError(f"{self.source_name or 'source'}: {type(exc).__name__}: {exc}")))

    # ---- per item -----------------------------------------------------------------------------

    def _process(self, item) -> None:
        self.items_processed += 1
        if isinstance(item, Chunk):
            self._on_chunk(item)
        elif isinstance(item, DeviceInfo):
            self._on_device_info(item)
        elif isinstance(item, Fault):
            self._on_fault(item)
        elif isinstance(item, Status):
            self.sinks.status(item)
        elif isinstance(item, Mark):
            self.summary.marks += 1
            self.sinks.mark(item)
            self._info(f"mark (button pressed) at {format_clock(item.t_s - self._origin())}")
        elif isinstance(item, ConnectionChange):
            self.hub.publish(item)
            if item.state == "connected":
                self.summary.reconnects += 1
            self._info(f"{item.device}: {item.state}" + (f" ({item.detail})" if item.detail else ""))
        self.sinks.write_truth()

    def _origin(self) -> float:
        return self.summary.t_first_s or 0.0

    def _on_device_info(self, info: DeviceInfo) -> None:
        if self.device_info is None:
            self.device_info = info
            self.summary.device = self.source_name or info.source or info.device_id
            self.sinks.start(info, self.source_name or info.source, self.summary.device)
            self.summary.session_id = self.sinks.session_id
            self.detector.build(info)
            self.started.set()
            return
        self.sinks.device_info(info, changed=info != self.device_info)
        if info.streams != self.device_info.streams:
            # the device changed its rates: the detector state no longer applies
            self.detector.finish()
            self.detector.build(info)
        self.device_info = info

    def _on_chunk(self, chunk: Chunk) -> None:
        if self.device_info is None:
            return  # sources guarantee DeviceInfo first; never guess units
        s = self.summary
        s.chunks += 1
        s.samples += chunk.n
        s.t_first_s = chunk.t0_s if s.t_first_s is None else min(s.t_first_s, chunk.t0_s)
        s.t_last_s = chunk.t_end_s if s.t_last_s is None else max(s.t_last_s, chunk.t_end_s)
        self.sinks.chunk(chunk)  # 1. record, 2. subscribers (never blocks)
        if self._draining:
            s.undetected_chunks += 1
            return
        self.detector.feed(chunk)  # 3. detect

    def _on_fault(self, fault: Fault) -> None:
        """A source fault. A lasting one (sensor off, electrode off) comes twice: open when it
        begins (alerted, stored, shown at once) and with its end (recorded, the stored one
        extended); one still open at the end of the session is closed then."""
        key = (fault.kind, fault.stream, round(fault.start_s, 6))
        onset = is_fault_onset(fault)
        closing = not onset and self._open_faults.pop(key, None) is not None
        if onset:
            self._open_faults[key] = fault
        if not closing:
            self.summary.faults += 1
        self.sinks.fault(fault, onset)
        start = format_clock(fault.start_s - self._origin())
        span = f"from {start}, ongoing" if onset else f"{start}-{format_clock(fault.end_s - self._origin())}"
        self._info(f"fault: {fault.kind} {fault.stream} {span} {fault.detail}".rstrip())
        if not closing:  # the end of a fault already alerted raises no second alert
            self.detector.feed(fault)

    def _close_open_faults(self) -> None:
        end = self.summary.t_last_s
        for key, f in list(self._open_faults.items()):
            self._on_fault(Fault(f.kind, f.start_s, max(f.start_s, end if end is not None else f.start_s), f.stream,
                                 f"{f.detail} until the session ended"))

    def _build_failed(self, exc: TwitchwatchError) -> bool:
        """The detector could not be built: end the run with its message. The loop checks the flag
        before each item; the queued marker only wakes it when it waits on an empty queue (a full
        queue means it is not waiting), so the error never depends on the queue having room."""
        self._build_failure = exc
        try:
            self._queue.put_nowait(("error", exc))
        except asyncio.QueueFull:
            pass
        return True

    def _detector_failed(self, detail: str) -> None:
        print(f"twitchwatch: DETECTOR FAILED ({detail}); recording continues, "
              "but NOTHING IS BEING DETECTED", file=self.err, flush=True)
        self.hub.publish(DetectorFailure(detail))

    def _output(self, out: DetectorOutput) -> None:
        if not out:
            return
        s = self.summary
        s.events += len(out.events)
        s.episodes += len(out.episodes)
        self.sinks.output(out)
        # the order a person would see them in: by time, and at the same moment a warning before
        # the alarm it escalated to (so the last hook run is the highest level)
        rank = {"warning": 0, "alarm": 1}
        for alert in sorted(out.alerts, key=lambda a: (a.t_s, rank.get(a.level, -1))):
            s.alerts.append(alert)
            print(alert_line(alert, self._origin(), s.device), file=self.out, flush=True)
            if self.hooks is not None:
                self.hooks.spawn(alert)

    def _info(self, text: str) -> None:
        print(f"twitchwatch: {text}", file=self.err, flush=True)

    # ---- end --------------------------------------------------------------------------------

    def _finish(self) -> None:
        try:
            self._close_open_faults()
            self.detector.finish()
            self.sinks.write_truth()
        except TwitchwatchError as exc:  # the recorder failed (disk full): end the rest cleanly
            self._info(str(exc))
        s = self.summary
        try:
            self.sinks.close({"stopped_by": s.stopped_by, "alerts": len(s.alerts), "events": s.events,
                              "detector_error": s.detector_error}, s.duration_s)
        except TwitchwatchError as exc:  # already failing (disk full): say it, end the rest cleanly
            self._info(str(exc))
        s.store_error = self.sinks.store_error


async def _stop_after(stop: asyncio.Event, duration_s: float | None) -> str:
    """Why the run stops: ``"stopped"`` when ``stop`` is set, ``"duration reached"`` after
    ``duration_s`` wall seconds (None: never)."""
    if duration_s is None:
        await stop.wait()
        return "stopped"
    try:
        await asyncio.wait_for(stop.wait(), duration_s)
        return "stopped"
    except asyncio.TimeoutError:
        return "duration reached"
