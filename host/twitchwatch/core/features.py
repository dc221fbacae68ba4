"""Window features, computed for a whole batch of windows at once (no per-window loop).

Input is a :class:`WindowBatch`: for each stream present, the windows' samples of the decimated
filter outputs as 2-D/3-D arrays (windows x samples [x channels]) and per-window block statistics.
One ``rfft`` per signal over the window axis gives the spectra and (through the power spectrum)
the autocorrelations. Features of an absent stream take explicit defaults and an indicator feature
says which streams were there, so the output never holds NaN.

All frequencies in Hz, durations in s, accelerations in g, EMG in uV (log10 where stated).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from twitchwatch.core import native
from twitchwatch.core.config import DetectorConfig

#: Lags searched for envelope rhythmicity, s: 0.2-2 s, i.e. 0.5-5 Hz (clonic range, PHYSIOLOGY.md;
#: slower jerking needs more than a 4 s window to show two periods).
RHYTHM_LAG_S = (0.2, 2.0)
#: Rate the envelope is decimated to before its autocorrelation, Hz (envelope low-passed at 8 Hz).
RHYTHM_RATE_HZ = 25.0
#: Half-width of the spectral peak for "sharpness", Hz (a tremor line is narrower than this).
PEAK_HALF_WIDTH_HZ = 0.3
#: Envelope-to-floor ratio that counts as active for window onset statistics (a window feature, fixed;
#: the event detector has its own onset ratio in DetectorConfig).
ACTIVE_RATIO = 4.0
#: Above this the movement spectrum is "high" (enhanced physiological/essential/orthostatic tremor).
HIGH_BAND_HZ = 8.0
#: Below this it is "low" (gait, PLM, slow clonic jerking).
LOW_BAND_HZ = 3.0
#: Value of the inter-event-interval CV when a window holds fewer than three onsets (undefined).
NO_CV = -1.0
#: Bands of the magnitude spectrum, Hz: Vakilna et al.'s six bands over 0.3-12.5 Hz (DETECTION_NOTES.md),
#: whose powers are given as fractions of the 0.3-12.5 Hz total (clipped below Nyquist).
MAG_BANDS_HZ = ((0.3, 1.0), (1.0, 2.5), (2.5, 4.5), (4.5, 6.5), (6.5, 8.5), (8.5, 12.5))
#: OpenSeizureDetector's region of interest, 3 to < 8 Hz (PHYSIOLOGY.md), and the 2-4 Hz "flap" band
#: that raised OSD's focal-seizure detection (DETECTION_NOTES.md), Hz.
ROI_BAND_HZ, FLAP_BAND_HZ = (3.0, 8.0), (2.0, 4.0)
#: Band of the magnitude's RMS, Hz: clonic jerking and tremor, above gait's fundamental (~1 Hz).
MAG_RMS_BAND_HZ = (1.0, 12.0)
#: A local maximum of |magnitude - mean| counts as a jerk when above this multiple of the window's RMS
#: (assumption: one RMS separates jerks from the ripple between them).
JERK_PEAK_RMS = 1.0
#: Highest usable band edge as a fraction of Nyquist (the detector's own setting).
NYQUIST_FRACTION = DetectorConfig().nyquist_fraction
#: Lags of the magnitude's autocorrelation peaks, s: 0.12-0.5 s (2-8 Hz: clonic jerks, brushing,
#: tremor) and 0.5-2 s (0.5-2 Hz: gait, slow jerking) (DETECTION_NOTES.md).
AUTOCORR_FAST_S, AUTOCORR_SLOW_S = (0.12, 0.5), (0.5, 2.0)

ACCEL_FEATURES = (
    "acc_present", "acc_3axis", "acc_log_rms", "acc_dom_hz", "acc_peak_frac", "acc_entropy",
    "acc_dom_trend_hz", "acc_high_frac", "acc_low_frac", "acc_kurtosis", "acc_rhythm", "acc_rhythm_hz",
    "acc_env_log_mean", "acc_env_cv", "acc_onset_rate", "acc_iei_cv", "acc_active_frac",
    "acc_burst_s", "acc_log_peak", "acc_clip_frac", "acc_grav_x", "acc_grav_y", "acc_grav_z",
    "acc_tilt_change",
)
#: Features of the acceleration magnitude |a| (what a wrist watch and the OSD database record): band
#: power fractions, OSD's region of interest and the 2-4 Hz "flap" band, jerk irregularity.
#: (:func:`magnitude_features`; the seizure model computes the same on 10 s of the 25 Hz magnitude).
MAGNITUDE_KEYS = (
    "log_rms", "dom_hz", "frac_0", "frac_1", "frac_2", "frac_3", "frac_4", "frac_5", "roi_frac", "flap_frac",
    "kurtosis", "crest", "peak_cv", "peak_iei_cv", "peak_rate", "autocorr_fast", "autocorr_slow",
)
MAG_FEATURES = tuple(f"mag_{k}" for k in MAGNITUDE_KEYS)
EMG_FEATURES = (
    "emg_present", "emg_2ch", "emg_log_env", "emg_env_cv", "emg_rhythm", "emg_rhythm_hz",
    "emg_onset_rate", "emg_iei_cv", "emg_active_frac", "emg_burst_s", "emg_log_peak_snr",
    "emg_coact", "emg_zcr_hz",
)
#: Column order of the feature matrix (the model file stores it and is refused if it differs).
FEATURE_NAMES: tuple[str, ...] = ACCEL_FEATURES + MAG_FEATURES + EMG_FEATURES
_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def column(name: str) -> int:
    """Column of feature ``name`` in the feature matrix."""
    return _INDEX[name]


@dataclass(frozen=True)
class AccelWindows:
    """Accelerometer windows at the feature rate ``rate_hz``.

    move : (w, n, c) g, movement band; gravity : (w, n, c) g; env : (w, n) g twitch-band envelope;
    snr : (w, n) envelope / noise floor; clip_frac : (w,) fraction of raw samples at the range.
    """

    rate_hz: float
    move: np.ndarray
    gravity: np.ndarray
    env: np.ndarray
    snr: np.ndarray
    clip_frac: np.ndarray


@dataclass(frozen=True)
class EmgWindows:
    """EMG windows at the feature rate ``rate_hz``.

    env : (w, n, k) uV envelope; snr : (w, n, k) envelope / noise floor;
    zcr_hz : (w,) zero crossings per second of the band-passed EMG, mean over channels.
    """

    rate_hz: float
    env: np.ndarray
    snr: np.ndarray
    zcr_hz: np.ndarray


@dataclass(frozen=True)
class WindowBatch:
    """The windows to describe: ``count`` windows; either stream may be None (absent)."""

    count: int
    accel: AccelWindows | None
    emg: EmgWindows | None


def _nfft(n: int) -> int:
    """Smallest power of two >= n (>= 8)."""
    return 1 << int(np.ceil(np.log2(max(n, 8))))


@lru_cache(maxsize=64)
def _spectral_plan(n: int, rate_hz: float, band_hz: tuple[float, float]):
    """Tapers, frequencies and band masks for windows of n samples (pure; memoised, read-only)."""
    nfft, half = _nfft(n), n // 2
    freqs = np.fft.rfftfreq(nfft, 1.0 / rate_hz)
    in_band = (freqs >= band_hz[0]) & (freqs <= band_hz[1])
    f = freqs[in_band]
    hfreqs = np.fft.rfftfreq(_nfft(half), 1.0 / rate_hz)
    h_band = (hfreqs >= band_hz[0]) & (hfreqs <= band_hz[1])
    plan = (nfft, in_band, f, np.hanning(n)[None, :, None], half, np.hanning(half)[None, :, None], h_band,
            hfreqs[h_band], (f >= HIGH_BAND_HZ)[None, :], (f < LOW_BAND_HZ)[None, :])
    for a in plan:
        if isinstance(a, np.ndarray):
            a.setflags(write=False)
    return plan


def spectral_features(x: np.ndarray, rate_hz: float, band_hz: tuple[float, float]) -> dict[str, np.ndarray]:
    """Spectral shape of (w, n, c) band-limited windows; power summed over channels.

    Returns dom_hz, peak_frac (power within +-PEAK_HALF_WIDTH_HZ of the peak / band power),
    entropy (normalised spectral entropy, 0..1), high_frac, low_frac, trend_hz (dominant
    frequency of the second half minus the first half), each shape (w,).
    """
    w, n, _ = x.shape
    nfft, in_band, f, taper, half, half_taper, h_band, h_f, high_mask, low_mask = _spectral_plan(n, float(rate_hz), tuple(band_hz))
    power = _sum_last(np.abs(np.fft.rfft(x * taper, nfft, axis=1)) ** 2)[:, in_band]
    total = power.sum(axis=1) + 1e-30
    k = np.argmax(power, axis=1)
    dom = f[k]
    near = np.abs(f[None, :] - dom[:, None]) <= PEAK_HALF_WIDTH_HZ
    peak_frac = (power * near).sum(axis=1) / total
    p = power / total[:, None]
    entropy = -(p * np.log(p + 1e-30)).sum(axis=1) / np.log(max(f.size, 2))
    high = (power * high_mask).sum(axis=1) / total
    low = (power * low_mask).sum(axis=1) / total
    halves = np.concatenate([x[:, :half], x[:, n - half :]], axis=0) * half_taper
    hp = _sum_last(np.abs(np.fft.rfft(halves, _nfft(half), axis=1)) ** 2)[:, h_band]
    hdom = h_f[np.argmax(hp, axis=1)]
    silent = total < 1e-20
    trend = np.where(silent, 0.0, hdom[w:] - hdom[:w])
    return {
        "dom_hz": np.where(silent, 0.0, dom),
        "peak_frac": np.where(silent, 0.0, peak_frac),
        "entropy": np.where(silent, 1.0, entropy),
        "high_frac": high,
        "low_frac": low,
        "trend_hz": trend,
    }


@lru_cache(maxsize=64)
def _rhythm_plan(n: int, rate_hz: float):
    """FFT length, lag mask (RHYTHM_LAG_S) and lag indices for envelopes of n samples (memoised)."""
    lags = np.arange(n) / rate_hz
    lag_ok = ((lags >= RHYTHM_LAG_S[0]) & (lags <= RHYTHM_LAG_S[1]))[None, :]
    index = np.arange(n)[None, :]
    lag_ok.setflags(write=False)
    index.setflags(write=False)
    return _nfft(2 * n), lag_ok, index  # 2n: linear (not circular) autocorrelation


def rhythmicity(env: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Autocorrelation rhythmicity of envelopes (w, n).

    The normalised autocorrelation (via the power spectrum) is searched for its highest value at
    lags in RHYTHM_LAG_S after its first local minimum (so a slowly varying envelope does not count
    as rhythmic).

    Returns
    -------
    rhythm : (w,) peak autocorrelation, -1..1 (0 where undefined)
    rhythm_hz : (w,) 1 / lag of that peak, Hz (0 where undefined)
    """
    step = max(1, int(rate_hz // RHYTHM_RATE_HZ))  # the 8 Hz envelope needs no more than ~25 Hz here
    env, rate_hz = env[:, ::step], rate_hz / step
    w, n = env.shape
    nfft, lag_ok, index = _rhythm_plan(n, float(rate_hz))
    e = env - env.mean(axis=1, keepdims=True)
    ac = np.fft.irfft(np.abs(np.fft.rfft(e, nfft, axis=1)) ** 2, nfft, axis=1)[:, :n]
    zero = ac[:, :1]
    ac = np.where(zero > 1e-30, ac / np.where(zero > 1e-30, zero, 1.0), 0.0)
    rising = ac[:, 1:] > ac[:, :-1]
    first_min = np.where(rising.any(axis=1), np.argmax(rising, axis=1), n)
    allowed = lag_ok & (index >= first_min[:, None])
    masked = np.where(allowed, ac, -np.inf)
    k = np.argmax(masked, axis=1)
    best = masked[np.arange(w), k]
    ok = np.isfinite(best)
    return np.where(ok, best, 0.0), np.where(ok & (k > 0), rate_hz / np.maximum(k, 1), 0.0)


def _intervals(rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row and length (in samples) of the intervals between consecutive marks of the same row,
    from ``np.nonzero`` output (rows ascending, columns ascending within a row)."""
    same = rows[1:] == rows[:-1]
    return rows[1:][same], np.diff(cols).astype(float)[same]


def _row_cv(rows: np.ndarray, values: np.ndarray, w: int, min_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficient of variation of ``values`` grouped by ``rows`` (0..w-1), NO_CV where a row has
    fewer than ``min_count``; and the count per row. Each (w,)."""
    k = np.bincount(rows, minlength=w).astype(float)
    s1 = np.bincount(rows, weights=values, minlength=w)
    s2 = np.bincount(rows, weights=values * values, minlength=w)
    mean = s1 / np.maximum(k, 1)
    var = np.maximum(s2 / np.maximum(k, 1) - mean**2, 0.0)
    return np.where(k >= min_count, np.sqrt(var) / np.maximum(mean, 1e-12), NO_CV), k


def onset_statistics(snr: np.ndarray, rate_hz: float) -> dict[str, np.ndarray]:
    """Onsets of activity (envelope above ACTIVE_RATIO x floor) in windows (w, n).

    Returns onset_rate (per s), iei_cv (CV of inter-onset intervals, NO_CV with < 3 onsets),
    active_frac (0..1) and burst_s (mean active run, s), each (w,).
    """
    w, n = snr.shape
    active = snr > ACTIVE_RATIO
    rises = active[:, 1:] & ~active[:, :-1]
    count = rises.sum(axis=1)
    rows, cols = np.nonzero(rises)
    cv, _ = _row_cv(*_intervals(rows, cols), w, 2)
    active_n = active.sum(axis=1)
    duration_s = n / rate_hz
    return {
        "onset_rate": count / duration_s,
        "iei_cv": cv,
        "active_frac": active_n / n,
        "burst_s": np.where(count > 0, active_n / np.maximum(count, 1) / rate_hz, 0.0),
    }


#: numpy sums fewer than this many values in plain order (pairwise summation starts at 8 values).
_PLAIN_SUM_MAX = 7


def _sum_last(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=-1)`` over a short last axis (channels), (...,): numpy's arithmetic for fewer than
    8 values (in order, starting from +0) written out, because numpy reduces a short axis one row at
    a time (~20x slower on windows; bit-for-bit the same, -0.0 included)."""
    if x.shape[-1] > _PLAIN_SUM_MAX:
        return x.sum(axis=-1)
    out = 0.0 + x[..., 0]
    for j in range(1, x.shape[-1]):
        out = out + x[..., j]
    return out


def _middle_mean(x: np.ndarray) -> np.ndarray:
    """``x.mean(axis=1)`` of windows (w, n, c) -> (w, c), bit-for-bit (numpy's mean is its sum
    divided by n): the sum by :func:`~twitchwatch.core.native.middle_sum`, compiled for C-ordered
    windows, which numpy reduces slowly."""
    return native.middle_sum(x) / x.shape[1]


def _max_last(x: np.ndarray) -> np.ndarray:
    """``x.max(axis=-1)`` over a short last axis (channels), (...,), written out (same values, NaN
    propagated as numpy does)."""
    out = x[..., 0]
    for j in range(1, x.shape[-1]):
        out = np.maximum(out, x[..., j])
    return out


def _norm3(x: np.ndarray) -> np.ndarray:
    """Euclidean norm over the last axis of length 3, (...,): ``np.linalg.norm``'s arithmetic for
    real input (sqrt of the sum of squares, summed in order) written out, because numpy reduces a
    length-3 axis one row at a time (~50x slower on (w, n, 3) windows; bit-for-bit the same)."""
    sq = x * x
    return np.sqrt(sq[..., 0] + sq[..., 1] + sq[..., 2])


def _accel_features(a: AccelWindows, out: np.ndarray) -> None:
    w, n, c = a.move.shape
    put = lambda name, v: out.__setitem__((slice(None), _INDEX[name]), v)  # noqa: E731
    put("acc_present", 1.0)
    put("acc_3axis", 1.0 if c == 3 else 0.0)
    sq = a.move * a.move  # what a.move**2 computes (numpy's power special-cases 2 as a square)
    m2 = _middle_mean(sq)  # (w, c) g^2
    ms = m2.sum(axis=1)
    put("acc_log_rms", np.log10(np.sqrt(ms) + 1e-4))
    band = (0.3, min(20.0, 0.45 * a.rate_hz))
    spec = spectral_features(a.move, a.rate_hz, band)
    for key in ("dom_hz", "peak_frac", "entropy", "high_frac", "low_frac"):
        put("acc_" + key, spec[key])
    put("acc_dom_trend_hz", spec["trend_hz"])
    # the fourth power as the square of the square (not pow, ~15x slower): it can differ from pow in
    # the last bit of a sample, never in the 9-decimal rounded feature (FEATURE_DECIMALS, detector)
    m4 = _middle_mean(sq * sq)
    put("acc_kurtosis", np.max(m4 / np.maximum(m2**2, 1e-30), axis=1))
    rhythm, rhythm_hz = rhythmicity(a.env, a.rate_hz)
    put("acc_rhythm", rhythm)
    put("acc_rhythm_hz", rhythm_hz)
    mean_env = a.env.mean(axis=1)
    put("acc_env_log_mean", np.log10(mean_env + 1e-5))
    put("acc_env_cv", a.env.std(axis=1) / np.maximum(mean_env, 1e-9))
    onset = onset_statistics(a.snr, a.rate_hz)
    for key in ("onset_rate", "iei_cv", "active_frac"):
        put("acc_" + key, onset[key])
    put("acc_burst_s", onset["burst_s"])
    put("acc_log_peak", np.log10(a.env.max(axis=1) + 1e-5))
    put("acc_clip_frac", a.clip_frac)
    if c == 3:
        g = _middle_mean(a.gravity)
        unit = g / np.maximum(_norm3(g), 1e-6)[:, None]
        put("acc_grav_x", unit[:, 0])
        put("acc_grav_y", unit[:, 1])
        put("acc_grav_z", unit[:, 2])
        gn = a.gravity / np.maximum(_norm3(a.gravity), 1e-6)[:, :, None]
        put("acc_tilt_change", _norm3(gn - unit[:, None, :]).mean(axis=1))


@lru_cache(maxsize=64)
def _magnitude_plan(n: int, rate_hz: float):
    """FFT length, taper, frequencies and band-membership matrix for |a| windows of n samples."""
    nfft = _nfft(n)
    freqs = np.fft.rfftfreq(nfft, 1.0 / rate_hz)
    top = NYQUIST_FRACTION * rate_hz / 2  # a band edge beyond it is not usable
    bands = list(MAG_BANDS_HZ) + [(MAG_BANDS_HZ[0][0], MAG_BANDS_HZ[-1][1]), ROI_BAND_HZ, FLAP_BAND_HZ, MAG_RMS_BAND_HZ]
    member = np.stack([(freqs >= lo) & (freqs < min(hi, top)) for lo, hi in bands], axis=1).astype(float)
    dom_ok = (freqs >= 0.5) & (freqs <= min(12.0, top))
    plan = (nfft, np.hanning(n)[None, :], freqs, member, dom_ok)
    for a in plan:
        if isinstance(a, np.ndarray):
            a.setflags(write=False)
    return plan


def _magnitude(a: AccelWindows) -> np.ndarray:
    """|a| - its window mean, (w, n) g: from move + gravity per axis (3 axes), or the 1 channel."""
    if a.move.shape[2] == 1:
        m = a.move[:, :, 0] + a.gravity[:, :, 0]
    else:
        m = _norm3(a.move + a.gravity)
    return m - m.mean(axis=1, keepdims=True)


def _peak_statistics(x: np.ndarray, rms: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Jerks as local maxima of |x| above JERK_PEAK_RMS x rms: CV of their heights, CV of the
    intervals between them (NO_CV with < 3), and their rate (per s); each (w,)."""
    w, n = x.shape
    ax = np.abs(x)
    mid = ax[:, 1:-1]
    peak = (mid > ax[:, :-2]) & (mid >= ax[:, 2:]) & (mid > JERK_PEAK_RMS * rms[:, None])
    rows, cols = np.nonzero(peak)
    height_cv, k = _row_cv(rows, mid[rows, cols], w, 3)
    iei_cv, _ = _row_cv(*_intervals(rows, cols), w, 2)
    return height_cv, iei_cv, k / (n / rate_hz)


def _autocorr_peaks(x: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Highest normalised autocorrelation of (w, n) zero-mean windows at AUTOCORR_FAST_S and
    AUTOCORR_SLOW_S lags (0 where a range holds no lag or the window is silent); each (w,)."""
    w, n = x.shape
    nfft = _nfft(2 * n)
    ac = np.fft.irfft(np.abs(np.fft.rfft(x, nfft, axis=1)) ** 2, nfft, axis=1)[:, :n]
    zero = ac[:, :1]
    ac = np.where(zero > 1e-30, ac / np.where(zero > 1e-30, zero, 1.0), 0.0)
    lags = np.arange(n) / rate_hz
    out = []
    for lo, hi in (AUTOCORR_FAST_S, AUTOCORR_SLOW_S):
        sel = (lags >= lo) & (lags <= hi)
        out.append(ac[:, sel].max(axis=1) if sel.any() else np.zeros(w))
    return out[0], out[1]


def magnitude_features(x: np.ndarray, rate_hz: float) -> dict[str, np.ndarray]:
    """Features of the acceleration magnitude, :data:`MAGNITUDE_KEYS` -> (w,) arrays.

    Parameters
    ----------
    x : (w, n) magnitude |a| minus its window mean, g
    rate_hz : sampling rate of x, Hz

    Band fractions are of the 0.3-12.5 Hz power (bands clipped below 0.9 x Nyquist), log_rms is
    log10 g of the 1-12 Hz band, dom_hz the 0.5-12 Hz spectral peak, kurtosis the plain fourth
    moment ratio (3 for Gaussian), crest max|x| / rms, peak_* the jerk statistics of
    :func:`_peak_statistics`, autocorr_* of :func:`_autocorr_peaks`.
    """
    w, n = x.shape
    nfft, taper, freqs, member, dom_ok = _magnitude_plan(n, float(rate_hz))
    power = np.abs(np.fft.rfft(x * taper, nfft, axis=1)) ** 2
    bands = power @ member  # (w, 10): six bands, their total, ROI, flap, RMS band
    total = bands[:, 6]
    frac = bands / np.maximum(total, 1e-30)[:, None]
    silent = total < 1e-20
    out = {f"frac_{i}": np.where(silent, 0.0, frac[:, i]) for i in range(len(MAG_BANDS_HZ))}
    out["roi_frac"] = np.where(silent, 0.0, frac[:, 7])
    out["flap_frac"] = np.where(silent, 0.0, frac[:, 8])
    # Parseval (one-sided, zero-padded to nfft): 2 * sum |X_k|^2 / nfft = sum (taper x)^2, and a Hann
    # taper keeps 3/8 of a stationary signal's power: mean square = 2 * band / (nfft * n * 3/8)
    band_ms = 2.0 * bands[:, 9] / (nfft * n * 0.375)
    out["log_rms"] = np.log10(np.sqrt(band_ms) + 1e-4)
    dom = np.where(dom_ok[None, :], power, -1.0)
    out["dom_hz"] = np.where(silent, 0.0, freqs[np.argmax(dom, axis=1)])
    m2 = (x * x).mean(axis=1)
    rms = np.sqrt(m2)
    out["kurtosis"] = np.where(m2 > 1e-20, (x**2 * x**2).mean(axis=1) / np.maximum(m2 * m2, 1e-40), 0.0)
    out["crest"] = np.where(rms > 1e-10, np.abs(x).max(axis=1) / np.maximum(rms, 1e-10), 0.0)
    out["peak_cv"], out["peak_iei_cv"], out["peak_rate"] = _peak_statistics(x, rms, rate_hz)
    out["autocorr_fast"], out["autocorr_slow"] = _autocorr_peaks(x, rate_hz)
    return out


def _magnitude_features(a: AccelWindows, out: np.ndarray) -> None:
    for key, value in magnitude_features(_magnitude(a), a.rate_hz).items():
        out[:, _INDEX["mag_" + key]] = value


def _emg_features(e: EmgWindows, out: np.ndarray) -> None:
    w, n, k = e.env.shape
    put = lambda name, v: out.__setitem__((slice(None), _INDEX[name]), v)  # noqa: E731
    put("emg_present", 1.0)
    put("emg_2ch", 1.0 if k >= 2 else 0.0)
    total = _sum_last(e.env)
    mean_env = total.mean(axis=1)
    put("emg_log_env", np.log10(mean_env / k + 1e-3))
    put("emg_env_cv", total.std(axis=1) / np.maximum(mean_env, 1e-9))
    rhythm, rhythm_hz = rhythmicity(total, e.rate_hz)
    put("emg_rhythm", rhythm)
    put("emg_rhythm_hz", rhythm_hz)
    snr = _max_last(e.snr)
    onset = onset_statistics(snr, e.rate_hz)
    for key in ("onset_rate", "iei_cv", "active_frac"):
        put("emg_" + key, onset[key])
    put("emg_burst_s", onset["burst_s"])
    put("emg_log_peak_snr", np.log10(np.maximum(snr.max(axis=1), 1e-3)))
    if k >= 2:
        x = e.env[:, :, 0] - e.env[:, :, 0].mean(axis=1, keepdims=True)
        y = e.env[:, :, 1] - e.env[:, :, 1].mean(axis=1, keepdims=True)
        den = np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))
        put("emg_coact", np.where(den > 1e-30, (x * y).sum(axis=1) / np.maximum(den, 1e-30), 0.0))
    put("emg_zcr_hz", e.zcr_hz)


def compute_features(batch: WindowBatch) -> np.ndarray:
    """Feature matrix (batch.count, len(FEATURE_NAMES)), float64, no NaN.

    Absent streams leave their features at 0 (with ``acc_present`` / ``emg_present`` = 0),
    ``acc_iei_cv``/``emg_iei_cv`` are NO_CV when undefined.
    """
    out = np.zeros((batch.count, len(FEATURE_NAMES)))
    out[:, _INDEX["acc_iei_cv"]] = NO_CV
    out[:, _INDEX["emg_iei_cv"]] = NO_CV
    out[:, _INDEX["mag_peak_cv"]] = NO_CV
    out[:, _INDEX["mag_peak_iei_cv"]] = NO_CV
    if batch.count == 0:
        return out
    if batch.accel is not None:
        _accel_features(batch.accel, out)
        _magnitude_features(batch.accel, out)
    if batch.emg is not None:
        _emg_features(batch.emg, out)
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
