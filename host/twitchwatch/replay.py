"""Replay as a library: a file (or each case of it) through a fresh detector, the same loop as
live mode (:func:`twitchwatch.core.run.feed` per item), faster.

:func:`replay_file` is the entry point the ``replay`` command, batches (:mod:`twitchwatch.batch`),
the benchmarks and the tests call. A file with several cases (an OSDB file of many events, a UEA
``.ts`` of many cases) replays each case on its own, with a fresh detector and its own clock: one
summary per case. With ``as_json`` it prints the JSON Lines of ``twitchwatch replay --json`` (see
:mod:`twitchwatch.commands.replay`); with ``tables`` the readable tables.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.detector import make_detector
from twitchwatch.core.run import feed
from twitchwatch.errors import ConfigError, FileFormatError
from twitchwatch.model import Chunk, DetectorOutput, DeviceInfo, Fault, Mark
from twitchwatch.recording import format_clock
from twitchwatch.sources.base import FileSource
from twitchwatch.sources.files import ArraySource, open_file
from twitchwatch.sources.files.resample import upsample_accel

#: Seconds of signal per block handed to the detector in a fast replay (memory ~ this x rates).
REPLAY_BLOCK_S = 60.0
#: Blocks when pacing with --speed: small enough to look live.
PACED_BLOCK_S = 0.25


def open_source(path: str | Path, format: str | None = None, placement: str | None = None) -> FileSource:
    """The FileSource for ``path`` (native sessions included)."""
    p = Path(path)
    if not p.exists():
        raise FileFormatError(f"{path}: no such file")
    return open_file(p, format=format, placement=placement)


def _note_stderr(text: str) -> None:
    print(f"twitchwatch: note: {text}", file=sys.stderr)


def _fast_enough(src: FileSource, note=_note_stderr) -> FileSource:
    """``src`` itself, or, below the detector's slowest accelerometer rate (UEA BasicMotions is
    10 Hz), the same file upsampled exactly as ``evaluate --real`` does, with a note on stderr."""
    accel = src.device_info.stream("accel")
    minimum = DetectorConfig().min_accel_rate_hz
    if accel is None or accel.rate_hz >= minimum or not isinstance(src, ArraySource):
        return src
    up = upsample_accel(src, minimum)
    new_rate = up.device_info.stream("accel").rate_hz
    note(f"{src.path}: accelerometer at {accel.rate_hz:g} Hz is below the detector's "
         f"{minimum:g} Hz; upsampled to {new_rate:g} Hz (polyphase FIR, adds nothing above "
         f"{accel.rate_hz / 2:g} Hz)")
    return up


class Progress:
    """A progress line on stderr: redrawn in place on a terminal, every 10 % otherwise, and
    only for work that takes more than a second."""

    def __init__(self, label: str, stream=None, enabled: bool = True):
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.t0 = time.monotonic()
        self._last_draw = 0.0
        self._last_decile = -1
        self._drawn = False

    def update(self, fraction: float | None, detail: str = "") -> None:
        if not self.enabled or fraction is None:
            return
        now = time.monotonic()
        if now - self.t0 < 1.0:
            return
        fraction = min(1.0, max(0.0, fraction))
        if self.tty:
            if now - self._last_draw < 0.1:
                return
            self._last_draw = now
            bar = "#" * int(fraction * 30)
            self.stream.write(f"\r{self.label} [{bar:<30}] {fraction * 100:5.1f}% {detail}   ")
            self.stream.flush()
            self._drawn = True
        else:
            decile = int(fraction * 10)
            if decile > self._last_decile:
                self._last_decile = decile
                self.stream.write(f"{self.label}: {decile * 10}% {detail}\n")
                self.stream.flush()

    def done(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * 79 + "\r")
            self.stream.flush()


def _r(x: float, nd: int = 4) -> float | None:
    return round(float(x), nd) if math.isfinite(x) else None


class _Emitter:
    """Collects a replay's outputs and, with ``as_json``, prints them as JSON Lines (each line
    carrying ``"case": name`` when the file has several cases)."""

    def __init__(self, as_json: bool, case: str | None = None):
        self.as_json = as_json
        self.case = case
        self.t0: float | None = None
        self.events: list = []
        self.event_kinds: Counter = Counter()
        self.episodes: list = []
        self.alerts: list = []
        self.faults: list = []
        self._fault_keys: set = set()

    def rel(self, t: float) -> float:
        return _r(t - (self.t0 or 0.0))

    def line(self, obj: dict) -> None:
        if self.case is not None:
            obj = {**obj, "case": self.case}
        sys.stdout.write(json.dumps(obj, separators=(", ", ": ")) + "\n")

    def output(self, out: DetectorOutput | None) -> None:
        if not out:
            return
        for e in out.events:
            self.event_kinds[e.kind] += 1
            if self.as_json:
                self.line({"type": "event", "t": self.rel(e.t_s), "kind": e.kind, "channel": e.channel,
                           "amplitude": _r(e.amplitude), "duration": _r(e.duration_s), "stream": e.stream})
        for ep in out.episodes:
            self.episodes.append(ep)
            if self.as_json:
                self.line({"type": "episode", "kind": ep.kind, "start": self.rel(ep.start_s), "end": self.rel(ep.end_s),
                           "dominant_hz": _r(ep.dominant_hz, 3), "max_level": ep.max_level})
        for a in out.alerts:
            self.alerts.append(a)
            if self.as_json:
                self.line({"type": "alert", "level": a.level, "kind": a.kind, "t": self.rel(a.t_s),
                           "episode_start": self.rel(a.episode_start_s)})
        for f in out.faults:
            self.fault(f)

    def fault(self, f: Fault) -> None:
        key = (f.kind, f.stream, round(f.start_s, 2), round(f.end_s, 2))
        if key in self._fault_keys:
            return
        self._fault_keys.add(key)
        self.faults.append(f)
        if self.as_json:
            self.line({"type": "fault", "kind": f.kind, "start": self.rel(f.start_s), "end": self.rel(f.end_s),
                       "stream": f.stream, "detail": f.detail})


@dataclass(frozen=True)
class ReplayOptions:
    """How to replay a file.

    Attributes
    ----------
    format : file format name, or None to detect it
    placement : "foot" / "wrist" to override the file's own, or None
    classifier : "model" or "baseline"
    speed : pace at this many times real time; None for as fast as possible
    """

    format: str | None = None
    placement: str | None = None
    classifier: str = "model"
    speed: float | None = None


def replay_file(path: str | Path, options: ReplayOptions = ReplayOptions(), *, as_json: bool = False, progress_stream=None,
                tables: bool = False, note=_note_stderr, progress: bool = True) -> list[dict]:
    """Replay one file through fresh detectors: one summary dict per case (one for most files).

    A file whose source has more than one case (:meth:`FileSource.cases`) replays each case on its
    own clock with its own detector, so 59 OSDB events are 59 results, not one timeline of gaps.

    Raises
    ------
    TwitchwatchError : the file cannot be read (missing, corrupt, unknown format), the model
        cannot be loaded.
    """
    if options.speed is not None and not (options.speed > 0 and math.isfinite(options.speed)):
        raise ConfigError(f"--speed {options.speed}: must be a positive number")
    src = open_source(str(path), options.format, options.placement)
    cases = src.cases()
    if len(cases) <= 1:
        parts = [(None, src)]
    else:
        parts = [(case.name, case.source) for case in cases]
    summaries = []
    said: set[str] = set()

    def note_once(text: str) -> None:  # the cases of one file share their notes
        if text not in said:
            said.add(text)
            note(text)

    for case, part in parts:
        part = _fast_enough(part, note_once)
        em = _Emitter(as_json, case)
        label = f"replay {Path(path).name}" + (f" {case}" if case else "")
        summary = _replay_source(part, path, case, options, em,
                                 Progress(label, progress_stream, enabled=progress and case is None))
        summary["format"] = summary["format"] or src.format
        if as_json:
            em.line(summary)
        elif tables and case is None:
            _print_tables(em, summary, part.device_info)
        summaries.append(summary)
        if summary["problem"]:
            note_problem = summary["problem"] if case is None else f"{case}: {summary['problem']}"
            print(f"twitchwatch: warning: {note_problem}", file=sys.stderr)
    return summaries


def _replay_source(src: FileSource, path, case: str | None, options: ReplayOptions, em: _Emitter,
                   progress: Progress) -> dict:
    """One source through one fresh detector; the summary dict."""
    info: DeviceInfo = src.device_info
    detector = make_detector(info, placement=options.placement, classifier=options.classifier)
    em.t0 = src.t_start_s
    speed = options.speed
    block_s = PACED_BLOCK_S if speed else REPLAY_BLOCK_S
    total_s = src.duration_s if src.progress is None and progress.enabled else None
    wall0 = time.monotonic()
    t_lo: float | None = None
    t_hi: float | None = None
    marks = 0
    samples = 0
    for item in src.items(block_s=block_s):
        if isinstance(item, Chunk):
            if em.t0 is None:
                em.t0 = item.t0_s
            t_lo = item.t0_s if t_lo is None else min(t_lo, item.t0_s)
            t_hi = item.t_end_s if t_hi is None else max(t_hi, item.t_end_s)
            samples += item.n
            if speed:
                due = wall0 + (item.t_end_s - em.t0) / speed
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            em.output(feed(detector, item))
            if src.progress is not None:
                frac = src.progress
            elif total_s:
                frac = (item.t_end_s - em.t0) / total_s
            else:
                frac = None
            progress.update(frac, format_clock(item.t_end_s - em.t0))
        elif isinstance(item, Fault):
            em.fault(item)
            em.output(feed(detector, item))
        elif isinstance(item, Mark):
            marks += 1
    em.output(detector.finish())
    progress.done()
    wall = time.monotonic() - wall0
    duration = (t_hi - t_lo) if t_lo is not None else 0.0
    summary = {
        "type": "summary",
        "file": str(path),
        "format": src.format,
        "placement": options.placement or info.placement,
        "classifier": options.classifier,
        "duration_s": _r(duration, 3),
        "samples": samples,
        "events": sum(em.event_kinds.values()),
        "episodes": len(em.episodes),
        "alerts": len(em.alerts),
        "faults": len(em.faults),
        "marks": marks,
        "lost_bytes": int(src.lost_bytes or 0),
        "problem": src.problem,
        "wall_s": _r(wall, 3),
        "x_realtime": _r(duration / wall, 1) if wall > 0 else None,
    }
    if case is not None:
        summary["case"] = case
    return summary


def _print_tables(em: _Emitter, s: dict, info: DeviceInfo) -> None:
    streams = ", ".join(f"{st.kind} {st.rate_hz:g} Hz x{st.channels}" for st in info.streams)
    print(f"{s['file']}  ({s['format']}, {s['placement']}, {streams})")
    print(f"replayed {format_clock(s['duration_s'] or 0.0)} in {s['wall_s']:.2f} s"
          + (f" ({s['x_realtime']:,.0f}x real time)" if s["x_realtime"] else ""))
    print()
    print(f"Episodes ({len(em.episodes)})")
    if em.episodes:
        print(f"  {'kind':<20} {'start':>10} {'end':>10} {'length':>8} {'Hz':>6}  level")
        for ep in em.episodes:
            print(f"  {ep.kind:<20} {format_clock(ep.start_s - em.t0):>10} {format_clock(ep.end_s - em.t0):>10} "
                  f"{ep.end_s - ep.start_s:>7.1f}s {ep.dominant_hz:>6.2f}  {ep.max_level or '-'}")
    print(f"Alerts ({len(em.alerts)})")
    if em.alerts:
        print(f"  {'level':<8} {'kind':<20} {'at':>10} {'since':>10}")
        for a in em.alerts:
            print(f"  {a.level:<8} {a.kind:<20} {format_clock(a.t_s - em.t0):>10} {format_clock(a.episode_start_s - em.t0):>10}")
    print(f"Faults ({len(em.faults)})")
    for f in em.faults[:20]:
        print(f"  {f.kind:<12} {f.stream or '-':<6} {format_clock(f.start_s - em.t0):>10} - "
              f"{format_clock(f.end_s - em.t0):<10} {f.detail}")
    if len(em.faults) > 20:
        print(f"  ... and {len(em.faults) - 20} more")
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(em.event_kinds.items())) or "none"
    print(f"Events: {kinds}")


