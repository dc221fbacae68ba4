"""Training windows: features from the detector itself, truth and weights, for simulator and real data.

Every window is described by running the product's :class:`~twitchwatch.core.detector.Detector`
over the recording (its feature hook gives the seizure-model input of each window), so training
sees exactly what the live detector computes.

Truth of the seizure model (binary):

- simulator: the window's activity (``evaluation.sim.window_truth``), seizure when rhythmic jerking;
  mixed windows are left out;
- real data: a window whose centre lies from 2 s after a labelled seizure's start to its end is a
  seizure; windows within 10 s of a seizure otherwise are left out (labels are whole seconds on 5 s
  datapoints); everything else in every set is not a seizure. UEA acted seizures are positives at
  :data:`~twitchwatch.evaluation.datasets.ACTED_WEIGHT`.

Weights: the simulator and the real data each carry half of the total (real data at least half, as
the issue asks); within real data each set an equal share, within a set each group (person) an equal
share, within a group each window an equal share, so neither 589 ADL files nor one 6 h day log
dominates. Then the positive class is scaled to the negative class's total (balanced).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np

from twitchwatch.core.classify import BaselineClassifier, CompiledForest
from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.context import SEIZURE_FEATURE_NAMES, seizure_column
from twitchwatch.core.detector import FEATURE_DECIMALS, Detector
from twitchwatch.core.features import FEATURE_NAMES
from twitchwatch.core.run import run
from twitchwatch.errors import ConfigError
from twitchwatch.evaluation.datasets import Unit
from twitchwatch.evaluation.sim import EVAL_SEED_BASE, MONTAGES, TRAIN_SEED_BASE, sim_items, window_truth
from twitchwatch.model import WINDOW_LABELS
from twitchwatch.sim import parse_scenario

#: Real seizure windows start this long after the labelled start (centre), s: the first seconds of
#: a label are often still normal movement (labels are whole seconds on 5 s datapoints).
SEIZURE_ONSET_SKIP_S = 2.0
#: Windows this close to a labelled seizure (and not inside it) are neither positive nor negative, s.
SEIZURE_MARGIN_S = 10.0
#: Share of the total training weight carried by real recordings (the issue: at least half).
REAL_SHARE = 0.5
#: The simulated training corpus of the shipped models (``twitchwatch train``'s defaults, and what
#: ``evaluate --real`` trains each fold with): seed, subjects per placement, minutes each.
SIM_SEED, SIM_SUBJECTS, SIM_MINUTES = 0, 24, 8.0
RJ = WINDOW_LABELS.index("rhythmic_jerking")

#: Activities of the random training scenarios and their relative weights (simulator names; see
#: sim/README.md). Seizures draw their style (SEIZURE_STYLES).
FOOT_ACTIVITIES = {
    "quiet": 2.0, "fasciculation": 2.0, "sleep": 1.0, "walking": 2.5, "running": 2.0, "stairs": 1.0,
    "turning": 1.0, "stand_walk": 1.5, "tapping": 2.5, "tremor": 2.5, "plm": 1.0, "cramp": 0.5, "fidget": 1.5,
    "vehicle": 1.0, "not_worn": 0.5, "rhythmic_jerking": 3.5,
}
WRIST_ACTIVITIES = {
    "quiet": 2.0, "sleep": 1.0, "walking": 2.0, "running": 1.0, "stairs": 0.5, "turning": 0.5, "stand_walk": 0.5,
    "tremor": 2.0, "fidget": 1.0, "not_worn": 0.5, "brushing_teeth": 2.0, "electric_toothbrush": 1.0,
    "shaving": 1.0, "combing_hair": 1.5, "typing": 1.5, "clapping": 1.0, "eating": 1.5, "washing_dishes": 1.5,
    "vehicle": 1.0, "rhythmic_jerking": 3.5,
}
TREMOR_KINDS = ("rest", "essential", "orthostatic")
#: Seizure styles of the simulator (sim/README.md) and how often training draws each: the clean
#: clonic rhythm (what ``evaluate --sim`` scores), the impulsive irregular jerking and the sinusoidal
#: shaking measured in real convulsions; a 10-20 s tonic prelude in 30 % of seizures.
SEIZURE_STYLES, SEIZURE_STYLE_P = ("clonic", "irregular", "shaking"), (0.4, 0.4, 0.2)


@dataclass(frozen=True)
class UnitInfo:
    """What scoring needs of a recording: name, set, group, placement, duration (s), the labelled
    seizures [(start, end)] s, and what finding one of them is worth (acted: less)."""

    name: str
    set: str
    group: str
    placement: str
    duration_s: float
    seizures: tuple[tuple[float, float], ...]
    seizure_weight: float = 1.0


@dataclass(frozen=True)
class Windows:
    """Windows of many recordings, concatenated (each array's first axis: one row per window).

    X : (n, len(SEIZURE_FEATURE_NAMES)) seizure-model input (its ``win_rj_probability`` column from
    the rule baseline until :meth:`with_window_model` fills it); X_window : (n, len(FEATURE_NAMES))
    window features; y : (n,) 1 seizure, 0 not, -1 left
    out; y_window : (n,) window-label index for simulated windows (-1: real or mixed);
    weight : (n,) training weight (0 where y is -1); unit : (n,) index into ``units``;
    end_s : (n,) window end, s; valid : (n,) the detector could label the window.
    """

    X: np.ndarray
    X_window: np.ndarray
    y: np.ndarray
    y_window: np.ndarray
    weight: np.ndarray
    unit: np.ndarray
    end_s: np.ndarray
    valid: np.ndarray
    units: tuple[UnitInfo, ...]

    def take(self, mask: np.ndarray) -> "Windows":
        """The windows where ``mask`` holds (unit indices unchanged)."""
        return Windows(self.X[mask], self.X_window[mask], self.y[mask], self.y_window[mask], self.weight[mask],
                       self.unit[mask], self.end_s[mask], self.valid[mask], self.units)

    def with_window_model(self, model) -> "Windows":
        """The same windows with ``win_rj_probability`` from the (fitted) window ``model``, as the
        detector computes it."""
        X = self.X.copy()
        if X.shape[0]:
            proba = CompiledForest(model).predict_proba(self.X_window)
            col = list(model.classes_).index(RJ)
            X[:, seizure_column("win_rj_probability")] = np.round(proba[:, col], FEATURE_DECIMALS)
        return replace(self, X=X)

    @staticmethod
    def join(parts: "list[Windows]") -> "Windows":
        """Concatenate, renumbering units."""
        units, offset, out = [], 0, []
        for p in parts:
            out.append(p.unit + offset)
            offset += len(p.units)
            units += list(p.units)
        cat = lambda name: np.concatenate([getattr(p, name) for p in parts])  # noqa: E731
        return Windows(cat("X"), cat("X_window"), cat("y"), cat("y_window"), cat("weight"), np.concatenate(out),
                       cat("end_s"), cat("valid"), tuple(units))


class _Log:
    def __init__(self):
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def __call__(self, starts, feats, seizure_feats, valid) -> None:
        self.parts.append((np.asarray(starts, float), np.asarray(feats, float), np.asarray(seizure_feats, float),
                           np.asarray(valid, bool)))

    def arrays(self):
        if not self.parts:
            return (np.zeros(0), np.zeros((0, len(FEATURE_NAMES))), np.zeros((0, len(SEIZURE_FEATURE_NAMES))),
                    np.zeros(0, bool))
        return tuple(np.concatenate([p[i] for p in self.parts]) for i in range(4))


def describe(device_info, items, config: DetectorConfig = DetectorConfig()):
    """(starts (w,) s, window features (w, f), seizure features (w, g), valid (w,)) of every window
    of a recording."""
    log = _Log()
    run(Detector(device_info, BaselineClassifier(), config, feature_hook=log), items)
    return log.arrays()


def real_windows(units: list[Unit], progress: bool = False) -> Windows:
    """Features, truth and (unnormalised, 1 per window) weights of real units."""
    config = DetectorConfig()
    rows: list[Windows] = []
    infos = []
    for i, u in enumerate(units):
        if progress and i % 100 == 0:
            print(f"  describing real recordings {i}/{len(units)}", file=sys.stderr, flush=True)
        starts, Xw, X, valid = describe(u.source.device_info, u.source.items(60.0), config)
        mid = starts + config.window_s / 2
        y = np.zeros(starts.size, np.int8)
        w = np.ones(starts.size)
        if u.seizure is not None:
            a, b = u.seizure
            near = (mid >= a - SEIZURE_MARGIN_S) & (mid <= b + SEIZURE_MARGIN_S)
            inside = (mid >= a + SEIZURE_ONSET_SKIP_S) & (mid <= b)
            y = np.where(inside, 1, np.where(near, -1, 0)).astype(np.int8)
            w = np.where(inside, u.weight, 1.0)
        y = np.where(valid, y, -1).astype(np.int8)
        infos.append(UnitInfo(u.name, u.set, u.group, u.placement, float(u.duration_s),
                              () if u.seizure is None else (u.seizure,), u.weight))
        rows.append(Windows(X, Xw, y, np.full(starts.size, -1), np.where(y >= 0, w, 0.0), np.full(starts.size, 0),
                            starts + config.window_s, valid, (infos[-1],)))
    return Windows.join(rows) if rows else _empty()


def random_scenario(rng: np.random.Generator, placement: str, minutes: float):
    """A random sequence of activities of about ``minutes`` minutes (seeded)."""
    pool = FOOT_ACTIVITIES if placement == "foot" else WRIST_ACTIVITIES
    names = list(pool)
    p = np.array([pool[n] for n in names])
    p /= p.sum()
    parts, total = [], 0.0
    while total < minutes * 60.0:
        act = names[int(rng.choice(len(names), p=p))]
        dur = float(rng.uniform(20.0, 90.0))
        params = []
        if act == "rhythmic_jerking":
            style = SEIZURE_STYLES[int(rng.choice(len(SEIZURE_STYLES), p=SEIZURE_STYLE_P))]
            params = [f"style={style}", f"f_start_hz={rng.uniform(1.0, 5.0):.2f}", f"f_end_hz={rng.uniform(0.4, 1.5):.2f}"]
            if rng.random() < 0.3:
                params.append("tonic=1")
            if rng.random() < 0.3:
                params.append("generalized=1")
            dur = float(rng.uniform(12.0, 100.0))
        elif act == "tremor":
            params = [f"kind={TREMOR_KINDS[int(rng.integers(3))]}"]
        elif act == "brushing_teeth":
            dur = float(rng.uniform(60.0, 180.0))  # 1-3 min, stationary (DETECTION_NOTES.md)
        parts.append(f"{act}[{';'.join(params)}]:{dur:.0f}" if params else f"{act}:{dur:.0f}")
        total += dur
    return parse_scenario(",".join(parts), placement=placement, name=f"train_{placement}")


def sim_windows(placement: str, seed: int, subjects: int, minutes: float, progress: bool = False) -> Windows:
    """Windows of ``subjects`` simulated training subjects (seeds from TRAIN_SEED_BASE)."""
    config = DetectorConfig()
    rng = np.random.default_rng([seed, 1 if placement == "foot" else 2])
    montages = MONTAGES[placement]
    parts = []
    for i in range(subjects):
        subject_seed = TRAIN_SEED_BASE + seed * 10_000 + i
        if subject_seed >= EVAL_SEED_BASE:
            raise ConfigError(f"training subject seed {subject_seed} would reach the evaluation seeds")
        if progress and i % 8 == 0:
            print(f"  simulating {placement} subjects {i}/{subjects}", file=sys.stderr, flush=True)
        scenario = random_scenario(rng, placement, minutes)
        montage = montages[i % len(montages)]
        items, annotations = sim_items(scenario, subject_seed, placement, montage, seed=int(rng.integers(2**31)))
        items = iter(items)
        starts, Xw, X, valid = describe(next(items), items, config)
        truth = window_truth(annotations, starts, config.window_s)
        y = np.where(truth < 0, -1, (truth == RJ).astype(np.int8)).astype(np.int8)
        y = np.where(valid, y, -1).astype(np.int8)
        seizures = tuple((a.onset_s, a.onset_s + a.duration_s) for a in annotations if a.label == "rhythmic_jerking")
        end = max((a.onset_s + a.duration_s for a in annotations), default=0.0)
        info = UnitInfo(f"sim_{placement}_{i}", f"sim_{placement}", f"sim_{placement}:{i}", placement, end, seizures)
        parts.append(Windows(X, Xw, y, np.where(valid, truth, -1), (y >= 0).astype(float), np.zeros(starts.size, int),
                             starts + config.window_s, valid, (info,)))
    return Windows.join(parts)


def weigh(w: Windows) -> np.ndarray:
    """Training weights (see module doc) for the windows of ``w``; 0 where y is -1."""
    used = w.y >= 0
    base = np.where(used, w.weight, 0.0)
    sets = np.array([w.units[u].set for u in w.unit]) if w.unit.size else np.zeros(0, str)
    groups = np.array([w.units[u].group for u in w.unit]) if w.unit.size else np.zeros(0, str)
    is_sim = np.char.startswith(sets.astype(str), "sim_") if sets.size else np.zeros(0, bool)
    out = np.zeros(w.y.size)
    real_sets = sorted(set(sets[~is_sim & used].tolist()))
    share = {s: REAL_SHARE / len(real_sets) for s in real_sets} if real_sets else {}
    if (is_sim & used).any():
        total = base[is_sim].sum()
        out[is_sim] = base[is_sim] * ((1.0 - REAL_SHARE) if real_sets else 1.0) / max(total, 1e-12)
    by_set: dict[str, list[str]] = defaultdict(list)
    for s, g in set(zip(sets[~is_sim & used].tolist(), groups[~is_sim & used].tolist())):
        by_set[s].append(g)
    for s, gs in by_set.items():
        for g in gs:
            m = (sets == s) & (groups == g) & used
            out[m] = base[m] * share[s] / len(gs) / max(base[m].sum(), 1e-12)
    pos, neg = out[w.y == 1].sum(), out[w.y == 0].sum()
    if pos > 0 and neg > 0:
        out[w.y == 1] *= neg / pos
    return out


def _empty() -> Windows:
    z = np.zeros(0)
    return Windows(np.zeros((0, len(SEIZURE_FEATURE_NAMES))), np.zeros((0, len(FEATURE_NAMES))), z.astype(np.int8), z.astype(int), z, z.astype(int), z,
                   z.astype(bool), ())
