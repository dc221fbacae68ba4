"""OpenSeizureDetector's (OSD's) accelerometer test, streaming: one implementation for two uses.

The detector uses it as one input among others (its decision and powers are features of every
window, and a safety net for the wrist), and the real-data evaluation runs it on its own as the
baseline it compares with (:mod:`twitchwatch.evaluation.osd_baseline`).

Implemented from OSD's published description (OpenSeizureDetector project, Graham Jones et al.;
summarised in ../shared/PHYSIOLOGY.md):

- acceleration magnitude in milli-g at 25 Hz; every 5 s a window ("block") of 125 samples;
- unnormalised real FFT, power per bin = re^2 + im^2 (bin width 25 / 125 = 0.2 Hz);
- whole-spectrum power = sum of bins 1..60 (0.2-12 Hz) / 125 / 2; region-of-interest (ROI) power
  = sum of bins 15..39 (3 to < 8 Hz) / 25; both divided by 1000 and truncated to integers; where
  the truncated spectrum power is 0 the watch reports 1 (matched to the watches' stored values);
- a block is positive when ROI power > 100 and 10 * ROI / spectrum power > 57 (integer arithmetic).

Matching other recordings to what the watch sees:
- units: g -> milli-g (x 1000); 3-axis -> magnitude sqrt(x^2 + y^2 + z^2) computed AFTER resampling
  each axis, as the watch does; a 1-channel stream is taken to be the magnitude already;
- rate: 25 Hz input is used as is. Higher rates are low-pass filtered per axis (Butterworth, order
  8, 11 Hz, streaming SOS with carried state) and then linearly interpolated at 25 Hz; lower rates
  are linearly interpolated up to 25 Hz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twitchwatch.core import design
from twitchwatch.core.filters import StreamingSOS

MG_PER_G = 1000.0


@dataclass(frozen=True)
class OsdConfig:
    """OpenSeizureDetector's default settings (PHYSIOLOGY.md; the OSD app's defaults).

    Attributes
    ----------
    rate_hz : analysis rate, Hz (25)
    window_n : samples per analysis block (125 = 5 s)
    spec_bins : (first, last) FFT bins of the whole spectrum, inclusive (1..60 = 0.2-12 Hz)
    roi_bins : (first, last) FFT bins of the region of interest, inclusive (15..39 = 3-<8 Hz)
    alarm_thresh : ROI power threshold (100)
    alarm_ratio_thresh : 10 x ROI / spectrum threshold (57)
    warn_time_s, alarm_time_s : OSD's alarm count must exceed these (5 s, 10 s)
    antialias_order, antialias_hz : low-pass applied before downsampling to 25 Hz (8, 11 Hz)
    """

    rate_hz: float = 25.0
    window_n: int = 125
    spec_bins: tuple[int, int] = (1, 60)
    roi_bins: tuple[int, int] = (15, 39)
    alarm_thresh: int = 100
    alarm_ratio_thresh: int = 57
    warn_time_s: float = 5.0
    alarm_time_s: float = 10.0
    antialias_order: int = 8
    antialias_hz: float = 11.0

    @property
    def block_s(self) -> float:
        """Length of one analysis block, s (5)."""
        return self.window_n / self.rate_hz


def window_powers(mag_mg: np.ndarray, config: OsdConfig = OsdConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Spectrum and ROI power of each block, as the watch computes them.

    Parameters
    ----------
    mag_mg : array, shape (n_blocks, window_n): acceleration magnitude, milli-g, at 25 Hz

    Returns
    -------
    spec_power, roi_power : int64 arrays, shape (n_blocks,)
    """
    mag_mg = np.atleast_2d(np.asarray(mag_mg, dtype=np.float64))
    power = np.abs(np.fft.rfft(mag_mg, axis=1)) ** 2
    s0, s1 = config.spec_bins
    r0, r1 = config.roi_bins
    spec = np.floor(power[:, s0:s1 + 1].sum(axis=1) / config.window_n / 2 / 1000).astype(np.int64)
    roi = np.floor(power[:, r0:r1 + 1].sum(axis=1) / (r1 - r0 + 1) / 1000).astype(np.int64)
    return np.maximum(spec, 1), roi


def roi_ratio(spec_power: np.ndarray, roi_power: np.ndarray) -> np.ndarray:
    """10 x ROI / spectrum power, integer division (int64 array)."""
    return (10 * np.asarray(roi_power, np.int64)) // np.maximum(np.asarray(spec_power, np.int64), 1)


def positive_windows(spec_power: np.ndarray, roi_power: np.ndarray, config: OsdConfig = OsdConfig()) -> np.ndarray:
    """Boolean array: ROI power > alarm_thresh and 10 x ROI / spectrum > alarm_ratio_thresh."""
    return (np.asarray(roi_power) > config.alarm_thresh) & (roi_ratio(spec_power, roi_power) > config.alarm_ratio_thresh)


class _Resampler:
    """Streaming per-axis resampling of one gap-free run to the analysis rate (see module doc)."""

    def __init__(self, rate_in: float, channels: int, config: OsdConfig):
        self.rate_in = rate_in
        self.rate_out = config.rate_hz
        self.antialias = None
        if rate_in > self.rate_out:  # the watch's anti-aliasing low-pass, starting at rest (zero state)
            self.antialias = StreamingSOS(design.butter_sos(config.antialias_order, config.antialias_hz, "lowpass",
                                                            rate_in), channels)
            self.antialias.zi = np.zeros((channels, self.antialias.sos.shape[0], 2))
        self.n_in = 0          # input samples consumed so far
        self.n_out = 0         # output samples produced so far
        self.last = None       # last input sample (channels,), for interpolation across chunks

    def push(self, x: np.ndarray) -> np.ndarray:
        """Input samples (n, channels) -> the output samples (m, channels) now computable."""
        if self.rate_in == self.rate_out:
            self.n_in += x.shape[0]
            return x
        if x.shape[0] == 0:
            return np.empty((0, x.shape[1]))
        if self.antialias is not None:
            x = self.antialias(x)
        if self.last is None:
            idx0, xs = self.n_in, x
        else:
            idx0, xs = self.n_in - 1, np.vstack([self.last[None, :], x])
        self.n_in += x.shape[0]
        self.last = x[-1].copy()
        last_index = self.n_in - 1
        # outputs k with k / rate_out <= last_index / rate_in
        k_end = int(np.floor(last_index * self.rate_out / self.rate_in + 1e-9)) + 1
        if k_end <= self.n_out:
            return np.empty((0, x.shape[1]))
        k = np.arange(self.n_out, k_end)
        pos = k * self.rate_in / self.rate_out - idx0  # fractional index into xs
        self.n_out = k_end
        grid = np.arange(xs.shape[0])
        return np.stack([np.interp(pos, grid, xs[:, c]) for c in range(xs.shape[1])], axis=1)


@dataclass(frozen=True)
class OsdBlocks:
    """OSD's per-block results, each array shape (n_blocks,).

    end_s : end of each 5 s block on the stream's clock, s; spec, roi, ratio : the watch's integer
    powers and 10 x ROI / spectrum; positive : OSD's per-block test; peak_hz : frequency of the
    largest ROI bin, Hz. magnitude_g : the 25 Hz magnitude samples (g) this push produced, whether or
    not they completed a block (sample k of the run is at t0 + k / 25 s).
    """

    end_s: np.ndarray
    spec: np.ndarray
    roi: np.ndarray
    ratio: np.ndarray
    positive: np.ndarray
    peak_hz: np.ndarray
    magnitude_g: np.ndarray

    @property
    def count(self) -> int:
        return int(self.end_s.size)


class OsdStream:
    """OSD's block analysis of one gap-free run of an accelerometer stream (streaming).

    Parameters
    ----------
    rate_hz : input rate, Hz (any)
    channels : 3 (axes) or 1 (a magnitude)
    t0_s : time of the run's first sample, s
    config : :class:`OsdConfig`

    ``push(samples_g)`` returns the blocks completed by those samples; the output does not depend on
    how the run is cut into pushes.
    """

    def __init__(self, rate_hz: float, channels: int, t0_s: float, config: OsdConfig = OsdConfig()):
        self.config = config
        self.channels = int(channels)
        self.t0_s = float(t0_s)
        self._resampler = _Resampler(float(rate_hz), self.channels, config)
        self._buf = np.empty(0)
        self._done = 0  # blocks already returned

    def push(self, samples_g: np.ndarray) -> OsdBlocks:
        cfg = self.config
        y = self._resampler.push(np.asarray(samples_g, dtype=np.float64))
        mag = np.abs(y[:, 0]) if self.channels == 1 else np.sqrt((y * y).sum(axis=1))
        if y.shape[0]:
            self._buf = np.concatenate([self._buf, mag * MG_PER_G])
        n = self._buf.size // cfg.window_n
        used = n * cfg.window_n
        blocks = self._buf[:used].reshape(n, cfg.window_n)
        self._buf = self._buf[used:]
        spec, roi = window_powers(blocks, cfg)
        power = np.abs(np.fft.rfft(blocks, axis=1)) ** 2 if n else np.zeros((0, cfg.window_n // 2 + 1))
        r0, r1 = cfg.roi_bins
        peak_hz = (r0 + np.argmax(power[:, r0:r1 + 1], axis=1)) * cfg.rate_hz / cfg.window_n if n else np.zeros(0)
        end_s = self.t0_s + (self._done + 1 + np.arange(n)) * cfg.block_s
        self._done += n
        return OsdBlocks(end_s, spec, roi, roi_ratio(spec, roi), positive_windows(spec, roi, cfg), peak_hz, mag)
