"""simulate() and simulate_blocks(): a scenario, a subject and a device config in, counts out.

Both read the same fixed render tiles (:mod:`twitchwatch.sim.render`), so the concatenation of
``simulate_blocks(...)`` is bit-identical to ``simulate(...)`` for any ``block_s``, and memory in
block mode is bounded by one tile per stream plus the plan (O(events), a few MB for 24 h).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from twitchwatch.errors import ConfigError
from twitchwatch.model import Annotation, Chunk, DeviceInfo, Fault, StreamInfo
from twitchwatch.sim.activities import Ctx, plan_segment
from twitchwatch.sim.config import SimConfig
from twitchwatch.sim.plan import Plan
from twitchwatch.sim.render import Renderer
from twitchwatch.sim.scenario import Scenario
from twitchwatch.sim.subject import Subject
from twitchwatch.sim.truth import window_labels

EMG_CHANNEL_NAMES = ("tibialis_anterior", "gastrocnemius")
ACCEL_CHANNEL_NAMES = ("x", "y", "z")
SIM_FIRMWARE = "sim-1"


def _index(t_s: float, rate_hz: float) -> int:
    """First sample index at or after time t_s (sample i is at i / rate)."""
    return int(np.ceil(t_s * rate_hz - 1e-9))


def build_plan(scenario: Scenario, subject: Subject, config: SimConfig, seed: int) -> Plan:
    """Decide every event and track of the recording (no samples yet)."""
    if subject.placement != scenario.placement:
        raise ConfigError(
            f"scenario {scenario.name!r} is for placement {scenario.placement!r} but subject "
            f"{subject.subject_id} was drawn for {subject.placement!r}"
        )
    if int(seed) < 0:
        raise ConfigError(f"simulator: seed {seed} must be >= 0")
    plan = Plan(scenario.duration_s, scenario.placement, config.emg_channels_for(scenario.placement), int(seed))
    ctx = Ctx(plan, subject, scenario.placement)
    t = 0.0
    for i, seg in enumerate(scenario.segments):
        t1 = t + float(seg.duration_s)
        plan_segment(ctx, i, seg, t, t1, seed)
        t = t1
    rng = np.random.default_rng([int(seed), 3])
    n_knots = int(np.ceil(plan.duration_s / plan.wander_step_s)) + 2
    # baseline wander: smoothed random walk, wander_uv RMS
    steps = rng.normal(0.0, 1.0, (n_knots, 2))
    walk = np.cumsum(steps, axis=0)
    walk -= np.cumsum(walk, axis=0) / np.arange(1, n_knots + 1)[:, None]  # remove slow drift
    walk = walk / max(1.0, float(np.std(walk[: min(n_knots, 600)]))) * subject.wander_uv
    plan.wander = walk
    # postural micro-movement: smoothed white knots scaled by the posture of each segment
    rng_sway = np.random.default_rng([int(seed), 4])
    n_sway = int(np.ceil(plan.duration_s / plan.sway_step_s)) + 3
    raw = rng_sway.normal(0.0, 1.0, (n_sway + 2, 2))
    raw = (0.25 * raw[:-2] + 0.5 * raw[1:-1] + 0.25 * raw[2:]) / np.sqrt(0.375)
    knot_t = np.arange(n_sway) * plan.sway_step_s
    seg = np.clip(np.searchsorted(plan.sway_amp_t, knot_t, side="right") - 1, 0, len(plan.sway_amp_v) - 1)
    plan.sway = raw * np.asarray(plan.sway_amp_v)[seg][:, None]
    if config.dropouts_per_hour > 0:
        n = rng.poisson(config.dropouts_per_hour * plan.duration_s / 3600.0)
        starts = np.sort(rng.uniform(0.0, plan.duration_s, n))
        lens = np.exp(rng.uniform(np.log(0.02), np.log(config.dropout_max_s), n))
        kinds = ["accel"] + (["emg"] if plan.emg_channels else [])
        for a, d in zip(starts, lens):
            e = min(float(a + d), plan.duration_s)
            for kind in kinds:
                plan.dropped.append(Fault("gap", float(a), e, kind, "simulated link dropout"))
    plan.freeze()
    return plan


@dataclass(frozen=True, eq=False)
class SimBlock:
    """About block_s seconds of both streams.

    t0_s : start of the block, s; accel_counts : int16 (n, 3); emg_counts : int16 (m, k) or None
    accel_index, emg_index : index of the first sample of each stream (its time is index / rate)
    """

    t0_s: float
    accel_counts: np.ndarray
    emg_counts: np.ndarray | None
    accel_index: int = 0
    emg_index: int = 0
    accel_rate_hz: float = 0.0
    emg_rate_hz: float = 0.0

    @property
    def accel_t0_s(self) -> float:
        return self.accel_index / self.accel_rate_hz

    @property
    def emg_t0_s(self) -> float:
        return self.emg_index / self.emg_rate_hz if self.emg_rate_hz else self.t0_s


@dataclass(frozen=True, eq=False)
class SimRecording:
    """A simulated recording in device units, with its ground truth.

    Attributes
    ----------
    accel_counts : int16 (n, 3); g = counts * accel_scale_g
    emg_counts : int16 (m, k) with k = 1 or 2 (0 = tibialis anterior, 1 = gastrocnemius), or None
    annotations : segments (label = activity name, see ``scenario.ACTIVITIES``) and events
        ("fasciculation", "jerk", "tonic_phase", "generalized_phase", "electrode_pop", "tap",
        "plm_movement", "movement"; see ``scenario.EVENT_LABELS``), by onset.
        The activity "fasciculation" and the event "fasciculation" share a label: use
        :attr:`segments` and :meth:`events` to tell them apart.
    segments : the activity segments alone, in order
    event_annotations : the event-level annotations alone, by onset
    dropped : Fault("gap") per stream for each simulated link dropout. The arrays still hold those
        samples (they are the truth); a device or :meth:`items` would not deliver them.
    """

    scenario: Scenario
    subject: Subject
    config: SimConfig
    seed: int
    accel_counts: np.ndarray
    accel_scale_g: float
    accel_rate_hz: float
    emg_counts: np.ndarray | None
    emg_scale_uv: float
    emg_rate_hz: float
    annotations: tuple[Annotation, ...]
    dropped: tuple[Fault, ...]
    duration_s: float
    segments: tuple[Annotation, ...] = ()
    event_annotations: tuple[Annotation, ...] = ()

    @property
    def placement(self) -> str:
        return self.scenario.placement

    @property
    def accel_g(self) -> np.ndarray:
        """Accelerometer in g, float64 (n, 3)."""
        return self.accel_counts * self.accel_scale_g

    @property
    def emg_uv(self) -> np.ndarray | None:
        """EMG in uV, float64 (m, k), or None."""
        return None if self.emg_counts is None else self.emg_counts * self.emg_scale_uv

    def events(self, label: str) -> tuple[Annotation, ...]:
        """Event-level annotations with this label (never the activity segments)."""
        return tuple(a for a in self.event_annotations if a.label == label)

    def device_info(self) -> DeviceInfo:
        return device_info_for(self.scenario, self.subject, self.config, self.seed)

    def window_labels(self, starts_s: np.ndarray, window_s: float, min_fasciculations: int = 1) -> np.ndarray:
        """True window labels (see :func:`twitchwatch.sim.truth.window_labels`)."""
        return window_labels(self.segments, self.event_annotations, starts_s, window_s, min_fasciculations)

    def items(self, block_s: float = 1.0) -> Iterator[DeviceInfo | Chunk | Fault]:
        """What a live source would yield: DeviceInfo, then Chunks (dropped samples left out) and
        a Fault("gap") where each dropout begins."""
        return _items(self.device_info(), self.dropped, _blocks_from_arrays(self, block_s))


def device_info_for(scenario: Scenario, subject: Subject, config: SimConfig, seed: int) -> DeviceInfo:
    """The DeviceInfo a virtual device running this simulation announces."""
    streams = [StreamInfo("accel", float(config.accel_rate_hz), 3, float(config.accel_range_g), config.accel_scale_g, ACCEL_CHANNEL_NAMES)]
    k = config.emg_channels_for(scenario.placement)
    if k:
        streams.append(StreamInfo("emg", float(config.emg_rate_hz), k, float(config.emg_range_uv), config.emg_scale_uv, EMG_CHANNEL_NAMES[:k]))
    return DeviceInfo(
        device_id=f"virtual-{subject.subject_id}-{int(seed)}",
        firmware_version=SIM_FIRMWARE,
        protocol_version=1,
        placement=scenario.placement,
        streams=tuple(streams),
        source=f"virtual:{scenario.name}",
    )


class Simulation:
    """A planned simulation: ground truth and device info now, samples on demand.

    Parameters
    ----------
    scenario, subject, config, seed : as for :func:`simulate`

    Attributes
    ----------
    annotations, segments, event_annotations : ground truth (see :class:`SimRecording`)
    dropped : Fault("gap") per stream and simulated dropout
    plan : the planned events (:class:`~twitchwatch.sim.plan.Plan`)

    Methods
    -------
    recording() -> SimRecording (everything in memory); blocks(block_s) -> Iterator[SimBlock]
    (bounded memory); items(block_s) -> DeviceInfo then Chunk/Fault items; device_info()

    Raises
    ------
    ConfigError
        if the subject was drawn for another placement than the scenario's, or the seed is < 0.
    """

    def __init__(self, scenario: Scenario, subject: Subject, config: SimConfig = SimConfig(), seed: int = 0):
        self.scenario, self.subject, self.config, self.seed = scenario, subject, config, int(seed)
        self.plan = build_plan(scenario, subject, config, seed)
        self.renderer = Renderer(self.plan, subject, config, seed)

    @property
    def annotations(self) -> tuple[Annotation, ...]:
        """Segments and events together, by onset (segments first at equal onsets)."""
        both = [(a.onset_s, 0, i, a) for i, a in enumerate(self.plan.segments)]
        both += [(a.onset_s, 1, i, a) for i, a in enumerate(self.plan.annotations)]
        both.sort(key=lambda x: x[:3])
        return tuple(x[3] for x in both)

    @property
    def segments(self) -> tuple[Annotation, ...]:
        return tuple(self.plan.segments)

    @property
    def event_annotations(self) -> tuple[Annotation, ...]:
        return tuple(self.plan.annotations)

    @property
    def dropped(self) -> tuple[Fault, ...]:
        return tuple(self.plan.dropped)

    def device_info(self) -> DeviceInfo:
        return device_info_for(self.scenario, self.subject, self.config, self.seed)

    def _whole(self, stream: str) -> np.ndarray:
        r = self.renderer
        n = r.n_accel if stream == "accel" else r.n_emg
        cols = 3 if stream == "accel" else r.k_emg
        out = np.empty((n, cols), np.int16)
        L = r.tile_accel if stream == "accel" else r.tile_emg
        for k in range(r.n_tiles(stream)):
            out[k * L : min((k + 1) * L, n)] = r.tile(stream, k)
        return out

    def recording(self) -> SimRecording:
        r = self.renderer
        return SimRecording(
            scenario=self.scenario,
            subject=self.subject,
            config=self.config,
            seed=self.seed,
            accel_counts=self._whole("accel"),
            accel_scale_g=self.config.accel_scale_g,
            accel_rate_hz=r.accel_rate,
            emg_counts=self._whole("emg") if r.k_emg else None,
            emg_scale_uv=self.config.emg_scale_uv,
            emg_rate_hz=r.emg_rate if r.k_emg else 0.0,
            annotations=self.annotations,
            dropped=self.dropped,
            duration_s=self.plan.duration_s,
            segments=self.segments,
            event_annotations=self.event_annotations,
        )

    def blocks(self, block_s: float = 1.0) -> Iterator[SimBlock]:
        if not (block_s > 0):
            raise ConfigError(f"simulator: block_s={block_s} must be > 0")
        r = self.renderer
        readers = {"accel": _TileReader(r, "accel")}
        if r.k_emg:
            readers["emg"] = _TileReader(r, "emg")
        n_blocks = int(np.ceil(self.plan.duration_s / block_s - 1e-9))
        for b in range(n_blocks):
            t0, t1 = b * block_s, (b + 1) * block_s
            a0, a1 = _index(t0, r.accel_rate), min(_index(t1, r.accel_rate), r.n_accel)
            acc = readers["accel"].read(a0, a1)
            emg, e0 = None, 0
            if r.k_emg:
                e0, e1 = _index(t0, r.emg_rate), min(_index(t1, r.emg_rate), r.n_emg)
                emg = readers["emg"].read(e0, e1)
            yield SimBlock(t0, acc, emg, a0, e0, r.accel_rate, r.emg_rate if r.k_emg else 0.0)

    def items(self, block_s: float = 1.0) -> Iterator[DeviceInfo | Chunk | Fault]:
        """Like :meth:`SimRecording.items`, with bounded memory."""
        return _items(self.device_info(), self.dropped, self.blocks(block_s))


class _TileReader:
    """Reads sample ranges of one stream, rendering each tile once (keeps the latest tile)."""

    def __init__(self, renderer: Renderer, stream: str):
        self.r, self.stream = renderer, stream
        self.L = renderer.tile_accel if stream == "accel" else renderer.tile_emg
        self.cols = 3 if stream == "accel" else renderer.k_emg
        self.cache_k, self.cache = -1, None

    def read(self, i0: int, i1: int) -> np.ndarray:
        if i1 <= i0:
            return np.zeros((0, self.cols), np.int16)
        parts = []
        for k in range(i0 // self.L, (i1 - 1) // self.L + 1):
            if k != self.cache_k:
                self.cache_k, self.cache = k, self.r.tile(self.stream, k)
            base = k * self.L
            parts.append(self.cache[max(i0 - base, 0) : min(i1 - base, self.L)])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _blocks_from_arrays(rec: SimRecording, block_s: float) -> Iterator[SimBlock]:
    n_blocks = int(np.ceil(rec.duration_s / block_s - 1e-9))
    na = rec.accel_counts.shape[0]
    ne = 0 if rec.emg_counts is None else rec.emg_counts.shape[0]
    for b in range(n_blocks):
        t0, t1 = b * block_s, (b + 1) * block_s
        a0, a1 = _index(t0, rec.accel_rate_hz), min(_index(t1, rec.accel_rate_hz), na)
        emg, e0 = None, 0
        if rec.emg_counts is not None:
            e0, e1 = _index(t0, rec.emg_rate_hz), min(_index(t1, rec.emg_rate_hz), ne)
            emg = rec.emg_counts[e0:e1]
        yield SimBlock(t0, rec.accel_counts[a0:a1], emg, a0, e0, rec.accel_rate_hz, rec.emg_rate_hz)


def _items(info: DeviceInfo, dropped: tuple[Fault, ...], blocks: Iterator[SimBlock]):
    """DeviceInfo, then per block and stream the Chunks of delivered samples, each Fault("gap")
    placed in time order where its dropout begins (once)."""
    yield info
    streams = {s.kind: s for s in info.streams}
    gaps = {}
    for kind in streams:
        mine = sorted((f for f in dropped if f.stream == kind), key=lambda f: f.start_s)
        gaps[kind] = (mine, np.array([f.start_s for f in mine]), np.maximum.accumulate([f.end_s for f in mine]) if mine else np.zeros(0))
    next_gap = {kind: 0 for kind in streams}
    for blk in blocks:
        out: list[tuple[float, int, object]] = []
        for kind in streams:
            counts = blk.accel_counts if kind == "accel" else blk.emg_counts
            if counts is None or len(counts) == 0:
                continue
            rate, scale = streams[kind].rate_hz, streams[kind].scale
            i_first = blk.accel_index if kind == "accel" else blk.emg_index
            t = (i_first + np.arange(len(counts))) / rate
            mine, g_start, g_end_max = gaps[kind]
            keep = np.ones(len(counts), bool)
            # gaps that may overlap this block: started before its end, not all ended before its start
            lo = int(np.searchsorted(g_end_max, t[0], side="right"))
            hi = int(np.searchsorted(g_start, t[-1], side="right"))
            for f in mine[lo:hi]:
                keep &= ~((t >= f.start_s) & (t < f.end_s))
            while next_gap[kind] < len(mine) and mine[next_gap[kind]].start_s <= t[-1]:
                f = mine[next_gap[kind]]
                out.append((f.start_s, 1, f))
                next_gap[kind] += 1
            edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.view(np.int8), [0]])))
            for a, b in zip(edges[::2], edges[1::2]):
                c = counts[a:b].copy()
                c.setflags(write=False)
                samples = c * scale
                samples.setflags(write=False)
                out.append((float(t[a]), 0, Chunk(kind, (i_first + a) / rate, rate, samples, counts=c)))
        out.sort(key=lambda x: (x[0], x[1]))
        for _, _, item in out:
            yield item


def simulate(scenario: Scenario, subject: Subject, config: SimConfig = SimConfig(), seed: int = 0) -> SimRecording:
    """Simulate a whole recording.

    Parameters
    ----------
    scenario : what the wearer does (see :data:`twitchwatch.sim.SCENARIOS`, :func:`parse_scenario`)
    subject : who wears it (:func:`draw_subject`); its placement must match the scenario's
    config : device rates, ranges, channels
    seed : recording seed (noise and event timing); the same inputs give the same output

    Returns
    -------
    SimRecording with int16 counts, scales, rates, annotations and dropped intervals.
    """
    return Simulation(scenario, subject, config, seed).recording()


def simulate_blocks(
    scenario: Scenario, subject: Subject, config: SimConfig = SimConfig(), seed: int = 0, block_s: float = 1.0
) -> Iterator[SimBlock]:
    """The same recording as :func:`simulate`, as consecutive blocks of ``block_s`` seconds.

    Concatenating ``accel_counts`` (and ``emg_counts``) of all blocks gives exactly
    ``simulate(...).accel_counts``; memory stays bounded for any duration. Block b starts at
    ``b * block_s``; its first sample of each stream is ``ceil(t0 * rate)``.
    """
    return Simulation(scenario, subject, config, seed).blocks(block_s)
