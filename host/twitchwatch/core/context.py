"""Causal context over the sequence of windows: what the last 10-30 s looked like.

A 4 s window cannot tell a seizure from toothbrushing; the published wrist detectors that work on
real people look at 10-30 s (DETECTION_NOTES.md: Spahr 2025 30 s windows, Empatica > 20 s, OSD's
own alarm needs 10 s of positive blocks). Each window's seizure features are its own features plus:

- OSD's view (:mod:`twitchwatch.core.osd`) at the window's end: the last complete 5 s block's
  decision, ROI power and ratio, and OSD's own alarm count (consecutive positive blocks x 5 s);
- means over the last 10 s and 30 s of a few window features (magnitude RMS, OSD's ROI and the flap
  band fractions, dominant frequency, rhythmicity, kurtosis, jerk-height CV, OSD's decision);
- spread over 30 s of the dominant frequency and of the RMS (seizures evolve; brushing, sawing and
  walking are stationary);
- onset contrast: mean log RMS of the last 10 s minus the median of the 60 s before (seizures
  start from rest).

:class:`ContextTracker` carries the history (a fixed number of past windows), so the result does not
depend on how the windows arrive in batches. Every sum is taken over exactly the same rows in the
same order whatever the batch, so chunking cannot change a value.
"""

from __future__ import annotations

import numpy as np

from twitchwatch.core.features import FEATURE_NAMES, column

#: Context spans, s (DETECTION_NOTES.md: 10 s of evidence, 30 s of causal context, 60 s of
#: "before" for the onset contrast).
SHORT_S, LONG_S, BASELINE_S = 10.0, 30.0, 60.0

#: Window features averaged over the context spans.
MEAN_OF = ("mag_log_rms", "mag_roi_frac", "mag_flap_frac", "mag_dom_hz", "acc_rhythm", "mag_kurtosis",
           "mag_peak_cv")
OSD_FEATURES = ("osd_positive", "osd_log_roi", "osd_ratio", "osd_count_s")
CONTEXT_FEATURES = (
    tuple(f"ctx10_{n}" for n in MEAN_OF + ("osd_positive",))
    + tuple(f"ctx30_{n}" for n in MEAN_OF + ("osd_positive",))
    + ("ctx30_sd_mag_dom_hz", "ctx30_sd_mag_log_rms", "ctx_onset_contrast")
)
#: Column order of the seizure model's input: window features, OSD's view, context.
SEIZURE_FEATURE_NAMES: tuple[str, ...] = FEATURE_NAMES + OSD_FEATURES + CONTEXT_FEATURES
_BASE_COLUMNS = np.array([column(n) for n in MEAN_OF])
_RMS, _DOM = MEAN_OF.index("mag_log_rms"), MEAN_OF.index("mag_dom_hz")


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

    def step(self, window_features: np.ndarray, osd_positive: np.ndarray) -> np.ndarray:
        """Context of a batch of consecutive windows.

        Parameters
        ----------
        window_features : (w, len(FEATURE_NAMES)) features of the windows, in time order
        osd_positive : (w,) OSD's decision (0/1) at each window's end

        Returns
        -------
        (w, len(CONTEXT_FEATURES)) float64, no NaN
        """
        w = window_features.shape[0]
        if w == 0:
            return np.zeros((0, len(CONTEXT_FEATURES)))
        base = np.column_stack([window_features[:, _BASE_COLUMNS], osd_positive])
        rows = np.concatenate([self.history, base])
        self.history = rows[-self.keep:] if self.keep else rows[:0]
        h = rows.shape[0] - w  # == self.keep
        out = []
        for n in (self.n_short, self.n_long):
            view = np.lib.stride_tricks.sliding_window_view(rows[h + 1 - n:], n, axis=0)  # (w, width, n)
            out.append(_nanmean(view))
        view = np.lib.stride_tricks.sliding_window_view(rows[h + 1 - self.n_long:], self.n_long, axis=0)
        out.append(_nanstd(view[:, _DOM])[:, None])
        out.append(_nanstd(view[:, _RMS])[:, None])
        recent = out[0][:, _RMS]
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
