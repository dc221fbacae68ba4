"""Filter design and the SOS filter kernel, without importing ``scipy.signal`` on a warm start.

``import scipy.signal`` costs ~0.7 s of CPU (it pulls in ``scipy.stats``, ``scipy.linalg`` and
more), more than the whole start-up budget of ``twitchwatch replay`` (issue 10: the first sample
within 0.5 s of an empty Python). The detector needs from it only

- a few designs per stream rate (Butterworth SOS, IIR notches, ``sosfilt_zi``): these are pure
  functions of their arguments and scipy's version, so their results are memoised in memory and in
  the disk cache (:mod:`twitchwatch.cache`); a warm start reads the same float64 values back;
- the compiled kernel behind ``sosfilt`` (``scipy.signal._sosfilt._sosfilt``): a Cython
  extension that only needs numpy, loaded here from its file without running the package's
  ``__init__``. Same kernel, same arithmetic, bit-for-bit the same output (tested).

A cold start (empty cache) calls scipy exactly as before. Anything unusual (another scipy layout,
a read-only home) falls back to the public ``scipy.signal`` functions.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path

import numpy as np

from twitchwatch import cache

_memo: dict[str, np.ndarray] = {}
_kernel = None


def _scipy_version() -> str:
    import scipy  # the top-level package alone is cheap (~10 ms); scipy.signal is not

    return scipy.__version__


def _designed(key: str, compute) -> np.ndarray:
    """Memoised (memory, then disk) float64 design result for ``key``; a fresh copy each call."""
    full = f"{key}|scipy {_scipy_version()}"
    hit = _memo.get(full)
    if hit is None:
        hit = cache.cached("design", full, lambda: {"a": np.asarray(compute(), dtype=np.float64)})["a"]
        hit.setflags(write=False)
        _memo[full] = hit
    return hit.copy()


def butter_sos(order: int, cutoff_hz, btype: str, fs_hz: float) -> np.ndarray:
    """``scipy.signal.butter(order, cutoff_hz, btype=btype, fs=fs_hz, output="sos")``, memoised.

    ``cutoff_hz`` is one frequency (low/high-pass) or a (low, high) pair (band-pass), Hz.
    """
    cut = [float(c) for c in cutoff_hz] if np.ndim(cutoff_hz) else float(cutoff_hz)
    key = f"butter|{int(order)}|{cut!r}|{btype}|{float(fs_hz)!r}"

    def compute():
        from scipy import signal

        return signal.butter(int(order), cut, btype=btype, fs=float(fs_hz), output="sos")

    return _designed(key, compute)


def notch_sos(f0_hz: float, q: float, fs_hz: float) -> np.ndarray:
    """``scipy.signal.tf2sos(*scipy.signal.iirnotch(f0_hz, q, fs=fs_hz))``, memoised; shape (1, 6)."""
    key = f"notch|{float(f0_hz)!r}|{float(q)!r}|{float(fs_hz)!r}"

    def compute():
        from scipy import signal

        return signal.tf2sos(*signal.iirnotch(float(f0_hz), float(q), fs=float(fs_hz)))

    return _designed(key, compute)


def sosfilt_zi(sos: np.ndarray) -> np.ndarray:
    """``scipy.signal.sosfilt_zi(sos)``, memoised by the coefficients' exact bytes; (sections, 2)."""
    sos = np.ascontiguousarray(sos, dtype=np.float64)
    key = f"sosfilt_zi|{sos.shape}|{sos.tobytes().hex()}"

    def compute():
        from scipy import signal

        return signal.sosfilt_zi(sos)

    return _designed(key, compute)


def sosfilt_kernel():
    """scipy's compiled ``_sosfilt(sos, x, zi)`` (filters ``x`` (channels, n) in place, updating
    ``zi`` (channels, sections, 2)), or None when it cannot be found (use ``scipy.signal.sosfilt``)."""
    global _kernel
    if _kernel is not None:
        return _kernel
    loaded = sys.modules.get("scipy.signal._sosfilt")
    if loaded is None:
        try:
            import scipy

            folder = Path(scipy.__file__).parent / "signal"
            files = [f for f in folder.iterdir() if f.name.startswith("_sosfilt.")
                     and any(f.name.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES)]
            spec = importlib.util.spec_from_file_location("scipy.signal._sosfilt", files[0])
            loaded = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(loaded)
        except Exception:  # another layout: the regular import (slow, but the same kernel)  # noqa: BLE001
            try:
                from scipy.signal import _sosfilt as loaded
            except ImportError:  # pragma: no cover
                return None
    _kernel = getattr(loaded, "_sosfilt", None)
    return _kernel


def sosfilt(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.sosfilt(sos, x, axis=0, zi=zi)`` for float64 ``x`` (n, channels) and ``zi``
    (sections, 2, channels): the same kernel and arithmetic; returns (y (n, channels), zf)."""
    kernel = sosfilt_kernel()
    if kernel is None:  # pragma: no cover
        from scipy import signal

        return signal.sosfilt(sos, x, axis=0, zi=zi)
    y = np.array(np.asarray(x).T, dtype=np.float64, order="C")
    z = np.ascontiguousarray(np.transpose(zi, (2, 0, 1)), dtype=np.float64)
    kernel(np.ascontiguousarray(sos, dtype=np.float64), y, z)
    return y.T, np.transpose(z, (1, 2, 0))
