"""The live view's traces: accelerometer magnitude and high-passed EMG, decimated to min/max buckets.

Each chunk is cut into buckets of about :data:`LIVE_TARGET_HZ` per second (and, for EMG, of
:data:`RAW_TARGET_HZ` for a zoomed-in view when a browser asks for it). What is ready waits in
``pending`` until the feed flushes it; the last :data:`HISTORY_S` seconds are kept for a browser
that connects later.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from twitchwatch.core import design
from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.filters import StreamingSOS
from twitchwatch.dashboard.decimate import StreamingBuckets, bucket_size
from twitchwatch.model import Chunk

#: Buckets per second for the live traces (the chart is ~600-1200 px wide for 10-20 s of trace).
LIVE_TARGET_HZ = 50.0
#: Buckets per second for the zoomed-in raw EMG view.
RAW_TARGET_HZ = 250.0
#: EMG high-pass corner, Hz: the lower edge of the detector's surface-EMG band; removes electrode
#: offset and motion artefact for display.
EMG_HIGHPASS_HZ = DetectorConfig().emg_band_hz[0]
#: Order of the display high-pass (per band edge, as the detector's).
EMG_HIGHPASS_ORDER = 2
#: Longest run of trace kept for a browser that connects (seconds).
HISTORY_S = 30.0


def _r(a: np.ndarray, decimals: int) -> list:
    return np.round(a, decimals).tolist()


def _empty_pending() -> dict[str, list]:
    return {"accel": [], "emg": [], "raw": [], "events": []}


class Traces:
    """Buckets of the accelerometer and EMG streams, pending for the next flush and kept as history."""

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        """Forget the streams (a new device: rates and channels may differ)."""
        self._accel: StreamingBuckets | None = None
        self._emg: StreamingBuckets | None = None
        self._raw: StreamingBuckets | None = None
        self._emg_filter: StreamingSOS | None = None
        self._emg_rate = float("nan")
        self.pending: dict[str, list] = _empty_pending()
        self.history: dict[str, deque] = {"accel": deque(), "emg": deque()}

    def take_pending(self) -> dict[str, list]:
        """What is ready since the last call (``accel``, ``emg``, ``raw``, ``events``)."""
        p, self.pending = self.pending, _empty_pending()
        return p

    def add_events(self, events) -> None:
        self.pending["events"].extend([round(e.t_s, 3), round(float(e.amplitude), 2), e.kind] for e in events)

    def push(self, c: Chunk, raw: bool) -> None:
        """Bucket one chunk; ``raw``: a browser wants the zoomed-in EMG as well."""
        x = np.asarray(c.samples, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if c.stream == "accel":
            self._push_accel(c, x)
        elif c.stream == "emg":
            self._push_emg(c, x, raw)

    def _push_accel(self, c: Chunk, x: np.ndarray) -> None:
        mag = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
        if self._accel is None or self._accel.rate_hz != c.rate_hz:
            self._accel = StreamingBuckets(c.rate_hz, bucket_size(c.rate_hz, LIVE_TARGET_HZ), 1)
        t, dt, b = self._accel.push(c.t0_s, mag)
        if b is not None:
            seg = {"t0": round(t, 4), "dt": dt, "min": _r(b.min(axis=1)[:, 0], 4), "max": _r(b.max(axis=1)[:, 0], 4)}
            self.pending["accel"].append(seg)
            self._remember("accel", seg)

    def _push_emg(self, c: Chunk, x: np.ndarray, raw: bool) -> None:
        ch = x.shape[1]
        if self._emg is None or self._emg_rate != c.rate_hz or self._emg.channels != ch:
            self._emg_rate = c.rate_hz
            self._emg = StreamingBuckets(c.rate_hz, bucket_size(c.rate_hz, LIVE_TARGET_HZ), ch)
            self._raw = StreamingBuckets(c.rate_hz, bucket_size(c.rate_hz, RAW_TARGET_HZ), ch)
            self._emg_filter = None
            if c.rate_hz / 2 > 2 * EMG_HIGHPASS_HZ:
                sos = design.butter_sos(EMG_HIGHPASS_ORDER, EMG_HIGHPASS_HZ, "highpass", c.rate_hz)
                self._emg_filter = StreamingSOS(sos, ch)
        y = self._emg_filter(x) if self._emg_filter is not None else x - x.mean(axis=0)
        t, dt, b = self._emg.push(c.t0_s, y)
        if b is not None:
            seg = {
                "t0": round(t, 4),
                "dt": dt,
                "min": _r(b.min(axis=1).T, 1),
                "max": _r(b.max(axis=1).T, 1),
                "env": _r(np.sqrt((b * b).mean(axis=1)).T, 1),
            }
            self.pending["emg"].append(seg)
            self._remember("emg", seg)
        if raw:
            t, dt, b = self._raw.push(c.t0_s, y)
            if b is not None:
                self.pending["raw"].append(
                    {"t0": round(t, 4), "dt": dt, "min": _r(b.min(axis=1).T, 1), "max": _r(b.max(axis=1).T, 1)}
                )

    def _remember(self, stream: str, seg: dict) -> None:
        h = self.history[stream]
        h.append(seg)
        latest = seg["t0"] + seg["dt"] * len(seg["min"] if stream == "accel" else seg["min"][0])
        while h and h[0]["t0"] < latest - HISTORY_S - 1.0:
            h.popleft()
