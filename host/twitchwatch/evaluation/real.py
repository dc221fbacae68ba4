"""`twitchwatch evaluate --real DIR [--json] [--placement P]`: public recordings, side by side with
OpenSeizureDetector.

Every dataset found in DIR (see its README) is replayed, item by item, through

- ``twitchwatch``: the same Detector the live product uses (``core.detector.make_detector`` with the
  shipped model for the recording's placement), and
- ``osd``: OpenSeizureDetector's published algorithm (:mod:`.osd_baseline`),

on exactly the same items read by :mod:`twitchwatch.sources.files`, and scored at the level of
alert episodes (:mod:`.scoring`). Nothing here is trained or tuned on real data: the detector is
trained on the simulator only; OSD runs with its default settings. Grace periods were fixed before
looking at any result, from the labels' resolution.

Low-rate wrist data: the detector needs an accelerometer rate of at least
:data:`DETECTOR_MIN_ACCEL_HZ`. Recordings below it (UEA BasicMotions, 10 Hz) are upsampled for the
twitchwatch path only, per gap-free segment, with a polyphase FIR
(:func:`twitchwatch.sources.files.resample.upsample_accel`: ``scipy.signal.resample_poly``, Kaiser
window, beta 5) to that rate: this adds no information above the recording's own Nyquist
frequency (5 Hz); the OSD baseline does its own resampling to 25 Hz from the original samples.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from twitchwatch.core.config import DetectorConfig
from twitchwatch.errors import ConfigError, TwitchwatchError
from twitchwatch.model import Chunk, DetectorOutput, DeviceInfo, Fault
from twitchwatch.sources.files import FileSource, open_file
from twitchwatch.sources.files.resample import upsample_accel

from . import scoring
from .osd_baseline import OsdBaseline


#: The detector's own minimum accelerometer rate, Hz (from its config: one source of truth).
DETECTOR_MIN_ACCEL_HZ = float(DetectorConfig().min_accel_rate_hz)
#: OSDB labels are whole seconds on 5 s datapoints whose timestamps jitter by +-1 s: an alert up to
#: one datapoint (5 s) before the labelled start counts.
GRACE_BEFORE_S = 5.0
#: An alert up to two datapoints (10 s) after the labelled end counts: a detector that needs > 10 s
#: of rhythm (OSD does) can only alarm after a short seizure's labelled end.
GRACE_AFTER_S = 10.0
#: Block size for replay, s (replay is live mode with big blocks; the output does not depend on it).
REPLAY_BLOCK_S = 60.0
DETECTORS = ("twitchwatch", "osd")
DATASETS = ("osdb", "uea_epilepsy", "daphnet", "adl", "uea_basicmotions", "emgdb")
FOLDERS = {
    "osdb": ("osdb_seizure_samples", "*.json"),
    "uea_epilepsy": ("uea_epilepsy", "*.ts"),
    "daphnet": ("daphnet_fog", "*.txt"),
    "adl": ("adl_wrist_accelerometer", "*/*.txt"),
    "uea_basicmotions": ("uea_basicmotions", "*.ts"),
    "emgdb": ("physionet_emgdb", "*.hea"),
}
#: Placements the detector may not have a model for, and the nearest one it has.
PLACEMENT_FALLBACK = {"ankle": "foot"}

Factory = Callable[[DeviceInfo], object]


# ----------------------------------------------------------------------------- running detectors

def twitchwatch_factory(classifier: str = "model") -> tuple[Factory | None, str]:
    """(factory, note): the live product's detector, or None and why it is unavailable.

    ``classifier="baseline"`` (the rule-based classifier) is for tests of this harness only; the
    published figures use the shipped model, as the live product does.
    """
    try:
        from twitchwatch.core.detector import Detector, make_detector
    except ImportError as exc:
        return None, f"twitchwatch.core.detector not available ({exc})"
    templates: dict[str, object] = {}  # one make_detector() per placement: its classifier and config

    def make(info: DeviceInfo):
        where = info.placement or "foot"
        if where not in templates:
            try:
                templates[where] = make_detector(info, classifier=classifier)
            except TwitchwatchError:
                fallback = PLACEMENT_FALLBACK.get(where)
                if fallback is None:
                    raise
                templates[where] = make_detector(info, placement=fallback, classifier=classifier)
        t = templates[where]
        # exactly what make_detector builds (same classifier object, same per-placement config), without
        # loading the model file again for each of ~800 recordings (tested against make_detector)
        return Detector(info, t.classifier, t.c)

    return make, (f"core.detector.make_detector (classifier={classifier!r}, per-placement config), "
                  f"as the live product builds it")


def osd_factory(info: DeviceInfo) -> OsdBaseline:
    return OsdBaseline(info)


def replay(make: Factory, source: FileSource) -> DetectorOutput:
    """Run a fresh detector over every item of ``source``; everything it output, concatenated."""
    det = make(source.device_info)
    outs = []
    for item in source.items(REPLAY_BLOCK_S):
        if isinstance(item, Chunk):
            outs.append(det.process(item))
        elif isinstance(item, Fault):
            outs.append(det.process_fault(item))
    outs.append(det.finish())
    return DetectorOutput.concat(outs)


class Runner:
    """Runs each available detector on a source and keeps errors as data, never as a crash."""

    def __init__(self, classifier: str = "model"):
        tw, note = twitchwatch_factory(classifier)
        self.factories: dict[str, Factory | None] = {"twitchwatch": tw, "osd": osd_factory}
        self.notes = {"twitchwatch": note, "osd": "OpenSeizureDetector algorithm, default settings (osd_baseline.py)"}
        self.errors: dict[str, Counter] = {d: Counter() for d in DETECTORS}
        self.failures: Counter = Counter()
        self.resampled: set[str] = set()
        self._mark: Counter = Counter()

    def available(self, name: str) -> bool:
        return self.factories[name] is not None

    def start_dataset(self) -> None:
        self._mark = Counter(self.failures)

    def report(self, name: str) -> dict | None:
        """None when ``name`` ran on every recording since :meth:`start_dataset`; else why not.

        A detector that failed on any recording of a dataset gets no figures for it: partial
        figures would silently leave out the recordings it could not handle.
        """
        if self.factories[name] is None:
            return {"error": self.notes[name]}
        failed = self.failures[name] - self._mark[name]
        if failed:
            return {"error": f"failed on {failed} recording(s): " + "; ".join(self.errors[name])}
        return None

    def run(self, name: str, source: FileSource) -> DetectorOutput | None:
        make = self.factories[name]
        if make is None:
            return None
        src = source
        accel = source.device_info.stream("accel")
        if name == "twitchwatch" and accel is not None and accel.rate_hz < DETECTOR_MIN_ACCEL_HZ:
            src = upsample_accel(source, DETECTOR_MIN_ACCEL_HZ)
            self.resampled.add(f"{source.format}: {accel.rate_hz:g} -> {src.device_info.stream('accel').rate_hz:g} Hz")
        try:
            return replay(make, src)
        except Exception as exc:  # noqa: BLE001 - an evaluation reports a failing detector, it does not die
            msg = f"{type(exc).__name__}: {exc}".splitlines()[0][:200]
            self.errors[name][msg] += 1
            self.failures[name] += 1
            return None


# ----------------------------------------------------------------------------- datasets

def label_fractions(counter: Counter) -> dict[str, float]:
    """{window label: fraction of windows}, most common first (diagnostics for the JSON)."""
    n = sum(counter.values())
    return {k: round(v / n, 3) for k, v in counter.most_common()} if n else {}


def count_window_labels(windows, intervals: list[tuple[float, float]], into: Counter, inside: bool = True,
                        stats: list | None = None) -> None:
    """Add the labels of windows whose centre lies inside (or outside) any of ``intervals``;
    append (dominant_hz, rhythmicity) of those windows to ``stats`` when given."""
    for w in windows:
        mid = 0.5 * (w.start_s + w.end_s)
        hit = any(a <= mid < b for a, b in intervals)
        if hit == inside:
            into[w.label] += 1
            if stats is not None:
                stats.append((w.dominant_hz, w.rhythmicity))


def window_stats(stats: list) -> dict:
    """Quartiles of the windows' dominant frequency (Hz) and rhythmicity (diagnostics)."""
    if not stats:
        return {}
    a = np.asarray(stats, dtype=np.float64)
    q = lambda x: [round(float(v), 2) for v in np.percentile(x, [25, 50, 75])]
    return {"windows": int(a.shape[0]), "dominant_hz_q25_50_75": q(a[:, 0]), "rhythmicity_q25_50_75": q(a[:, 1])}


def signal_facts(cases) -> dict:
    """What real seizure movement looks like at the wrist, independent of any detector.

    Per 5 s block of |a| (mean removed) inside / outside labelled seizures: the frequency of the
    spectral peak over 0.5-12 Hz, the fraction of that power in 3-8 Hz, and the standard deviation
    (g); quartiles of each.
    """
    groups: dict[str, list] = defaultdict(list)
    for case in cases:
        sz = case.meta["seizure"]
        if sz is None:
            continue
        for ch in case.source.items(5.0):
            if not isinstance(ch, Chunk) or ch.n * 1.0 / ch.rate_hz < 4.99:
                continue
            m = np.linalg.norm(ch.samples, axis=1) if ch.samples.shape[1] == 3 else ch.samples[:, 0]
            m = m - m.mean()
            power = np.abs(np.fft.rfft(m)) ** 2
            freq = np.fft.rfftfreq(m.size, 1.0 / ch.rate_hz)
            band = (freq >= 0.5) & (freq <= 12.0)
            if power[band].sum() <= 0:
                continue
            mid = ch.t0_s + 0.5 * ch.duration_s
            where = ("tonic_clonic" if case.meta["subtype"] == "Tonic-Clonic" else "other") + \
                ("_seizure" if sz[0] <= mid < sz[1] else "_outside")
            groups[where].append((freq[band][np.argmax(power[band])],
                                  power[(freq >= 3) & (freq < 8)].sum() / power[band].sum(), m.std()))
    q = lambda x: [round(float(v), 3) for v in np.percentile(x, [25, 50, 75])]
    return {k: {"blocks": len(v), "peak_hz_q25_50_75": q([a for a, _, _ in v]),
                "power_3_8_hz_fraction_q25_50_75": q([b for _, b, _ in v]), "std_g_q25_50_75": q([c for _, _, c in v])}
            for k, v in sorted(groups.items())}


def evaluate_osdb(files: list[Path], runner: Runner, placement: str | None) -> dict:
    """Real seizures (wrist, 25 Hz): per event, sensitivity and latency by subtype, false alerts."""
    per_event = []
    window_labels = {n: defaultdict(Counter) for n in DETECTORS}
    stats = {n: defaultdict(list) for n in DETECTORS}
    all_cases = []
    for f in files:
        cases = open_file(f, "osdb", placement).cases()
        all_cases += cases
        for case in cases:
            sz = case.meta["seizure"]
            row = {"event": case.meta["event_id"], "user": case.meta["user_id"], "subtype": case.meta["subtype"],
                   "seizure_s": None if sz is None else [round(sz[0], 1), round(sz[1], 1)],
                   "duration_s": round(case.source.duration_s, 1)}
            if sz is not None:
                group = "tonic_clonic" if case.meta["subtype"] == "Tonic-Clonic" else "other"
                for name in DETECTORS:
                    out = runner.run(name, case.source)
                    if out is None:
                        continue
                    count_window_labels(out.windows, [sz], window_labels[name][f"{group}_seizure"],
                                        stats=stats[name][f"{group}_seizure"])
                    count_window_labels(out.windows, [sz], window_labels[name]["outside_seizures"], inside=False,
                                        stats=stats[name]["outside_seizures"])
                    for level in scoring.LEVELS:
                        s = scoring.score_seizure(scoring.notification_times(out.alerts, level), sz[0], sz[1], 0.0,
                                                  case.source.duration_s, GRACE_BEFORE_S, GRACE_AFTER_S)
                        row.setdefault(name, {})[level] = {
                            "detected": s.detected, "latency_s": None if s.latency_s is None else round(s.latency_s, 1),
                            "false_alerts": s.false_alerts, "non_seizure_s": round(s.non_seizure_s, 1)}
            per_event.append(row)
    labelled = [r for r in per_event if r["seizure_s"] is not None]
    groups = {"tonic_clonic": [r for r in labelled if r["subtype"] == "Tonic-Clonic"],
              "other": [r for r in labelled if r["subtype"] != "Tonic-Clonic"], "all": labelled}
    users = sorted({r["user"] for r in labelled})
    result = {"data": {"events": len(per_event), "labelled": len(labelled),
                       "unlabelled_events": [r["event"] for r in per_event if r["seizure_s"] is None],
                       "by_subtype": dict(Counter(r["subtype"] for r in labelled)),
                       "grace_before_s": GRACE_BEFORE_S, "grace_after_s": GRACE_AFTER_S,
                       "signal": signal_facts(all_cases)},
              "per_event": per_event}
    for name in DETECTORS:
        if runner.report(name):
            result[name] = runner.report(name)
            continue
        res = {}
        for level in scoring.LEVELS:
            lev = {}
            for g, rows in list(groups.items()) + [(f"user{u}", [r for r in labelled if r["user"] == u]) for u in users]:
                scored = [r[name][level] for r in rows if name in r]
                hits = [s for s in scored if s["detected"]]
                lev[g] = {"events": len(scored), "detected": len(hits),
                          "sensitivity": scoring.ratio(len(hits), len(scored)),
                          "median_latency_s": scoring.median_or_none([s["latency_s"] for s in hits])}
            scored = [r[name][level] for r in labelled if name in r]
            fa = sum(s["false_alerts"] for s in scored)
            ns = sum(s["non_seizure_s"] for s in scored)
            lev["false_alerts"] = fa
            lev["non_seizure_h"] = round(ns / 3600, 3)
            lev["false_alerts_per_h"] = scoring.per_hour(fa, ns)
            res[level] = lev
        res["window_labels"] = {k: label_fractions(v) for k, v in window_labels[name].items()}
        res["window_stats"] = {k: window_stats(v) for k, v in stats[name].items()}
        result[name] = res
    return result


def evaluate_uea(files: list[Path], runner: Runner, placement: str | None, positive: str | None) -> dict:
    """UEA cases: per case (fresh detector each) and joined into one stream (one detector).

    Joined: a case counts as alerted when an alert episode is on during it (from its notification
    to its end), since an alarm raised in one case stays on through the next ones.
    """
    result: dict = {"data": {}}
    for f in files:
        src = open_file(f, "uea", placement)
        cases = src.cases()
        labels = sorted({c.label for c in cases})
        result["data"] = {"cases": dict(Counter(c.label for c in cases)),
                          "rate_hz": src.device_info.stream("accel").rate_hz,
                          "case_s": round(cases[0].source.duration_s, 3) if cases else 0.0,
                          "positive_class": positive}
        for name in DETECTORS:
            if runner.factories[name] is None:
                result[name] = runner.report(name)
                continue
            res = {}
            per_case = {level: {lab: {"cases": 0, "alerted": 0} for lab in labels} for level in scoring.LEVELS}
            window_labels: dict[str, Counter] = defaultdict(Counter)
            for c in cases:
                out = runner.run(name, c.source)
                if out is None:
                    continue
                window_labels[c.label].update(w.label for w in out.windows)
                for level in scoring.LEVELS:
                    cell = per_case[level][c.label]
                    cell["cases"] += 1
                    cell["alerted"] += int(scoring.notification_times(out.alerts, level).size > 0)
            joined_out = runner.run(name, src)
            if runner.report(name):
                result[name] = runner.report(name)
                continue
            joined = {level: {lab: {"cases": 0, "alerted": 0} for lab in labels} for level in scoring.LEVELS}
            if joined_out is not None:
                for level in scoring.LEVELS:
                    active = scoring.active_alert_intervals(joined_out.alerts, joined_out.episodes, level)
                    for c in cases:
                        onset = c.meta["onset_in_stream_s"]
                        cell = joined[level][c.label]
                        cell["cases"] += 1
                        cell["alerted"] += int(scoring.overlaps(active, onset, onset + c.source.duration_s))
                    res.setdefault("joined_alert_episodes", {})[level] = len(active)
            for level in scoring.LEVELS:
                for table in (per_case[level], joined[level]):
                    for cell in table.values():
                        cell["fraction"] = scoring.ratio(cell["alerted"], cell["cases"])
                res[level] = {"per_case": per_case[level], "joined": joined[level]}
                res["window_labels"] = {k: label_fractions(v) for k, v in sorted(window_labels.items())}
                if positive is not None:
                    pc = per_case[level]
                    res[level]["sensitivity"] = pc.get(positive, {}).get("fraction")
                    res[level]["false_positive_rate"] = {lab: pc[lab]["fraction"] for lab in labels if lab != positive}
            result[name] = res
    return result


def evaluate_daphnet(files: list[Path], runner: Runner, placement: str | None) -> dict:
    """Parkinsonian gait and freezing at the ankle: every rhythmic-jerking alert is false."""
    per_file, freeze_labels = [], {n: Counter() for n in DETECTORS}
    totals = {n: {level: {"experiment": 0, "whole": 0} for level in scoring.LEVELS} for n in DETECTORS}
    exp_s = whole_s = freeze_s = 0.0
    for f in files:
        src = open_file(f, "daphnet", placement)
        experiment = [(a.onset_s, a.onset_s + a.duration_s) for a in src.annotations if a.label != "outside_experiment"]
        freezes = [(a.onset_s, a.onset_s + a.duration_s) for a in src.annotations if a.label == "freeze"]
        e_s = sum(b - a for a, b in experiment)
        row = {"file": f.name, "hours": round(src.duration_s / 3600, 3), "experiment_h": round(e_s / 3600, 3),
               "freeze_s": round(sum(b - a for a, b in freezes), 1)}
        exp_s += e_s
        whole_s += src.duration_s
        freeze_s += sum(b - a for a, b in freezes)
        for name in DETECTORS:
            out = runner.run(name, src)
            if out is None:
                continue
            row[name] = {}
            for level in scoring.LEVELS:
                times = scoring.notification_times(out.alerts, level)
                in_exp = sum(scoring.alerts_in(times, a, b) for a, b in experiment)
                totals[name][level]["experiment"] += in_exp
                totals[name][level]["whole"] += int(times.size)
                row[name][level] = {"alerts_experiment": in_exp, "alerts_whole": int(times.size)}
            for w in out.windows:
                mid = 0.5 * (w.start_s + w.end_s)
                if any(a <= mid < b for a, b in freezes):
                    freeze_labels[name][w.label] += 1
        per_file.append(row)
    result = {"data": {"files": len(files), "hours": round(whole_s / 3600, 3), "experiment_h": round(exp_s / 3600, 3),
                       "freeze_min": round(freeze_s / 60, 1)}, "per_file": per_file}
    for name in DETECTORS:
        if runner.report(name):
            result[name] = runner.report(name)
            continue
        res = {}
        for level in scoring.LEVELS:
            t = totals[name][level]
            per_h = scoring.per_hour(t["experiment"], exp_s)
            res[level] = {"false_alerts_experiment": t["experiment"], "false_alerts_whole": t["whole"],
                          "false_alerts_per_h": per_h, "false_alerts_per_24h": None if per_h is None else per_h * 24,
                          "false_alerts_per_h_whole": scoring.per_hour(t["whole"], whole_s)}
        n = sum(freeze_labels[name].values())
        res["freeze_window_labels"] = {k: round(v / n, 3) for k, v in freeze_labels[name].most_common()} if n else {}
        result[name] = res
    return result


def evaluate_adl(files: list[Path], runner: Runner, placement: str | None) -> dict:
    """Daily activities at the wrist: alert episodes per activity (every one is false)."""
    acts: dict[str, dict] = defaultdict(lambda: {"files": 0, "seconds": 0.0, "subjects": set()})
    counts = {n: defaultdict(lambda: {lvl: {"alerts": 0, "files_alerted": 0} for lvl in scoring.LEVELS}) for n in DETECTORS}
    adl_labels = {n: defaultdict(Counter) for n in DETECTORS}
    for f in files:
        src = open_file(f, "adl", placement)
        act = f.parent.name
        acts[act]["files"] += 1
        acts[act]["seconds"] += src.duration_s
        acts[act]["subjects"].add(f.stem.rsplit("-", 1)[-1])
        for name in DETECTORS:
            out = runner.run(name, src)
            if out is None:
                continue
            adl_labels[name][act].update(w.label for w in out.windows)
            for level in scoring.LEVELS:
                k = int(scoring.notification_times(out.alerts, level).size)
                cell = counts[name][act][level]
                cell["alerts"] += k
                cell["files_alerted"] += int(k > 0)
    result = {"data": {a: {"files": v["files"], "minutes": round(v["seconds"] / 60, 1), "subjects": len(v["subjects"])}
                       for a, v in sorted(acts.items())}}
    for name in DETECTORS:
        if runner.report(name):
            result[name] = runner.report(name)
            continue
        res = {}
        for level in scoring.LEVELS:
            per_act = {}
            for a, v in sorted(acts.items()):
                cell = counts[name][a][level]
                per_act[a] = {"alerts": cell["alerts"], "files_alerted": cell["files_alerted"],
                              "per_h": scoring.per_hour(cell["alerts"], v["seconds"])}
            total = sum(c["alerts"] for c in per_act.values())
            secs = sum(v["seconds"] for v in acts.values())
            res[level] = {"per_activity": per_act, "false_alerts": total, "false_alerts_per_h": scoring.per_hour(total, secs)}
        res["window_labels"] = {a: label_fractions(c) for a, c in sorted(adl_labels[name].items())}
        result[name] = res
    return result


def evaluate_emgdb(files: list[Path], runner: Runner, placement: str | None) -> dict:
    """Needle EMG of tibialis anterior: does the EMG path run, and what does it find per file."""
    result: dict = {"data": {}, "osd": {"not_applicable": "no accelerometer in these records"}}
    rows = {}
    for f in files:
        src = open_file(f, "wfdb", placement)
        rows[f.stem] = {"seconds": round(src.duration_s, 2), "rate_hz": src.device_info.stream("emg").rate_hz}
        out = runner.run("twitchwatch", src)
        if out is not None:
            rows[f.stem]["twitchwatch"] = {
                "events": dict(Counter(e.kind for e in out.events)),
                "events_per_min": round(len(out.events) / (src.duration_s / 60), 1) if src.duration_s else None,
                "windows": dict(Counter(w.label for w in out.windows)),
                "episodes": dict(Counter(e.kind for e in out.episodes)),
                "alerts": dict(Counter(f"{a.level}:{a.kind}" for a in out.alerts))}
    result["data"] = {k: {kk: vv for kk, vv in v.items() if kk != "twitchwatch"} for k, v in rows.items()}
    result["twitchwatch"] = runner.report("twitchwatch") or {k: v.get("twitchwatch") for k, v in rows.items()}
    return result


def subset_files(name: str, files: list[Path], limit: int) -> list[Path]:
    """A deterministic subset: for ADL the first file of each activity first (so every activity
    keeps one), otherwise the shortest files."""
    if name == "adl":
        by_act: dict[str, list[Path]] = defaultdict(list)
        for f in files:
            by_act[f.parent.name].append(f)
        picked = [v[0] for _, v in sorted(by_act.items())]
        rest = [f for f in files if f not in picked]
        return sorted((picked + rest)[:limit])
    return sorted(sorted(files, key=lambda f: f.stat().st_size)[:limit])


def detector_state() -> dict:
    """Which detector produced the figures: the git commit of the tree and sha256 of each model file.

    The repository's state is read, not changed; ``modified`` lists uncommitted changes under the
    detector's own paths (host/twitchwatch/core, models), so a table made from work in progress says so.
    """
    import hashlib
    import subprocess

    state: dict = {"commit": None, "modified": [], "models": {}}
    repo = Path(__file__).resolve().parents[3]
    try:
        state["commit"] = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                                         text=True, timeout=10).stdout.strip() or None
        status = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "host/twitchwatch/core", "models"],
                                capture_output=True, text=True, timeout=10).stdout
        state["modified"] = [ln[3:] for ln in status.splitlines() if ln.strip()]
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        from twitchwatch.core.classify import model_path
        folder = Path(model_path("wrist")).parent
        for f in sorted(folder.glob("*.skops")):
            state["models"][f.name] = hashlib.sha256(f.read_bytes()).hexdigest()[:12]
    except (ImportError, AttributeError, OSError):
        pass
    return state


def find_datasets(root: Path, only: tuple[str, ...] = DATASETS) -> dict[str, list[Path]]:
    found = {}
    for name in only:
        folder, pattern = FOLDERS[name]
        files = sorted((root / folder).glob(pattern))
        if files:
            found[name] = files
    return found


#: What real data trained or tuned anything: every recording here is held out (a test). The
#: simulator's wrist-seizure and gait ranges were widened after an earlier run of this evaluation
#: (model card, ``sim/activities.py``): a design influence, not training or tuning on the data.
TRAINED_OR_TUNED_ON_REAL_DATA = ("nothing: every recording is held out (detector trained on the simulator only, whose "
                                 "wrist-seizure and gait ranges were widened after an earlier run of this evaluation; "
                                 "OSD at its defaults)")


def evaluate(root: Path, placement: str | None = None, only: tuple[str, ...] = DATASETS,
             max_files: int | dict | None = None, classifier: str = "model", progress: bool = False) -> dict:
    """Evaluate both detectors on every dataset under ``root``; a JSON-ready dict.

    ``max_files`` limits the files per dataset (an int for all, or {dataset: n}) for a quick,
    stated subset (see :func:`subset_files`).
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(f"{root}: not a folder of recordings")
    found = find_datasets(root, only)
    if not found:
        raise ConfigError(f"{root}: none of the expected dataset folders ({', '.join(f for f, _ in FOLDERS.values())})")
    runner = Runner(classifier)
    out = {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
           "command": " ".join(["twitchwatch"] + sys.argv[1:]) if Path(sys.argv[0]).name == "twitchwatch"
           else f"twitchwatch evaluate --real {root} --json" + (f" --placement {placement}" if placement else ""),
           "data_dir": str(root), "placement_override": placement,
           "grace_before_s": GRACE_BEFORE_S, "grace_after_s": GRACE_AFTER_S,
           "trained_or_tuned_on_real_data": TRAINED_OR_TUNED_ON_REAL_DATA,
           "detectors": runner.notes, "detector_state": detector_state(), "datasets": {}, "seconds": {}}
    for name, files in found.items():
        limit = max_files.get(name) if isinstance(max_files, dict) else max_files
        if limit is not None and len(files) > limit:
            files = subset_files(name, files, limit)
        t0 = time.perf_counter()
        if progress:
            print(f"evaluate: {name} ({len(files)} file(s))...", file=sys.stderr, flush=True)
        runner.start_dataset()
        if name == "osdb":
            res = evaluate_osdb(files, runner, placement)
        elif name == "uea_epilepsy":
            res = evaluate_uea(files, runner, placement, "EPILEPSY")
        elif name == "uea_basicmotions":
            res = evaluate_uea(files, runner, placement, None)
        elif name == "daphnet":
            res = evaluate_daphnet(files, runner, placement)
        elif name == "adl":
            res = evaluate_adl(files, runner, placement)
        else:
            res = evaluate_emgdb(files, runner, placement)
        out["datasets"][name] = res
        out["seconds"][name] = round(time.perf_counter() - t0, 2)
    out["errors"] = {n: dict(c) for n, c in runner.errors.items() if c}
    out["resampled_for_twitchwatch"] = sorted(runner.resampled)
    return out


# ----------------------------------------------------------------------------- summary and output

def _pct(x):
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _num(x, fmt="{:.2f}"):
    return "n/a" if x is None else fmt.format(x)


def summary_rows(result: dict) -> list[tuple[str, str, str, str]]:
    """(dataset, metric, twitchwatch, osd) rows: the comparison table, the same for terminal and docs."""
    rows = []
    ds = result["datasets"]

    def both(getter):
        cells = []
        for name in DETECTORS:
            res = ds_res.get(name)
            if res is None:
                cells.append("not run")
            elif "error" in res:
                cells.append("failed (see below)")
            else:
                try:
                    cells.append(getter(res))
                except (KeyError, TypeError):
                    cells.append("n/a")
        return cells

    if "osdb" in ds:
        ds_res = ds["osdb"]
        for g, label in (("tonic_clonic", "tonic-clonic"), ("other", "other seizures")):
            rows.append(("OSDB real seizures (wrist, 25 Hz)" if g == "tonic_clonic" else "", f"sensitivity, {label} (any alert)",
                         *both(lambda r, g=g: f"{_pct(r['any'][g]['sensitivity'])} ({r['any'][g]['detected']}/{r['any'][g]['events']})")))
            rows.append(("", f"sensitivity, {label} (alarm)",
                         *both(lambda r, g=g: f"{_pct(r['alarm'][g]['sensitivity'])} ({r['alarm'][g]['detected']}/{r['alarm'][g]['events']})")))
            rows.append(("", f"median latency, {label} (any alert)",
                         *both(lambda r, g=g: _num(r['any'][g]['median_latency_s'], "{:.0f} s"))))
        rows.append(("", "alerts outside seizure +- grace (any)",
                     *both(lambda r: f"{r['any']['false_alerts']} in {r['any']['non_seizure_h']:.2f} h")))
    if "uea_epilepsy" in ds:
        ds_res = ds["uea_epilepsy"]
        rows.append(("UEA Epilepsy (acted, wrist, 16 Hz, 12.9 s cases)", "sensitivity per case (any alert)",
                     *both(lambda r: _pct(r["any"]["sensitivity"]))))
        for lab in ("WALKING", "RUNNING", "SAWING"):
            rows.append(("", f"false positives per case, {lab.lower()}",
                         *both(lambda r, lab=lab: _pct(r["any"]["false_positive_rate"].get(lab)))))
        rows.append(("", "joined stream: seizure cases under an alert",
                     *both(lambda r: _pct(r["any"]["joined"]["EPILEPSY"]["fraction"]))))
        rows.append(("", "joined stream: other cases under an alert",
                     *both(lambda r: _pct(scoring.ratio(sum(c["alerted"] for k, c in r["any"]["joined"].items() if k != "EPILEPSY"),
                                                        sum(c["cases"] for k, c in r["any"]["joined"].items() if k != "EPILEPSY"))))))
    if "daphnet" in ds:
        ds_res = ds["daphnet"]
        rows.append((f"Daphnet (Parkinson gait, ankle, 64 Hz, {ds_res['data']['experiment_h']:.1f} h)",
                     "false alerts per 24 h (any)", *both(lambda r: _num(r["any"]["false_alerts_per_24h"], "{:.1f}"))))
        rows.append(("", "false alerts (any / alarm)",
                     *both(lambda r: f"{r['any']['false_alerts_experiment']} / {r['alarm']['false_alerts_experiment']}")))
        rows.append(("", "freezing-of-gait windows labelled as",
                     *both(lambda r: ", ".join(f"{k} {100 * v:.0f}%" for k, v in list(r["freeze_window_labels"].items())[:3]) or "n/a")))
    if "adl" in ds:
        ds_res = ds["adl"]
        hours = sum(v["minutes"] for v in ds_res["data"].values()) / 60
        rows.append((f"ADL wrist activities (32 Hz, {hours:.1f} h)", "false alerts, all activities (any)",
                     *both(lambda r: f"{r['any']['false_alerts']} ({_num(r['any']['false_alerts_per_h'], '{:.1f}')}/h)")))
        for act in ds_res["data"]:
            rows.append(("", f"  {act}", *both(lambda r, act=act: str(r["any"]["per_activity"][act]["alerts"]))))
    if "uea_basicmotions" in ds:
        ds_res = ds["uea_basicmotions"]
        for lab in sorted(ds_res["data"]["cases"]):
            rows.append(("UEA BasicMotions (wrist, 10 Hz, 10 s cases)" if lab == sorted(ds_res["data"]["cases"])[0] else "",
                         f"cases alerted, {lab.lower()}",
                         *both(lambda r, lab=lab: f"{r['any']['per_case'][lab]['alerted']}/{r['any']['per_case'][lab]['cases']}")))
    if "emgdb" in ds:
        ds_res = ds["emgdb"]
        first = True
        for rec in ds_res["data"]:
            rows.append(("PhysioNet emgdb (needle EMG, 4 kHz)" if first else "", f"events/min, {rec}",
                         *both(lambda r, rec=rec: _num((r.get(rec) or {}).get("events_per_min"), "{:.1f}")
                               if "not_applicable" not in r else "n/a (no accel)")))
            first = False
    return rows


def footnotes(result: dict) -> list[str]:
    """What a reader of the table must know: grace, tuning, failures, resampling."""
    foot = [f"grace: {result['grace_before_s']:g} s before the labelled start, {result['grace_after_s']:g} s after "
            f"the end; trained/tuned on real data: {result['trained_or_tuned_on_real_data']}"]
    if result.get("subset"):
        foot.append(f"SUBSET (--quick): datasets {', '.join(result['subset']['only'])}, files limited to "
                    f"{result['subset']['max_files']}; not comparable with the full published table")
    st = result.get("detector_state") or {}
    if st:
        models = ", ".join(f"{k} {v}" for k, v in st.get("models", {}).items()) or "none"
        foot.append(f"detector: commit {st.get('commit')}, model files (sha256) {models}"
                    + (f"; UNCOMMITTED changes in {', '.join(st['modified'])}" if st.get("modified") else ""))
    for name, errs in result.get("errors", {}).items():
        for msg, n in errs.items():
            foot.append(f"{name} failed on {n} recording(s): {msg}")
    if result["detectors"].get("twitchwatch", "").startswith("twitchwatch.core.detector not available"):
        foot.append(f"twitchwatch: {result['detectors']['twitchwatch']}")
    if result.get("resampled_for_twitchwatch"):
        foot.append("upsampled for the twitchwatch detector: " + "; ".join(result["resampled_for_twitchwatch"]))
    return foot


def format_table(result: dict) -> str:
    rows = [("dataset", "metric", "twitchwatch", "OSD")] + summary_rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines + ["", f"date: {result['date']}   command: {result['command']}"] + footnotes(result))


def window_label_rows(result: dict) -> list[tuple[str, str, str]]:
    """(recording part, twitchwatch window labels, OSD positive windows): why the figures are what
    they are. Windows are 4 s every 0.5 s for twitchwatch, 5 s every 5 s for OSD."""
    ds = result["datasets"]
    rows = []

    def fmt(labels: dict) -> str:
        return ", ".join(f"{k} {100 * v:.0f}%" for k, v in labels.items() if round(100 * v) >= 1) or "n/a"

    def pair(name, tw_labels, osd_labels):
        rows.append((name, fmt(tw_labels or {}), f"{100 * (osd_labels or {}).get('rhythmic_jerking', 0.0):.0f}%"
                     if osd_labels else "n/a"))

    def wl(dataset, det):
        res = ds.get(dataset, {}).get(det) or {}
        return res.get("window_labels", {}) if "error" not in res else {}

    if "osdb" in ds:
        for key, name in (("tonic_clonic_seizure", "OSDB, inside tonic-clonic seizures"),
                          ("other_seizure", "OSDB, inside other seizures"),
                          ("outside_seizures", "OSDB, outside the seizures")):
            pair(name, wl("osdb", "twitchwatch").get(key), wl("osdb", "osd").get(key))
    if "uea_epilepsy" in ds:
        for lab in ("EPILEPSY", "WALKING", "RUNNING", "SAWING"):
            pair(f"UEA Epilepsy, {lab.lower()} cases", wl("uea_epilepsy", "twitchwatch").get(lab),
                 wl("uea_epilepsy", "osd").get(lab))
    if "daphnet" in ds:
        tw = (ds["daphnet"].get("twitchwatch") or {}).get("freeze_window_labels")
        osd = (ds["daphnet"].get("osd") or {}).get("freeze_window_labels")
        pair("Daphnet, freezing of gait", tw, osd)
    if "adl" in ds:
        for act in ("Brush_teeth", "Comb_hair", "Eat_soup", "Drink_glass", "Walk"):
            pair(f"ADL, {act.replace('_', ' ').lower()}", wl("adl", "twitchwatch").get(act), wl("adl", "osd").get(act))
    return rows


def markdown_table(result: dict) -> str:
    """The same rows as :func:`format_table`, as a Markdown table with date, command and notes, then
    the window-label diagnostics (:func:`window_label_rows`)."""
    out = ["| dataset | metric | twitchwatch | OSD |", "|---|---|---|---|"]
    out += ["| " + " | ".join(c.replace("|", "/") for c in r) + " |" for r in summary_rows(result)]
    out += ["", f"Produced {result['date']} by `{result['command']}`.", ""]
    out += [f"- {line}" for line in footnotes(result)]
    diag = window_label_rows(result)
    if diag:
        out += ["", "What the windows were labelled (same run):", "",
                "| recording part | twitchwatch windows | OSD positive windows |", "|---|---|---|"]
        out += ["| " + " | ".join(r) + " |" for r in diag]
    return "\n".join(out)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, set):
        return sorted(o)
    raise TypeError(type(o).__name__)


def to_json(result: dict) -> str:
    return json.dumps(result, default=_json_default, indent=1, sort_keys=False)


def run(args) -> int:
    if getattr(args, "quick", False):  # the stated regression subset (REGRESSION_SUBSET)
        result = evaluate(Path(args.real), placement=args.placement, only=REGRESSION_SUBSET["only"],
                          max_files=REGRESSION_SUBSET["max_files"], progress=True)
        result["subset"] = {"only": list(REGRESSION_SUBSET["only"]), "max_files": REGRESSION_SUBSET["max_files"]}
    else:
        result = evaluate(Path(args.real), placement=args.placement, progress=True)
    print(to_json(result) if args.json else format_table(result))
    return 0


DOC_BEGIN = "<!-- results:begin (generated by twitchwatch.evaluation.real.update_doc; do not edit) -->"
DOC_END = "<!-- results:end -->"


def update_doc(doc: Path, result: dict) -> None:
    """Replace the generated table in ``doc`` (between the markers) with this result's table."""
    text = doc.read_text(encoding="utf-8")
    if DOC_BEGIN not in text or DOC_END not in text:
        raise ConfigError(f"{doc}: result markers not found")
    head, rest = text.split(DOC_BEGIN, 1)
    _, tail = rest.split(DOC_END, 1)
    doc.write_text(head + DOC_BEGIN + "\n" + markdown_table(result) + "\n" + DOC_END + tail, encoding="utf-8")


#: The regression subset (tests/host/evaluation/test_real_evaluation.py): every OSDB event, every
#: UEA case, the shortest Daphnet file, one ADL file per activity (emgdb has no guarded figure):
#: about a third of the running time of the full evaluation.
REGRESSION_SUBSET = {"only": ("osdb", "uea_epilepsy", "daphnet", "adl", "uea_basicmotions"),
                     "max_files": {"daphnet": 1, "adl": 14}}
#: A published figure may get worse by this much before the regression test fails:
#: sensitivities and per-case fractions by 5 percentage points (about one OSDB tonic-clonic event
#: in 22), false alerts per hour by 10 % of the published value + 0.5 per hour.
MARGIN_FRACTION = 0.05
MARGIN_RATE_REL, MARGIN_RATE_ABS = 0.10, 0.5


def evaluate_regression_subset(root: Path, classifier: str = "model") -> dict:
    return evaluate(root, only=REGRESSION_SUBSET["only"], max_files=REGRESSION_SUBSET["max_files"], classifier=classifier)


def headline_figures(result: dict) -> dict[str, tuple[float | None, str]]:
    """Flat {name: (value, "higher" | "lower" is better)} of the figures the regression test guards."""
    figs: dict[str, tuple[float | None, str]] = {}
    ds = result["datasets"]

    def get(*keys):
        node = ds
        for k in keys:
            if not isinstance(node, dict) or k not in node:
                return None
            node = node[k]
        return node

    for det in DETECTORS:
        for g in ("tonic_clonic", "other"):
            for level in scoring.LEVELS:
                figs[f"osdb/{det}/{level}/{g}/sensitivity"] = (get("osdb", det, level, g, "sensitivity"), "higher")
        figs[f"osdb/{det}/any/false_alerts_per_h"] = (get("osdb", det, "any", "false_alerts_per_h"), "lower")
        figs[f"uea_epilepsy/{det}/any/sensitivity"] = (get("uea_epilepsy", det, "any", "sensitivity"), "higher")
        for lab in ("WALKING", "RUNNING", "SAWING"):
            figs[f"uea_epilepsy/{det}/any/fp/{lab}"] = (get("uea_epilepsy", det, "any", "false_positive_rate", lab), "lower")
        figs[f"daphnet/{det}/any/false_alerts_per_h"] = (get("daphnet", det, "any", "false_alerts_per_h"), "lower")
        figs[f"adl/{det}/any/false_alerts_per_h"] = (get("adl", det, "any", "false_alerts_per_h"), "lower")
        for lab, cell in (get("uea_basicmotions", det, "any", "per_case") or {}).items():
            figs[f"uea_basicmotions/{det}/any/{lab}"] = (cell.get("fraction"), "lower")
    return figs


def regressions(published: dict[str, list], current: dict[str, tuple[float | None, str]]) -> list[str]:
    """Lines naming each figure that got worse than published by more than the margin."""
    worse = []
    for name, (old, better) in published.items():
        if old is None:
            continue
        new = current.get(name, (None, better))[0]
        if new is None:
            worse.append(f"{name}: published {old:.3f}, now not available")
            continue
        is_rate = "per_h" in name
        margin = (MARGIN_RATE_REL * old + MARGIN_RATE_ABS) if is_rate else MARGIN_FRACTION
        if (better == "higher" and new < old - margin) or (better == "lower" and new > old + margin):
            worse.append(f"{name}: published {old:.3f}, now {new:.3f} (margin {margin:.3f})")
    return worse


def publish(root: Path, docs: Path, classifier: str = "model") -> dict:
    """Run the full evaluation and the regression subset; write the docs' JSON, table and baseline."""
    result = evaluate(root, classifier=classifier)
    result["command"] = f"twitchwatch evaluate --real {root} --json"
    (docs / "real-data-evaluation.json").write_text(to_json(result) + "\n", encoding="utf-8")
    update_doc(docs / "real-data-evaluation.md", result)
    subset = evaluate_regression_subset(root, classifier)
    baseline = {"date": result["date"], "subset": {"only": list(REGRESSION_SUBSET["only"]),
                                                   "max_files": REGRESSION_SUBSET["max_files"]},
                "figures": {k: v for k, v in headline_figures(subset).items()}}
    (docs / "real-data-regression.json").write_text(json.dumps(baseline, indent=1, default=_json_default) + "\n",
                                                     encoding="utf-8")
    return result


if __name__ == "__main__":
    # python -m twitchwatch.evaluation.real publish REAL_DIR DOCS_DIR   (full run + docs + baseline)
    # python -m twitchwatch.evaluation.real table RESULT.json DOC.md    (re-render the docs table)
    if sys.argv[1] == "publish":
        publish(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        update_doc(Path(sys.argv[3]), json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))
