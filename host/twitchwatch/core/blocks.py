"""Per-block reductions on the detector's fixed time grid.

The grid is made of hop blocks ``[j * hop_s, (j + 1) * hop_s)`` on the device clock. A block's
reduction is final once a sample of a later block has been seen (or the caller says the stream
ended), so the results do not depend on how the samples were chunked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twitchwatch.core import native


def block_ids(t0_s: float, rate_hz: float, first_index: int, n: int, hop_s: float) -> np.ndarray:
    """Grid block of each sample ``first_index .. first_index + n - 1`` of a stream starting at ``t0_s``.

    Computed per sample from its global index, so every chunking gives the same ids. Shape (n,), int64.
    """
    if n > 1:  # fast path for live chunks inside one block (same per-sample formula at both ends)
        ends = _ids(t0_s, rate_hz, np.array([first_index, first_index + n - 1], dtype=np.float64), hop_s)
        if ends[0] == ends[1]:
            return np.full(n, ends[0], dtype=np.int64)
    return _ids(t0_s, rate_hz, np.arange(first_index, first_index + n, dtype=np.float64), hop_s)


def _ids(t0_s: float, rate_hz: float, index: np.ndarray, hop_s: float) -> np.ndarray:
    return np.floor((t0_s + index / rate_hz) / hop_s + 1e-9).astype(np.int64)


def block_of(t0_s: float, rate_hz: float, index: int, hop_s: float) -> int:
    """Grid block of the single sample with global ``index`` (same formula as :func:`block_ids`)."""
    return int(block_ids(t0_s, rate_hz, index, 1, hop_s)[0])


#: Samples searched either side of the closed-form first sample of a block (the per-sample formula
#: has a 1e-9 tolerance and float rounding: it moves a boundary by at most a sample in practice).
BOUNDARY_SLACK = 2


@dataclass(frozen=True)
class BlockRuns:
    """The grid blocks a run of ``n`` consecutive samples falls in.

    ids : (b,) int64, the distinct blocks, ascending (b = 0 when n = 0)
    starts : (b,) int64, position in the run of each block's first sample (starts[0] = 0)
    n : the number of samples
    """

    ids: np.ndarray
    starts: np.ndarray
    n: int

    def lengths(self) -> np.ndarray:
        """(b,) samples of the run in each block."""
        return np.diff(np.append(self.starts, self.n))


def block_runs(t0_s: float, rate_hz: float, first_index: int, n: int, hop_s: float) -> BlockRuns:
    """The blocks of samples ``first_index .. first_index + n - 1`` and where each one begins.

    The same blocks as :func:`block_ids` gives per sample (the same formula, evaluated only where
    a block may begin): the formula is non-decreasing in the index, so each block's first sample is
    the first index where it reaches the block. It is looked for around the closed-form estimate
    (``BOUNDARY_SLACK`` samples either side, checked), else by bisection; either way the formula
    decides, so the result is exact.
    """
    if n <= 0:
        return BlockRuns(np.zeros(0, np.int64), np.zeros(0, np.int64), 0)
    ends = _ids(t0_s, rate_hz, np.array([first_index, first_index + n - 1], dtype=np.float64), hop_s)
    if ends[0] == ends[1]:
        return BlockRuns(ends[:1].copy(), np.zeros(1, np.int64), n)
    later = np.arange(ends[0] + 1, ends[1] + 1)  # every block after the first, up to the last sample's
    # estimate: the first index whose time reaches the block's start; rounding moves it by a sample or so
    guess = np.ceil((later * hop_s - t0_s) * rate_hz).astype(np.int64) - first_index
    near = np.clip(guess[:, None] + np.arange(-BOUNDARY_SLACK, BOUNDARY_SLACK + 1)[None, :], 1, n - 1)
    reached = _ids(t0_s, rate_hz, (first_index + near).astype(np.float64), hop_s) >= later[:, None]
    # bracketed when the first candidate has not reached the block (or is the run's second sample,
    # the earliest possible) and the last one has
    if (reached[:, -1] & (~reached[:, 0] | (near[:, 0] == 1))).all():
        lo = near[np.arange(later.size), np.argmax(reached, axis=1)]
        starts = np.unique(np.concatenate([[0], lo]))
        return BlockRuns(_ids(t0_s, rate_hz, (first_index + starts).astype(np.float64), hop_s), starts, n)
    lo = np.ones(later.size, np.int64)  # the first sample with a block >= later lies in [lo, hi]
    hi = np.full(later.size, n - 1, np.int64)
    while (lo < hi).any():
        mid = (lo + hi) // 2
        reached = _ids(t0_s, rate_hz, (first_index + mid).astype(np.float64), hop_s) >= later
        hi = np.where(reached, mid, hi)
        lo = np.where(reached, lo, mid + 1)
    starts = np.unique(np.concatenate([[0], lo]))  # a block no sample falls in shares the next one's start
    return BlockRuns(_ids(t0_s, rate_hz, (first_index + starts).astype(np.float64), hop_s), starts, n)


def rows_within(x: np.ndarray, limit: float) -> tuple[bool, np.ndarray | None]:
    """Whether every value of ``x`` (n, c) is within +-``limit`` (NaN is not), and if not, which
    rows are: (all within, (n,) bool or None when all are)."""
    k = native.KERNELS
    if k is None or x.ndim != 2 or x.shape[1] == 0:
        return _rows_within_numpy(x, limit)
    x = np.ascontiguousarray(x, dtype=np.float64)
    mask = np.empty(x.shape[0], dtype=bool)
    if k.rows_within(x, mask, x.shape[0], x.shape[1], float(limit)):
        return True, None
    return False, mask


def _rows_within_numpy(x: np.ndarray, limit: float) -> tuple[bool, np.ndarray | None]:
    """:func:`rows_within` in numpy (the fallback without the compiled kernel, and its reference)."""
    if bool((np.abs(x) <= limit).all()):  # one flat pass; rows only when needed
        return True, None
    return False, (np.abs(x) <= limit).all(axis=1)


def sample_stats(x: np.ndarray, runs: BlockRuns, valid: np.ndarray | None, crossings: np.ndarray,
                 clip_level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-block statistics of finite samples ``x`` (n, c) in the blocks ``runs``.

    Parameters
    ----------
    valid : (n,) bool, False for a sample that was invalid (held), or None when all were valid
    crossings : (n, k) bool, per-sample events to count (zero crossings of each EMG channel; k >= 0)
    clip_level : a sample is clipped when any |value| >= this (inf: never)

    Returns
    -------
    sums : (b, 3 + k) float64, per block: samples, invalid samples, clipped samples, crossings per column
    maxs, mins : (b, c) float64, per-channel maximum and minimum
    """
    k = native.KERNELS
    b, w = runs.ids.size, crossings.shape[1]
    if k is None or not b or x.shape[1] == 0:
        return _sample_stats_numpy(x, runs, valid, crossings, clip_level)
    sums, maxs, mins = np.empty((b, 3 + w)), np.empty((b, x.shape[1])), np.empty((b, x.shape[1]))
    k.sample_stats(np.ascontiguousarray(x, dtype=np.float64), np.ascontiguousarray(runs.starts, dtype=np.int64),
                   b"" if valid is None else np.ascontiguousarray(valid, dtype=bool),
                   np.ascontiguousarray(crossings, dtype=bool), sums, maxs, mins, x.shape[0], x.shape[1], b, w,
                   float(clip_level))
    return sums, maxs, mins


def _sample_stats_numpy(x: np.ndarray, runs: BlockRuns, valid: np.ndarray | None, crossings: np.ndarray,
                        clip_level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`sample_stats` in numpy (the fallback without the compiled kernel, and its reference)."""
    n, w = x.shape[0], crossings.shape[1]
    if not runs.ids.size:
        return np.zeros((0, 3 + w)), np.zeros((0, x.shape[1])), np.zeros((0, x.shape[1]))
    per_sample = np.zeros((n, 3 + w))  # n, invalid, clipped, [crossings...]
    per_sample[:, 0] = 1.0
    if valid is not None:
        per_sample[:, 1] = ~valid
    over = np.abs(x) >= clip_level
    if over.any():
        per_sample[:, 2] = over.any(axis=1)
    per_sample[:, 3:] = crossings
    starts = runs.starts
    return (np.add.reduceat(per_sample, starts, axis=0), np.maximum.reduceat(x, starts, axis=0),
            np.minimum.reduceat(x, starts, axis=0))


class BlockReducer:
    """Reduces per-sample values (n, f) into per-block values with a ufunc (add, maximum, minimum).

    Parameters
    ----------
    ufunc : np.add, np.maximum or np.minimum
    width : number of values per sample (f)
    """

    def __init__(self, ufunc: np.ufunc, width: int):
        self.ufunc = ufunc
        self.width = int(width)
        self.open_id: int | None = None
        self.open_value: np.ndarray | None = None

    def feed(self, ids: np.ndarray, values: np.ndarray, next_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Add samples with block ``ids`` (n,) and ``values`` (n, f).

        ``next_id`` is the block of the next sample the stream will deliver; blocks before it are
        complete.

        Returns
        -------
        done_ids : (b,) int64, completed blocks in order
        done_values : (b, f) their reductions
        """
        if ids.shape[0] and ids[0] == ids[-1] and (self.open_id is None or self.open_id == ids[0]):
            # fast path: the whole chunk lies in one block (live mode)
            reduced = self.ufunc.reduce(values, axis=0)
            if self.open_id is not None:
                reduced = self.ufunc(reduced, self.open_value)
            if ids[0] < next_id:
                self.open_id, self.open_value = None, None
                return ids[:1].copy(), reduced[None, :]
            self.open_id, self.open_value = int(ids[0]), reduced
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.width))
        if ids.shape[0]:
            starts = np.concatenate([[0], np.flatnonzero(np.diff(ids)) + 1])
            group_ids = ids[starts]
            reduced = self.ufunc.reduceat(values, starts, axis=0)
            if self.open_id is not None and group_ids[0] == self.open_id:
                reduced[0] = self.ufunc(reduced[0], self.open_value)
            elif self.open_id is not None:
                group_ids = np.concatenate([[self.open_id], group_ids])
                reduced = np.concatenate([self.open_value[None, :], reduced])
        elif self.open_id is not None:
            group_ids = np.array([self.open_id], dtype=np.int64)
            reduced = self.open_value[None, :]
        else:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.width))
        complete = group_ids < next_id
        if complete[-1]:
            self.open_id, self.open_value = None, None
        else:
            self.open_id, self.open_value = int(group_ids[-1]), reduced[-1].copy()
        return group_ids[complete], reduced[complete]
