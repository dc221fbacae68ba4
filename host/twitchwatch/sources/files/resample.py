"""Upsampling a low-rate file for a detector that needs a higher accelerometer rate.

Not used by the readers (they give each file's own rate); offered to the evaluation (and to any
command that wants to run the detector on, say, 10 Hz UEA BasicMotions). Each gap-free segment is
resampled on its own with a polyphase FIR (``scipy.signal.resample_poly``, Kaiser window, beta 5)
by the smallest rational factor that reaches ``min_rate_hz``: it adds nothing above the recording's
own Nyquist frequency.
"""

from __future__ import annotations

import math
from dataclasses import replace
from fractions import Fraction

import numpy as np

from twitchwatch.errors import ConfigError

from .base import ArraySource, FileSourceBase, Segment

KAISER_BETA = 5.0


def upsample_accel(source: FileSourceBase, min_rate_hz: float) -> FileSourceBase:
    """``source`` with its accelerometer at >= ``min_rate_hz`` (itself when already fast enough).

    Parameters
    ----------
    source : an in-memory file source (the public-dataset readers' :class:`ArraySource`)
    min_rate_hz : the lowest accelerometer rate wanted, Hz

    Returns
    -------
    FileSourceBase whose accel stream (and every accel segment) has rate ``rate * up / down`` >= min_rate_hz
    """
    accel = source.device_info.stream("accel")
    if accel is None or accel.rate_hz >= min_rate_hz:
        return source
    if not isinstance(source, ArraySource):
        raise ConfigError(f"{source.path}: only in-memory sources can be upsampled")
    frac = Fraction(min_rate_hz / accel.rate_hz).limit_denominator(100)
    if frac * accel.rate_hz < min_rate_hz - 1e-9:
        frac = Fraction(math.ceil(min_rate_hz / accel.rate_hz))
    new_rate = accel.rate_hz * frac.numerator / frac.denominator
    segments = []
    for seg in source.segments:
        if seg.stream != "accel":
            segments.append(seg)
            continue
        from scipy import signal  # here, not at import: scipy.signal costs ~0.7 s of start-up

        y = signal.resample_poly(seg.samples, frac.numerator, frac.denominator, axis=0, window=("kaiser", KAISER_BETA))
        segments.append(Segment("accel", seg.t0_s, new_rate, np.ascontiguousarray(y)))
    streams = tuple(replace(s, rate_hz=new_rate) if s.kind == "accel" else s for s in source.device_info.streams)
    info = replace(source.device_info, streams=streams)
    return ArraySource(source.path, source.format, info, segments, source.annotations, source.faults, source.cases())
