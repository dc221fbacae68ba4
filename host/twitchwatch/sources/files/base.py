"""The file-source interface shared by every reader, and an in-memory implementation.

A :class:`FileSource` announces a :class:`~twitchwatch.model.DeviceInfo`, exposes the file's own
labels as :class:`~twitchwatch.model.Annotation` s, and yields chunks in time order. Public
datasets in ``../shared/data/real`` are small (the largest file is a few MB), so their readers
parse the file once at open time into :class:`ArraySource` segments; ``items(block_s)`` then hands
out read-only views of at most ``block_s`` seconds each, so the consumer's memory is bounded by one
block. Readers of open-ended formats (CSV, EDF, native sessions) stream from disk instead.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import numpy as np

from twitchwatch.errors import ConfigError, FileFormatError
from twitchwatch.model import PLACEMENTS, Annotation, Chunk, DeviceInfo, Fault, Mark, StreamInfo

FileItem = Chunk | Fault | Mark

#: Accelerometer full-scale range reported for files that do not state one, g. Files in g carry no
#: sensor range; 16 g is the product sensor's range (DESIGN.md), used only as the "clipping" hint.
UNSTATED_ACCEL_RANGE_G = 16.0

#: Standard gravity, m/s^2 per g (CGPM 1901), for files that store acceleration in m/s^2.
STANDARD_GRAVITY_M_S2 = 9.80665


@dataclass(frozen=True, eq=False)
class Segment:
    """A run of uniformly sampled, gap-free samples of one stream.

    Attributes
    ----------
    stream : "accel" or "emg"
    t0_s : time of the first sample on the file's clock, s
    rate_hz : sampling rate, Hz
    samples : float64 array, shape (n, channels), physical units (g or uV)
    """

    stream: str
    t0_s: float
    rate_hz: float
    samples: np.ndarray

    @property
    def t_end_s(self) -> float:
        return self.t0_s + self.samples.shape[0] / self.rate_hz


@dataclass(frozen=True, eq=False)
class Case:
    """One labelled unit of a dataset (a UEA case, an OSDB event), readable on its own.

    ``source`` has its own clock starting at 0 s; ``meta`` holds dataset-specific facts (subject,
    seizure start/end in that clock, subtype, ...).
    """

    name: str
    label: str
    source: "FileSourceBase"
    meta: dict = field(default_factory=dict)


class FileSourceBase:
    """Base class of the dataset readers: a file (or a part of one) as a
    :class:`~twitchwatch.sources.base.FileSource`.

    Subclasses set ``path``, ``format``, ``device_info``, ``annotations`` and implement
    :meth:`items`. ``async for item in source`` yields the DeviceInfo first, like every source.
    Dataset files are read whole at open time: nothing is lost, progress is estimated.
    """

    path: Path
    format: str
    device_info: DeviceInfo
    annotations: tuple[Annotation, ...] = ()
    t_start_s: float | None = None
    progress: float | None = None
    lost_bytes: int = 0
    problem: str | None = None

    def items(self, block_s: float = 10.0) -> Iterator[FileItem]:  # pragma: no cover - abstract
        raise NotImplementedError

    def cases(self) -> tuple[Case, ...]:
        """Per-case access (UEA cases, OSDB events); ``()`` for formats without cases."""
        return ()

    @property
    def duration_s(self) -> float:
        """Span of the file's clock covered by samples (end of the last sample), s."""
        end = 0.0
        for item in self.items(block_s=3600.0):
            if isinstance(item, Chunk):
                end = max(end, item.t_end_s)
        return end

    async def __aiter__(self) -> AsyncIterator[DeviceInfo | FileItem]:
        yield self.device_info
        for n, item in enumerate(self.items()):
            yield item
            if n % 16 == 15:
                await asyncio.sleep(0)  # let the event loop breathe on long files


class ArraySource(FileSourceBase):
    """A source whose samples are already parsed into gap-free :class:`Segment` s.

    Parameters
    ----------
    path : the file it came from
    fmt : format name
    device_info : what to announce
    segments : gap-free runs, any order; each must match its stream's rate and channel count
    annotations : the file's labels
    faults : gaps and other faults found while parsing (emitted in time order among the chunks)
    cases : per-case sub-sources, if the format has cases
    """

    def __init__(self, path: Path, fmt: str, device_info: DeviceInfo, segments: list[Segment],
                 annotations: tuple[Annotation, ...] = (), faults: tuple[Fault, ...] = (),
                 cases: tuple[Case, ...] = ()):
        self.path = Path(path)
        self.format = fmt
        self.device_info = device_info
        self.annotations = tuple(annotations)
        self.faults = tuple(sorted(faults, key=lambda f: f.start_s))
        self._cases = tuple(cases)
        self.segments = merge_contiguous(segments)
        for seg in self.segments:
            seg.samples.setflags(write=False)

    def cases(self) -> tuple[Case, ...]:
        return self._cases

    @property
    def duration_s(self) -> float:
        return max((s.t_end_s for s in self.segments), default=0.0)

    def items(self, block_s: float = 10.0) -> Iterator[FileItem]:
        """Chunks of at most ``block_s`` seconds, and faults, in time order.

        Chunks of different streams are merged by start time; a fault is emitted before the first
        chunk that starts at or after its start.
        """
        if not block_s > 0:
            raise ConfigError(f"block_s must be > 0 s, got {block_s}")
        def chunks_of(seg: Segment) -> Iterator[tuple[float, int, Chunk]]:
            n_block = max(1, int(round(block_s * seg.rate_hz)))
            for i in range(0, seg.samples.shape[0], n_block):
                part = seg.samples[i:i + n_block]
                yield seg.t0_s + i / seg.rate_hz, 0, Chunk(seg.stream, seg.t0_s + i / seg.rate_hz,
                                                          seg.rate_hz, part)
        def faults() -> Iterator[tuple[float, int, Fault]]:
            for f in self.faults:
                yield f.start_s, -1, f
        streams = [chunks_of(s) for s in self.segments] + [faults()]
        for _, _, item in heapq.merge(*streams, key=lambda x: (x[0], x[1])):
            yield item


def merge_contiguous(segments: list[Segment]) -> tuple[Segment, ...]:
    """Segments sorted by time, with each run of back-to-back segments of one stream joined.

    Two segments are back to back when the second starts within half a sample period of the first's
    end (OSDB's 5 s datapoints, UEA's joined cases); joining them gives fewer, larger chunks and
    the same samples on the same clock.
    """
    out: list[Segment] = []
    open_run: dict[str, list[Segment]] = {}
    def close(stream: str) -> None:
        run = open_run.pop(stream)
        if len(run) == 1:
            out.append(run[0])
        else:
            out.append(Segment(stream, run[0].t0_s, run[0].rate_hz, np.concatenate([r.samples for r in run], axis=0)))
    for seg in sorted(segments, key=lambda s: (s.t0_s, s.stream)):
        run = open_run.get(seg.stream)
        if run is not None:
            last = run[-1]
            end = run[0].t0_s + sum(r.samples.shape[0] for r in run) / last.rate_hz
            if (seg.rate_hz == last.rate_hz and seg.samples.shape[1:] == last.samples.shape[1:]
                    and abs(seg.t0_s - end) <= 0.5 / seg.rate_hz):
                run.append(seg)
                continue
            close(seg.stream)
        open_run[seg.stream] = [seg]
    for stream in list(open_run):
        close(stream)
    return tuple(sorted(out, key=lambda s: (s.t0_s, s.stream)))


def open_text(path: Path) -> TextIO:
    """``path`` opened as UTF-8 text, undecodable bytes replaced (a line-oriented reader then says
    which line is wrong).

    Raises
    ------
    FileFormatError : the file cannot be opened (missing, a folder, no permission).
    """
    try:
        return open(path, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot open ({exc.strerror})") from None


def resolve_placement(default: str, override: str | None) -> str:
    """The dataset's placement unless the user overrides it (validated)."""
    if override is None:
        return default
    if override not in PLACEMENTS:
        raise ConfigError(f"placement must be one of {', '.join(PLACEMENTS)}, got {override!r}")
    return override


def accel_stream(rate_hz: float, channels: int = 3, names: tuple[str, ...] = ("x", "y", "z"),
                 range_g: float = UNSTATED_ACCEL_RANGE_G) -> StreamInfo:
    """StreamInfo for accelerometer samples already in g (no int16 counts)."""
    return StreamInfo("accel", float(rate_hz), channels, float(range_g), 0.0, tuple(names))


def rate_from_times(t_s: np.ndarray, what: str, rel_tol: float = 0.5) -> float:
    """One uniform rate from sample times, Hz; raises ValueError (with ``what``) if non-uniform.

    Each step must be within ``rel_tol`` sample periods of the mean step (timestamps rounded to a
    coarser unit, like Daphnet's whole milliseconds at 64 Hz, jitter by up to ~0.1 period).
    """
    if t_s.size < 2:
        raise ValueError(f"{what}: fewer than 2 samples, no rate")
    steps = np.diff(t_s)
    period = (t_s[-1] - t_s[0]) / (t_s.size - 1)
    if not period > 0:
        raise ValueError(f"{what}: time does not increase")
    worst = np.max(np.abs(steps - period)) / period
    if worst > rel_tol:
        i = int(np.argmax(np.abs(steps - period)))
        raise ValueError(f"{what}: non-uniform sampling (step {steps[i]:.6g} at row {i + 2} vs mean "
                         f"{period:.6g})")
    return float(1.0 / period)


def place_by_counter(counter: np.ndarray, samples: np.ndarray, rate_hz: float, what: str,
                     stream: str = "accel", counter_bits: int | None = None,
                     gap_detail: str = "missing samples") -> tuple[list[Segment], list[Fault], int]:
    """Lay samples on a clock by their packet/sample counter instead of by row.

    Parameters
    ----------
    counter : per-row sample counter (integers; the first row is time 0)
    samples : array (n, channels), physical units
    rate_hz : sampling rate, Hz: one counter step is ``1 / rate_hz`` s
    what : the file, for error messages
    stream : stream name of the segments
    counter_bits : width of a wrapping counter (16 for XSens PacketCounter) or None; a drop by more
        than half the range is taken as a wrap-around and unwrapped
    gap_detail : text of the gap faults

    Returns
    -------
    (segments, gap faults, repeated rows dropped). Rows repeating the previous counter value
    (a packet received twice) are dropped; a counter that otherwise goes backwards raises
    ValueError (with ``what``). Each run of consecutive counter values is one segment; every hole
    becomes ``Fault("gap")`` spanning the missing samples.
    """
    c = np.asarray(counter, dtype=np.int64)
    if c.size == 0:
        raise ValueError(f"{what}: no samples")
    if counter_bits is not None:
        span = 1 << counter_bits
        steps = np.diff(c)
        wraps = np.concatenate([[0], np.cumsum(steps < -span // 2)])
        c = c + wraps * span
    steps = np.diff(c)
    if (steps < 0).any():
        i = int(np.flatnonzero(steps < 0)[0])
        raise ValueError(f"{what}: sample counter goes backwards ({c[i]} then {c[i + 1]} at row {i + 2})")
    keep = np.concatenate([[True], steps > 0])
    dropped = int(np.count_nonzero(~keep))
    c, samples = c[keep], samples[keep]
    k = c - c[0]
    breaks = np.flatnonzero(np.diff(k) > 1) + 1
    starts = np.concatenate([[0], breaks])
    ends = np.concatenate([breaks, [k.size]])
    segments = [Segment(stream, float(k[s] / rate_hz), float(rate_hz), np.ascontiguousarray(samples[s:e]))
                for s, e in zip(starts, ends)]
    faults = [Fault("gap", float(k[e - 1] + 1) / rate_hz, float(k[e]) / rate_hz, stream,
                    f"{gap_detail}: {int(k[e] - k[e - 1] - 1)}")
              for e in ends[:-1]]
    return segments, faults, dropped


def single_case_source(source: ArraySource, label: str, meta: dict, **attributes) -> ArraySource:
    """Give a one-recording source one :class:`Case` covering the whole file (itself), and attributes.

    Parameters
    ----------
    source : the file's source; it becomes its own case's source (same clock)
    label : the case label
    meta : the case's meta (``subject``, ``seizure``, dataset facts)
    attributes : extra attributes set on the source (e.g. ``osd_phrases``)
    """
    source._cases = (Case(source.path.stem, label, source, meta),)
    for name, value in attributes.items():
        setattr(source, name, value)
    return source
