"""The plan of a simulated recording: every event and slow track, decided up front.

A plan holds O(events) numbers (not samples), so a 24 h day is a few MB. Rendering
(:mod:`twitchwatch.sim.render`) turns any fixed tile of samples into signal from the plan alone,
which is what makes block-wise generation identical to whole-recording generation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import CubicSpline

from twitchwatch.model import Annotation, Fault


class EventTable:
    """Events sorted by onset (s) with a duration (s) and named float columns."""

    def __init__(self, columns: tuple[str, ...]):
        self.columns = ("onset", "dur") + columns
        self._rows: list[np.ndarray] = []
        self.data: dict[str, np.ndarray] = {}
        self.max_dur = 0.0

    def add(self, onset, dur, **cols) -> None:
        onset = np.atleast_1d(np.asarray(onset, dtype=float))
        n = onset.shape[0]
        if n == 0:
            return
        row = [onset, np.broadcast_to(np.asarray(dur, dtype=float), (n,))]
        for c in self.columns[2:]:
            row.append(np.broadcast_to(np.asarray(cols.get(c, 0.0), dtype=float), (n,)))
        self._rows.append(np.stack(row, axis=1))

    def freeze(self) -> None:
        arr = np.concatenate(self._rows) if self._rows else np.zeros((0, len(self.columns)))
        arr = arr[np.argsort(arr[:, 0], kind="stable")]
        self.data = {c: np.ascontiguousarray(arr[:, i]) for i, c in enumerate(self.columns)}
        self.max_dur = float(arr[:, 1].max()) if len(arr) else 0.0
        self._rows = []

    def __len__(self) -> int:
        return len(self.data.get("onset", ()))

    def select(self, t_start: float, t_end: float, pad_s: float = 0.0) -> dict[str, np.ndarray]:
        """Columns of the events that may overlap [t_start - pad, t_end + pad)."""
        on = self.data["onset"]
        i0 = int(np.searchsorted(on, t_start - pad_s - self.max_dur, side="left"))
        i1 = int(np.searchsorted(on, t_end + pad_s, side="left"))
        if i1 <= i0:
            return {}
        sel = {c: v[i0:i1] for c, v in self.data.items()}
        keep = sel["onset"] + sel["dur"] + pad_s >= t_start
        if not keep.all():
            sel = {c: v[keep] for c, v in sel.items()}
        return sel if len(sel["onset"]) else {}


@dataclass
class Oscillator:
    """A quasi-periodic movement (tremor, scrubbing) between t0 and t1, s.

    Phase = 2 pi f0 (t - t0) + a slow random deviation (cubic spline through knots every second), amplitude modulated
    by slow knots and ramped in/out over ``ramp_s``.
    """

    t0: float
    t1: float
    f0_hz: float
    knot_t: np.ndarray
    knot_phase: np.ndarray
    knot_amp: np.ndarray
    pitch_rad: float = 0.0
    roll_rad: float = 0.0
    lin_g: tuple[float, float, float] = (0.0, 0.0, 0.0)
    emg_uv: tuple[float, float] = (0.0, 0.0)
    emg_pattern: str = "alternating"  # or "synchronous"
    emg_sharpness: int = 3  # bursts are ((1 + sin) / 2) ** sharpness
    emg_band: int = 0
    ramp_s: float = 1.0
    #: Fraction of the movement that leaks through the sensor's anti-alias filter and aliases
    #: (0: an ideal filter; motor vibration of brushes and shavers on cheap watches: > 0).
    alias_leak: float = 0.0

    def __post_init__(self) -> None:
        # C2-smooth phase deviation, so the frequency changes smoothly (no derivative spikes)
        self.phase_dev = CubicSpline(self.knot_t, self.knot_phase)


@dataclass
class Gait:
    """Strides between t0 and t1: heel-strike times (s) and stride periods (s) of this limb."""

    t0: float
    t1: float
    kind: str  # "walk", "run", "stairs", "armswing"
    strike_s: np.ndarray
    period_s: np.ndarray
    pitch_scale: float
    lin_g: tuple[float, float]  # forward, vertical swing acceleration amplitudes, g


#: EMG carrier bands: 0 voluntary interference pattern, 1 clonic (12-70 Hz dominated), 2 tonic (150-270 Hz)
N_BANDS = 3


@dataclass
class Plan:
    """Everything rendering needs. Times in s; accel amplitudes in g or rad; EMG in uV."""

    duration_s: float
    placement: str
    emg_channels: int
    seed: int
    # slow tracks
    posture_t: list = field(default_factory=list)
    posture_v: list = field(default_factory=list)
    contact_t: list = field(default_factory=list)
    contact_v: list = field(default_factory=list)
    # event tables
    angles: EventTable = field(default_factory=lambda: EventTable(("amp", "rise", "axis")))
    lin: EventTable = field(default_factory=lambda: EventTable(("ax", "ay", "az")))
    impacts: EventTable = field(default_factory=lambda: EventTable(("ax", "ay", "az", "freq", "decay")))
    env: EventTable = field(default_factory=lambda: EventTable(("a0", "a1", "band", "rise")))
    muaps: EventTable = field(default_factory=lambda: EventTable(("a0", "a1", "kind", "p0", "p1", "p2", "p3")))
    emg_pulses: EventTable = field(default_factory=lambda: EventTable(("a0", "a1")))
    pops: EventTable = field(default_factory=lambda: EventTable(("a0", "a1", "decay")))
    oscillators: list[Oscillator] = field(default_factory=list)
    gaits: list[Gait] = field(default_factory=list)
    wander_step_s: float = 0.5
    wander: np.ndarray | None = None  # (knots, 2) uV
    sway_step_s: float = 0.25
    sway: np.ndarray | None = None  # (knots, 2) pitch and roll micro-movement, rad
    sway_amp_t: list = field(default_factory=list)  # segment starts, s
    sway_amp_v: list = field(default_factory=list)  # sway RMS from there on, rad
    annotations: list[Annotation] = field(default_factory=list)  # event-level ground truth
    segments: list[Annotation] = field(default_factory=list)  # one per scenario segment
    dropped: list[Fault] = field(default_factory=list)

    def freeze(self) -> None:
        for table in (self.angles, self.lin, self.impacts, self.env, self.muaps, self.emg_pulses, self.pops):
            table.freeze()
        order = np.argsort(np.asarray(self.posture_t), kind="stable")
        self.posture_t = np.asarray(self.posture_t, dtype=float)[order]
        self.posture_v = np.asarray(self.posture_v, dtype=float).reshape(-1, 3)[order]
        order = np.argsort(np.asarray(self.contact_t), kind="stable")
        self.contact_t = np.asarray(self.contact_t, dtype=float)[order]
        self.contact_v = np.asarray(self.contact_v, dtype=float)[order]
        self.osc_t0 = np.array([o.t0 for o in self.oscillators])
        self.osc_t1 = np.array([o.t1 for o in self.oscillators])
        self.gait_t0 = np.array([g.t0 for g in self.gaits])
        self.gait_t1 = np.array([g.t1 for g in self.gaits])
        self.annotations.sort(key=lambda a: (a.onset_s, a.label))
