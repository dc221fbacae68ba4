"""`twitchwatch train [--placement foot|wrist|all] [--seed N] [--out DIR] [--subjects N]`.

Trains the window classifier of each placement on simulated subjects and writes
``<out>/<placement>.skops`` and ``<out>/MODEL_CARD.md``. Same seed, same model: the corpus, the
subjects and the gradient-boosting fit are all seeded (``numpy.random.default_rng``).

Training subjects use seeds ``TRAIN_SEED_BASE + seed * 10_000 + i``; evaluation
(``twitchwatch evaluate --sim``) uses seeds from ``EVAL_SEED_BASE`` (900 000), never reached here.
A fifth of the training subjects is held out for the window-level metrics in the model card.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path

import numpy as np

from twitchwatch.core.classify import MODELS_DIR, save_model
from twitchwatch.core.config import DetectorConfig
from twitchwatch.core.detector import Detector
from twitchwatch.core.classify import BaselineClassifier
from twitchwatch.core.features import FEATURE_NAMES
from twitchwatch.errors import ConfigError
from twitchwatch.evaluation.sim import (
    EVAL_SEED_BASE,
    MONTAGES,
    TRAIN_SEED_BASE,
    FeatureLog,
    run_detectors,
    sim_items,
    window_truth,
)
from twitchwatch.model import WINDOW_LABELS

#: Activities of the random training scenarios and their relative weights.
FOOT_ACTIVITIES = {
    "quiet": 2.0, "fasciculation": 2.0, "sleep": 1.0, "walking": 2.0, "running": 1.0, "stairs": 1.0,
    "tapping": 2.5, "tremor": 2.5, "plm": 1.0, "cramp": 0.5, "fidget": 1.5, "not_worn": 0.5,
    "rhythmic_jerking": 3.5,
}
WRIST_ACTIVITIES = {
    "quiet": 2.0, "sleep": 1.0, "walking": 2.0, "running": 1.0, "stairs": 0.5, "tremor": 2.0, "fidget": 1.0,
    "not_worn": 0.5, "brushing_teeth": 2.0, "combing_hair": 1.5, "typing": 1.5, "eating": 1.5,
    "washing_dishes": 1.5, "rhythmic_jerking": 3.5,
}
#: The model card's episode-level section (``twitchwatch evaluate --sim`` figures, pasted after
#: a run) starts at this marker; re-training keeps it, so re-run the evaluation after a new seed.
SIM_EVAL_MARKER = "<!-- evaluate --sim figures (kept by twitchwatch train; re-run after retraining) -->"
TREMOR_KINDS = ("rest", "essential", "orthostatic")
#: Gradient-boosting settings (small trees keep the live per-window cost low).
HGB_PARAMS = dict(max_iter=120, learning_rate=0.1, max_leaf_nodes=15, max_depth=6, l2_regularization=0.1,
                  early_stopping=False)


def add_arguments(p) -> None:
    p.add_argument("--placement", choices=("foot", "wrist", "all"), default="all")
    p.add_argument("--seed", type=int, default=0, help="corpus and model seed (default 0, the shipped models)")
    p.add_argument("--out", default=str(MODELS_DIR), help="output folder (default: models/)")
    p.add_argument("--subjects", type=int, default=24, help="simulated training subjects per placement")
    p.add_argument("--minutes", type=float, default=8.0, help="minutes of activity per subject")


def random_scenario(rng: np.random.Generator, placement: str, minutes: float):
    """A random sequence of activities of about ``minutes`` minutes."""
    from twitchwatch.sim import parse_scenario

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
            params = [f"f_start_hz={rng.uniform(1.0, 5.0):.2f}", f"f_end_hz={rng.uniform(0.4, 1.5):.2f}"]
            if rng.random() < 0.3:
                params.append("tonic=1")
            if rng.random() < 0.3:
                params.append("generalized=1")
            dur = float(rng.uniform(12.0, 100.0))
        elif act == "tremor":
            params = [f"kind={TREMOR_KINDS[int(rng.integers(3))]}"]
        parts.append(f"{act}[{';'.join(params)}]:{dur:.0f}" if params else f"{act}:{dur:.0f}")
        total += dur
    return parse_scenario(",".join(parts), placement=placement, name=f"train_{placement}")


def collect(placement: str, seed: int, subjects: int, minutes: float, config: DetectorConfig = DetectorConfig()):
    """Features and truth of the training corpus.

    Returns
    -------
    X : (w, f) features; y : (w,) label index; group : (w,) subject number (0..subjects-1)
    """
    rng = np.random.default_rng([seed, 1 if placement == "foot" else 2])
    montages = MONTAGES[placement]
    xs, ys, gs = [], [], []
    for i in range(subjects):
        subject_seed = TRAIN_SEED_BASE + seed * 10_000 + i
        if subject_seed >= EVAL_SEED_BASE:
            raise ConfigError(f"training subject seed {subject_seed} would reach the evaluation seeds")
        scenario = random_scenario(rng, placement, minutes)
        montage = montages[i % len(montages)]
        items, annotations = sim_items(scenario, subject_seed, placement, montage, seed=int(rng.integers(2**31)))
        items = iter(items)
        log = FeatureLog()
        run_detectors(items, [Detector(next(items), BaselineClassifier(), config, feature_hook=log)])
        starts, feats, valid = log.arrays(len(FEATURE_NAMES))
        truth = window_truth(annotations, starts, config.window_s)
        ok = valid & (truth >= 0)
        xs.append(feats[ok])
        ys.append(truth[ok])
        gs.append(np.full(int(ok.sum()), i))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)


def fit(X: np.ndarray, y: np.ndarray, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(random_state=seed, **HGB_PARAMS)
    return model.fit(X, y)


def window_metrics(model, X: np.ndarray, y: np.ndarray) -> dict:
    """Per-label precision/recall and the confusion matrix on held-out windows."""
    from twitchwatch.core.classify import CompiledForest

    proba = CompiledForest(model).predict_proba(X)
    pred = np.asarray(model.classes_)[np.argmax(proba, axis=1)]
    k = len(WINDOW_LABELS)
    cm = np.zeros((k, k), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    per = {}
    for i, lab in enumerate(WINDOW_LABELS):
        tp = cm[i, i]
        per[lab] = {
            "precision": float(tp / cm[:, i].sum()) if cm[:, i].sum() else None,
            "recall": float(tp / cm[i].sum()) if cm[i].sum() else None,
            "windows": int(cm[i].sum()),
        }
    return {"accuracy": float(np.trace(cm) / max(cm.sum(), 1)), "per_label": per, "confusion": cm.tolist()}


def train_placement(placement: str, seed: int, subjects: int, minutes: float, out: Path) -> dict:
    X, y, g = collect(placement, seed, subjects, minutes)
    held = g % 5 == 4  # every fifth subject is held out for the card's metrics
    metrics = window_metrics(fit(X[~held], y[~held], seed), X[held], y[held]) if held.any() else {}
    model = fit(X, y, seed)  # the shipped model uses every training subject
    info = {
        "placement": placement,
        "seed": seed,
        "subjects": subjects,
        "subject_seeds": [TRAIN_SEED_BASE + seed * 10_000, TRAIN_SEED_BASE + seed * 10_000 + subjects - 1],
        "minutes_per_subject": minutes,
        "montages": [m.name for m in MONTAGES[placement]],
        "windows": int(y.size),
        "windows_per_label": {lab: int((y == i).sum()) for i, lab in enumerate(WINDOW_LABELS)},
        "heldout_metrics": metrics,
        "hgb_params": HGB_PARAMS,
    }
    save_model(model, out / f"{placement}.skops", placement, {"training": json.dumps(info)})
    return info


def write_card(out: Path, infos: list[dict]) -> None:
    today = _dt.date.today().isoformat()
    lines = [
        "# twitchwatch window classifiers: model card",
        "",
        f"Generated by `twitchwatch train` on {today}. Re-run `twitchwatch train --seed 0` to reproduce the",
        "shipped models: same seed, same corpus, same trees and thresholds (the skops zip container itself",
        "differs in its timestamps, so compare models, not file bytes).",
        "",
        "**What they are.** scikit-learn `HistGradientBoostingClassifier`s (one per placement) that label each",
        "4 s analysis window (0.5 s hop) as one of " + ", ".join(f"`{w}`" for w in WINDOW_LABELS) + ", from",
        f"{len(FEATURE_NAMES)} features (`twitchwatch.core.features.FEATURE_NAMES`): spectral shape of the movement band,",
        "envelope rhythmicity, inter-onset regularity, burst duration, EMG co-activation, posture, clipping;",
        "features of an absent stream are 0 with an indicator. Saved with skops, loaded with an explicit trusted-types list.",
        "",
        "**Data.** Simulated subjects only (`twitchwatch.sim`, helper B's physiological simulator): random",
        "sequences of activities of 20-90 s (seizure-like rhythmic jerking 12-100 s with random onset/end",
        "frequency, optional tonic phase and spread). No real seizure recording is in the training data: no",
        "public foot recording of seizures exists. Window truth: >= 90 % of the window inside one activity, or",
        ">= 40 % inside a seizure; mixed windows are left out. Sensor set-ups are cycled per subject so one model",
        "serves 208 Hz accel + 2/1/0 EMG channels (foot) and 16-64 Hz accel or |a| only (wrist).",
        "",
        "**Real data.** No real recording trained or tuned these models or their alert settings. The",
        "simulator's ranges for wrist clonic jerks (size over a decade, irregular intervals), walking",
        "(stride variability, soft/shuffling steps) and wrist running impacts were widened after the real-data",
        "evaluation showed the previous models calling real wrist seizures voluntary movement and real gait",
        "rhythmic jerking (`host/twitchwatch/sim/activities.py`); the ranges are stated assumptions, not fitted",
        "to those recordings, but the recordings are no longer entirely independent of the simulator's design:",
        "of three wrist variants (jerk size and regularity widened / regularity only / neither) the shipped one",
        "(both) was chosen by comparing all three on those recordings (docs/real-data-evaluation.md). `twitchwatch",
        "train` reads no real data: the seed alone reproduces the models.",
        "",
        "**Held out.** Every fifth training subject is held out for the window metrics below (a model fitted",
        "without them); the shipped model is then refitted on all training subjects. Episode-level figures",
        "(sensitivity, false alarms per 24 h, latency) come from `twitchwatch evaluate --sim`, on subjects with",
        f"seeds from {EVAL_SEED_BASE}, never used in training or tuning.",
        "",
        "**Limits.** Trained and validated on simulation only. Real-data checks (`twitchwatch evaluate --real`)",
        "are the judge; this is not a medical device and must not be relied on as the only safeguard.",
        "",
    ]
    for info in infos:
        m = info["heldout_metrics"]
        lines += [
            f"## {info['placement']}",
            "",
            f"- seed {info['seed']}; {info['subjects']} subjects (seeds {info['subject_seeds'][0]}-{info['subject_seeds'][1]}),"
            f" {info['minutes_per_subject']:g} min each; set-ups: {', '.join(info['montages'])}",
            f"- windows: {info['windows']} ({', '.join(f'{k} {v}' for k, v in info['windows_per_label'].items())})",
            f"- held-out window accuracy: {m.get('accuracy', float('nan')):.3f}",
            "",
            "| label | precision | recall | windows |",
            "|---|---|---|---|",
        ]
        for lab, v in m.get("per_label", {}).items():
            fmt = lambda x: "n/a" if x is None else f"{x:.3f}"  # noqa: E731
            lines.append(f"| {lab} | {fmt(v['precision'])} | {fmt(v['recall'])} | {v['windows']} |")
        lines.append("")
    card = out / "MODEL_CARD.md"
    if card.exists() and SIM_EVAL_MARKER in (old := card.read_text(encoding="utf-8")):
        lines.append(SIM_EVAL_MARKER + old.split(SIM_EVAL_MARKER, 1)[1].rstrip("\n"))  # kept: written by hand
    card.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(args) -> int:
    out = Path(args.out)
    placements = ("foot", "wrist") if args.placement == "all" else (args.placement,)
    infos = []
    for placement in placements:
        info = train_placement(placement, int(args.seed), int(args.subjects), float(args.minutes), out)
        print(f"{placement}: {info['windows']} windows, held-out accuracy "
              f"{info['heldout_metrics'].get('accuracy', float('nan')):.3f} -> {out / (placement + '.skops')}")
        infos.append(info)
    write_card(out, infos)
    print(f"model card -> {out / 'MODEL_CARD.md'}")
    return 0
