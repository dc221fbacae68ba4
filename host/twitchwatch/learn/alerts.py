"""Alert notifications from window decisions, for many recordings and settings at once.

Choosing alert settings means scoring hundreds of (threshold, run length) combinations over
hundreds of thousands of windows; the detector's :class:`~twitchwatch.core.episodes.EpisodeTracker`
walks windows one by one. :func:`notifications` gives the same first alerts (the "any" level) from
whole arrays: an episode opens at the ``on``-th consecutive hit (or at an ``instant`` hit) and stays
open until ``off`` consecutive misses, so within a cluster of hit runs separated by fewer than
``off`` misses only the first run that opens notifies. A test checks it against the EpisodeTracker on random input.
"""

from __future__ import annotations

import numpy as np


def _runs(mask: np.ndarray, new_unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (exclusive) of each run of True in ``mask``, runs cut at recording starts."""
    n = mask.size
    run_start = np.flatnonzero(mask & (new_unit | ~np.concatenate([[False], mask[:-1]])))
    stops = np.flatnonzero(~mask | new_unit)
    pos = np.searchsorted(stops, run_start, side="right")
    return run_start, np.where(pos < stops.size, stops[np.minimum(pos, stops.size - 1)], n)


def notifications(hit: np.ndarray, unit: np.ndarray, on: int, off: int, instant: np.ndarray | None = None,
                  sustain: np.ndarray | None = None) -> np.ndarray:
    """Window index of each first alert (warning) of a rhythmic-jerking episode.

    Parameters
    ----------
    hit : (n,) bool, the window was labelled rhythmic jerking
    unit : (n,) int, recording of each window; windows of one recording are contiguous and in time
        order, and each recording starts with a fresh detector
    on : consecutive hits that open an episode (``rj_on_windows``)
    off : consecutive misses that close it (``rj_off_windows``)
    instant : (n,) bool or None, hits that open an episode at once
    sustain : (n,) bool or None, windows that keep an open episode open (and are misses otherwise)

    Returns
    -------
    int64 array of window indices, ascending
    """
    hit = np.asarray(hit, bool)
    unit = np.asarray(unit)
    n = hit.size
    if n == 0 or not hit.any():
        return np.zeros(0, np.int64)
    new_unit = np.ones(n, bool)
    new_unit[1:] = unit[1:] != unit[:-1]
    # clusters: runs of (hit or sustain) separated by fewer than ``off`` other windows, in one unit;
    # an episode opened in a cluster lasts to its end, and only one opens per cluster
    keep = hit if sustain is None else hit | np.asarray(sustain, bool)
    k_start, k_end = _runs(keep, new_unit)
    gap = np.empty(k_start.size, np.int64)
    gap[0] = np.iinfo(np.int64).max
    gap[1:] = k_start[1:] - k_end[:-1]
    same_unit = np.ones(k_start.size, bool)
    same_unit[0] = False
    same_unit[1:] = unit[k_start[1:]] == unit[k_start[:-1]]
    cluster = np.cumsum(~(same_unit & (gap < off)))
    # openings: the on-th window of a run of hits, or an instant hit
    run_start, run_end = _runs(hit, new_unit)
    opens = np.where(run_end - run_start >= on, run_start + on - 1, n)
    if instant is not None:
        now = np.flatnonzero(np.asarray(instant, bool) & hit)
        if now.size:
            k = np.searchsorted(now, run_start)
            first_now = np.where(k < now.size, now[np.minimum(k, now.size - 1)], n)
            opens = np.minimum(opens, np.where(first_now < run_end, first_now, n))
    opens = opens[opens < n]
    if not opens.size:
        return np.zeros(0, np.int64)
    of = cluster[np.searchsorted(k_start, opens, side="right") - 1]
    first = {}
    for c, s in zip(of.tolist(), opens.tolist()):
        first.setdefault(c, s)
    return np.fromiter(first.values(), np.int64, len(first))


def match_seizures(t: np.ndarray, t_unit: np.ndarray, sz_unit: np.ndarray, sz_lo: np.ndarray,
                   sz_hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The seizure each notification falls in, and which seizures are found.

    Parameters
    ----------
    t, t_unit : (m,) notification times (s) and their recordings
    sz_unit, sz_lo, sz_hi : (k,) each seizure's recording and scoring interval [lo, hi] (s);
        intervals of one recording do not overlap

    Returns
    -------
    which : (m,) int, index of the seizure whose interval holds the notification, -1 for none
    found : (k,) bool, the seizure has at least one notification in its interval
    """
    found = np.zeros(sz_unit.size, bool)
    if t.size == 0 or sz_unit.size == 0:
        return np.full(t.size, -1), found
    span = float(max(np.max(np.abs(sz_hi)), np.max(np.abs(t)), 1.0)) * 4 + 10.0
    order = np.lexsort((sz_lo, sz_unit))
    key_lo = sz_unit[order] * span + sz_lo[order]
    idx = np.searchsorted(key_lo, t_unit * span + t, side="right") - 1
    ok = idx >= 0
    j = order[np.clip(idx, 0, None)]
    inside = ok & (sz_unit[j] == t_unit) & (t <= sz_hi[j]) & (t >= sz_lo[j])
    found[np.unique(j[inside])] = True
    return np.where(inside, j, -1), found


def causal_mean(p: np.ndarray, unit: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``p`` over the last ``n`` windows of the same recording (fewer at its start), the
    array form of :class:`twitchwatch.core.context.RunningMean` (equal up to rounding)."""
    if n <= 1 or p.size == 0:
        return np.asarray(p, float)
    c = np.concatenate([[0.0], np.cumsum(p)])
    i = np.arange(1, p.size + 1)
    first = np.flatnonzero(np.r_[True, unit[1:] != unit[:-1]])
    start = np.repeat(first, np.diff(np.r_[first, p.size]))
    lo = np.maximum(i - n, start)
    return (c[i] - c[lo]) / (i - lo)
