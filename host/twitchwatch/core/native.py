"""The compiled kernels of the core (:mod:`twitchwatch.core._kernels`, C), or None without them.

``pip install -e .`` / a wheel build compiles ``core/_kernels.c`` (setuptools ``ext-modules`` in
``pyproject.toml``; gcc and the Python headers come with ``scripts/setup.sh``). Each kernel is the
inner loop of a numpy/scipy reference that stays next to its caller as the documented fallback:

- ``sos_filter``: :class:`~twitchwatch.core.filters.StreamingSOS` (fallback: scipy's ``_sosfilt``);
- ``forest_values``: :class:`~twitchwatch.core.classify.CompiledForest` (fallback: the numpy walk);
- ``hysteresis``, ``log_block_sums``: :mod:`twitchwatch.core.events` (fallback: numpy);
- ``rows_within``, ``sample_stats``: :mod:`twitchwatch.core.blocks` (fallback: numpy);
- ``middle_sum``: :func:`middle_sum` here (fallback: ``x.sum(axis=1)``).

Both paths give bit-for-bit the same outputs (``tests/host/core/test_kernels.py`` compares them on
random and real input; the replay digests pass on both). The extension is optional: when it was not
built, or when ``TWITCHWATCH_NO_KERNELS=1`` is set (to measure or test the fallback), :data:`KERNELS`
is None and every caller runs its reference. Loading it costs well under a millisecond (no numpy
C API, no scipy), so the start-up of ``twitchwatch replay`` is unchanged.
"""

from __future__ import annotations

import os

import numpy as np

KERNELS = None
if os.environ.get("TWITCHWATCH_NO_KERNELS", "") in ("", "0"):
    try:
        from twitchwatch.core import _kernels as KERNELS  # noqa: N812
    except ImportError:  # not built (an sdist without a compiler, a plain checkout): the references
        KERNELS = None


def middle_sum(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=1)`` of (w, n, c) -> (w, c), bit-for-bit.

    numpy's order of additions depends on the layout: over a C-ordered (w, n, c) array with c >= 2
    (the windows of a large batch, see ``detector._Stream.take``; the forest's (rows, iterations,
    classes) leaf values) it adds rows of c values in order from +0, slowly (~3.6 ns a value); the
    compiled ``middle_sum`` runs the same additions. Any other layout (e.g. window-major, where
    numpy sums each contiguous run pairwise, and fast), c < 2, or no kernel: numpy itself.
    """
    w, n, c = x.shape
    if KERNELS is None or c < 2 or not x.flags.c_contiguous or x.dtype != np.float64:
        return x.sum(axis=1)
    out = np.empty((w, c))
    KERNELS.middle_sum(x, out, w, n, c)
    return out
