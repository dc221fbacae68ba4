"""Streaming filters: Butterworth second-order sections with carried state.

Every filter is designed from the stream's own rate; band edges above ``nyquist_fraction`` of the
Nyquist frequency are clipped to it. Filtering a signal in pieces gives bit-for-bit the same output
as filtering it whole (``scipy.signal.sosfilt`` with the carried ``zi``), which is what makes the
detector independent of how its input is chunked. No ``filtfilt``: nothing here looks ahead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twitchwatch.core import design, native
from twitchwatch.core.config import DetectorConfig
from twitchwatch.errors import ConfigError

_EMPTY_SOS = np.zeros((0, 6))


def clip_band(band_hz: tuple[float, float], rate_hz: float, nyquist_fraction: float, what: str) -> tuple[float, float]:
    """Clip a band's upper edge below Nyquist.

    Returns
    -------
    (low_hz, high_hz) : the usable band, Hz.

    Raises
    ------
    ConfigError : when nothing of the band is left at this rate.
    """
    low, high = float(band_hz[0]), float(band_hz[1])
    high = min(high, nyquist_fraction * rate_hz / 2.0)
    if not 0.0 < low < high:
        raise ConfigError(
            f"{what}: band {band_hz[0]:g}-{band_hz[1]:g} Hz is not usable at {rate_hz:g} Hz sampling"
        )
    return low, high


def design_bandpass(band_hz, rate_hz: float, order: int, nyquist_fraction: float, what: str) -> np.ndarray:
    """Butterworth band-pass as SOS, shape (order, 6)."""
    low, high = clip_band(band_hz, rate_hz, nyquist_fraction, what)
    return design.butter_sos(order, [low, high], "bandpass", rate_hz)


def design_lowpass(cutoff_hz: float, rate_hz: float, order: int, nyquist_fraction: float) -> np.ndarray:
    """Butterworth low-pass as SOS; the cut-off is clipped below Nyquist."""
    cutoff = min(float(cutoff_hz), nyquist_fraction * rate_hz / 2.0)
    return design.butter_sos(order, cutoff, "lowpass", rate_hz)


def design_notches(mains_hz, rate_hz: float, q: float, nyquist_fraction: float) -> np.ndarray:
    """IIR notches at each mains frequency below the usable Nyquist; shape (k, 6), k may be 0."""
    rows = [
        design.notch_sos(f, q, rate_hz)
        for f in mains_hz
        if f < nyquist_fraction * rate_hz / 2.0
    ]
    return np.concatenate(rows) if rows else _EMPTY_SOS


class StreamingSOS:
    """One SOS cascade applied along axis 0 of (n, channels) blocks, state carried between calls.

    The state starts as the steady state for the first sample (``sosfilt_zi`` scaled by it), so a
    stream that starts at 1 g does not ring as if a 1 g step had arrived.
    """

    def __init__(self, sos: np.ndarray, channels: int):
        self.sos = np.ascontiguousarray(sos, dtype=float)
        self.channels = int(channels)
        self.zi: np.ndarray | None = None

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Filter ``x`` (n, channels) and return the same shape, float64.

        With the compiled kernel (:mod:`twitchwatch.core.native`) the output is C-ordered and no
        transposed copies are made; without it, scipy's ``_sosfilt`` filters a transposed copy. Both
        run the same statements per sample and section: the values are bit-for-bit equal.
        """
        if self.sos.shape[0] == 0 or x.shape[0] == 0:
            return np.array(x, dtype=float, copy=True)
        if self.zi is None:
            zi = design.sosfilt_zi(self.sos)[:, :, None] * x[0][None, None, :]  # (sections, 2, channels)
            self.zi = np.ascontiguousarray(np.transpose(zi, (2, 0, 1)))  # (channels, sections, 2)
        k = native.KERNELS
        if k is not None and x.shape[1] == self.zi.shape[0]:
            x = np.ascontiguousarray(x, dtype=np.float64)
            y = np.empty_like(x)
            k.sos_filter(self.sos, x, y, self.zi, x.shape[0], x.shape[1], self.sos.shape[0])
            return y
        kernel = design.sosfilt_kernel()  # the compiled kernel behind sosfilt: same arithmetic, without
        if kernel is None:  # ~40 us of argument checking a call
            y, zi = design.sosfilt(self.sos, x, np.transpose(self.zi, (1, 2, 0)))
            self.zi = np.ascontiguousarray(np.transpose(zi, (2, 0, 1)))
            return y
        y = np.array(x.T, dtype=np.float64, order="C")  # (channels, n), filtered in place
        kernel(self.sos, y, self.zi)
        return y.T


class Decimator:
    """Keeps every ``factor``-th sample counted from the stream's first sample (chunk-independent)."""

    def __init__(self, factor: int):
        self.factor = int(factor)

    def offset(self, first_index: int) -> int:
        """Position in a block starting at global sample ``first_index`` of its first kept sample."""
        return (-first_index) % self.factor

    def __call__(self, x: np.ndarray, first_index: int) -> np.ndarray:
        return x[self.offset(first_index) :: self.factor]


def decimation_factor(rate_hz: float, feature_rate_hz: float) -> int:
    """Largest integer factor that keeps the rate at or above ``feature_rate_hz`` (>= 1)."""
    return max(1, int(np.floor(rate_hz / feature_rate_hz)))


@dataclass(frozen=True)
class AccelSignals:
    """Filtered accelerometer block at the native rate.

    gravity : (n, c) g, low-passed raw signal (posture; for a magnitude stream: ~1 g)
    move : (n, c) g, movement band
    event_env : (n,) g, envelope of the twitch band (norm over axes), for event timing
    feature_env : (n,) g, the same envelope smoothed for window features
    """

    gravity: np.ndarray
    move: np.ndarray
    event_env: np.ndarray
    feature_env: np.ndarray


@dataclass(frozen=True)
class EmgSignals:
    """Filtered EMG block at the native rate.

    band : (n, k) uV, band-passed and notched
    event_env : (n, k) uV, rectified and low-passed, for event timing
    feature_env : (n, k) uV, smoother envelope for window features
    zero_crossings : (n, k) bool, sign change of ``band`` at this sample
    """

    band: np.ndarray
    event_env: np.ndarray
    feature_env: np.ndarray
    zero_crossings: np.ndarray


class AccelFilters:
    """Gravity, movement band and twitch-band envelope of a 3-axis or 1-channel (magnitude) stream."""

    def __init__(self, rate_hz: float, channels: int, config: DetectorConfig):
        if rate_hz < config.min_accel_rate_hz:
            raise ConfigError(
                f"accelerometer at {rate_hz:g} Hz: the detector needs >= {config.min_accel_rate_hz:g} Hz "
                f"(resample the file up to {config.min_accel_rate_hz:g} Hz or more first)"
            )
        if channels not in (1, 3):
            raise ConfigError(f"accelerometer with {channels} channels: expected 3 axes or 1 magnitude channel")
        c, o, nf = config, config.filter_order, config.nyquist_fraction
        self.channels = channels
        self.gravity = StreamingSOS(design_lowpass(c.gravity_lowpass_hz, rate_hz, o, nf), channels)
        self.move = StreamingSOS(design_bandpass(c.accel_move_band_hz, rate_hz, o, nf, "accel movement band"), channels)
        self.twitch = StreamingSOS(design_bandpass(c.accel_twitch_band_hz, rate_hz, o, nf, "accel twitch band"), channels)
        self.event_env = StreamingSOS(design_lowpass(c.accel_event_env_lowpass_hz, rate_hz, o, nf), 1)
        self.feature_env = StreamingSOS(design_lowpass(c.feature_env_lowpass_hz, rate_hz, o, nf), 1)

    def __call__(self, raw: np.ndarray) -> AccelSignals:
        """Filter a block of raw samples ``raw`` (n, channels) in g.

        Once every filter has its state (after the first block), the compiled ``accel_chain`` runs
        the five filters and the norm in one pass over the samples: each filter's own statements
        and state, so the same values as :meth:`_one_by_one`, the reference and fallback.
        """
        k = native.KERNELS
        chain = (self.twitch, self.gravity, self.move, self.event_env, self.feature_env)
        if k is None or not raw.shape[0] or raw.shape[1] != self.channels or any(f.zi is None for f in chain):
            return self._one_by_one(raw)
        x = np.ascontiguousarray(raw, dtype=np.float64)
        n = x.shape[0]
        gravity, move, ev, fe = np.empty_like(x), np.empty_like(x), np.empty(n), np.empty(n)
        k.accel_chain(x, *(a for f in chain for a in (f.sos, f.zi)), gravity, move, ev, fe, n, self.channels,
                      *(f.sos.shape[0] for f in chain))
        return AccelSignals(gravity, move, ev, fe)

    def _one_by_one(self, raw: np.ndarray) -> AccelSignals:
        """:meth:`__call__` one filter after another (the first block: it sets each filter's state)."""
        twitch = self.twitch(raw)
        if self.channels == 1:
            rect = np.abs(twitch)
        else:  # the norm over the axes, summed in axis order whatever the memory layout (einsum's
            sq = twitch * twitch  # sum depends on it)
            rect = np.sqrt(sq[:, 0] + sq[:, 1] + sq[:, 2])[:, None]
        ev = self.event_env(rect)
        fe = self.feature_env(ev)
        return AccelSignals(self.gravity(raw), self.move(raw), ev[:, 0], fe[:, 0])


class EmgFilters:
    """Band-pass + mains notches, rectified envelopes and zero crossings of a 1-2 channel EMG stream."""

    def __init__(self, rate_hz: float, channels: int, config: DetectorConfig):
        if rate_hz < config.min_emg_rate_hz:
            raise ConfigError(
                f"EMG at {rate_hz:g} Hz: the detector needs >= {config.min_emg_rate_hz:g} Hz for surface EMG"
            )
        if channels < 1:
            raise ConfigError("EMG stream with no channels")
        c, o, nf = config, config.filter_order, config.nyquist_fraction
        sos = np.concatenate(
            [
                design_bandpass(c.emg_band_hz, rate_hz, o, nf, "EMG band"),
                design_notches(c.mains_hz, rate_hz, c.notch_q, nf),
            ]
        )
        self.band = StreamingSOS(sos, channels)
        self.event_env = StreamingSOS(design_lowpass(c.emg_event_env_lowpass_hz, rate_hz, o, nf), channels)
        self.feature_env = StreamingSOS(design_lowpass(c.feature_env_lowpass_hz, rate_hz, o, nf), channels)
        self._last_sign: np.ndarray | None = None

    def __call__(self, raw: np.ndarray) -> EmgSignals:
        """Filter a block of raw samples ``raw`` (n, channels) in uV.

        Once every filter has its state (after the first block), the compiled ``emg_chain`` runs the
        three filters and the zero crossings in one pass: each filter's own statements and state,
        so the same values as :meth:`_one_by_one`, the reference and fallback.
        """
        k = native.KERNELS
        chain = (self.band, self.event_env, self.feature_env)
        if (k is None or not raw.shape[0] or self._last_sign is None or any(f.zi is None for f in chain)
                or raw.shape[1] != self._last_sign.shape[0]):
            return self._one_by_one(raw)
        x = np.ascontiguousarray(raw, dtype=np.float64)
        n, ch = x.shape
        band, ev, fe, zc = np.empty_like(x), np.empty_like(x), np.empty_like(x), np.empty(x.shape, dtype=bool)
        k.emg_chain(x, *(a for f in chain for a in (f.sos, f.zi)), self._last_sign, band, ev, fe, zc, n, ch,
                    *(f.sos.shape[0] for f in chain))
        return EmgSignals(band, ev, fe, zc)

    def _one_by_one(self, raw: np.ndarray) -> EmgSignals:
        """:meth:`__call__` one filter after another (the first block: it sets each filter's state)."""
        band = self.band(raw)
        ev = self.event_env(np.abs(band))
        fe = self.feature_env(ev)
        sign = band >= 0.0
        previous = sign[:1] if self._last_sign is None else self._last_sign[None, :]
        zc = sign != np.concatenate([previous, sign[:-1]]) if sign.shape[0] else sign
        if sign.shape[0]:
            self._last_sign = sign[-1].copy()
        return EmgSignals(band, ev, fe, zc)
