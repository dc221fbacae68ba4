"""Where the detector's CPU goes: shares of one replay's CPU time by stage, measured, so the
bench can say why a speed goal is missed with figures of this run rather than remembered ones.

Each stage is a set of the detector's own callables, timed with ``time.process_time`` while the
bench data runs through one detector; a stage's callables never call each other's, so nothing is
counted twice. What no stage owns (block statistics, buffers, window bookkeeping, episodes,
faults, glue) is ``other``. The timing wrappers add a few microseconds per call (a few hundred
calls per hour of signal), which the shares include.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

from twitchwatch.bench.core import BLOCK_S, blocks, make
from twitchwatch.core import detector as detector_module
from twitchwatch.core.classify import CompiledForest
from twitchwatch.core.context import ContextTracker
from twitchwatch.core.events import EventDetector
from twitchwatch.core.filters import AccelFilters, EmgFilters
from twitchwatch.core.run import run

#: stage -> the (owner, attribute) callables whose CPU it counts.
STAGES: dict[str, tuple[tuple[object, str], ...]] = {
    "filters": ((AccelFilters, "__call__"), (EmgFilters, "__call__")),
    "events": ((EventDetector, "process"),),
    "window_features": ((detector_module, "compute_features"),),
    "seizure_model_features": ((detector_module._Stream, "magnitude_features_at"),
                               (detector_module._Stream, "_add_osd_blocks"), (ContextTracker, "step")),
    "classifiers": ((CompiledForest, "predict_proba"),),
}


@contextlib.contextmanager
def _timed(spent: dict[str, float]) -> Iterator[None]:
    """Every callable of :data:`STAGES` wrapped to add its CPU seconds to ``spent[stage]``."""
    saved = []

    def wrap(stage: str, fn):
        def timed(*args, **kwargs):
            t = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[stage] += time.process_time() - t
        return timed

    try:
        for stage, targets in STAGES.items():
            spent[stage] = 0.0
            for owner, name in targets:
                fn = vars(owner)[name]
                saved.append((owner, name, fn))
                setattr(owner, name, wrap(stage, fn))
        yield
    finally:
        for owner, name, fn in reversed(saved):
            setattr(owner, name, fn)


def cpu_shares(info, accel, emg) -> dict[str, float]:
    """Fraction of the detector's CPU per stage of :data:`STAGES` and ``other``, on ``accel`` (n, 3)
    and ``emg`` (m, channels) in 60 s blocks through one fresh detector; the fractions sum to 1."""
    fa, fe = info.stream("accel").rate_hz, info.stream("emg").rate_hz
    chunks = list(blocks(accel, emg, fa, fe, BLOCK_S))
    det, _ = make(info)
    spent: dict[str, float] = {}
    with _timed(spent):
        t = time.process_time()
        run(det, chunks)
        total = time.process_time() - t
    shares = {stage: round(s / total, 3) for stage, s in spent.items()}
    shares["other"] = round(max(0.0, 1.0 - sum(shares.values())), 3)
    return shares
