"""`twitchwatch train [--placement foot|wrist|all] [--seed N] [--real DIR] [--out DIR]`.

Trains each placement's models and writes ``<out>/<placement>.skops`` and ``<out>/MODEL_CARD.md``:

- the window model (5 labels) on simulated subjects only;
- the seizure model on the simulator and every real recording of the placement in ``--real``
  (default ``../shared/data/real`` beside the repository; the foot model uses the foot and ankle
  recordings, the wrist model the wrist ones), with its alert settings chosen inside that data by
  3-fold cross-validation over groups (:mod:`twitchwatch.learn.fit`) — the same procedure
  ``twitchwatch evaluate --real`` repeats inside each of its folds.

Same seed and same data, same model: the simulated corpus, the fits and the setting search are all
seeded and deterministic. The work is done by :mod:`twitchwatch.learn`; this module only reads the
arguments and writes the files.
"""

from __future__ import annotations

import datetime as _dt
import json
import sys
from pathlib import Path

import numpy as np

from twitchwatch.core.classify import MODELS_DIR, CompiledForest, save_model
from twitchwatch.core.config import DetectorConfig
from twitchwatch.errors import ConfigError
from twitchwatch.evaluation.datasets import load_units
from twitchwatch.evaluation.sim import EVAL_SEED_BASE
from twitchwatch.learn.corpus import SIM_MINUTES, SIM_SEED, SIM_SUBJECTS, Windows, real_windows, sim_windows
from twitchwatch.learn.fit import SEIZURE_HGB, WINDOW_HGB, fit_window_model, train_seizure_model
from twitchwatch.model import WINDOW_LABELS

#: Real recordings used when --real is not given: ../shared/data/real beside the repository.
DEFAULT_REAL = Path(__file__).resolve().parents[4] / "shared" / "data" / "real"
#: The model card's episode-level section (``twitchwatch evaluate --sim`` figures, pasted after
#: a run) starts at this marker; re-training keeps it, so re-run the evaluation after a new seed.
SIM_EVAL_MARKER = "<!-- evaluate --sim figures (kept by twitchwatch train; re-run after retraining) -->"


def add_arguments(p) -> None:
    p.add_argument("--placement", choices=("foot", "wrist", "all"), default="all")
    p.add_argument("--seed", type=int, default=SIM_SEED, help="corpus and model seed (default 0, the shipped models)")
    p.add_argument("--real", default=None, help="folder of real recordings (default ../shared/data/real)")
    p.add_argument("--out", default=str(MODELS_DIR), help="output folder (default: models/)")
    p.add_argument("--subjects", type=int, default=SIM_SUBJECTS, help="simulated training subjects per placement")
    p.add_argument("--minutes", type=float, default=SIM_MINUTES, help="minutes of activity per subject")


def window_metrics(model, sim: Windows, held) -> dict:
    """Window accuracy and per-label recall of ``model`` on held-out simulated windows."""

    m = held & (sim.y_window >= 0)
    if not m.any():
        return {}
    pred = np.asarray(model.classes_)[np.argmax(CompiledForest(model).predict_proba(sim.X_window[m]), axis=1)]
    y = sim.y_window[m]
    return {"accuracy": float((pred == y).mean()), "windows": int(m.sum()),
            "recall": {lab: (float((pred[y == i] == i).mean()) if (y == i).any() else None) for i, lab in enumerate(WINDOW_LABELS)}}


def train_placement(placement: str, seed: int, subjects: int, minutes: float, real: Windows, out: Path) -> dict:
    sim = sim_windows(placement, seed, subjects, minutes, progress=True)
    subject = sim.unit  # one unit per simulated subject
    held = subject % 5 == 4  # every fifth subject held out for the card's window metrics
    metrics = window_metrics(fit_window_model(sim.take(~held), seed), sim, held)
    window_model = fit_window_model(sim, seed)
    print(f"{placement}: choosing alert settings and fitting the seizure model", file=sys.stderr, flush=True)
    own = np.array([u.placement == placement for u in real.units])[real.unit] if real.unit.size else np.zeros(0, bool)
    real = real.take(own)
    seizure, outcome = train_seizure_model(Windows.join([sim, real]).with_window_model(window_model), placement, seed)
    info = {
        "placement": placement, "seed": seed, "subjects": subjects, "minutes_per_subject": minutes,
        "simulated_windows": int(sim.y.size), "real_windows": int(real.y.size),
        "real_seizure_windows": int((real.y == 1).sum()),
        "real_sets": sorted({real.units[i].set for i in set(real.unit.tolist())}),
        "real_groups": len({real.units[i].group for i in set(real.unit.tolist())}),
        "window_model_heldout": metrics, "seizure_settings": seizure.settings.__dict__,
        "settings_outcome_inner_folds": outcome.__dict__, "window_hgb": WINDOW_HGB, "seizure_hgb": SEIZURE_HGB,
    }
    save_model(window_model, out / f"{placement}.skops", placement, {"training": json.dumps(info)}, seizure=seizure)
    return info


def write_card(out: Path, infos: list[dict]) -> None:
    today = _dt.date.today().isoformat()
    lines = [
        "# twitchwatch models: model card",
        "",
        f"Generated by `twitchwatch train` on {today}. `twitchwatch train --seed 0` with the same real data",
        "reproduces the shipped models (same trees and settings; the skops zip container differs in its",
        "timestamps, so compare models, not file bytes).",
        "",
        "**What they are.** Per placement, two scikit-learn `HistGradientBoostingClassifier`s in one skops file:",
        "",
        "- a *window model* that labels each 4 s window (0.5 s hop) as one of " + ", ".join(f"`{w}`" for w in WINDOW_LABELS),
        "  from the window features (`core.features.FEATURE_NAMES`), trained on **simulated subjects only**;",
        "- a *seizure model* that gives each window a probability of seizure-like rhythmic jerking from the window",
        "  features, OpenSeizureDetector's view of the last 5 s blocks, and 10-60 s of causal context",
        "  (`core.context.SEIZURE_FEATURE_NAMES`), trained on the **simulator and real recordings**; with",
        "  the alert settings chosen with it (probability threshold, OSD veto threshold, windows to warn).",
        "",
        "**Data.** Simulated subjects (`twitchwatch.sim`: random activity sequences including irregular, shaking and",
        "clonic seizures, tooth brushing, shaving, vehicles, gait with heel strikes) and every real set in",
        "`../shared/data/real` (see `evaluation/datasets.py`): real seizures from two Open Seizure Database users",
        "and acted ones (UEA, weighted x0.2) are the positives; everything else is negative. Real data carries half",
        "the training weight, split evenly across sets, then persons. Real recordings are not redistributed.",
        "",
        "**Honest figures.** These models were trained on all the real data, so figures of them on that data are",
        "in-sample. The figures that count are `twitchwatch evaluate --real`'s, where each person is scored by a",
        "model trained without them (docs/real-data-evaluation.md). Simulator figures come from `twitchwatch",
        f"evaluate --sim` on subjects with seeds from {EVAL_SEED_BASE}, never used in training. The simulator's",
        "seizure statistics were calibrated on the OSDB events (sim/README.md), so simulated seizures are not",
        "independent of that data.",
        "",
        "**Limits.** Two people with real seizures; no foot-worn seizure recording exists; not a medical device.",
        "",
    ]
    for info in infos:
        s = info["seizure_settings"]
        m = info["window_model_heldout"]
        lines += [
            f"## {info['placement']}",
            "",
            f"- seed {info['seed']}; {info['subjects']} simulated subjects x {info['minutes_per_subject']:g} min "
            f"({info['simulated_windows']} windows); {info['real_windows']} real windows "
            f"({info['real_seizure_windows']} in seizures) from {info['real_groups']} groups in {len(info['real_sets'])} sets",
            f"- alert settings: seizure probability >= {s['threshold']:g}"
            + (f", or OSD warning unless probability < {s['veto_threshold']:g}" if s["veto_threshold"] <= 1 else ", OSD net off")
            + f"; {s['on_windows']} consecutive windows warn",
            f"- window model, held-out simulated subjects: accuracy {m.get('accuracy', float('nan')):.3f} "
            f"on {m.get('windows', 0)} windows",
            "",
        ]
    card = out / "MODEL_CARD.md"
    if card.exists() and SIM_EVAL_MARKER in (old := card.read_text(encoding="utf-8")):
        lines.append(SIM_EVAL_MARKER + old.split(SIM_EVAL_MARKER, 1)[1].rstrip("\n"))  # kept: written by hand
    card.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run(args) -> int:
    out = Path(args.out)
    root = Path(args.real) if args.real else DEFAULT_REAL.resolve()
    if not root.is_dir():
        raise ConfigError(f"{root}: real recordings not found (the shipped models train on them; give --real DIR)")
    units, _ = load_units(root, DetectorConfig().min_accel_rate_hz)
    real = real_windows([u for u in units if u.train], progress=True)
    placements = ("foot", "wrist") if args.placement == "all" else (args.placement,)
    infos = []
    for placement in placements:
        info = train_placement(placement, int(args.seed), int(args.subjects), float(args.minutes), real, out)
        print(f"{placement}: settings {info['seizure_settings']} -> {out / (placement + '.skops')}")
        infos.append(info)
    write_card(out, infos)
    print(f"model card -> {out / 'MODEL_CARD.md'}")
    return 0
