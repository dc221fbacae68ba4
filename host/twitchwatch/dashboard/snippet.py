"""An alert's signal for review: raw, filtered, envelope and spectrum of a few seconds of recording.

This is the review path, not the real-time path: it reads a stretch of the session recording
(:class:`twitchwatch.recording.SessionReader`) and filters it on the server with the detector's
streaming filters (:mod:`twitchwatch.core.filters`). Filters
are causal (``sosfilt``, run from ``SETTLE_S`` before the shown span so they have settled), the
same kind of filtering the live detector can do; nothing here looks into the future.

Everything is decimated to at most ``max_points`` min/max buckets per trace before it is sent.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from twitchwatch.core import design
from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.filters import StreamingSOS
from twitchwatch.dashboard.decimate import minmax
from twitchwatch.errors import FileFormatError, TwitchwatchError
from twitchwatch.model import Chunk
from twitchwatch.recording import SessionReader

#: The detector's settings: the display filters use its EMG band, filter order and usable Nyquist.
_CONFIG = DetectorConfig()
#: Seconds of signal read before the shown span so the causal filters have settled.
SETTLE_S = 2.0
#: Shown around the alert's episode, seconds.
PAD_S = 5.0
#: Longest span one request reads, seconds (bounded work per request).
MAX_SPAN_S = 180.0
#: EMG band for display, Hz: the detector's surface-EMG band.
EMG_BAND_HZ = _CONFIG.emg_band_hz
#: Order of the display filters (per band edge), as the detector's.
FILTER_ORDER = _CONFIG.filter_order
#: EMG envelope low-pass, Hz: passes burst rhythms up to ~5 Hz (clonic jerking 0.2-5 Hz,
#: PHYSIOLOGY.md) with margin.
ENVELOPE_LP_HZ = 10.0
#: Accelerometer magnitude high-pass, Hz: removes gravity and posture, keeps jerks.
ACCEL_HP_HZ = 0.5
#: Spectra shown up to this frequency, Hz: clonic jerking, tremor (<= 18 Hz orthostatic) fit in.
SPECTRUM_MAX_HZ = 25.0


class SnippetError(TwitchwatchError):
    """The alert's recording cannot be shown (missing, outside the data folder, unreadable)."""


def resolve_recording(recording_path: str | None, data_dir: str | os.PathLike) -> Path:
    """The recording's real path if it lies inside ``data_dir``; SnippetError otherwise."""
    if not recording_path:
        raise SnippetError("this session has no recording")
    root = Path(data_dir).resolve()
    p = Path(recording_path).resolve()
    if not p.is_relative_to(root):
        raise SnippetError(f"the recording {p.name} is outside the data folder and is not served")
    if not p.is_file():
        raise SnippetError(f"the recording {p.name} is missing")
    return p


def read_span(path: Path, start_s: float, end_s: float) -> dict[str, Chunk]:
    """Concatenate each stream's samples over [start_s, end_s) (device clock) from a session file.

    Returns stream -> Chunk (only streams with samples in the span). Reads sequentially and stops
    once every stream is past ``end_s``.
    """

    parts: dict[str, list[Chunk]] = {}
    try:
        with SessionReader(path) as reader:
            streams = {s.kind for s in reader.device_info.streams}
            done: set[str] = set()
            for item in reader.items(block_s=2.0):
                if not isinstance(item, Chunk):
                    continue
                if item.t0_s >= end_s:
                    done.add(item.stream)
                    if done >= streams:
                        break
                    continue
                if item.t_end_s <= start_s:
                    continue
                parts.setdefault(item.stream, []).append(item)
    except FileFormatError as exc:
        raise SnippetError(str(exc)) from None
    out = {}
    for stream, chunks in parts.items():
        rate = chunks[0].rate_hz
        t0 = chunks[0].t0_s
        # Contiguous stretch only from the first chunk (a gap ends the stretch: shown as such).
        keep = [chunks[0]]
        for c in chunks[1:]:
            if c.rate_hz != rate or abs(c.t0_s - keep[-1].t_end_s) > 1.5 / rate:
                break
            keep.append(c)
        x = np.concatenate([np.asarray(c.samples, dtype=np.float64).reshape(c.n, -1) for c in keep])
        i0 = max(0, int(math.floor((start_s - t0) * rate)))
        i1 = min(x.shape[0], int(math.ceil((end_s - t0) * rate)))
        if i1 > i0:
            out[stream] = Chunk(stream, t0 + i0 / rate, rate, x[i0:i1])
    return out


def _trace(t0: float, rate: float, y: np.ndarray, max_points: int, decimals: int) -> dict:
    lo, hi = minmax(y, max_points)
    return {
        "t0": t0,
        "dt": y.shape[0] / rate / lo.shape[0],
        "min": np.round(lo, decimals).tolist(),
        "max": np.round(hi, decimals).tolist(),
    }


def spectrum(y: np.ndarray, rate: float, max_hz: float = SPECTRUM_MAX_HZ) -> dict:
    """Welch power spectrum of ``y`` (shape (n,)) up to ``max_hz``; with its dominant frequency
    above 0.2 Hz (Hz) and the fraction of power in the dominant peak +-0.3 Hz."""
    from scipy import signal

    n = y.shape[0]
    if n < 16:
        return {"f": [], "p": [], "dominant_hz": None, "peak_fraction": None}
    nperseg = int(min(n, max(16, round(8.0 * rate))))  # 8 s segments: 0.125 Hz resolution
    f, p = signal.welch(y, fs=rate, nperseg=nperseg, detrend="linear")
    m = f <= max_hz
    f, p = f[m], p[m]
    band = f >= 0.2
    if not band.any() or p[band].sum() <= 0:
        return {"f": np.round(f, 3).tolist(), "p": p.tolist(), "dominant_hz": None, "peak_fraction": None}
    k = int(np.argmax(np.where(band, p, -np.inf)))
    near = np.abs(f - f[k]) <= 0.3
    return {
        "f": np.round(f, 3).tolist(),
        "p": [float(f"{v:.4g}") for v in p],
        "dominant_hz": round(float(f[k]), 3),
        "peak_fraction": round(float(p[near].sum() / p[band].sum()), 3),
    }


def analyse(chunks: dict[str, Chunk], show_from_s: float, max_points: int = 1200) -> dict:
    """Raw, filtered, envelope and spectra of the streams, shown from ``show_from_s``.

    Returns ``{"accel": {...} | None, "emg": {...} | None}``; each holds ``raw``/``filtered``
    traces (min/max buckets, t0 device seconds), EMG also ``envelope`` per channel, and spectra.
    """
    out: dict = {"accel": None, "emg": None}
    a = chunks.get("accel")
    if a is not None and a.n > 0:
        mag = np.sqrt((a.samples**2).sum(axis=1))
        filt = StreamingSOS(design.butter_sos(FILTER_ORDER, ACCEL_HP_HZ, "highpass", a.rate_hz), 1)(mag[:, None])[:, 0]
        i = max(0, min(a.n - 1, int(round((show_from_s - a.t0_s) * a.rate_hz))))
        t0 = a.t0_s + i / a.rate_hz
        out["accel"] = {
            "rate_hz": a.rate_hz,
            "unit": "g",
            "raw": _trace(t0, a.rate_hz, mag[i:], max_points, 4),
            "filtered": _trace(t0, a.rate_hz, filt[i:], max_points, 4),
            "spectrum": spectrum(filt[i:], a.rate_hz),
        }
    e = chunks.get("emg")
    if e is not None and e.n > 0:
        lo_hz, hi_hz = EMG_BAND_HZ[0], min(EMG_BAND_HZ[1], _CONFIG.nyquist_fraction * e.rate_hz / 2)
        x = np.asarray(e.samples, dtype=np.float64)
        if hi_hz > lo_hz * 1.5:
            sos = design.butter_sos(FILTER_ORDER, [lo_hz, hi_hz], "bandpass", e.rate_hz)
        else:
            sos = design.butter_sos(FILTER_ORDER, lo_hz, "highpass", e.rate_hz)
        filt = StreamingSOS(sos, x.shape[1])(x)
        env_sos = design.butter_sos(FILTER_ORDER, ENVELOPE_LP_HZ, "lowpass", e.rate_hz)
        env = design.sosfilt(env_sos, np.abs(filt), np.zeros((env_sos.shape[0], 2, x.shape[1])))[0]
        i = max(0, min(e.n - 1, int(round((show_from_s - e.t0_s) * e.rate_hz))))
        t0 = e.t0_s + i / e.rate_hz
        # Envelope spectrum on a 100 Hz version of the envelope (it is low-passed at 10 Hz).
        step = max(1, int(e.rate_hz // 100))
        env_ds = env[i::step]
        out["emg"] = {
            "rate_hz": e.rate_hz,
            "unit": "uV",
            "band_hz": [lo_hz, hi_hz],
            "channels": [
                {
                    "raw": _trace(t0, e.rate_hz, x[i:, c], max_points, 1),
                    "filtered": _trace(t0, e.rate_hz, filt[i:, c], max_points, 1),
                    "envelope": _trace(t0, e.rate_hz, env[i:, c], max_points, 2),
                    "envelope_spectrum": spectrum(env_ds[:, c], e.rate_hz / step),
                }
                for c in range(x.shape[1])
            ],
        }
    return out


def alert_signal(recording_path: str | None, data_dir, start_s: float, end_s: float, max_points: int = 1200) -> dict:
    """The review view of [start_s - PAD_S, end_s + PAD_S] of a session recording.

    Raises SnippetError when the recording is not available or not inside ``data_dir``.
    """
    path = resolve_recording(recording_path, data_dir)
    a = start_s - PAD_S
    z = min(end_s + PAD_S, a + MAX_SPAN_S)
    chunks = read_span(path, a - SETTLE_S, z)
    if not chunks:
        raise SnippetError(f"the recording {path.name} holds no samples between {a:.1f} s and {z:.1f} s")
    res = analyse(chunks, a, max_points)
    res["span_s"] = [a, z]
    return res


def thumbnail(recording_path: str | None, data_dir, start_s: float, end_s: float, points: int = 160) -> dict | None:
    """Small traces for the printable report: accel magnitude and EMG envelope (first channel),
    min/max buckets; None when the recording is not available."""
    try:
        res = alert_signal(recording_path, data_dir, start_s, min(end_s, start_s + 60.0), max_points=points)
    except SnippetError:
        return None
    return {
        "accel": res["accel"]["filtered"] if res["accel"] else None,
        "emg_env": res["emg"]["channels"][0]["envelope"] if res["emg"] else None,
    }
