"""Per-block reductions on the detector's fixed time grid.

The grid is made of hop blocks ``[j * hop_s, (j + 1) * hop_s)`` on the device clock. A block's
reduction is final once a sample of a later block has been seen (or the caller says the stream
ended), so the results do not depend on how the samples were chunked.
"""

from __future__ import annotations

import numpy as np


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
