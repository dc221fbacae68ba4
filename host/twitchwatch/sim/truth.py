"""Ground-truth window labels from a simulation's annotations (for training and scoring)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from twitchwatch.model import Annotation
from twitchwatch.sim.scenario import SPARSE_ACTIVITIES, window_label_for


def window_labels(
    segments: Sequence[Annotation],
    events: Sequence[Annotation],
    starts_s: np.ndarray,
    window_s: float,
    min_fasciculations: int = 1,
) -> np.ndarray:
    """The true label of each window [start, start + window_s).

    Rules: the activity segment overlapping the window most decides (via
    :func:`~twitchwatch.sim.scenario.window_label_for`); a window of an activity made of separate
    movements (``SPARSE_ACTIVITIES``: PLMs, tapping bouts, fidgeting) that overlaps none of its
    movement events is a rest window; a rest window (label ``quiet`` or ``fasciculation``) is
    ``fasciculation`` when at least ``min_fasciculations`` fasciculation events start inside it,
    else ``quiet`` (an activity called "fasciculation" at 2/min mostly looks quiet in a 5 s window,
    and a quiet segment with a background twitch does not).

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
    major = np.where(ov_j > ov_i, j, i)
    labels = seg_label[major].astype("<U20")
    seg_activity = np.array([s.label for s in segments])
    for activity, event_labels in SPARSE_ACTIVITIES.items():
        in_act = seg_activity[major] == activity
        if not in_act.any():
            continue
        ev = sorted((e.onset_s, e.onset_s + e.duration_s) for e in events if e.label in event_labels)
        if ev:
            on = np.array([e[0] for e in ev])
            end_max = np.maximum.accumulate([e[1] for e in ev])
            k = np.searchsorted(on, ends, side="left")  # events starting before the window ends
            moving = (k > 0) & (end_max[np.maximum(k - 1, 0)] > starts)
        else:
            moving = np.zeros(len(starts), bool)
        labels[in_act & ~moving] = "quiet"
    fasc = np.sort([e.onset_s for e in events if e.label == "fasciculation"])
    n_fasc = np.searchsorted(fasc, ends, side="left") - np.searchsorted(fasc, starts, side="left")
    resting = (labels == "quiet") | (labels == "fasciculation")
    labels[resting] = np.where(n_fasc[resting] >= min_fasciculations, "fasciculation", "quiet")
    return labels
