"""Waveform shapes, all vectorized over samples (and events): u is the time within an event
normalised to [0, 1] unless said otherwise. Pure functions, no state."""

from __future__ import annotations

import numpy as np


def trapezoid(u: np.ndarray, rise: np.ndarray | float) -> np.ndarray:
    """Plateau of 1 with raised-cosine edges of ``rise`` (fraction of the event, 0 < rise <= 0.5).

    ``rise = 0.5`` gives the Hann bump ``(1 - cos 2 pi u) / 2``. Zero outside [0, 1].
    """
    rise = np.maximum(np.asarray(rise, dtype=float), 1e-6)
    edge = np.clip(np.minimum(u, 1.0 - u) / rise, 0.0, 1.0)  # 0 at either end, 1 on the plateau
    return 0.5 * (1.0 - np.cos(np.pi * edge))


def one_cycle(u: np.ndarray) -> np.ndarray:
    """``sin(2 pi u)`` on [0, 1] (accelerate, then brake: zero net velocity change), 0 outside."""
    return np.where((u >= 0.0) & (u <= 1.0), np.sin(2.0 * np.pi * u), 0.0)


def damped_sine(tau_s: np.ndarray, freq_hz: np.ndarray, decay_s: np.ndarray) -> np.ndarray:
    """Impact ringing ``sin(2 pi f t) exp(-t / decay)`` for t >= 0, scaled to a peak of 1.

    Parameters
    ----------
    tau_s : time since the impact, s; freq_hz : ringing frequency, Hz; decay_s : time constant, s
    """
    w = 2.0 * np.pi * freq_hz
    t_peak = np.arctan(w * decay_s) / w
    norm = np.sin(w * t_peak) * np.exp(-t_peak / decay_s)
    out = np.sin(w * tau_s) * np.exp(-tau_s / decay_s) / norm
    return np.where(tau_s >= 0.0, out, 0.0)


def muap(u: np.ndarray, kind: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Surface motor-unit action potential over [0, 1], peak-to-peak ~1.

    Parameters
    ----------
    u : (m,) normalised time within the potential
    kind : (m,) int: 0 biphasic (Gaussian derivative), 1 triphasic (Mexican hat),
        2 polyphasic (three or four alternating Gaussian phases)
    p : (m, 4) random shape parameters in [0, 1) that vary centre, widths and phase weights
    """
    x = (u - (0.45 + 0.1 * p[:, 0])) * 8.0  # +-4 "sigmas" over the event
    bi = -x * np.exp(-0.5 * x * x) / 1.2131  # ptp of -x e^{-x^2/2} is 2 e^{-1/2} = 1.2131
    tri = (1.0 - x * x) * np.exp(-0.5 * x * x) / 1.4463  # ptp 1 + 2 e^{-3/2}
    # polyphasic: phases at 0.25, 0.45, 0.65, 0.8 with alternating signs, varied weights
    poly = np.zeros_like(u)
    for j, (c, s) in enumerate(((0.25, 1.0), (0.42, -1.0), (0.6, 1.0), (0.78, -1.0))):
        wj = 0.45 + 0.55 * p[:, (j + 1) % 4] if j < 3 else 0.6 * p[:, 3]
        poly = poly + s * wj * np.exp(-0.5 * ((u - c - 0.05 * (p[:, j] - 0.5)) / 0.06) ** 2)
    poly = poly / 1.6
    out = np.where(kind == 0, bi, np.where(kind == 1, tri, poly))
    return np.where((u >= 0.0) & (u <= 1.0), out, 0.0)


TEMPLATE_POINTS = 2048
_TEMPLATE_GRID = np.linspace(0.0, 1.0, TEMPLATE_POINTS + 1)


def fourier_template(keys_p: list[float], keys_v: list[float], harmonics: int = 6) -> np.ndarray:
    """Smooth periodic template through (phase, value) key points, as a table over one period.

    The key points are linearly interpolated on a periodic grid and low-passed to ``harmonics``
    harmonics, so the template and its first two derivatives are continuous. Returns the template
    at ``TEMPLATE_POINTS + 1`` phases from 0 to 1 (for :func:`eval_template`).
    """
    grid = np.arange(512) / 512.0
    kp = np.concatenate([np.asarray(keys_p) - 1.0, keys_p, np.asarray(keys_p) + 1.0])
    kv = np.concatenate([keys_v, keys_v, keys_v])
    spec = np.fft.rfft(np.interp(grid, kp, kv)) / 256.0
    h = np.arange(1, harmonics + 1)[:, None]
    ang = 2 * np.pi * h * _TEMPLATE_GRID
    return spec[0].real / 2.0 + (spec[1 : harmonics + 1, None].real * np.cos(ang) - spec[1 : harmonics + 1, None].imag * np.sin(ang)).sum(0)


def eval_template(table: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Evaluate a :func:`fourier_template` table at stride phases ``p`` in [0, 1] (any shape).

    Linear interpolation in the 2049-point table is exact to ~1e-5 of the template's range.
    """
    return np.interp(p, _TEMPLATE_GRID, table)


def antialias_gain(freq_hz: float | np.ndarray, rate_hz: float) -> np.ndarray | float:
    """Gain of a sensor's internal low-pass (8th-order Butterworth magnitude at 0.4 x rate).

    MEMS accelerometers filter at about half their output rate; without this a 15 Hz tremor
    sampled at 16 Hz would alias to 1 Hz at full amplitude.
    """
    fc = 0.4 * rate_hz
    return 1.0 / np.sqrt(1.0 + (np.asarray(freq_hz, dtype=float) / fc) ** 16)


def ragged_indices(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flatten index ranges [starts[i], stops[i]) into (event index, sample index) arrays."""
    lengths = np.maximum(stops - starts, 0).astype(np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ev = np.repeat(np.arange(len(starts)), lengths)
    first = np.cumsum(lengths) - lengths
    offs = np.arange(total) - np.repeat(first, lengths)
    return ev, starts[ev].astype(np.int64) + offs
