"""Episodes and alerts: hysteresis state machines over the sequence of windows.

Rhythmic jerking: ``rj_on_windows`` consecutive windows open an episode and raise a ``warning``
(a window flagged ``instant`` opens it at once: OpenSeizureDetector's warning that the seizure model
let through already stands for 10 s of evidence; a window flagged ``sustain`` keeps an open one
open without opening one: OSD still warns there, the model's veto only decides whether to alert);
it becomes an ``alarm`` when it has lasted ``alarm_after_s`` or a window shows spread (whole-limb
movement); ``rj_off_windows`` consecutive other windows end it. Tremor and fasciculation clusters
become episodes the same way (``cluster_*`` counts) but never raise alerts. Device faults are
tracked per kind with their own hysteresis: an Alert (level "fault") when one starts, a Fault
record when it ends.

Episode times: ``start_s`` is the centre of the first window of the run (a window is 4 s long, its
centre is the best single guess of when the activity began), ``end_s`` the end of the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from twitchwatch.core.config import DetectorConfig
from twitchwatch.model import Alert, Episode, Fault

RHYTHMIC = "rhythmic_jerking"
CLUSTER_KINDS = ("tremor", "fasciculation")


@dataclass
class _Run:
    count: int = 0  # consecutive windows of the kind
    misses: int = 0  # consecutive other windows while an episode is open
    first_start: float = 0.0  # start_s of the first window of the current run
    first_end: float = 0.0
    open: bool = False
    start_s: float = 0.0
    last_end_s: float = 0.0
    n_windows: int = 0
    dominant: list = field(default_factory=list)
    level: str = ""


class EpisodeTracker:
    """Turns labelled windows into episodes and rhythmic-jerking alerts."""

    def __init__(self, config: DetectorConfig):
        self.c = config
        self.runs = {RHYTHMIC: _Run(), **{k: _Run() for k in CLUSTER_KINDS}}
        self.on = {RHYTHMIC: config.rj_on_windows, **{k: config.cluster_on_windows for k in CLUSTER_KINDS}}
        self.off = {RHYTHMIC: config.rj_off_windows, **{k: config.cluster_off_windows for k in CLUSTER_KINDS}}

    def step(self, labels: list[str], starts: np.ndarray, ends: np.ndarray, dominant_hz: np.ndarray,
             spread: np.ndarray, reasons: list[tuple], instant: np.ndarray | None = None,
             sustain: np.ndarray | None = None) -> tuple[list[Episode], list[Alert]]:
        """Feed windows in time order (labels "" for a window that could not be labelled); ``instant``
        (bool per window) marks rhythmic-jerking windows that open an episode without waiting for
        ``rj_on_windows``; ``sustain`` (bool per window) marks other windows that keep an open
        rhythmic-jerking episode open."""
        episodes: list[tuple[int, int, Episode]] = []
        alerts: list[Alert] = []
        for order, (kind, run) in enumerate(self.runs.items()):
            hits = [lab == kind for lab in labels]
            if not run.open and run.count == 0 and not any(hits):
                continue
            for i, hit in enumerate(hits):
                closed: list[Episode] = []
                now = hit and kind == RHYTHMIC and instant is not None and bool(instant[i])
                if not hit and kind == RHYTHMIC and run.open and sustain is not None and bool(sustain[i]):
                    hit = True
                self._advance(kind, run, hit, float(starts[i]), float(ends[i]), float(dominant_hz[i]),
                              bool(spread[i]), reasons[i], closed, alerts, now)
                episodes.extend((i, order, ep) for ep in closed)
        episodes.sort(key=lambda item: (item[0], item[1]))
        return [ep for _, _, ep in episodes], alerts

    def _advance(self, kind, run, hit, start, end, dom, spread, reasons, episodes, alerts, now=False) -> None:
        if hit:
            if run.count == 0:
                run.first_start, run.first_end = start, end
            run.count += 1
            run.misses = 0
            if run.open:
                run.last_end_s, run.n_windows = end, run.n_windows + 1
                run.dominant.append(dom)
            elif run.count >= self.on[kind] or now:
                run.open, run.start_s = True, (run.first_start + run.first_end) / 2.0
                run.last_end_s, run.n_windows, run.dominant = end, run.count, [dom]
                if kind == RHYTHMIC:
                    run.level = "warning"
                    alerts.append(Alert("warning", kind, end, run.start_s, reasons))
            if kind == RHYTHMIC and run.open and run.level == "warning":
                if end - run.start_s >= self.c.alarm_after_s or spread:
                    run.level = "alarm"
                    why = reasons + ((("spread", 1.0),) if spread else (("duration_s", end - run.start_s),))
                    alerts.append(Alert("alarm", kind, end, run.start_s, why))
            return
        run.count = 0
        if run.open:
            run.misses += 1
            if run.misses >= self.off[kind]:
                episodes.append(self._close(kind, run))

    def _close(self, kind: str, run: _Run) -> Episode:
        ep = Episode(kind, run.start_s, run.last_end_s, float(np.median(run.dominant)) if run.dominant else 0.0,
                     run.n_windows, run.level)
        run.__dict__.update(_Run().__dict__)
        return ep

    def finish(self) -> list[Episode]:
        """Close every open episode (end of input)."""
        return [self._close(kind, run) for kind, run in list(self.runs.items()) if run.open]


@dataclass
class _FaultRun:
    count: int = 0
    clean: int = 0
    active: bool = False
    start_s: float = 0.0
    first_start: float = 0.0
    end_s: float = 0.0
    detail: str = ""


class FaultTracker:
    """Per-kind hysteresis over per-window fault conditions.

    ``on_windows`` maps a fault kind to the consecutive windows needed to raise it (not_worn needs
    ``not_worn_s`` worth of windows).
    """

    def __init__(self, on_windows: dict[str, int], off_windows: int):
        self.on = dict(on_windows)
        self.off = int(off_windows)
        self.runs = {k: _FaultRun() for k in self.on}

    def step(self, kind: str, flags: np.ndarray, starts: np.ndarray, ends: np.ndarray, stream: str,
             detail: str) -> tuple[list[Fault], list[Alert]]:
        """Feed one condition (bool per window, in time order)."""
        run = self.runs[kind]
        faults: list[Fault] = []
        alerts: list[Alert] = []
        if not run.active and run.count == 0 and not flags.any():
            return faults, alerts
        for i, flag in enumerate(flags.tolist()):
            if flag:
                if run.count == 0:
                    run.first_start = float(starts[i])
                run.count += 1
                run.clean = 0
                run.end_s = float(ends[i])
                if not run.active and run.count >= self.on[kind]:
                    run.active, run.start_s, run.detail = True, run.first_start, detail
                    alerts.append(Alert("fault", kind, float(ends[i]), run.start_s, ()))
            else:
                run.count = 0
                if run.active:
                    run.clean += 1
                    if run.clean >= self.off:
                        faults.append(Fault(kind, run.start_s, run.end_s, stream, run.detail))
                        self.runs[kind] = run = _FaultRun()
        return faults, alerts

    def finish(self, stream: str) -> list[Fault]:
        out = [Fault(k, r.start_s, r.end_s, stream, r.detail) for k, r in self.runs.items() if r.active]
        self.runs = {k: _FaultRun() for k in self.on}
        return out
