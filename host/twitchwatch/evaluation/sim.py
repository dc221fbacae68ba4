"""`twitchwatch evaluate --sim`: score the detector on simulated subjects never used in training.

Subjects are drawn by seed: training uses seeds from :data:`TRAIN_SEED_BASE` (see
``twitchwatch train``), evaluation from :data:`EVAL_SEED_BASE` (or ``--seed``); the two ranges never
meet, and nothing in the detector was tuned on evaluation seeds.

Scored at the level of episodes and events:

- sensitivity: a rhythmic-jerking segment counts as detected when a rhythmic-jerking alert
  (warning or alarm) is raised between its onset and :data:`GRACE_S` after its end;
- false alarms per 24 h: distinct rhythmic-jerking alert episodes outside every seizure (and its
  grace period), per 24 h of non-seizure time; ``per_confounder`` splits them by the activity
  the alert fell in (per 24 h of that activity);
- median latency: alert time minus the first annotated jerk (alerts raised during a tonic phase,
  before the first jerk, count as 0 s); the latency from the segment onset is given too;
- fasciculation F1: detected EMG ``twitch`` events vs annotated fasciculations, matched one-to-one
  within +-50 ms, in rest segments (quiet, fasciculation, sleep) of recordings with two EMG
  channels (the annotations do not name the muscle; one channel cannot see the other muscle);
- a confusion matrix of window labels (windows >= 90 % inside one activity, or >= 40 % inside a
  seizure), rows = truth, columns = detector, in :data:`WINDOW_LABELS` order.

The rule-based baseline runs on exactly the same data and is reported under ``baseline``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, replace

import numpy as np

from twitchwatch.core.classify import load_classifier
from twitchwatch.core.config import config_for_placement
from twitchwatch.core.detector import Detector
from twitchwatch.core.run import feed
from twitchwatch.model import WINDOW_LABELS, Chunk, DetectorOutput, DeviceInfo
from twitchwatch.sim import ACTIVITIES, SCENARIOS, SimConfig, Simulation, draw_subject, parse_scenario, window_label_for

#: First subject seed of the training corpus (``twitchwatch train``).
TRAIN_SEED_BASE = 1000
#: First subject seed of the evaluation corpus (default of ``--seed``); far from training seeds.
EVAL_SEED_BASE = 900_000
#: An alert this long after a seizure segment ended still counts as detecting it, s.
GRACE_S = 10.0
#: Fasciculation matching tolerance, s.
MATCH_TOL_S = 0.050
#: Window truth: share of the window inside one activity (or inside a seizure).
PURE_FRACTION, SEIZURE_FRACTION = 0.9, 0.4
REST_ACTIVITIES = ("quiet", "fasciculation", "sleep")


# ---------------------------------------------------------------------------------------------
# sensor set-ups ("montages"): what the simulated device streams
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Montage:
    """A simulated sensor set-up: rates, EMG channels, and whether accel is reduced to |a|."""

    name: str
    accel_rate_hz: float
    emg_channels: int
    magnitude_only: bool = False


MONTAGES = {
    "foot": (
        Montage("foot_emg2_208hz", 208.0, 2),
        Montage("foot_emg1_208hz", 208.0, 1),
        Montage("foot_accel_208hz", 208.0, 0),
        Montage("ankle_accel_64hz", 64.0, 0),
    ),
    "wrist": (
        Montage("wrist_accel_32hz", 32.0, 0),
        Montage("wrist_magnitude_25hz", 25.0, 0, magnitude_only=True),
        Montage("wrist_accel_16hz", 16.0, 0),
        Montage("wrist_accel_64hz", 64.0, 0),
    ),
}


def sim_items(scenario, subject_seed: int, placement: str, montage: Montage, seed: int, block_s: float = 60.0):
    """DeviceInfo, then Chunks/Faults of a simulated recording; annotations second return value."""

    cfg = SimConfig(accel_rate_hz=montage.accel_rate_hz, emg_channels=montage.emg_channels)
    sim = Simulation(scenario, draw_subject(subject_seed, placement), cfg, seed=seed)
    items = sim.items(block_s=block_s)
    if montage.magnitude_only:
        items = _magnitude(items)
    return items, sim.annotations


def _magnitude(items):
    """Reduce a 3-axis accel stream to one channel |a| (g, gravity included), as OSDB files are."""
    for item in items:
        if isinstance(item, DeviceInfo):
            streams = tuple(
                replace(s, channels=1, channel_names=("magnitude",), scale=0.0) if s.kind == "accel" else s
                for s in item.streams
            )
            yield replace(item, streams=streams)
        elif isinstance(item, Chunk) and item.stream == "accel":
            mag = np.linalg.norm(item.samples, axis=1)[:, None]
            yield Chunk("accel", item.t0_s, item.rate_hz, mag, item.seq_first, item.seq_last, None)
        else:
            yield item


# ---------------------------------------------------------------------------------------------
# running detectors and collecting windows
# ---------------------------------------------------------------------------------------------
def run_detectors(items, detectors: list[Detector]) -> list[DetectorOutput]:
    """Feed the same items to several detectors; one concatenated output per detector."""
    outs: list[list[DetectorOutput]] = [[] for _ in detectors]
    for item in items:
        for det, acc in zip(detectors, outs):
            acc.append(feed(det, item))
    return [DetectorOutput.concat(acc + [det.finish()]) for det, acc in zip(detectors, outs)]


def segments(annotations) -> list:
    """Activity segments (not the individual event annotations)."""

    return [a for a in annotations if a.label in ACTIVITIES and a.duration_s >= 0.5]


def window_truth(annotations, starts: np.ndarray, window_s: float) -> np.ndarray:
    """Truth label index per window (-1 where the window is mixed), see module doc."""

    segs = segments(annotations)
    truth = np.full(starts.size, -1)
    ends = starts + window_s
    for seg in segs:
        lo, hi = seg.onset_s, seg.onset_s + seg.duration_s
        overlap = np.clip(np.minimum(ends, hi) - np.maximum(starts, lo), 0.0, None) / window_s
        label = WINDOW_LABELS.index(window_label_for(seg.label))
        need = SEIZURE_FRACTION if seg.label == "rhythmic_jerking" else PURE_FRACTION
        truth = np.where(overlap >= need, label, truth)
    return truth


# ---------------------------------------------------------------------------------------------
# scoring
# ---------------------------------------------------------------------------------------------
@dataclass
class Tally:
    """Running totals of one detector over the corpus."""

    seizures: int = 0
    detected: int = 0
    latencies: list = None
    onset_latencies: list = None
    false_alarms: int = 0
    nonseizure_s: float = 0.0
    per_activity_fa: dict = None
    per_activity_s: dict = None
    tp: int = 0
    fp: int = 0
    fn: int = 0
    confusion: np.ndarray = None

    def __post_init__(self):
        self.latencies, self.onset_latencies = [], []
        self.per_activity_fa, self.per_activity_s = {}, {}
        self.confusion = np.zeros((len(WINDOW_LABELS), len(WINDOW_LABELS)), dtype=np.int64)

    def add(self, out: DetectorOutput, annotations, has_emg: bool, window_s: float) -> None:
        segs = segments(annotations)
        seizures = [s for s in segs if s.label == "rhythmic_jerking"]
        jerks = np.array(sorted(a.onset_s for a in annotations if a.label == "jerk"))
        rj_alerts = [a for a in out.alerts if a.kind == "rhythmic_jerking"]
        for sz in seizures:
            lo, hi = sz.onset_s, sz.onset_s + sz.duration_s
            self.seizures += 1
            hits = [a.t_s for a in rj_alerts if lo <= a.t_s <= hi + GRACE_S]
            inside = jerks[(jerks >= lo) & (jerks < hi)]
            first_jerk = float(inside[0]) if inside.size else lo
            if hits:
                self.detected += 1
                self.latencies.append(max(0.0, min(hits) - first_jerk))
                self.onset_latencies.append(min(hits) - lo)
        in_seizure = lambda t: any(s.onset_s <= t <= s.onset_s + s.duration_s + GRACE_S for s in seizures)  # noqa: E731
        episodes_seen = set()
        for a in rj_alerts:
            if in_seizure(a.t_s) or a.episode_start_s in episodes_seen:
                continue
            episodes_seen.add(a.episode_start_s)
            self.false_alarms += 1
            act = next((s.label for s in segs if s.onset_s <= a.t_s < s.onset_s + s.duration_s), "other")
            self.per_activity_fa[act] = self.per_activity_fa.get(act, 0) + 1
        for s in segs:
            if s.label != "rhythmic_jerking":
                self.nonseizure_s += s.duration_s
                self.per_activity_s[s.label] = self.per_activity_s.get(s.label, 0.0) + s.duration_s
        if has_emg:
            self._fasciculations(out, annotations, segs)
        if out.windows:
            starts = np.array([w.start_s for w in out.windows])
            pred = np.array([WINDOW_LABELS.index(w.label) for w in out.windows])
            truth = window_truth(annotations, starts, window_s)
            ok = truth >= 0
            np.add.at(self.confusion, (truth[ok], pred[ok]), 1)

    def _fasciculations(self, out, annotations, segs) -> None:
        rest = [(s.onset_s, s.onset_s + s.duration_s) for s in segs if s.label in REST_ACTIVITIES]
        in_rest = lambda t: any(lo <= t < hi for lo, hi in rest)  # noqa: E731
        truth = np.array(sorted(a.onset_s for a in annotations if a.label == "fasciculation" and a.duration_s < 0.5 and in_rest(a.onset_s)))
        found = np.array(sorted(e.t_s for e in out.events if e.stream == "emg" and e.kind == "twitch" and in_rest(e.t_s)))
        tp = match_events(truth, found, MATCH_TOL_S)
        self.tp += tp
        self.fp += found.size - tp
        self.fn += truth.size - tp

    def figures(self) -> dict:
        per24 = lambda n, s: (n / s * 86400.0) if s > 0 else None  # noqa: E731
        f1 = None
        if self.tp + self.fp + self.fn:
            f1 = 2 * self.tp / max(2 * self.tp + self.fp + self.fn, 1)
        return {
            "sensitivity": self.detected / self.seizures if self.seizures else None,
            "seizures": self.seizures,
            "false_alarms_per_24h": per24(self.false_alarms, self.nonseizure_s),
            "false_alarms": self.false_alarms,
            "nonseizure_hours": self.nonseizure_s / 3600.0,
            "median_latency_s": float(np.median(self.latencies)) if self.latencies else None,
            "median_latency_from_onset_s": float(np.median(self.onset_latencies)) if self.onset_latencies else None,
            "fasciculation_f1": f1,
            "fasciculation_counts": {"tp": self.tp, "fp": self.fp, "fn": self.fn},
            "per_confounder": {k: per24(self.per_activity_fa.get(k, 0), v) for k, v in sorted(self.per_activity_s.items())},
            "confusion": {"labels": list(WINDOW_LABELS), "matrix": self.confusion.tolist()},
        }


def match_events(truth: np.ndarray, found: np.ndarray, tol_s: float) -> int:
    """Number of one-to-one matches within +-tol_s (greedy in time order; both sorted)."""
    i = j = tp = 0
    while i < truth.size and j < found.size:
        d = found[j] - truth[i]
        if abs(d) <= tol_s:
            tp, i, j = tp + 1, i + 1, j + 1
        elif d < 0:
            j += 1
        else:
            i += 1
    return tp


# ---------------------------------------------------------------------------------------------
# corpus
# ---------------------------------------------------------------------------------------------
def seizure_scenario(rng: np.random.Generator, placement: str, lead: str):
    """A scenario with one rhythmic-jerking episode of random shape after a lead-in activity."""

    dur = float(rng.uniform(15.0, 120.0))
    params = [f"f_start_hz={rng.uniform(1.5, 5.0):.2f}", f"f_end_hz={rng.uniform(0.5, 1.5):.2f}"]
    if rng.random() < 0.3:
        params.append("tonic=1")
    if rng.random() < 0.3:
        params.append("generalized=1")
    text = f"{lead}:{rng.uniform(30, 90):.0f},rhythmic_jerking[{';'.join(params)}]:{dur:.0f},quiet:60"
    return parse_scenario(text, placement=placement)


def eval_corpus(placement: str, first_seed: int, quick: bool):
    """(name, scenario, subject_seed, montage, sim_seed) tuples of the evaluation corpus."""

    rng = np.random.default_rng(first_seed)
    montages = MONTAGES[placement]
    leads = ("quiet", "walking", "fidget", "sleep") if placement == "foot" else ("quiet", "walking", "typing", "eating")
    out = []
    n_seizure_subjects = 4 if quick else 16
    for i in range(n_seizure_subjects):
        m = montages[i % len(montages)]
        out.append((f"seizure_{i}", seizure_scenario(rng, placement, leads[i % len(leads)]), first_seed + i, m, first_seed + 500 + i))
    if placement == "foot":
        days = [SCENARIOS["confounders"]] if quick else [SCENARIOS["daily_mix"], SCENARIOS["confounders"], SCENARIOS["focal_seizures"], SCENARIOS["seizure"]]
    else:
        days = [SCENARIOS["wrist_demo"]] if quick else [SCENARIOS["wrist_day"], SCENARIOS["wrist_seizure"]]
    for j, sc in enumerate(days):
        m = montages[j % len(montages)]
        out.append((sc.name, sc, first_seed + 100 + j, m, first_seed + 600 + j))
    if quick:
        tail = "quiet:60,walking:60,tapping:30,fasciculation:60,tremor:30" if placement == "foot" else "quiet:60,walking:60,brushing_teeth:30,typing:60,tremor:30"
        sc = parse_scenario(tail, placement=placement, name="quick_mix")
        out.append(("quick_mix", sc, first_seed + 200, montages[0], first_seed + 700))
    return out


def evaluate(placement: str = "foot", first_seed: int = EVAL_SEED_BASE, quick: bool = False,
             model_path=None) -> dict:
    """Run the evaluation corpus through the model and the baseline; figures as a dict."""
    model = load_classifier(placement, "model", model_path)
    baseline = load_classifier(placement, "baseline")
    tallies = {"model": Tally(), "baseline": Tally()}
    for name, scenario, subject_seed, montage, sim_seed in eval_corpus(placement, first_seed, quick):
        items, annotations = sim_items(scenario, subject_seed, placement, montage, sim_seed)
        items = iter(items)
        info = next(items)
        config = config_for_placement(placement)
        dets = [Detector(info, model, config), Detector(info, baseline, config)]
        outs = run_detectors(items, dets)
        for key, out in zip(("model", "baseline"), outs):
            # fasciculation F1 only where both muscles are measured: the annotations do not say which
            # muscle twitched, and a one-channel set-up cannot see the other muscle's fasciculations
            tallies[key].add(out, annotations, montage.emg_channels == 2, dets[0].c.window_s)
    result = tallies["model"].figures()
    result["baseline"] = tallies["baseline"].figures()
    result["placement"] = placement
    result["first_seed"] = first_seed
    result["quick"] = quick
    result["model"] = getattr(model, "name", "model")
    return result


def run(args) -> int:
    placement = args.placement or "foot"
    seed = EVAL_SEED_BASE if args.seed is None else int(args.seed)
    result = evaluate(placement, seed, bool(args.quick))
    if args.json:
        json.dump(result, sys.stdout, indent=2, default=float)
        print()
        return 0
    fmt = lambda v: "n/a" if v is None else (f"{v:.3g}" if isinstance(v, float) else str(v))  # noqa: E731
    print(f"twitchwatch evaluate --sim ({placement}, held-out seeds from {seed}{', quick' if args.quick else ''})")
    print(f"{'figure':<28}{'model':>12}{'baseline':>12}")
    for key in ("sensitivity", "seizures", "false_alarms_per_24h", "false_alarms", "nonseizure_hours",
                "median_latency_s", "median_latency_from_onset_s", "fasciculation_f1"):
        print(f"{key:<28}{fmt(result[key]):>12}{fmt(result['baseline'][key]):>12}")
    print("false alarms per 24 h by activity:")
    for act, v in result["per_confounder"].items():
        print(f"  {act:<26}{fmt(v):>12}{fmt(result['baseline']['per_confounder'].get(act)):>12}")
    print("window confusion (rows truth, columns detector):", ", ".join(WINDOW_LABELS))
    for label, row in zip(WINDOW_LABELS, result["confusion"]["matrix"]):
        print(f"  {label:<20}" + "".join(f"{v:>8}" for v in row))
    return 0
