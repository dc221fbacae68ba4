"""Window statistics of convulsive movement, for calibrating the simulator against real recordings.

The same pure functions measure real seizures (Open Seizure Database events, 25 Hz accelerometer
magnitude) and simulator output, so the simulator can be checked against the measured quartiles
(``README.md`` in this folder, "Calibration"). Everything works on one 1-D signal (the
acceleration magnitude, g) sampled at ``rate_hz``; nothing here depends on the rest of the
simulator.

Definitions (chosen here; ``shared/DETECTION_NOTES.md`` names the quantities but not every detail):

- band signal: the magnitude band-passed to 1-12 Hz (4th-order Butterworth, zero phase), mg;
- band RMS: RMS of the band signal over a 5 s window, mg;
- kurtosis: excess (Fisher) kurtosis of the band signal over the 5 s window (a sine: -1.5,
  Gaussian noise: 0, sparse jerks: > 0);
- envelope: moving RMS of the band signal over ``ENVELOPE_S`` (0.08 s, 2 samples at 25 Hz);
  jerks are envelope peaks at least ``MIN_EVENT_GAP_S`` apart with a prominence of at least
  ``MIN_PROMINENCE`` of the 10 s context's largest peak;
- jerk-amplitude CV: CV (SD / mean) of the envelope peak heights in 10 s centred on the window;
- IEI CV: CV of the intervals between those peaks (the same 10 s);
- dominant frequency: the largest periodogram bin (Hann window) of the band signal from 1 to
  12 Hz over the 5 s window, Hz (0.2 Hz bins);
- autocorrelation peak: largest normalised autocorrelation of the band signal at lags
  0.12-0.5 s (2-8 Hz periods): near 1 for a sinusoid, near 0 for irregular jerks;
- frequency drift: least-squares slope of the dominant frequency over one seizure, Hz/min.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal
from twitchwatch.sources.files import open_file

#: Band of the movement statistics, Hz (the OpenSeizureDetector spectrum runs to 12 Hz at 25 Hz).
BAND_HZ = (1.0, 12.0)
#: Analysis window and hop, s (OpenSeizureDetector's 5 s windows).
WINDOW_S = 5.0
#: Context of the jerk-amplitude and interval CVs, s (DETECTION_NOTES.md: "over 10 s").
CV_CONTEXT_S = 10.0
#: Envelope smoothing, s; shortest interval between two detected jerks, s (<= 6.7 jerks/s).
ENVELOPE_S = 0.08
MIN_EVENT_GAP_S = 0.15
#: A jerk's envelope peak must stand out by this fraction of the context's largest peak.
MIN_PROMINENCE = 0.05
#: Seconds dropped at either end of a labelled seizure (labels are approximate).
TRIM_S = 5.0
STAT_NAMES = ("band_rms_mg", "kurtosis", "jerk_amp_cv", "iei_cv", "dominant_hz", "autocorr_peak")


def magnitude(accel_g: np.ndarray) -> np.ndarray:
    """Acceleration magnitude, g, of an (n, 3) array (a 1-D or (n, 1) array is returned flat)."""
    a = np.asarray(accel_g, dtype=float)
    if a.ndim == 2 and a.shape[1] == 3:
        return np.sqrt((a * a).sum(axis=1))
    return a.reshape(-1)


def band_signal(x_g: np.ndarray, rate_hz: float, band_hz: tuple[float, float] = BAND_HZ) -> np.ndarray:
    """Band-pass ``x_g`` (g) to ``band_hz`` and return it in mg (zero-phase Butterworth, order 4).

    Parameters
    ----------
    x_g : 1-D signal, g, uniformly sampled at rate_hz (at least ~3 s long)
    rate_hz : sampling rate, Hz; the upper edge is capped at 0.98 x Nyquist
    """
    hi = min(band_hz[1], 0.49 * rate_hz)
    sos = signal.butter(2, [band_hz[0], hi], btype="bandpass", fs=rate_hz, output="sos")
    x = np.asarray(x_g, dtype=float)
    return 1000.0 * signal.sosfiltfilt(sos, x - x.mean())


def envelope_peaks(band_mg: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Jerks as envelope peaks: (peak sample indices, peak heights in mg).

    Parameters
    ----------
    band_mg : band signal (:func:`band_signal`), mg
    rate_hz : sampling rate, Hz
    """
    k = max(1, int(round(ENVELOPE_S * rate_hz)))
    env = np.sqrt(np.convolve(band_mg * band_mg, np.ones(k) / k, mode="same"))
    if len(env) < 3 or env.max() <= 0:
        return np.zeros(0, np.int64), np.zeros(0)
    idx, _ = signal.find_peaks(env, distance=max(1, int(round(MIN_EVENT_GAP_S * rate_hz))),
                               prominence=MIN_PROMINENCE * env.max())
    return idx, env[idx]


def _cv(v: np.ndarray) -> float:
    return float(np.std(v) / np.mean(v)) if len(v) >= 3 and np.mean(v) > 0 else float("nan")


def excess_kurtosis(v: np.ndarray) -> float:
    """Fisher (excess) kurtosis of v: 0 for Gaussian noise, -1.5 for a sine, NaN if constant."""
    d = v - v.mean()
    m2 = float(np.mean(d * d))
    return float(np.mean(d ** 4) / (m2 * m2) - 3.0) if m2 > 0 else float("nan")


def autocorr_peak(v: np.ndarray, rate_hz: float, lags_s: tuple[float, float] = (0.12, 0.5)) -> float:
    """Largest normalised autocorrelation of v at lags ``lags_s`` (s); NaN if v is constant."""
    d = v - v.mean()
    e = float(np.dot(d, d))
    lo, hi = int(np.ceil(lags_s[0] * rate_hz)), int(np.floor(lags_s[1] * rate_hz))
    if e <= 0 or hi >= len(d) or hi < lo:
        return float("nan")
    full = np.correlate(d, d, mode="full")[len(d) - 1 :]
    return float(full[lo : hi + 1].max() / e)


def dominant_hz(v: np.ndarray, rate_hz: float, band_hz: tuple[float, float] = BAND_HZ) -> float:
    """Frequency (Hz) of the largest Hann-windowed periodogram bin of v inside ``band_hz``."""
    n = len(v)
    spec = np.abs(np.fft.rfft((v - v.mean()) * np.hanning(n))) ** 2
    f = np.fft.rfftfreq(n, 1.0 / rate_hz)
    m = (f >= band_hz[0]) & (f <= band_hz[1])
    if not m.any() or spec[m].max() <= 0:
        return float("nan")
    return float(f[m][np.argmax(spec[m])])


@dataclass(frozen=True)
class WindowStats:
    """Statistics of consecutive windows of one excerpt; each attribute is an array (one per window).

    Attributes
    ----------
    t_s : window centre from the excerpt start, s
    band_rms_mg : 1-12 Hz RMS, mg; kurtosis : excess kurtosis of the band signal
    jerk_amp_cv, iei_cv : CVs of envelope-peak heights and intervals over the 10 s context
    dominant_hz : dominant frequency, Hz; autocorr_peak : autocorrelation peak at 0.12-0.5 s
    """

    t_s: np.ndarray
    band_rms_mg: np.ndarray
    kurtosis: np.ndarray
    jerk_amp_cv: np.ndarray
    iei_cv: np.ndarray
    dominant_hz: np.ndarray
    autocorr_peak: np.ndarray

    def __len__(self) -> int:
        return len(self.t_s)

    def frequency_drift_hz_per_min(self) -> float:
        """Least-squares slope of the dominant frequency over the excerpt, Hz/min (NaN if < 4 windows)."""
        m = np.isfinite(self.dominant_hz)
        if m.sum() < 4:
            return float("nan")
        return float(np.polyfit(self.t_s[m] / 60.0, self.dominant_hz[m], 1)[0])

    @staticmethod
    def concat(parts: "list[WindowStats]") -> "WindowStats":
        """All windows of several excerpts in one object (t_s stays per excerpt)."""
        if not parts:
            return WindowStats(*(np.zeros(0) for _ in range(7)))
        return WindowStats(*(np.concatenate([getattr(p, n) for p in parts]) for n in ("t_s",) + STAT_NAMES))


def window_stats(x_g: np.ndarray, rate_hz: float, window_s: float = WINDOW_S, hop_s: float | None = None,
                 cv_context_s: float = CV_CONTEXT_S) -> WindowStats:
    """Statistics of consecutive windows of one contiguous excerpt (e.g. one seizure, trimmed).

    Parameters
    ----------
    x_g : 1-D acceleration magnitude, g (use :func:`magnitude` for 3-axis data)
    rate_hz : sampling rate, Hz (25 Hz for OpenSeizureDetector data)
    window_s : window length, s; hop_s : hop between windows, s (default: window_s)
    cv_context_s : context of the CV statistics, centred on each window, s

    Returns
    -------
    WindowStats with one entry per full window (none if the excerpt is shorter than a window).
    """
    x = np.asarray(x_g, dtype=float).reshape(-1)
    n_win = int(round(window_s * rate_hz))
    hop = int(round((hop_s or window_s) * rate_hz))
    if len(x) < max(n_win, int(3 * rate_hz)):
        return WindowStats.concat([])
    band = band_signal(x, rate_hz)
    pk_idx, pk_h = envelope_peaks(band, rate_hz)
    half = int(round(cv_context_s * rate_hz / 2))
    rows = []
    for s0 in range(0, len(x) - n_win + 1, hop):
        w = band[s0 : s0 + n_win]
        c = s0 + n_win // 2
        lo, hi = max(0, c - half), min(len(x), c + half)
        sel = (pk_idx >= lo) & (pk_idx < hi)
        h = pk_h[sel]
        # keep peaks that stand out within this context (the global prominence is a floor)
        h_keep = h >= MIN_PROMINENCE * h.max() if len(h) else np.zeros(0, bool)
        ti = pk_idx[sel][h_keep] / rate_hz
        rows.append((
            (s0 + n_win / 2) / rate_hz,
            float(np.sqrt(np.mean(w * w))),
            excess_kurtosis(w),
            _cv(h[h_keep]),
            _cv(np.diff(ti)) if len(ti) >= 4 else float("nan"),
            dominant_hz(w, rate_hz),
            autocorr_peak(w, rate_hz),
        ))
    arr = np.asarray(rows, dtype=float).reshape(-1, 7)
    return WindowStats(*(arr[:, i] for i in range(7)))


def seizure_excerpt(x_g: np.ndarray, rate_hz: float, start_s: float, end_s: float, t0_s: float = 0.0,
                    trim_s: float = TRIM_S) -> np.ndarray:
    """The part of ``x_g`` (first sample at ``t0_s``) inside [start + trim, end - trim], s."""
    i0 = max(0, int(np.ceil((start_s + trim_s - t0_s) * rate_hz)))
    i1 = min(len(x_g), int(np.floor((end_s - trim_s - t0_s) * rate_hz)))
    return np.asarray(x_g)[i0:i1] if i1 > i0 else np.asarray(x_g)[:0]


def quartiles(stats: WindowStats) -> dict[str, tuple[float, float, float]]:
    """(25th, 50th, 75th percentile) of every statistic over the windows where it is defined."""
    out = {}
    for name in STAT_NAMES:
        v = getattr(stats, name)
        v = v[np.isfinite(v)]
        out[name] = tuple(float(q) for q in np.percentile(v, [25, 50, 75])) if len(v) else (np.nan,) * 3
    return out


def is_sinusoidal_shaking(stats: WindowStats) -> np.ndarray:
    """Windows of large, sinusoidal 3-5 Hz shaking (PHYSIOLOGY.md's subtype): bool per window.

    300-800 mg band RMS (upper edge widened to 1200 mg), dominant frequency 2.8-5.2 Hz and an
    autocorrelation peak >= 0.5 (the threshold is this module's choice).
    """
    return ((stats.band_rms_mg >= 300.0) & (stats.band_rms_mg <= 1200.0) & (stats.dominant_hz >= 2.8)
            & (stats.dominant_hz <= 5.2) & (stats.autocorr_peak >= 0.5))


def _osdb_cases(folder: str):
    from pathlib import Path


    for path in sorted(Path(folder).glob("*.json")):
        yield from open_file(path).cases()


def measure_osdb(folder: str, subtypes: tuple[str, ...] | None = None) -> tuple[WindowStats, list[float], dict]:
    """Window statistics inside every labelled seizure of the OSDB files in ``folder``.

    Parameters
    ----------
    folder : directory of OSDB ``*.json`` files (read with ``twitchwatch.sources.files``)
    subtypes : keep only these ``meta["subtype"]`` values (default: all)

    Returns
    -------
    (all windows, per-seizure frequency drifts in Hz/min, counts {"events", "windows", ...})
    """
    parts, drifts, seen = [], [], set()
    for case in _osdb_cases(folder):
        meta = case.meta
        if meta.get("type") != "Seizure" or not meta.get("seizure"):
            continue
        if subtypes and meta.get("subtype") not in subtypes:
            continue
        key = meta.get("event_id")
        if key in seen:
            continue
        seen.add(key)
        start, end = meta["seizure"]
        for seg in case.source.segments:
            if seg.stream != "accel":
                continue
            ex = seizure_excerpt(magnitude(seg.samples), seg.rate_hz, start, end, seg.t0_s)
            st = window_stats(ex, seg.rate_hz)
            if len(st):
                parts.append(st)
                d = st.frequency_drift_hz_per_min()
                if np.isfinite(d):
                    drifts.append(d)
    allw = WindowStats.concat(parts)
    return allw, drifts, {"events": len(seen), "excerpts": len(parts), "windows": len(allw)}


def main(argv: list[str] | None = None) -> int:
    """Print the quartiles of the OSDB seizure statistics (``python -m twitchwatch.sim.calibration DIR``)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    folder = args[0] if args else "../shared/data/real/osdb_seizure_samples"
    for label, sub in (("all seizures", None), ("tonic-clonic", ("Tonic-Clonic",)),
                       ("other/aura/unspecified", ("Other", "Aura", "unspecified"))):
        st, drifts, n = measure_osdb(folder, sub)
        print(f"## {label}: {n['events']} events, {n['windows']} windows of {WINDOW_S:g} s")
        for name, (q1, q2, q3) in quartiles(st).items():
            print(f"  {name:14s} {q1:8.2f} {q2:8.2f} {q3:8.2f}")
        if drifts:
            q = np.percentile(drifts, [25, 50, 75])
            print(f"  {'drift_hz_min':14s} {q[0]:8.2f} {q[1]:8.2f} {q[2]:8.2f}   ({len(drifts)} seizures)")
        sin = is_sinusoidal_shaking(st)
        print(f"  sinusoidal 3-5 Hz shaking windows: {sin.mean():.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
