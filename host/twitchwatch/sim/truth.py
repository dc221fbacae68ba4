"""Ground-truth window labels from a simulation's annotations (for training and scoring)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from twitchwatch.model import Annotation
from twitchwatch.sim.scenario import window_label_for


def window_labels(
    segments: Sequence[Annotation],
    events: Sequence[Annotation],
    starts_s: np.ndarray,
    window_s: float,
    min_fasciculations: int = 1,
) -> np.ndarray:
    """The true label of each window [start, start + window_s).

    Rules: the activity segment overlapping the window most decides (via
    :func:`~twitchwatch.sim.scenario.window_label_for`); a window of a resting activity (label
    ``quiet`` or ``fasciculation``) is ``fasciculation`` when at least ``min_fasciculations``
    fasciculation events start inside it, else ``quiet`` (an activity called "fasciculation" at
    2/min mostly looks quiet in a 5 s window, and a quiet segment with a background twitch does not).

    Parameters
    ----------
    segments : activity segments in order (``SimRecording.segments``)
    events : event annotations (``SimRecording.event_annotations``)
    starts_s : (n,) window start times, s
    window_s : window length, s

    Returns
    -------
    (n,) array of str, each one of ``model.WINDOW_LABELS``
    """
    starts = np.asarray(starts_s, dtype=float)
    ends = starts + float(window_s)
    seg_on = np.array([s.onset_s for s in segments])
    seg_end = seg_on + np.array([s.duration_s for s in segments])
    seg_label = np.array([window_label_for(s.label) for s in segments])
    i = np.clip(np.searchsorted(seg_on, starts, side="right") - 1, 0, len(segments) - 1)
    j = np.minimum(i + 1, len(segments) - 1)
    ov_i = np.minimum(ends, seg_end[i]) - np.maximum(starts, seg_on[i])
    ov_j = np.where(j > i, np.minimum(ends, seg_end[j]) - np.maximum(starts, seg_on[j]), -np.inf)
    labels = np.where(ov_j > ov_i, seg_label[j], seg_label[i]).astype("<U20")
    fasc = np.sort([e.onset_s for e in events if e.label == "fasciculation"])
    n_fasc = np.searchsorted(fasc, ends, side="left") - np.searchsorted(fasc, starts, side="left")
    resting = (labels == "quiet") | (labels == "fasciculation")
    labels[resting] = np.where(n_fasc[resting] >= min_fasciculations, "fasciculation", "quiet")
    return labels
