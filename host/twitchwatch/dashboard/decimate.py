"""Server-side decimation for the charts: the browser never receives raw 1 kHz samples.

Every trace is sent as min/max (and, for EMG, mean-square) per *bucket* of consecutive samples.
A bucket holds ``round(rate / target_hz)`` samples, so 1000 Hz EMG becomes 50 buckets/s and
208 Hz accelerometer 52 buckets/s at the live target of 50 Hz. A min/max pair per bucket is
what a chart needs to draw every spike it could show at that resolution.
"""

from __future__ import annotations

import math

import numpy as np


def bucket_size(rate_hz: float, target_hz: float) -> int:
    """Samples per bucket to bring ``rate_hz`` down to about ``target_hz`` (at least 1)."""
    return max(1, int(round(rate_hz / target_hz)))


def minmax(x: np.ndarray, n_buckets: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of ``x`` (shape (n,) or (n, c)) over ``n_buckets`` near-equal slices.

    Returns arrays of shape (n_buckets,) or (n_buckets, c). Used for snapshots (review signal,
    report thumbnails) where the whole array is at hand.
    """
    n = x.shape[0]
    n_buckets = max(1, min(n_buckets, n))
    edges = np.linspace(0, n, n_buckets + 1).astype(np.int64)
    starts = edges[:-1]
    return np.minimum.reduceat(x, starts, axis=0), np.maximum.reduceat(x, starts, axis=0)


class StreamingBuckets:
    """Cut a stream into fixed-size buckets across chunk boundaries (vectorized per chunk).

    ``push(t0_s, samples)`` returns ``(t_first_s, dt_s, full_buckets)`` where ``full_buckets`` has
    shape (nb, size, c) or None, and keeps the incomplete tail for the next call. A chunk that
    does not continue the previous one (a gap of more than one bucket) drops the tail and starts
    afresh, so the browser draws a break instead of a lie.
    """

    def __init__(self, rate_hz: float, size: int, channels: int):
        self.rate_hz = float(rate_hz)
        self.size = int(size)
        self.channels = int(channels)
        self.dt_s = self.size / self.rate_hz
        self._tail = np.empty((0, channels))
        self._tail_t0 = math.nan

    def push(self, t0_s: float, samples: np.ndarray) -> tuple[float, float, np.ndarray | None]:
        samples = np.asarray(samples, dtype=np.float64).reshape(-1, self.channels)
        expected = self._tail_t0 + self._tail.shape[0] / self.rate_hz
        if self._tail.shape[0] and abs(t0_s - expected) <= self.dt_s:
            data = np.concatenate([self._tail, samples])
            t_first = self._tail_t0
        else:
            data = samples
            t_first = float(t0_s)
        nb = data.shape[0] // self.size
        used = nb * self.size
        self._tail = data[used:].copy()
        self._tail_t0 = t_first + used / self.rate_hz
        if nb == 0:
            return t_first, self.dt_s, None
        return t_first, self.dt_s, data[:used].reshape(nb, self.size, self.channels)
