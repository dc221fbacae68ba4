"""The streaming detector: chunks in, final events / window labels / episodes / alerts out.

Time grid: windows ``[k * hop_s, k * hop_s + window_s)`` on the device clock, for integer k. A
window is processed once every stream in use has delivered all samples before its end, so the
output does not depend on how the input was cut into chunks (a tested property). Per stream, the
detector carries the filter states, the event detector, per-block statistics and a short buffer of
decimated filter outputs (bounded: a window plus the last chunk).

Bad input never raises: NaN/inf samples are held at the last finite value and counted; a window
holding any is not labelled and raises the ``invalid_samples``/``signal_lost`` faults; a flat line
(no change in a whole block) is ``signal_lost``; gaps up to ``MAX_FILL_S`` are held and reported,
longer ones restart the stream. Rates below the minimum, a channel count that changes, or a chunk
of an undeclared stream are configuration errors (:class:`~twitchwatch.errors.ConfigError`).

Limitation: a stream declared by the device that never delivers is waited for during the first
``STARTUP_WAIT_S`` seconds of the other streams, then ignored (with a ``signal_lost`` fault).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from twitchwatch.core.blocks import BlockReducer, block_of, block_runs, rows_within, sample_stats
from twitchwatch.core.classify import WindowClassifier, load_classifier
from twitchwatch.core.config import GAP_TOLERANCE_SAMPLES, DetectorConfig, config_for_placement
from twitchwatch.core.context import (
    M10_ABSENT,
    M10_FEATURES,
    MAGNITUDE_RATE_HZ,
    OSD_FEATURES,
    SHORT_S,
    ContextTracker,
    RunningMean,
    seizure_matrix,
)
from twitchwatch.core.episodes import EpisodeTracker, FaultTracker
from twitchwatch.core.events import EventDetector, EventSettings, merge_channel_twitches
from twitchwatch.core.features import (
    AccelWindows,
    EmgWindows,
    WindowBatch,
    column,
    compute_features,
    magnitude_features,
    MAGNITUDE_KEYS,
)
from twitchwatch.core.filters import AccelFilters, Decimator, EmgFilters, decimation_factor
from twitchwatch.core.osd import OsdConfig, OsdStream
from twitchwatch.errors import ConfigError
from twitchwatch.model import (
    WINDOW_LABELS,
    Alert,
    Chunk,
    DetectorOutput,
    DeviceInfo,
    Event,
    Fault,
    StreamInfo,
    WindowLabel,
)

#: Gaps up to this long are filled by holding the last sample (and reported); longer ones restart
#: the stream's filters, s.
MAX_FILL_S = 60.0
#: A declared stream that has not delivered after the others have this much data is ignored, s.
STARTUP_WAIT_S = 300.0
#: Decimals kept of window features and of the floats in WindowLabel (see _windows).
FEATURE_DECIMALS, OUTPUT_DECIMALS = 9, 6
#: Order of alerts raised at the same moment: a warning before the alarm it grows into.
ALERT_ORDER = {"warning": 0, "alarm": 1, "fault": 2}
#: Fraction of the range at which a sample counts as clipped.
CLIP_LEVEL = 0.999
#: Samples beyond these magnitudes are not measurements but corrupt values, held and counted as
#: invalid like NaN: accel 1,000 g (body-worn shock accelerometers end at +-200-400 g, e.g. ADXL377
#: +-200 g), EMG 1e6 uV = 1 V (surface EMG is below ~10 mV).
IMPLAUSIBLE = {"accel": 1e3, "emg": 1e6}
#: OSD's blocks are kept for this long behind the next window, s (its alarm count needs the run of
#: positive blocks; 60 s covers a 12-block run, beyond which the count only says "long").
OSD_HISTORY_S = 60.0
#: Up to this many windows a step, _Stream.take copies plain slices instead of indexing a
#: sliding_window_view (whose set-up costs ~30 us a buffer; measured, issue 10), windows.
TAKE_SLICES_MAX = 8


class _Stream:
    """Everything the detector keeps for one stream."""

    def __init__(self, info: StreamInfo, rate_hz: float, channels: int, t0_s: float, config: DetectorConfig):
        self.kind, self.info, self.rate_hz, self.channels = info.kind, info, float(rate_hz), int(channels)
        self.t0_s = float(t0_s)
        self.c = config
        names = info.channel_names if len(info.channel_names) == channels else tuple(f"ch{i}" for i in range(channels))
        if self.kind == "accel":
            self.filters = AccelFilters(rate_hz, channels, config)
            ev_names = ("magnitude",) if channels == 1 else ("vector",)
            settings = EventSettings(config.event_on_ratio, config.event_off_ratio, config.accel_refractory_s,
                                     config.twitch_max_s, config.min_floor_g, config.floor_history_blocks)
        else:
            self.filters = EmgFilters(rate_hz, channels, config)
            ev_names = names
            settings = EventSettings(config.event_on_ratio, config.event_off_ratio, config.emg_refractory_s,
                                     config.twitch_max_s, config.min_floor_uv, config.floor_history_blocks)
        self.events = EventDetector(self.kind, ev_names, t0_s, rate_hz, settings)
        self.decimate = Decimator(decimation_factor(rate_hz, config.feature_rate_hz))
        self.feature_rate_hz = self.rate_hz / self.decimate.factor
        # samples every window [s, s + window_s) surely holds: at a non-integer rate (104.28 Hz) some
        # windows hold one sample more than others, so round() could ask for a sample not yet there
        self.window_n = int(math.floor(config.window_s * self.feature_rate_hz + 1e-9))
        self.next_index = 0
        self.last_valid = None  # (channels,) last finite raw sample
        self.gaps: list[tuple[float, float]] = []  # [start, end) s of filled gaps a window may still hold
        # per-block sums: n, invalid, clipped (+ zero crossings per channel for EMG); max and min per channel
        self.sums = BlockReducer(np.add, 3 + (channels if self.kind == "emg" else 0))
        self.maxs = BlockReducer(np.maximum, channels)
        self.mins = BlockReducer(np.minimum, channels)
        self.block_base: int | None = None
        self.block_rows = np.zeros((0, self.sums.width + 1))  # sums..., flat flag
        self.done_block = block_of(t0_s, rate_hz, 0, config.hop_s) - 1  # last complete block
        self.buffer: dict[str, np.ndarray] = {}
        self.buffer_base = 0  # feature-rate index of buffer row 0
        # OpenSeizureDetector's 5 s blocks of this stream (accel, 1 or 3 channels): end time, positive,
        # log10 ROI power, ROI ratio, OSD's alarm count (s) at that block
        self.osd = OsdStream(rate_hz, channels, t0_s) if self.kind == "accel" and channels in (1, 3) else None
        self.osd_blocks = np.zeros((0, 5))
        # the 25 Hz magnitude OSD resamples (g): samples mag25_base.. of the run; its first sample pads
        # windows that reach back before the run began
        self.mag25 = np.zeros(0)
        self.mag25_base = 0
        self.mag25_first: float | None = None

    # -- per chunk ---------------------------------------------------------------------------------
    def expected_t(self) -> float:
        return self.t0_s + self.next_index / self.rate_hz

    def feed(self, raw: np.ndarray) -> list[Event]:
        """Filter, detect events, buffer features and block statistics of raw samples (n, channels)."""
        n = raw.shape[0]
        all_finite, finite = rows_within(raw, IMPLAUSIBLE[self.kind])  # False for NaN
        if not all_finite:
            raw = self._hold(raw, finite)
        elif n:
            self.last_valid = raw[-1].copy()
        g0 = self.next_index
        runs = block_runs(self.t0_s, self.rate_hz, g0, n, self.c.hop_s)
        next_id = block_of(self.t0_s, self.rate_hz, g0 + n, self.c.hop_s)
        sig = self.filters(raw)
        if self.kind == "accel":
            env = sig.event_env[:, None]
            events, floor = self.events.process(env, runs, next_id)
            keep = self.decimate.offset(g0)
            fl = floor[keep :: self.decimate.factor, 0]
            new = {
                "move": sig.move[keep :: self.decimate.factor],
                "gravity": sig.gravity[keep :: self.decimate.factor],
                "env": sig.feature_env[keep :: self.decimate.factor],
            }
            new["snr"] = np.where(np.isfinite(fl), new["env"] / np.where(np.isfinite(fl), fl, 1.0), 0.0)
            crossings = np.zeros((n, 0), dtype=bool)
        else:
            events, floor = self.events.process(sig.event_env, runs, next_id)
            keep = self.decimate.offset(g0)
            fl = floor[keep :: self.decimate.factor]
            env = sig.feature_env[keep :: self.decimate.factor]
            new = {"env": env, "snr": np.where(np.isfinite(fl), env / np.where(np.isfinite(fl), fl, 1.0), 0.0)}
            crossings = sig.zero_crossings
        self._append(new)
        if self.osd is not None:
            self._add_osd_blocks(raw)
        clip_level = CLIP_LEVEL * self.info.range if self.info.range > 0 else math.inf
        sums, maxs, mins = sample_stats(raw, runs, finite, crossings, clip_level)  # per block of this chunk
        done_ids, sums = self.sums.feed(runs.ids, sums, next_id)
        _, maxs = self.maxs.feed(runs.ids, maxs, next_id)
        _, mins = self.mins.feed(runs.ids, mins, next_id)
        self.next_index += n
        if done_ids.size:
            flat = np.all(maxs - mins <= 0.0, axis=1).astype(float)
            self._store_blocks(done_ids, np.column_stack([sums, flat]))
            self.done_block = int(done_ids[-1])
        return events

    def _hold(self, raw: np.ndarray, finite: np.ndarray) -> np.ndarray:
        """Replace non-finite rows by the last finite row (zeros before any)."""
        raw = np.array(raw, dtype=float, copy=True)
        idx = np.where(finite, np.arange(raw.shape[0]), -1)
        np.maximum.accumulate(idx, out=idx)
        before = self.last_valid if self.last_valid is not None else np.zeros(raw.shape[1])
        filled = np.where((idx >= 0)[:, None], raw[np.maximum(idx, 0)], before[None, :])
        if raw.shape[0]:
            self.last_valid = filled[-1].copy()
        return filled

    def _add_osd_blocks(self, raw: np.ndarray) -> None:
        b = self.osd.push(raw)
        if b.magnitude_g.size:
            if self.mag25_first is None:
                self.mag25_first = float(b.magnitude_g[0])
            self.mag25 = np.concatenate([self.mag25, b.magnitude_g])
        if not b.count:
            return
        count_s = self.osd_blocks[-1, 4] if self.osd_blocks.shape[0] else 0.0
        counts = np.empty(b.count)
        for i, pos in enumerate(b.positive.tolist()):  # one block per 5 s: a short sequential count
            count_s = count_s + self.osd.config.block_s if pos else 0.0
            counts[i] = count_s
        rows = np.column_stack([b.end_s, b.positive.astype(float), np.log10(b.roi.astype(float) + 1.0),
                                b.ratio.astype(float), counts])
        self.osd_blocks = np.concatenate([self.osd_blocks, rows])

    def _last_input_s(self, ends_s: np.ndarray) -> np.ndarray:
        """Time of the last input sample before each window end, s from the run's start."""
        return (np.ceil((ends_s - self.t0_s) * self.rate_hz - 1e-9) - 1) / self.rate_hz

    def magnitude_at(self, ends_s: np.ndarray) -> np.ndarray:
        """(w, SHORT_S x 25) 25 Hz magnitude (g) up to the last sample at or before each window's
        last input sample: present whatever the chunking, since the resampler emits a 25 Hz sample
        once an input at or after its time arrived."""
        n = int(round(SHORT_S * MAGNITUDE_RATE_HZ))
        k_last = np.floor(self._last_input_s(ends_s) * MAGNITUDE_RATE_HZ + 1e-9).astype(np.int64)
        idx = k_last[:, None] - (n - 1) + np.arange(n)[None, :]
        before = idx < 0
        pos = np.clip(idx - self.mag25_base, 0, max(self.mag25.size - 1, 0))
        x = self.mag25[pos] if self.mag25.size else np.zeros(idx.shape)
        return np.where(before, self.mag25_first or 0.0, x)

    def magnitude_features_at(self, ends_s: np.ndarray) -> np.ndarray:
        """(w, len(M10_FEATURES)) magnitude features of the 10 s of 25 Hz magnitude before each end."""
        x = self.magnitude_at(ends_s)
        mf = magnitude_features(x - x.mean(axis=1, keepdims=True), MAGNITUDE_RATE_HZ)
        return np.column_stack([np.ones(ends_s.size)] + [mf[key] for key in MAGNITUDE_KEYS])

    def osd_at(self, ends_s: np.ndarray) -> np.ndarray:
        """OSD's view at each window end: (w, len(OSD_FEATURES)) from the last block whose samples all
        lie before the window's end (so it is complete when the window is, whatever the chunking):
        its last 25 Hz sample, 1/25 s before the block's end, is at or before the last input sample
        before the window's end."""
        out = np.zeros((ends_s.size, len(OSD_FEATURES)))
        if self.osd is None or not self.osd_blocks.shape[0]:
            return out
        last_in = self._last_input_s(ends_s) + self.t0_s
        j = np.searchsorted(self.osd_blocks[:, 0], last_in + 1.0 / self.osd.config.rate_hz + 1e-9, side="right") - 1
        ok = j >= 0
        out[ok] = self.osd_blocks[j[ok], 1:]
        return out

    def _append(self, new: dict[str, np.ndarray]) -> None:
        if not self.buffer:
            self.buffer = {k: v.copy() for k, v in new.items()}
        else:
            self.buffer = {k: np.concatenate([self.buffer[k], new[k]]) for k, v in new.items()}

    def _store_blocks(self, ids: np.ndarray, rows: np.ndarray) -> None:
        if self.block_base is None:
            self.block_base = int(ids[0])
        end = self.block_base + self.block_rows.shape[0]
        if int(ids[0]) > end:  # missing blocks (should not happen: gaps are filled) -> empty rows
            self.block_rows = np.concatenate([self.block_rows, np.zeros((int(ids[0]) - end, rows.shape[1]))])
        self.block_rows = np.concatenate([self.block_rows, rows])

    def fill_gap(self, gap_s: float) -> list[Event]:
        """Hold the last sample over a gap, the held samples counted as invalid.

        The gap is remembered so that windows holding it are left unlabelled without raising
        ``invalid_samples``/``signal_lost`` faults of their own: the gap is already reported."""
        n = int(round(gap_s * self.rate_hz))
        start = self.expected_t()
        self.gaps.append((start, start + n / self.rate_hz))
        value = self.last_valid if self.last_valid is not None else np.zeros(self.channels)
        block = np.full((n, self.channels), np.nan)
        block[:] = np.nan
        self.last_valid = value
        events = self.feed(block)
        return events

    # -- windows ---------------------------------------------------------------------------------
    def feature_start(self, t_s: np.ndarray) -> np.ndarray:
        """Feature-rate index of the first sample at or after each time in ``t_s``."""
        return np.ceil((t_s - self.t0_s) * self.feature_rate_hz - 1e-9).astype(np.int64)

    def take(self, starts_s: np.ndarray) -> dict[str, np.ndarray] | None:
        idx = self.feature_start(starts_s) - self.buffer_base
        out = {}
        n = self.window_n
        few = idx.size <= TAKE_SLICES_MAX and (idx >= 0).all()
        for key, arr in self.buffer.items():
            if few and int(idx.max(initial=0)) + n <= arr.shape[0]:
                # plain slices (live: one window a step): the same values in the same C-ordered
                # (w, n) / (w, channels, n) layout as the fancy-indexed view below, ~30x cheaper
                v = np.stack([arr[i : i + n].T for i in idx.tolist()]) if idx.size else \
                    np.empty((0,) + arr.shape[1:] + (n,))
            else:
                v = np.lib.stride_tricks.sliding_window_view(arr, n, axis=0)[idx]
            out[key] = np.moveaxis(v, -1, 1) if v.ndim == 3 else v
        return out

    def block_stats(self, k: np.ndarray, nb: int) -> np.ndarray:
        """Sums of block rows over blocks k .. k+nb-1 for each window start block k; (w, width)."""
        rows = self.block_rows
        pos = k - self.block_base
        cs = np.concatenate([np.zeros((1, rows.shape[1])), np.cumsum(rows, axis=0)])
        return cs[pos + nb] - cs[pos]

    def overlaps_gap(self, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
        """For each window [starts, ends) s, whether it holds part of a filled gap; (w,) bool."""
        hit = np.zeros(starts.shape, dtype=bool)
        for a, b in self.gaps:
            hit |= (starts < b) & (ends > a)
        return hit

    def trim(self, next_window_start_s: float, next_block: int) -> None:
        """Forget buffered samples and blocks that no future window needs."""
        self.gaps = [(a, b) for a, b in self.gaps if b > next_window_start_s]
        old = self.osd_blocks[:, 0] < next_window_start_s - OSD_HISTORY_S
        if old.any() and old.sum() < self.osd_blocks.shape[0]:
            self.osd_blocks = self.osd_blocks[int(old.sum()):]
        # the next window's magnitude starts SHORT_S before its end (window_s after its start); 1 s spare
        first_needed = int(math.floor((next_window_start_s - self.t0_s + self.c.window_s - SHORT_S - 1.0) * MAGNITUDE_RATE_HZ))
        drop25 = min(first_needed - self.mag25_base, self.mag25.size)
        if drop25 > 0:
            self.mag25 = self.mag25[drop25:]
            self.mag25_base += drop25
        keep_from = int(self.feature_start(np.array([next_window_start_s]))[0])
        drop = keep_from - self.buffer_base
        if drop > 0 and self.buffer:
            self.buffer = {k: v[drop:] for k, v in self.buffer.items()}
            self.buffer_base = keep_from
        if self.block_base is not None and next_block > self.block_base:
            d = min(next_block - self.block_base, self.block_rows.shape[0])
            self.block_rows = self.block_rows[d:]
            self.block_base += d


def _no_magnitude(w: int) -> tuple[np.ndarray, np.ndarray]:
    """OSD's view and the magnitude features of ``w`` windows of a device without a magnitude."""
    return np.zeros((w, len(OSD_FEATURES))), np.broadcast_to(M10_ABSENT, (w, len(M10_FEATURES))).copy()


class Detector:
    """Streaming detector for one device session.

    Parameters
    ----------
    device_info : the streams (kind, rate, channels, range) as the source announced them
    classifier : a :class:`~twitchwatch.core.classify.WindowClassifier` (model or baseline)
    config : :class:`DetectorConfig`
    """

    def __init__(self, device_info: DeviceInfo, classifier: WindowClassifier, config: DetectorConfig = DetectorConfig(),
                 feature_hook=None):
        self.device_info = device_info
        #: optional callable(starts_s (w,), window features (w, f), seizure features (w, g), valid (w,))
        #: for training tools
        self.feature_hook = feature_hook
        self.classifier = classifier
        self.seizure = classifier.seizure
        if self.seizure is not None:  # a trained model carries the alert settings chosen with it
            config = replace(config, rj_on_windows=self.seizure.settings.on_windows)
        self.c = config
        self.context = ContextTracker(config.hop_s)
        self.veto_mean = RunningMean(self.seizure.settings.veto_windows if self.seizure is not None else 1)
        if abs(config.window_s / config.hop_s - round(config.window_s / config.hop_s)) > 1e-9:
            raise ConfigError(f"window {config.window_s} s is not a multiple of the hop {config.hop_s} s")
        self.declared = {s.kind: s for s in device_info.streams if s.kind in ("accel", "emg") and s.channels > 0}
        if not self.declared:
            raise ConfigError(f"{device_info.source or device_info.device_id}: no accelerometer or EMG stream to analyse")
        for s in self.declared.values():
            minimum = config.min_accel_rate_hz if s.kind == "accel" else config.min_emg_rate_hz
            if not (math.isfinite(s.rate_hz) and s.rate_hz >= minimum):
                raise ConfigError(
                    f"{device_info.source or device_info.device_id}: {s.kind} stream at {s.rate_hz:g} Hz, "
                    f"the detector needs >= {minimum:g} Hz"
                )
        self.streams: dict[str, _Stream] = {}
        self.ignored: set[str] = set()
        self.nb = config.blocks_per_window
        self.next_k: int | None = None  # next window start block
        self.held_events: list[Event] = []
        self.episodes = EpisodeTracker(config)
        not_worn_n = max(1, int(round(config.not_worn_s / config.hop_s)))
        self.faults = {
            kind: FaultTracker(
                {"saturated": config.fault_on_windows, "signal_lost": config.fault_on_windows,
                 "invalid_samples": 1, "not_worn": not_worn_n},
                config.fault_off_windows,
            )
            for kind in self.declared
        }
        self.extra_faults: list[Fault] = []
        self.extra_alerts: list[Alert] = []

    # -- public API ----------------------------------------------------------------------------
    def process(self, chunk: Chunk) -> DetectorOutput:
        """Feed one chunk; return what became final."""
        kind = chunk.stream
        if kind not in self.declared:
            raise ConfigError(f"{self._name()}: chunk of stream {kind!r}, which the device did not declare")
        samples = np.asarray(chunk.samples, dtype=float)
        if samples.ndim == 1:
            samples = samples[:, None]
        info = self.declared[kind]
        st = self.streams.get(kind)
        if st is None:
            if not (math.isfinite(chunk.rate_hz) and chunk.rate_hz > 0):
                raise ConfigError(f"{self._name()}: {kind} chunk with rate {chunk.rate_hz!r} Hz")
            st = self.streams[kind] = _Stream(info, chunk.rate_hz, samples.shape[1], chunk.t0_s, self.c)
            self.ignored.discard(kind)
        else:
            if abs(chunk.rate_hz - st.rate_hz) > 1e-6 * st.rate_hz:
                raise ConfigError(f"{self._name()}: {kind} rate changed from {st.rate_hz:g} to {chunk.rate_hz:g} Hz")
            if samples.shape[1] != st.channels:
                raise ConfigError(f"{self._name()}: {kind} channels changed from {st.channels} to {samples.shape[1]}")
            gap_s = chunk.t0_s - st.expected_t()
            if gap_s * st.rate_hz > GAP_TOLERANCE_SAMPLES:
                self.extra_faults.append(Fault("gap", float(st.expected_t()), float(chunk.t0_s), kind, f"{gap_s:.3f} s missing"))
                if gap_s <= MAX_FILL_S:
                    self.held_events.extend(st.fill_gap(gap_s))
                else:
                    self._restart(kind, chunk, samples)
                    st = self.streams[kind]
        self.held_events.extend(st.feed(samples))
        return self._collect(final=False)

    def process_fault(self, fault: Fault) -> DetectorOutput:
        """A fault reported by the source (lead off, link lost, ...): raised as a fault alert."""
        kind = {"lead_off": "signal_lost", "gap": "signal_lost"}.get(fault.kind, fault.kind)
        if kind not in ("not_worn", "signal_lost", "saturated"):
            return DetectorOutput()
        reasons = (("duration_s", float(fault.end_s - fault.start_s)),)
        return DetectorOutput(alerts=(Alert("fault", kind, float(fault.end_s), float(fault.start_s), reasons),))

    def finish(self) -> DetectorOutput:
        """End of input: flush events, close episodes and faults."""
        for st in self.streams.values():
            self.held_events.extend(st.events.finish())
        for kind in self.declared:  # declared but never delivered: analyse what did arrive
            if kind not in self.streams and kind not in self.ignored and self.streams:
                self.ignored.add(kind)
                t = min(st.t0_s for st in self.streams.values())
                self.extra_faults.append(Fault("signal_lost", t, t, kind, "stream never delivered"))
        out = self._collect(final=True)
        episodes = tuple(self.episodes.finish())
        faults = tuple(f for kind, tr in self.faults.items() for f in tr.finish(kind))
        return DetectorOutput(out.events, out.windows, out.episodes + episodes, out.alerts, out.faults + faults)

    # -- internals ---------------------------------------------------------------------------------
    def _name(self) -> str:
        return self.device_info.source or self.device_info.device_id or "device"

    def _restart(self, kind: str, chunk: Chunk, samples: np.ndarray) -> None:
        old = self.streams[kind]
        self.held_events.extend(old.events.finish())
        self.streams[kind] = _Stream(old.info, chunk.rate_hz, samples.shape[1], chunk.t0_s, self.c)
        self.next_k = None  # recomputed: windows across the gap are skipped
        self.context.reset()
        self.veto_mean.reset()

    def _active_streams(self) -> list[_Stream]:
        """Streams that windows wait for (declared streams that never delivered are dropped after a while)."""
        active = list(self.streams.values())
        if len(active) < len(self.declared) and active:
            furthest = max(st.next_index / st.rate_hz for st in active)
            for kind in self.declared:
                if kind not in self.streams and kind not in self.ignored and furthest >= STARTUP_WAIT_S:
                    self.ignored.add(kind)
                    t = min(st.t0_s for st in active)
                    self.extra_faults.append(Fault("signal_lost", t, t + furthest, kind, "stream never delivered"))
        return active

    def _collect(self, final: bool) -> DetectorOutput:
        windows, episodes, alerts, faults = self._windows(final)
        merge_s = self.c.emg_refractory_s
        if final:
            horizon = math.inf
        else:
            streams = list(self.streams.values())
            horizon = min(st.events.horizon_s() for st in streams) if streams else -math.inf
            if len(self.streams) < len(self.declared) - len(self.ignored):
                horizon = -math.inf  # a declared stream may still deliver earlier events
        ready: list[Event] = []
        if self.held_events and (final or min(e.t_s for e in self.held_events) < horizon - merge_s):
            held = sorted(self.held_events, key=lambda e: (e.t_s, e.stream, e.channel))
            ready, self.held_events = merge_channel_twitches(held, horizon - merge_s, merge_s)
        faults = self.extra_faults + faults
        alerts = self.extra_alerts + alerts
        self.extra_faults, self.extra_alerts = [], []
        return DetectorOutput(tuple(ready), tuple(windows), tuple(episodes), tuple(alerts), tuple(faults))

    def _windows(self, final: bool):
        streams = self._active_streams()
        if not streams or len(streams) < len(self.declared) - len(self.ignored):
            return [], [], [], []
        hop, nb = self.c.hop_s, self.nb
        first_k = max(math.ceil(st.t0_s / hop - 1e-9) for st in streams)
        if self.next_k is None or self.next_k < first_k:
            self.next_k = first_k
        last_k = min(st.done_block for st in streams) - nb + 1
        if last_k < self.next_k:
            return [], [], [], []
        k = np.arange(self.next_k, last_k + 1)
        self.next_k = last_k + 1
        starts = k * hop
        ends = starts + self.c.window_s
        accel = emg = None
        osd, m10 = _no_magnitude(k.size)
        valid = np.ones(k.size, dtype=bool)
        flags: dict[str, dict[str, np.ndarray]] = {}
        for st in streams:
            stats = st.block_stats(k, nb)  # n, invalid, clipped, [zc...], flat
            n = np.maximum(stats[:, 0], 1)
            invalid = stats[:, 1] > 0
            flat = stats[:, -1] > 0
            clip_frac = stats[:, 2] / n
            valid &= ~invalid & ~flat
            in_gap = st.overlaps_gap(starts, ends)  # held samples of a gap: reported as the gap already
            flags[st.kind] = {"invalid_samples": invalid & ~in_gap,
                              "signal_lost": (flat | (stats[:, 1] / n > 0.5)) & ~in_gap,
                              "saturated": clip_frac > self.c.clip_fraction}
            data = st.take(starts)
            if st.kind == "accel" and st.osd is not None:
                osd, m10 = st.osd_at(ends), st.magnitude_features_at(ends)
            if st.kind == "accel":
                accel = AccelWindows(st.feature_rate_hz, data["move"], data["gravity"], data["env"], data["snr"], clip_frac)
            else:
                zcr = stats[:, 3 : 3 + st.channels].mean(axis=1) / self.c.window_s
                emg = EmgWindows(st.feature_rate_hz, data["env"], data["snr"], zcr)
            st.trim(float((last_k + 1) * hop), int(last_k + 1))
        # Rounded so that the last bits of batched FFTs/reductions (which can differ with the number of
        # windows in a batch) never reach the output: chunking invariance is exact.
        feats = np.round(compute_features(WindowBatch(k.size, accel, emg)), FEATURE_DECIMALS)
        context = self.context.step(m10, osd[:, 0])
        proba = self.classifier.predict_proba(feats)
        rj_probability = proba[:, WINDOW_LABELS.index("rhythmic_jerking")]
        seizure_feats = np.round(seizure_matrix(feats, m10, osd, context, rj_probability), FEATURE_DECIMALS)
        if self.feature_hook is not None:
            self.feature_hook(starts, feats, seizure_feats, valid)
        label_idx, confidence, instant, sustain = self._label(proba, seizure_feats, osd)
        acc = feats[:, column("acc_present")] > 0
        is_rj = label_idx == WINDOW_LABELS.index("rhythmic_jerking")
        # rhythmic jerking: the jerk rate (envelope rhythm); otherwise the movement's spectral peak (a
        # 4 Hz tremor's envelope repeats at 8 Hz and its autocorrelation can lock on 2 Hz)
        acc_hz = np.where(is_rj, feats[:, column("acc_rhythm_hz")], feats[:, column("acc_dom_hz")])
        dominant = np.where(acc, acc_hz, feats[:, column("emg_rhythm_hz")])
        rhythm = np.maximum(feats[:, column("acc_rhythm")], feats[:, column("emg_rhythm")])
        labels = [WINDOW_LABELS[i] if v else "" for i, v in zip(label_idx.tolist(), valid.tolist())]
        windows = [
            WindowLabel(float(s), float(e), lab, float(c), float(d), float(r))
            for s, e, lab, c, d, r in zip(starts.tolist(), ends.tolist(), labels, confidence.tolist(),
                                          dominant.tolist(), rhythm.tolist())
            if lab
        ]
        spread = acc & (feats[:, column("acc_log_rms")] >= math.log10(self.c.spread_rms_g))
        reasons = [
            (("dominant_hz", round(d, 3)), ("rhythmicity", round(r, 3)), ("probability", round(c, 3)))
            for d, r, c in zip(dominant.tolist(), rhythm.tolist(), confidence.tolist())
        ]
        episodes, alerts = self.episodes.step(labels, starts, ends, dominant, spread, reasons, instant, sustain)
        faults, fault_alerts = self._fault_windows(flags, feats, starts, ends)
        alerts = sorted(alerts + fault_alerts, key=lambda a: (a.t_s, ALERT_ORDER.get(a.level, len(ALERT_ORDER)), a.kind))
        return windows, episodes, alerts, faults

    def _fault_windows(self, flags: dict, feats: np.ndarray, starts: np.ndarray, ends: np.ndarray
                       ) -> tuple[list[Fault], list[Alert]]:
        """Fault records and fault alerts of a batch of windows (per stream, and not worn)."""
        faults: list[Fault] = []
        alerts: list[Alert] = []
        for kind, fl in flags.items():
            for fk in ("invalid_samples", "signal_lost", "saturated"):
                f, a = self.faults[kind].step(fk, fl[fk], starts, ends, kind, fk.replace("_", " "))
                faults += f
                alerts += a
        still = self._not_worn(feats)
        f, a = self.faults[next(iter(self.faults))].step("not_worn", still, starts, ends, "", "no movement, no EMG contact")
        return faults + f, alerts + a

    def _label(self, proba: np.ndarray, seizure_feats: np.ndarray, osd: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Label index, confidence, "opens an episode at once" and "keeps an open one open" of each window.

With a seizure model, rhythmic jerking is its decision: probability >= its threshold, or
        OpenSeizureDetector warning (alarm count > 5 s) and the probability averaged over the last
        ``veto_windows`` windows >= the veto threshold (OSD's warnings pass unless the model is
        confident they are not a seizure; such a window opens an episode at once, as OSD's own
        warning would, and a vetoed one still keeps an open episode open, so a veto never splits one
        alert into two). Other windows take the window classifier's most
        likely other label. Without one (the rule baseline), rhythmic jerking is the window
        classifier's label when its probability reaches ``rj_min_probability``.
        """
        rj = WINDOW_LABELS.index("rhythmic_jerking")
        rows = np.arange(proba.shape[0])
        ranked = proba.copy()
        if self.seizure is None:
            ranked[:, rj] = np.where(proba[:, rj] >= self.c.rj_min_probability, proba[:, rj], -1.0)
            label_idx = np.argmax(ranked, axis=1)
            none = np.zeros(rows.size, bool)
            return label_idx, np.round(proba[rows, label_idx], OUTPUT_DECIMALS), none, none
        s = self.seizure.settings
        p = self.seizure.probability(seizure_feats)
        osd_warning = osd[:, OSD_FEATURES.index("osd_count_s")] > OsdConfig().warn_time_s
        net = osd_warning & (self.veto_mean.step(p) >= s.veto_threshold)
        hit = (p >= s.threshold) | net
        ranked[:, rj] = -1.0
        label_idx = np.where(hit, rj, np.argmax(ranked, axis=1))
        return label_idx, np.round(np.where(hit, p, proba[rows, label_idx]), OUTPUT_DECIMALS), net, osd_warning & ~hit

    def _not_worn(self, feats: np.ndarray) -> np.ndarray:
        acc = feats[:, column("acc_present")] > 0
        emg = feats[:, column("emg_present")] > 0
        still = acc & (feats[:, column("acc_log_rms")] < math.log10(self.c.still_rms_g))
        no_contact = ~emg | (feats[:, column("emg_log_env")] < math.log10(self.c.no_contact_uv))
        return np.where(acc, still & no_contact, emg & no_contact)


def make_detector(device_info: DeviceInfo, placement: str | None = None, classifier: str = "model",
                  config: DetectorConfig | None = None) -> Detector:
    """A detector with the classifier for ``placement`` (default: the device's own placement).

    ``classifier`` is "model" (the trained file for the placement; ModelError if it is missing) or
    "baseline" (the rule-based classifier, only when asked for). ``config`` defaults to
    :func:`~twitchwatch.core.config.config_for_placement` of the placement.
    """
    where = placement or device_info.placement or "foot"
    return Detector(device_info, load_classifier(where, classifier), config or config_for_placement(where))
