"""Cross-fitted detection figures on the real recordings: the only twitchwatch figures that count.

For each group (a person, or a source whose persons are unknown; :mod:`.datasets`) the seizure model
of the group's placement is trained on the simulator of that placement and every *other* real group
of that placement (wrist: wrist recordings; foot: foot and ankle recordings), its alert
settings chosen inside that training data (:func:`twitchwatch.learn.fit.choose_settings`), and the
group's recordings are replayed through the product's Detector built with that model. OSD runs on
exactly the same recordings. The window (5-label) model is trained on the simulator only, so it is
the same in every fold. Recordings that never train anything (PhysioNet emgdb) are scored with
the model trained on every group.

Each unit is scored alike (:func:`score_unit`): with a labelled seizure, detected when a
notification falls in [start - 5 s, end + 10 s], latency from the labelled start, every other
notification false; without one, every notification is false.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from twitchwatch.core.classify import ModelClassifier
from twitchwatch.core.config import config_for_placement
from twitchwatch.core.detector import Detector
from twitchwatch.core.run import run
from twitchwatch.learn.corpus import Windows
from twitchwatch.learn.fit import train_seizure_model
from twitchwatch.model import DetectorOutput

from . import scoring
from .datasets import Unit
from .osd_baseline import OsdBaseline

#: Replay block, s (the output does not depend on it).
BLOCK_S = 60.0


@dataclass(frozen=True)
class UnitScore:
    """One detector on one unit: notifications, and what they mean for its seizure (if any)."""

    notifications: int
    detected: bool | None
    latency_s: float | None
    false_alerts: int


def score_unit(out: DetectorOutput, unit: Unit) -> UnitScore:
    times = scoring.notification_times(out.alerts, "any")
    if unit.seizure is None:
        return UnitScore(int(times.size), None, None, int(times.size))
    s = scoring.score_seizure(times, unit.seizure[0], unit.seizure[1], 0.0, unit.duration_s,
                              scoring.SEIZURE_GRACE_BEFORE_S, scoring.SEIZURE_GRACE_AFTER_S)
    return UnitScore(int(times.size), s.detected, s.latency_s, s.false_alerts)


def osd_scores(units: list[Unit]) -> list[UnitScore | None]:
    """OpenSeizureDetector on every unit, from the recording as read (it resamples on its own);
    None for a recording without an accelerometer (OSD has nothing to analyse)."""
    return [None if u.osd_source.device_info.stream("accel") is None else
            score_unit(run(OsdBaseline(u.osd_source.device_info), u.osd_source.items(BLOCK_S)), u) for u in units]


def replay_unit(unit: Unit, classifier) -> DetectorOutput:
    det = Detector(unit.source.device_info, classifier, config_for_placement(unit.placement))
    return run(det, unit.source.items(BLOCK_S))


def crossfit_scores(units: list[Unit], real: Windows, sims: dict, window_models: dict, seed: int,
                    progress: bool = False) -> tuple[list[UnitScore], dict]:
    """Out-of-fold twitchwatch scores of every unit, and per group the settings chosen for it.

    Parameters
    ----------
    units : all units; ``real`` holds the windows of those with ``train`` set, in the same order
    sims : placement -> simulated training Windows; window_models : placement -> window estimator
    """
    train_units = [u for u in units if u.train]
    group_of_window = np.array([u.group for u in train_units])[real.unit] if real.unit.size else np.zeros(0, str)
    place_of_window = np.array([u.placement for u in train_units])[real.unit] if real.unit.size else np.zeros(0, str)
    groups = sorted({u.group for u in train_units})
    # the window model's probability is an input of the seizure model; the window model is the same
    # in every fold (simulator only), so it is computed once per placement, not once per fold
    sims = {p: sims[p].with_window_model(window_models[p]) for p in sims}
    reals = {p: real.with_window_model(window_models[p]) for p in sims}

    def training(placement: str, keep: np.ndarray) -> Windows:
        return Windows.join([sims[placement], reals[placement].take(keep & (place_of_window == placement))])

    scores: dict[int, UnitScore] = {}
    folds: dict = {}
    index = {id(u): i for i, u in enumerate(units)}
    for n, g in enumerate(groups):
        members = [u for u in train_units if u.group == g]
        placement = members[0].placement
        if progress:
            print(f"  fold {n + 1}/{len(groups)}: leave out {g} ({len(members)} recording(s), {placement} model)",
                  file=sys.stderr, flush=True)
        model, outcome = train_seizure_model(training(placement, group_of_window != g), placement, seed)
        folds[g] = {"placement": placement, "settings": model.settings.__dict__,
                    "training_outcome": outcome.__dict__}
        classifier = ModelClassifier.in_memory(window_models[placement], model, f"fold without {g}")
        for u in members:
            scores[index[id(u)]] = score_unit(replay_unit(u, classifier), u)
    rest = [u for u in units if not u.train]
    if rest:
        by_placement = {}
        for u in rest:
            if u.placement not in by_placement:
                model, _ = train_seizure_model(training(u.placement, np.ones(real.unit.size, bool)), u.placement, seed)
                by_placement[u.placement] = ModelClassifier.in_memory(window_models[u.placement], model, "all groups")
            scores[index[id(u)]] = score_unit(replay_unit(u, by_placement[u.placement]), u)
    return [scores[i] for i in range(len(units))], folds
