"""The seizure model's input: 10 s of the 25 Hz magnitude, OSD's view, and 30-70 s of causal context.

A 4 s window cannot tell a seizure from toothbrushing; the published wrist detectors that work on
real people look at 10-30 s (DETECTION_NOTES.md: Spahr 2025 30 s windows, Empatica > 20 s, OSD's
own alarm needs 10 s of positive blocks). And a model that learns from several datasets must not be
able to tell them apart by their sensor: every signal feature it sees is computed on the
acceleration magnitude resampled to 25 Hz (what OSD computes, and what a magnitude-only watch
records), whatever the device's rate and axes. Each window's seizure features are:

- ``m10_*``: :func:`twitchwatch.core.features.magnitude_features` of the last 10 s of that 25 Hz
  magnitude (``m10_present`` 0 where the stream has no magnitude: no accelerometer, or 2 axes);
- OSD's view (:mod:`twitchwatch.core.osd`) at the window's end: the last complete 5 s block's
  decision, ROI power and ratio, and OSD's own alarm count (consecutive positive blocks x 5 s);
- means over the last 30 s of a few ``m10`` features and of OSD's decision; the spread over 30 s of
  the dominant frequency and of the RMS (seizures evolve; brushing, sawing and walking are
  stationary); onset contrast: the 10 s log RMS minus its median over the 60 s before (seizures
  start from rest);
- the window's EMG features (foot devices) and its clipped fraction (running impacts saturate a
  foot-worn sensor);
- the window model's rhythmic-jerking probability (trained on the simulator only; it knows the clean
  clonic rhythm a foot sensor sees, the seizure model learns where to trust it).

:class:`ContextTracker` carries the history (a fixed number of past windows), so the result does not
depend on how the windows arrive in batches. Every sum is taken over exactly the same rows in the
same order whatever the batch, so chunking cannot change a value.
"""

from __future__ import annotations

import numpy as np

from twitchwatch.core.features import EMG_FEATURES, MAGNITUDE_KEYS, NO_CV, column

#: Rate of the magnitude the seizure features see, Hz (OSD's analysis rate, OSDB's recording rate).
MAGNITUDE_RATE_HZ = 25.0
#: Length of the magnitude window, s, and the context spans, s (DETECTION_NOTES.md: 10 s of
#: evidence, 30 s of causal context, 60 s of "before" for the onset contrast).
SHORT_S, LONG_S, BASELINE_S = 10.0, 30.0, 60.0

M10_FEATURES = ("m10_present",) + tuple(f"m10_{k}" for k in MAGNITUDE_KEYS)
#: ``m10`` features averaged over the context span (with OSD's decision).
MEAN_OF = ("log_rms", "roi_frac", "flap_frac", "dom_hz", "kurtosis", "peak_cv", "autocorr_fast")
OSD_FEATURES = ("osd_positive", "osd_log_roi", "osd_ratio", "osd_count_s")
CONTEXT_FEATURES = (
    tuple(f"ctx30_{n}" for n in MEAN_OF + ("osd_positive",))
    + ("ctx30_sd_dom_hz", "ctx30_sd_log_rms", "ctx_onset_contrast")
)
#: Column order of the seizure model's input.
WINDOW_FEATURES_USED = EMG_FEATURES + ("acc_clip_frac",)
SEIZURE_FEATURE_NAMES: tuple[str, ...] = (M10_FEATURES + OSD_FEATURES + CONTEXT_FEATURES + WINDOW_FEATURES_USED
                                          + ("win_rj_probability",))
_BASE_COLUMNS = np.array([1 + MAGNITUDE_KEYS.index(n) for n in MEAN_OF])  # in the M10_FEATURES matrix
_RMS, _DOM = MEAN_OF.index("log_rms"), MEAN_OF.index("dom_hz")
_WINDOW_COLUMNS = np.array([column(n) for n in WINDOW_FEATURES_USED])
#: m10 values where the magnitude is absent (the CVs' "undefined" marker, 0 otherwise).
M10_ABSENT = np.array([0.0] + [NO_CV if k in ("peak_cv", "peak_iei_cv") else 0.0 for k in MAGNITUDE_KEYS])


def seizure_matrix(window_features: np.ndarray, m10: np.ndarray, osd: np.ndarray, context: np.ndarray,
                   rj_probability: np.ndarray) -> np.ndarray:
    """Columns in :data:`SEIZURE_FEATURE_NAMES` order from its parts, each (w, ...)."""
    return np.concatenate([m10, osd, context, window_features[:, _WINDOW_COLUMNS], rj_probability[:, None]], axis=1)


def seizure_column(name: str) -> int:
    """Column of ``name`` in the seizure feature matrix."""
    return SEIZURE_FEATURE_NAMES.index(name)


class ContextTracker:
    """Context features of windows fed in time order (one stream of consecutive windows).

    Parameters
    ----------
    hop_s : time between consecutive windows, s
    """

    def __init__(self, hop_s: float):
        self.n_short = max(1, int(round(SHORT_S / hop_s)))
        self.n_long = max(self.n_short, int(round(LONG_S / hop_s)))
        self.n_base = max(1, int(round(BASELINE_S / hop_s)))
        self.keep = max(self.n_long, self.n_short + self.n_base) - 1
        self.width = len(MEAN_OF) + 1
        self.history = np.full((self.keep, self.width), np.nan)  # NaN: before the stream began

    def reset(self) -> None:
        """Forget the past (a stream restarted after a long gap)."""
        self.history[:] = np.nan

    def step(self, m10: np.ndarray, osd_positive: np.ndarray) -> np.ndarray:
        """Context of a batch of consecutive windows.

        Parameters
        ----------
        m10 : (w, len(M10_FEATURES)) magnitude features of the windows, in time order
        osd_positive : (w,) OSD's decision (0/1) at each window's end

        Returns
        -------
        (w, len(CONTEXT_FEATURES)) float64, no NaN
        """
        w = m10.shape[0]
        if w == 0:
            return np.zeros((0, len(CONTEXT_FEATURES)))
        base = np.column_stack([m10[:, _BASE_COLUMNS], osd_positive])
        base[m10[:, 0] == 0, :-1] = np.nan  # no magnitude: nothing to average
        rows = np.concatenate([self.history, base])
        self.history = rows[-self.keep:] if self.keep else rows[:0]
        h = rows.shape[0] - w  # == self.keep
        out = []
        view = np.lib.stride_tricks.sliding_window_view(rows[h + 1 - self.n_long:], self.n_long, axis=0)  # (w, width, n)
        out.append(_nanmean(view))
        out.append(_nanstd(view[:, _DOM])[:, None])
        out.append(_nanstd(view[:, _RMS])[:, None])
        recent = base[:, _RMS]
        before = np.lib.stride_tricks.sliding_window_view(rows[h + 1 - self.n_short - self.n_base: rows.shape[0] - self.n_short, _RMS],
                                                          self.n_base, axis=0)
        med = _nanmedian(before)
        out.append(np.where(np.isfinite(med), recent - med, 0.0)[:, None])
        return np.nan_to_num(np.concatenate(out, axis=1), nan=0.0)


def _nanmean(view: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(view)
    return np.where(ok, view, 0.0).sum(axis=-1) / np.maximum(ok.sum(axis=-1), 1)


def _nanstd(view: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(view)
    n = np.maximum(ok.sum(axis=-1), 1)
    mean = np.where(ok, view, 0.0).sum(axis=-1) / n
    dev = np.where(ok, view - mean[..., None], 0.0)
    return np.sqrt((dev * dev).sum(axis=-1) / n)


def _nanmedian(view: np.ndarray) -> np.ndarray:
    """Median over the last axis ignoring NaN (NaN where a row has none), without warnings."""
    s = np.sort(view, axis=-1)  # NaN sorts last
    n = (~np.isnan(view)).sum(axis=-1)
    lo = np.clip((n - 1) // 2, 0, view.shape[-1] - 1)
    hi = np.clip(n // 2, 0, view.shape[-1] - 1)
    r = np.arange(view.shape[0])
    return np.where(n > 0, 0.5 * (s[r, lo] + s[r, hi]), np.nan)


class RunningMean:
    """Causal mean of a per-window value over the last ``n`` windows (fewer at the start), carried
    across batches; each mean is taken over exactly the same values whatever the batching."""

    def __init__(self, n: int):
        self.n = max(1, int(n))
        self.history = np.full(self.n - 1, np.nan)

    def reset(self) -> None:
        self.history[:] = np.nan

    def step(self, values: np.ndarray) -> np.ndarray:
        """(w,) values in time order -> (w,) means."""
        if values.size == 0:
            return np.zeros(0)
        rows = np.concatenate([self.history, values])
        self.history = rows[rows.size - (self.n - 1):] if self.n > 1 else rows[:0]
        return _nanmean(np.lib.stride_tricks.sliding_window_view(rows, self.n))
