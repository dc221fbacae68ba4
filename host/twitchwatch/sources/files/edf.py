"""EDF / EDF+ files (via edfio), streamed one slice at a time.

Signals are mapped by physical dimension and label:
- acceleration: unit ``g``, ``mg`` or ``m/s^2`` (``m/s2``, ``m/s**2``); converted to g;
  at most 3 such signals, all at one rate, named by their labels;
- EMG: a voltage unit (``uV``, ``mV``, ``V``) whose label does not say ECG/EEG/EOG; converted to
  microvolts; at most 2, one rate;
- anything else (annotations channel, temperature, ...) is ignored.
EDF+ annotations become :class:`~twitchwatch.model.Annotation` s, except those
``twitchwatch export --to edf`` writes for source faults and button presses: ``gap [stream]`` (the
zeros EDF+C must hold there are left out, the gap is a Fault) and ``mark`` (a Mark). A discontinuous EDF+D file is
refused (its data records are not contiguous in time).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from twitchwatch.errors import ConfigError, FileFormatError
from twitchwatch.model import Annotation, Chunk, DeviceInfo, Fault, Mark, StreamInfo

from .base import STANDARD_GRAVITY_M_S2, FileSourceBase, resolve_placement

G_PER_UNIT = {"g": 1.0, "mg": 1e-3, "m/s^2": 1 / STANDARD_GRAVITY_M_S2, "m/s2": 1 / STANDARD_GRAVITY_M_S2,
              "m/s**2": 1 / STANDARD_GRAVITY_M_S2, "m/s²": 1 / STANDARD_GRAVITY_M_S2}
UV_PER_UNIT = {"uv": 1.0, "µv": 1.0, "μv": 1.0, "mv": 1e3, "v": 1e6}
NOT_EMG = ("ecg", "ekg", "eeg", "eog")


class EdfSource(FileSourceBase):
    def __init__(self, path: Path, placement: str | None = None):
        import edfio

        self.path = Path(path)
        self.format = "edf"
        try:
            self._edf = edfio.read_edf(self.path, lazy_load_data=True)
        except FileNotFoundError:
            raise FileFormatError(f"{self.path}: no such file") from None
        except Exception:  # edfio raises ValueError/IndexError/... on corrupt headers
            raise FileFormatError(f"{self.path}: not a readable EDF file ({_header_problem(self.path)})") from None
        edf = self._edf
        if not edf.is_continuous:
            raise FileFormatError(f"{self.path}: discontinuous EDF+D is not supported")
        accel, emg = [], []
        for i, sig in enumerate(edf.signals):
            unit = sig.physical_dimension.strip()
            label = sig.label.strip()
            if unit.lower() in G_PER_UNIT or unit in G_PER_UNIT:
                accel.append((i, G_PER_UNIT.get(unit, G_PER_UNIT.get(unit.lower())), label))
            elif unit.lower() in UV_PER_UNIT and not any(k in label.lower() for k in NOT_EMG):
                emg.append((i, UV_PER_UNIT[unit.lower()], label))
        if not accel and not emg:
            raise FileFormatError(f"{self.path}: no acceleration (g, mg, m/s^2) or EMG (uV, mV) signal")
        streams = []
        self._groups = []
        for kind, group, limit in (("accel", accel, 3), ("emg", emg, 2)):
            if not group:
                continue
            group = group[:limit]
            rates = {edf.signals[i].sampling_frequency for i, _, _ in group}
            if len(rates) != 1:
                raise FileFormatError(f"{self.path}: {kind} signals at different rates {sorted(rates)}")
            rate = float(rates.pop())
            scale = np.array([f for _, f, _ in group])
            rng = max(max(abs(edf.signals[i].physical_min), abs(edf.signals[i].physical_max)) * f
                      for i, f, _ in group)
            streams.append(StreamInfo(kind, rate, len(group), float(rng), 0.0, tuple(lbl for _, _, lbl in group)))
            self._groups.append((kind, rate, [i for i, _, _ in group], scale))
        self.device_info = DeviceInfo(f"edf:{self.path.stem}", "", 0, resolve_placement("foot", placement),
                                      tuple(streams), f"file:{self.path}")
        self._duration = float(edf.duration)
        anns, self._gaps, self._marks = [], [], []
        for a in edf.annotations:
            onset, dur, text = float(a.onset), float(a.duration or 0.0), a.text.strip()
            words = text.split()
            if words and words[0] == "gap" and len(words) <= 2 and dur > 0:
                self._gaps.append(Fault("gap", onset, onset + dur, words[1] if len(words) == 2 else "", "EDF annotation"))
            elif text == "mark":
                self._marks.append(Mark(onset))
            else:
                anns.append(Annotation(onset, dur, a.text))
        self.annotations = tuple(anns)

    @property
    def duration_s(self) -> float:
        return self._duration

    def items(self, block_s: float = 10.0) -> Iterator[Chunk | Fault | Mark]:
        """Chunks of at most ``block_s`` s per stream; samples inside annotated gaps (which an EDF+C
        file must fill, with zeros) are left out and the gap is a Fault; "mark" annotations are Marks."""
        if not block_s > 0:
            raise ConfigError(f"block_s must be > 0 s, got {block_s}")
        pending = sorted(self._gaps + self._marks, key=lambda x: x.start_s if isinstance(x, Fault) else x.t_s)
        t = 0.0
        while t < self._duration - 1e-9:
            stop = min(self._duration, t + block_s)
            while pending and (pending[0].start_s if isinstance(pending[0], Fault) else pending[0].t_s) < stop:
                yield pending.pop(0)
            for kind, rate, idx, scale in self._groups:
                # sample-exact slice boundaries so consecutive chunks tile the signal
                a, b = int(round(t * rate)), int(round(stop * rate))
                if b <= a:
                    continue
                try:
                    cols = [self._edf.signals[i].get_data_slice(a / rate, b / rate) for i in idx]
                except Exception:
                    raise FileFormatError(f"{self.path}: cannot read samples at {t:.1f} s: the file ends before "
                                          "its header says (truncated?)") from None
                block = np.stack(cols, axis=1) * scale
                keep = np.ones(b - a, dtype=bool)
                for g in self._gaps:
                    if g.stream in ("", kind):
                        lo, hi = int(np.ceil(g.start_s * rate - 1e-9)) - a, int(np.ceil(g.end_s * rate - 1e-9)) - a
                        keep[max(lo, 0):max(min(hi, b - a), 0)] = False
                edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
                for r0, r1 in zip(edges[::2], edges[1::2]):
                    part = np.ascontiguousarray(block[r0:r1])
                    part.setflags(write=False)
                    yield Chunk(kind, (a + r0) / rate, rate, part)
            t = stop
        yield from pending


def _header_problem(path: Path) -> str:
    """What is wrong with an EDF header, in words (never the parser's text, which can quote
    binary junk from the file)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
            size = fh.seek(0, 2)
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    if size == 0:
        return "the file is empty"
    if len(head) < 256:
        return f"only {size} bytes, shorter than the 256-byte EDF header"
    if head[:8].strip() != b"0":
        return "it does not start with the EDF version field '0'"
    if any(b < 32 or b > 126 for b in head):
        return "its header holds non-text bytes"
    try:
        n_bytes, ns = int(head[184:192]), int(head[252:256])
    except ValueError:
        return "its header's size fields are not numbers"
    if ns <= 0 or n_bytes != 256 * (ns + 1):
        return f"its header says {ns} signal(s) in {n_bytes} header bytes, which do not match"
    if size < n_bytes:
        return f"the signal headers are cut off ({size} of {n_bytes} header bytes)"
    return "its signal headers are not valid EDF"
