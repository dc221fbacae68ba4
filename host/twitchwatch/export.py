"""Export a native session to EDF+ or CSV, streaming (bounded memory).

EDF+ (``EDF+C``)
    One signal per channel holding the device's int16 counts: the accelerometer as
    ``MISC Accel x|y|z`` in g, EMG as ``EMG <muscle>`` in uV (EDF+ "type specification"
    labels; see :data:`EDF_DIMENSION`). When the session file holds no detector outputs, the
    detector is run over it, so the annotations carry what ``replay`` finds. Annotations stay
    inside the data; holes in the samples are measured from the frame times and annotated as
    intervals ``gap <stream>``. The signals hold the device's int16
    counts unchanged (digital range -32768..32767 mapped to -32768 x scale..32767 x scale, so
    physical = counts x scale; the counts are lossless), 1 s data records (or the shortest record holding a whole number of samples
    of every stream), and an ``EDF Annotations`` signal with the detector's events, episodes and
    alerts, the recording's ground truth, button marks and faults. EDF+C has no holes: samples
    missing in a gap are written as 0 and the gap is annotated ("gap"). Checked by reading it back
    with pyedflib and edfio (tests); it is plain EDF+C, the variant MNE and EDFbrowser read (not
    tested here: neither is installed). Header numbers have 8 characters, so physical values
    match counts x scale to about 7 significant digits.

CSV
    Header ``t,ax,ay,az,emg0,emg1`` (only the columns the session has): ``t`` in seconds from the
    session's first sample, acceleration in g, EMG in microvolts, one row per sample at the
    highest stream rate (the format has one uniform rate, see
    :mod:`twitchwatch.sources.files.csvfile`); a slower stream is linearly interpolated onto those
    times, and rows inside a gap hold ``nan``.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from twitchwatch.core.detector import make_detector
from twitchwatch.core.run import run
from twitchwatch.errors import ConfigError, FileFormatError, RefuseOverwrite
from twitchwatch.model import Chunk, Fault, Mark
from twitchwatch.recording import SessionReader

#: Block size read from the session while exporting, seconds of signal.
EXPORT_BLOCK_S = 30.0
#: Longest EDF data record we accept when searching for one that holds whole samples, s.
MAX_RECORD_S = 60


def _check_out(out: Path, force: bool) -> None:
    if out.exists() and not force:
        raise RefuseOverwrite(f"{out}: already exists; use --force to overwrite it")


def detector_outputs(reader: SessionReader, classifier: str = "model") -> tuple[object, bool]:
    """(DetectorOutput, ran): the outputs the recorder stored, or, when the file holds none (a
    session recorded with --no-detect, converted from another format, or a recorder that died
    before detecting), those of the detector run over the file now, as replay would find them."""
    out = reader.outputs
    if out.events or out.episodes or out.alerts or out.windows:
        return out, False
    det = make_detector(reader.device_info, classifier=classifier)
    return run(det, reader.items(EXPORT_BLOCK_S)), True


def data_gaps(reader: SessionReader, t0: float) -> list[tuple[float, float, str]]:
    """(start_s from t0, duration_s, stream) of every hole in each stream's samples, measured from
    the device's own frame times (an interval from the last sample before to the first after)."""
    rates = {s.kind: s.rate_hz for s in reader.device_info.streams}
    expected: dict[str, float] = {}
    gaps = []
    for stream, idx in reader.frame_index():
        rate = rates.get(stream)
        if not rate or idx.shape[0] == 0:
            continue
        starts = idx["t_us"] / 1e6
        ends = starts + idx["n"] / rate
        prev = np.concatenate([[expected.get(stream, starts[0])], ends[:-1]])
        for i in np.flatnonzero(starts - prev > 1.5 / rate):
            gaps.append((float(prev[i] - t0), float(starts[i] - prev[i]), stream))
        expected[stream] = float(ends[-1])
    return gaps


def _annotations(reader: SessionReader, t0: float, total_s: float | None = None, out=None) -> list[tuple[float, float, str]]:
    """(onset_s from t0, duration_s, text) for everything worth seeing in a viewer, inside the data
    ([0, total_s]: nothing past the end of the samples; durations clipped to it)."""
    out = reader.outputs if out is None else out
    anns: list[tuple[float, float, str]] = []
    for e in out.events:
        anns.append((e.t_s - t0, e.duration_s, f"event {e.kind} {e.stream}:{e.channel} {e.amplitude:.3g}"))
    for ep in out.episodes:
        anns.append((ep.start_s - t0, ep.end_s - ep.start_s, f"episode {ep.kind} {ep.dominant_hz:.2f}Hz {ep.max_level}".rstrip()))
    for a in out.alerts:
        anns.append((a.t_s - t0, 0.0, f"alert {a.level} {a.kind}"))
    for f in out.faults:
        if f.kind != "gap":  # holes are measured from the samples below
            anns.append((f.start_s - t0, f.end_s - f.start_s, f"fault {f.kind} {f.stream}".rstrip()))
    for a in reader.annotations:
        anns.append((a.onset_s - t0, a.duration_s, f"truth {a.label}"))
    for item in reader.items(EXPORT_BLOCK_S):
        if isinstance(item, Mark):
            anns.append((item.t_s - t0, 0.0, "mark"))
        elif isinstance(item, Fault) and item.kind != "gap":
            anns.append((item.start_s - t0, item.end_s - item.start_s, f"{item.kind} {item.stream}".rstrip()))
    for start, dur, stream in data_gaps(reader, t0):
        anns.append((start, dur, f"gap {stream}"))
    end = float("inf") if total_s is None else total_s
    clipped = []
    for o, d, t in anns:
        o, d = max(0.0, o), max(0.0, d)
        if o >= end and not (o == 0.0 and end == 0.0):
            continue  # past the last sample: nothing in the file to point at
        clipped.append((o, min(d, end - o), t))
    return sorted(clipped)


#: EDF+ signal labels are "<type> <specification>" (EDF+ spec, section 2.1.3.2). EMG is a standard
#: type, in uV, which MNE's reader scales to volts. There is no standard type for an
#: accelerometer: "MISC" is the type MNE's reader knows for "other" (``read_raw_edf(...,
#: infer_types=True)`` makes it a misc channel, not EEG; it scales only voltage units, so the
#: values stay in g). The unit stays "g" (standard gravity, as the label says): m/s^2 would need
#: physical limits like -156.9064, which do not fit EDF's 8-character fields, and the values
#: would no longer map back to the device's counts exactly. twitchwatch's reader maps both by unit.
EDF_DIMENSION = {"accel": "g", "emg": "uV"}


def edf_label(kind: str, name: str) -> str:
    prefix = "MISC Accel" if kind == "accel" else "EMG"
    return f"{prefix} {name}"[:16]


def _record_duration(rates: list[float]) -> int:
    for d in range(1, MAX_RECORD_S + 1):
        if all(abs(r * d - round(r * d)) < 1e-6 for r in rates):
            return d
    raise ConfigError(f"rates {rates} Hz: no EDF data record of <= {MAX_RECORD_S} s holds whole samples")


def _field(value, width: int) -> bytes:
    text = str(value)
    raw = text.encode("ascii", "replace")[:width]
    return raw.ljust(width, b" ")


def _num(x: float, width: int = 8) -> str:
    """A number in at most ``width`` characters, as precise as fits."""
    for digits in range(width, 0, -1):
        s = f"{x:.{digits}g}"
        if len(s) <= width:
            return s
    raise ValueError(f"{x} does not fit in {width} characters")


def _tal(onset: float, duration: float, text: str) -> bytes:
    clean = "".join(ch if ch.isprintable() and ch not in "\x14\x15" else " " for ch in text)
    d = f"\x15{duration:.6g}" if duration > 0 else ""
    return f"+{onset:.6f}".rstrip("0").rstrip(".").encode() + d.encode() + b"\x14" + clean.encode("utf-8") + b"\x14\x00"


def export_edf(session: str | os.PathLike, out: str | os.PathLike, force: bool = False,
               progress: Callable[[float], None] | None = None) -> Path:
    """Write the session as EDF+; return the output path."""
    reader = SessionReader(session)
    out = Path(out)
    _check_out(out, force)
    streams = [s for s in reader.device_info.streams if s.channels > 0]
    t0 = reader.t_start_s
    if t0 is None or not streams:
        raise FileFormatError(f"{session}: the session holds no samples to export")
    rec_s = _record_duration([s.rate_hz for s in streams])
    per_rec = {s.kind: int(round(s.rate_hz * rec_s)) for s in streams}
    total_s = reader.duration_s
    outputs, _ = detector_outputs(reader)
    anns = _annotations(reader, t0, total_s, outputs)
    n_records = max(1, math.ceil(total_s / rec_s - 1e-9))
    tals = _record_tals(anns, rec_s, n_records)
    ann_samples = max(8, math.ceil(max(len(t) for t in tals) / 2))
    tmp = out.with_name(out.name + ".part")
    buffers = {s.kind: _StreamBuffer(s, t0) for s in streams}
    written = 0
    with open(tmp, "wb") as fh:
        fh.write(_edf_header(reader, streams, per_rec, rec_s, ann_samples))

        def emit(upto_record: int) -> None:
            nonlocal written
            while written < upto_record:
                k = written
                parts = []
                for s in streams:
                    block = buffers[s.kind].take(k * per_rec[s.kind], per_rec[s.kind])
                    parts.extend(block[:, c].astype("<i2").tobytes() for c in range(s.channels))
                parts.append(tals[k].ljust(ann_samples * 2, b"\x00"))
                fh.write(b"".join(parts))
                written += 1

        for item in reader.items(EXPORT_BLOCK_S):
            if isinstance(item, Chunk) and item.stream in buffers:
                buffers[item.stream].add(item)
                ready = min(b.end_index // per_rec[k] for k, b in buffers.items())
                emit(min(ready, n_records))
                if progress:
                    progress(written / n_records)
        emit(n_records)  # the rest (zeros where a stream ended early)
        fh.seek(236)
        fh.write(_field(written, 8))
    os.replace(tmp, out)
    return out


def _record_tals(anns: list[tuple[float, float, str]], rec_s: float, n_records: int) -> list[bytes]:
    """Each data record's annotation bytes: its own time-keeping entry, then the annotations that
    start in it."""
    by_rec: dict[int, list[bytes]] = {}
    for onset, dur, text in anns:
        k = min(n_records - 1, int(onset // rec_s))
        by_rec.setdefault(k, []).append(_tal(onset, dur, text))
    return [f"+{k * rec_s}\x14\x14\x00".encode() + b"".join(by_rec.get(k, [])) for k in range(n_records)]


def _edf_header(reader: SessionReader, streams, per_rec: dict[str, int], rec_s: float, ann_samples: int) -> bytes:
    """The EDF+ header: the fixed part and one entry per signal (the channels, then annotations)."""
    labels, dims, pmins, pmaxs, spr, kinds = [], [], [], [], [], []
    for s in streams:
        names = s.channel_names or tuple("xyz"[i] if s.kind == "accel" and s.channels <= 3 else str(i) for i in range(s.channels))
        scale = s.scale if s.scale > 0 else 1.0
        for name in names:
            labels.append(edf_label(s.kind, name))
            dims.append(EDF_DIMENSION[s.kind])
            pmins.append(_num(-32768 * scale))
            pmaxs.append(_num(32767 * scale))
            spr.append(per_rec[s.kind])
            kinds.append(s.kind)
    labels.append("EDF Annotations")
    dims.append("")
    pmins.append("-1")
    pmaxs.append("1")
    spr.append(ann_samples)
    ns = len(labels)
    start = time.localtime(reader.started_at_unix or time.time())
    months = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
    startdate = f"{start.tm_mday:02d}-{months[start.tm_mon - 1]}-{start.tm_year}"
    patient = "X X X X"
    recording = f"Startdate {startdate} X twitchwatch {reader.device_info.device_id.replace(' ', '_')[:40]}"
    head = b"".join([
        _field("0", 8), _field(patient, 80), _field(recording, 80),
        _field(time.strftime("%d.%m.%y", start), 8), _field(time.strftime("%H.%M.%S", start), 8),
        _field(256 * (ns + 1), 8), _field("EDF+C", 44), _field(-1, 8), _field(rec_s, 8), _field(ns, 4),
    ])
    sig = b"".join([
        b"".join(_field(x, 16) for x in labels),
        b"".join(_field("3-axis accelerometer (twitchwatch)" if k == "accel" else "surface EMG electrodes", 80) for k in kinds) + _field("", 80),
        b"".join(_field(x, 8) for x in dims),
        b"".join(_field(x, 8) for x in pmins),
        b"".join(_field(x, 8) for x in pmaxs),
        b"".join(_field(-32768, 8) for _ in range(ns)),
        b"".join(_field(32767, 8) for _ in range(ns)),
        b"".join(_field("", 80) for _ in range(ns)),
        b"".join(_field(x, 8) for x in spr),
        b"".join(_field("", 32) for _ in range(ns)),
    ])
    return head + sig


class _StreamBuffer:
    """Samples of one stream by index from t0 (zeros in gaps), cut into consecutive records."""

    def __init__(self, stream, t0: float):
        self.rate = stream.rate_hz
        self.t0 = t0
        self.channels = stream.channels
        self.start = 0  # index of buf[0]
        self.buf = np.zeros((0, stream.channels), np.int16)

    @property
    def end_index(self) -> int:
        return self.start + self.buf.shape[0]

    def add(self, chunk: Chunk) -> None:
        counts = chunk.counts if chunk.counts is not None else np.round(chunk.samples).astype(np.int16)
        i0 = int(round((chunk.t0_s - self.t0) * self.rate))
        if i0 < self.end_index:  # overlap (clock jitter): drop the samples already placed
            counts = counts[self.end_index - i0:]
            i0 = self.end_index
        pad = i0 - self.end_index
        parts = [self.buf]
        if pad > 0:
            parts.append(np.zeros((pad, self.channels), np.int16))
        parts.append(np.asarray(counts, np.int16).reshape(-1, self.channels))
        self.buf = np.concatenate(parts)

    def take(self, i0: int, n: int) -> np.ndarray:
        out = np.zeros((n, self.channels), np.int16)
        lo = max(i0, self.start)
        hi = min(i0 + n, self.end_index)
        if hi > lo:
            out[lo - i0:hi - i0] = self.buf[lo - self.start:hi - self.start]
        # forget what has been written
        drop = max(0, min(i0 + n, self.end_index) - self.start)
        self.buf = self.buf[drop:]
        self.start += drop
        return out


CSV_ACCEL = ("ax", "ay", "az")
CSV_EMG = ("emg0", "emg1")


def export_csv(session: str | os.PathLike, out: str | os.PathLike, force: bool = False,
               progress: Callable[[float], None] | None = None) -> Path:
    """Write the session as CSV (see module docstring); return the output path."""
    reader = SessionReader(session)
    out = Path(out)
    _check_out(out, force)
    info = reader.device_info
    acc = info.stream("accel")
    emg = info.stream("emg")
    t0 = reader.t_start_s
    if t0 is None:
        raise FileFormatError(f"{session}: the session holds no samples to export")
    streams = [s for s in (acc, emg) if s is not None and s.channels > 0]
    main = max(streams, key=lambda s: s.rate_hz)
    cols = []
    if acc is not None:
        cols += list(CSV_ACCEL[: acc.channels])
    if emg is not None:
        cols += list(CSV_EMG[: emg.channels])
    total = reader.duration_s
    n_total = int(round(total * main.rate_hz))
    # per stream: samples in physical units by index from t0, as a growing/shrinking buffer
    bufs = {s.kind: _FloatBuffer(s, t0) for s in streams}
    tmp = out.with_name(out.name + ".part")
    written = 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(",".join(["t"] + cols) + "\n")

        def emit(upto_t: float, final: bool = False) -> None:
            nonlocal written
            n_end = n_total if final else min(n_total, int(math.floor(upto_t * main.rate_hz)))
            if n_end <= written:
                return
            idx = np.arange(written, n_end)
            t = idx / main.rate_hz
            columns = [t[:, None]]
            for s in streams:
                columns.append(bufs[s.kind].at(t))
            block = np.hstack(columns)
            fmt = ["%.6f"] + (["%.6g"] * (block.shape[1] - 1))
            np.savetxt(fh, block, fmt=fmt, delimiter=",")
            written = n_end
            for b in bufs.values():
                b.forget_before(t[-1] - 2.0 / b.rate)

        for item in reader.items(EXPORT_BLOCK_S):
            if isinstance(item, Chunk) and item.stream in bufs:
                bufs[item.stream].add(item)
                ready = min(b.end_t for b in bufs.values())
                emit(ready - 1.0 / min(s.rate_hz for s in streams))
                if progress:
                    progress(written / max(1, n_total))
        emit(0.0, final=True)
    os.replace(tmp, out)
    return out


class _FloatBuffer:
    """Physical samples of one stream, with NaN in gaps, interpolated at any time."""

    def __init__(self, stream, t0: float):
        self.rate = stream.rate_hz
        self.t0 = t0
        self.start = 0
        self.buf = np.zeros((0, stream.channels))

    @property
    def end_t(self) -> float:
        return (self.start + self.buf.shape[0]) / self.rate

    def add(self, chunk: Chunk) -> None:
        i0 = int(round((chunk.t0_s - self.t0) * self.rate))
        end = self.start + self.buf.shape[0]
        x = np.asarray(chunk.samples, float).reshape(chunk.n, -1)
        if i0 < end:
            x = x[end - i0:]
            i0 = end
        parts = [self.buf]
        if i0 > end:
            parts.append(np.full((i0 - end, self.buf.shape[1]), np.nan))
        parts.append(x)
        self.buf = np.concatenate(parts)

    def at(self, t: np.ndarray) -> np.ndarray:
        """Values at times ``t`` (s from t0): exact on sample times, linear between, NaN outside."""
        pos = t * self.rate - self.start
        n = self.buf.shape[0]
        out = np.full((t.shape[0], self.buf.shape[1]), np.nan)
        i = np.floor(pos + 1e-9).astype(np.int64)
        frac = np.clip(pos - i, 0.0, 1.0)
        ok = (i >= 0) & (i < n)
        nxt = np.minimum(i + 1, n - 1)
        exact = frac < 1e-9
        for c in range(self.buf.shape[1]):
            col = self.buf[:, c]
            a = col[np.clip(i, 0, n - 1)] if n else np.zeros_like(frac)
            b = col[np.clip(nxt, 0, n - 1)] if n else np.zeros_like(frac)
            v = np.where(exact, a, a + (b - a) * frac)
            out[:, c] = np.where(ok, v, np.nan)
        return out

    def forget_before(self, t: float) -> None:
        drop = max(0, min(self.buf.shape[0] - 1, int(math.floor(t * self.rate)) - self.start))
        if drop > 0:
            self.buf = self.buf[drop:]
            self.start += drop


def export_session(session: str | os.PathLike, to: str, out: str | os.PathLike | None = None, force: bool = False,
                   progress: Callable[[float], None] | None = None) -> Path:
    """``export SESSION --to edf|csv``: the output path (default: beside the session)."""
    to = to.lower()
    if to not in ("edf", "csv"):
        raise ConfigError(f"--to {to}: use edf or csv")
    out = Path(out) if out is not None else Path(session).with_suffix("." + to)
    fn = export_edf if to == "edf" else export_csv
    try:
        return fn(session, out, force=force, progress=progress)
    except OSError as exc:
        part = out.with_name(out.name + ".part")
        if part.exists():
            part.unlink()
        raise FileFormatError(f"{out}: cannot write: {exc.strerror or exc}") from None
