"""The compiled kernels of the core (:mod:`twitchwatch.core._kernels`, C), or None without them.

``pip install -e .`` / a wheel build compiles ``core/_kernels.c`` (setuptools ``ext-modules`` in
``pyproject.toml``; gcc and the Python headers come with ``scripts/setup.sh``). Each kernel is the
inner loop of a numpy/scipy reference that stays next to its caller as the documented fallback:

- ``sos_filter``: :class:`~twitchwatch.core.filters.StreamingSOS` (fallback: scipy's ``_sosfilt``);
- ``forest_values``: :class:`~twitchwatch.core.classify.CompiledForest` (fallback: the numpy walk);
- ``hysteresis``: :func:`twitchwatch.core.events.hysteresis` (fallback: the numpy state).

Both paths give bit-for-bit the same outputs (``tests/host/core/test_kernels.py`` compares them on
random and real input; the replay digests pass on both). The extension is optional: when it was not
built, or when ``TWITCHWATCH_NO_KERNELS=1`` is set (to measure or test the fallback), :data:`KERNELS`
is None and every caller runs its reference. Loading it costs well under a millisecond (no numpy
C API, no scipy), so the start-up of ``twitchwatch replay`` is unchanged.
"""

from __future__ import annotations

import os

KERNELS = None
if os.environ.get("TWITCHWATCH_NO_KERNELS", "") in ("", "0"):
    try:
        from twitchwatch.core import _kernels as KERNELS  # noqa: N812
    except ImportError:  # not built (an sdist without a compiler, a plain checkout): the references
        KERNELS = None
