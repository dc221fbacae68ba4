"""`twitchwatch evaluate --real DIR [--json] [--quick]`: cross-fitted figures on public recordings,
side by side with OpenSeizureDetector (OSD) on exactly the same recordings.

Steps (progress on stderr):

1. every recording of every set in DIR is read (:mod:`.datasets`; OSDB duplicates dropped);
2. simulated training subjects are drawn for each placement (the same corpus as ``twitchwatch
   train``) and the window model is fitted on them;
3. each real recording is described by the detector (its seizure-model features per window);
4. OSD runs on every recording; twitchwatch is cross-fitted (:mod:`.crossfit`): each group (person
   or source) is scored by a model trained without it, with settings chosen without it;
5. a summary per set, the issue's goals with met / not met, and per-recording detail.

``--quick`` runs a stated subset (a few sets and recordings, fewer simulated subjects) for tests; its
figures are not comparable with the full run.
"""

from __future__ import annotations

import json
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from twitchwatch.core.config import DetectorConfig
from twitchwatch.errors import ConfigError, TwitchwatchError
from twitchwatch.learn.corpus import SIM_MINUTES, SIM_SEED, SIM_SUBJECTS, real_windows, sim_windows
from twitchwatch.learn.fit import fit_window_model

from . import scoring
from .crossfit import UnitScore, crossfit_scores, osd_scores
from .datasets import SET_NAMES, Unit, load_units
from .sim import evaluate as evaluate_sim

DETECTORS = ("twitchwatch", "osd")
#: --quick: these sets, at most this many recordings each, and a smaller simulated corpus.
QUICK = {"sets": ("osdb_seizure_samples", "uea_epilepsy", "adl_wrist_accelerometer", "foot_gait_ipol"),
         "max_units": 16, "sim_subjects": 6, "sim_minutes": 4.0}
#: Sets whose every notification is false, and where the goal is fewer than OSD / none at all.
FEWER_THAN_OSD = ("adl_wrist_accelerometer", "uea_basicmotions", "osd_watch_daylogs", "osdb_false_alarms",
                  "smartwatch_har")
NONE_AT_ALL = ("foot_gait_ipol", "foot_gait_gaitmap", "daphnet_fog")
UEA_CONFOUNDERS = ("WALKING", "RUNNING", "SAWING")
#: The issue's simulator goals for the foot (held-out simulated subjects, the shipped foot model).
SIM_GOALS = {"sensitivity": 0.95, "false_alarms_per_24h": 0.2, "median_latency_s": 5.0, "fasciculation_f1": 0.9}
#: How the figures were made (printed with them).
METHOD = ("out of fold: each group (a person; the set where persons are unknown) scored by a model trained on "
          "the simulator and every other real group, alert settings chosen inside that training data by "
          "3-fold cross-validation over its groups; OSD (default settings) on the same recordings; scored per recording: "
          f"detected when an alert falls in [start - {scoring.SEIZURE_GRACE_BEFORE_S:g} s, end + "
          f"{scoring.SEIZURE_GRACE_AFTER_S:g} s], every other alert false")


def evaluate(root: Path, quick: bool = False, progress: bool = False) -> dict:
    """The whole evaluation as a JSON-ready dict (see module doc)."""
    t_start = time.perf_counter()
    say = (lambda msg: print(f"evaluate: {msg}", file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    only = QUICK["sets"] if quick else SET_NAMES
    units, facts = load_units(Path(root), DetectorConfig().min_accel_rate_hz, only)
    if not units:
        raise ConfigError(f"{root}: none of the expected dataset folders ({', '.join(only)})")
    if quick:
        units = _subset(units, QUICK["max_units"])
    subjects, minutes = (QUICK["sim_subjects"], QUICK["sim_minutes"]) if quick else (SIM_SUBJECTS, SIM_MINUTES)
    say(f"{len(units)} recordings in {len({u.set for u in units})} sets")
    placements = sorted({u.placement for u in units})
    sims = {p: sim_windows(p, SIM_SEED, subjects, minutes, progress) for p in placements}
    window_models = {p: fit_window_model(sims[p], SIM_SEED) for p in placements}
    say("describing the real recordings")
    real = real_windows([u for u in units if u.train], progress)
    say("OpenSeizureDetector on every recording")
    osd = osd_scores(units)
    say(f"cross-fitting twitchwatch over {len({u.group for u in units if u.train})} groups")
    tw, folds = crossfit_scores(units, real, sims, window_models, SIM_SEED, progress)
    scores = {"twitchwatch": tw, "osd": osd}
    summary = summary_rows(units, scores)
    say("simulator, held-out subjects, shipped foot model (evaluate --sim)")
    try:
        sim_figures = evaluate_sim("foot", quick=quick)
    except TwitchwatchError as exc:  # no usable shipped model: the goals say so, the real figures stand
        sim_figures = {"error": str(exc)}
    result = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": f"twitchwatch evaluate --real {root} --json" + (" --quick" if quick else ""),
        "out_of_fold": True,
        "method": METHOD,
        "quick": quick,
        "summary": summary,
        "goals": goals(summary, units, scores) + sim_goals(sim_figures),
        "simulator_foot": {k: v for k, v in sim_figures.items() if k not in ("confusion", "baseline")},
        "sets": {s: set_detail(s, units, scores, facts.get(s, {})) for s in dict.fromkeys(u.set for u in units)},
        "training": {"simulated_subjects_per_placement": subjects, "minutes_each": minutes, "seed": SIM_SEED,
                     "real_windows": int(real.y.size), "real_seizure_windows": int((real.y == 1).sum())},
        "folds": folds,
        "seconds": round(time.perf_counter() - t_start, 1),
    }
    return result


def _subset(units: list[Unit], per_set: int) -> list[Unit]:
    out, seen = [], defaultdict(int)
    for u in units:
        if seen[u.set] < per_set:
            out.append(u)
            seen[u.set] += 1
    return out


def _figures(pairs: list[tuple[Unit, UnitScore | None]]) -> dict | None:
    """detected / false_alerts / median_latency_s over units (None when the detector cannot run)."""
    if any(s is None for _, s in pairs):
        return None
    with_sz = [s for u, s in pairs if u.seizure is not None]
    found = [s for s in with_sz if s.detected]
    return {"detected": len(found) if with_sz else None,
            "false_alerts": int(sum(s.false_alerts for _, s in pairs)),
            "median_latency_s": None if not found else round(float(np.median([s.latency_s for s in found])), 1)}


def _row(name: str, units: list[Unit], idx: list[int], scores: dict) -> dict:
    row = {"set": name, "placement": "/".join(sorted({units[i].placement for i in idx})),
           "recordings": len(idx), "hours": round(sum(units[i].duration_s for i in idx) / 3600.0, 3),
           "seizures": sum(units[i].seizure is not None for i in idx)}
    for det in DETECTORS:
        row[det] = _figures([(units[i], scores[det][i]) for i in idx])
    return row


def summary_rows(units: list[Unit], scores: dict) -> list[dict]:
    """One row per set (folder name), plus ``folder:subtype`` rows for sets with seizure subtypes."""
    rows = []
    for s in dict.fromkeys(u.set for u in units):
        idx = [i for i, u in enumerate(units) if u.set == s]
        rows.append(_row(s, units, idx, scores))
        subtypes = sorted({units[i].subtype for i in idx if units[i].subtype and s == "osdb_seizure_samples"})
        for sub in subtypes:
            rows.append(_row(f"{s}:{sub}", units, [i for i in idx if units[i].subtype == sub], scores))
    return rows


def _uea_false_positives(units, scores, det) -> int | None:
    vals = [scores[det][i] for i, u in enumerate(units) if u.set == "uea_epilepsy" and u.label in UEA_CONFOUNDERS]
    if not vals or any(v is None for v in vals):
        return None
    return sum(v.notifications > 0 for v in vals)


def goals(summary: list[dict], units: list[Unit], scores: dict) -> list[dict]:
    """The issue's goals on this run, each with ``met`` true/false (false where not measurable)."""
    rows = {r["set"]: r for r in summary}
    out = []

    def add(goal, met, detail):
        out.append({"goal": goal, "met": bool(met), "detail": detail})

    def pair(name, key):
        r = rows.get(name) or {}
        tw, osd = r.get("twitchwatch") or {}, r.get("osd") or {}
        return tw.get(key), osd.get(key)

    for name, label in (("osdb_seizure_samples:tonic_clonic", "OSDB tonic-clonic"), ("osdb_seizure_samples", "OSDB all seizure types")):
        tw, osd = pair(name, "detected")
        n = (rows.get(name) or {}).get("seizures")
        add(f"{label}: detected >= OSD", tw is not None and osd is not None and tw >= osd,
            f"twitchwatch {tw}/{n}, OSD {osd}/{n}")
    tw, osd = pair("osdb_seizure_samples:tonic_clonic", "median_latency_s")
    add("OSDB tonic-clonic: median latency <= OSD", tw is not None and osd is not None and tw <= osd,
        f"twitchwatch {tw} s, OSD {osd} s")
    tw, osd = pair("uea_epilepsy", "detected")
    n = (rows.get("uea_epilepsy") or {}).get("seizures")
    add("UEA acted seizures: detected >= OSD", tw is not None and osd is not None and tw >= osd,
        f"twitchwatch {tw}/{n}, OSD {osd}/{n}")
    fp = {d: _uea_false_positives(units, scores, d) for d in DETECTORS}
    add("UEA walking/running/sawing: fewer cases alerted than OSD",
        None not in fp.values() and (fp["twitchwatch"] < fp["osd"] or fp["twitchwatch"] == fp["osd"] == 0),
        f"twitchwatch {fp['twitchwatch']}, OSD {fp['osd']}")
    for name in FEWER_THAN_OSD:
        tw, osd = pair(name, "false_alerts")
        add(f"{name}: fewer false alerts than OSD",
            tw is not None and osd is not None and (tw < osd or tw == osd == 0), f"twitchwatch {tw}, OSD {osd}")
    for name in NONE_AT_ALL:
        tw, osd = pair(name, "false_alerts")
        add(f"{name}: no false alert", tw == 0, f"twitchwatch {tw}, OSD {osd}")
    return out


def sim_goals(figures: dict) -> list[dict]:
    """The simulator goals (foot, held-out subjects) from ``evaluate --sim``'s figures."""
    out = []
    for key, limit in SIM_GOALS.items():
        value = figures.get(key)
        higher = key in ("sensitivity", "fasciculation_f1")
        met = value is not None and (value >= limit if higher else value <= limit)
        shown = figures.get("error") or (f"{value:.3g}" if value is not None else "not measured")
        if key == "sensitivity" and value is not None:
            shown = f"{value:.3g} ({round(value * figures['seizures'])}/{figures['seizures']})"
        if key == "false_alarms_per_24h" and value is not None:
            shown = f"{value:.3g} ({figures['false_alarms']} in {figures['nonseizure_hours']:.1f} h)"
        out.append({"goal": f"simulator foot: {key} {'>=' if higher else '<='} {limit:g}", "met": bool(met),
                    "detail": shown})
    return out


def set_detail(name: str, units: list[Unit], scores: dict, facts: dict) -> dict:
    """Per set: what was read, figures per group and per label, and each recording's scores."""
    idx = [i for i, u in enumerate(units) if u.set == name]
    by = lambda key: {k: _row(k, units, [i for i in idx if key(units[i]) == k], scores)  # noqa: E731
                      for k in sorted({key(units[i]) for i in idx})}
    return {"data": facts, "by_group": by(lambda u: u.group), "by_label": by(lambda u: u.label or "(none)"),
            "recordings": [{"name": units[i].name, "group": units[i].group, "label": units[i].label,
                            "seizure_s": units[i].seizure, "subtype": units[i].subtype or None,
                            "seconds": round(units[i].duration_s, 1),
                            **{d: None if scores[d][i] is None else scores[d][i].__dict__ for d in DETECTORS}}
                           for i in idx]}


# ----------------------------------------------------------------------------- output

def _cell(fig: dict | None, key: str, seizures: int) -> str:
    if fig is None:
        return "n/a"
    if key == "detected":
        return "-" if fig["detected"] is None else f"{fig['detected']}/{seizures} ({100 * fig['detected'] / max(seizures, 1):.0f}%)"
    if key == "median_latency_s":
        return "-" if fig[key] is None else f"{fig[key]:.0f} s"
    return str(fig[key])


def table_rows(result: dict) -> list[tuple[str, ...]]:
    """(set, placement, hours, seizures, detected tw / OSD, median latency tw / OSD, false alerts tw / OSD)."""
    rows = []
    for r in result["summary"]:
        tw, osd = r["twitchwatch"], r["osd"]
        rows.append((r["set"], r["placement"], f"{r['hours']:.2f}", str(r["seizures"]),
                     _cell(tw, "detected", r["seizures"]), _cell(osd, "detected", r["seizures"]),
                     _cell(tw, "median_latency_s", 0), _cell(osd, "median_latency_s", 0),
                     _cell(tw, "false_alerts", 0), _cell(osd, "false_alerts", 0)))
    return rows


HEADER = ("set", "placement", "hours", "seizures", "detected (twitchwatch)", "detected (OSD)",
          "median latency (tw)", "median latency (OSD)", "false alerts (tw)", "false alerts (OSD)")


def format_table(result: dict) -> str:
    rows = [HEADER] + table_rows(result)
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += ["", "goals:"] + [f"  [{'met' if g['met'] else 'NOT met'}] {g['goal']} ({g['detail']})" for g in result["goals"]]
    lines += ["", f"{result['method']}", f"date: {result['date']}   command: {result['command']}"]
    if result.get("quick"):
        lines.append("QUICK SUBSET: a few sets and recordings, a small simulated corpus; not the published figures")
    return "\n".join(lines)


def markdown_table(result: dict) -> str:
    out = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    out += ["| " + " | ".join(r) + " |" for r in table_rows(result)]
    out += ["", "Goals (out of fold, this run):", ""]
    out += [f"- {'**met**' if g['met'] else '**not met**'}: {g['goal']} ({g['detail']})" for g in result["goals"]]
    out += ["", f"Produced {result['date']} by `{result['command']}` in {result['seconds']:.0f} s. {result['method']}."]
    return "\n".join(out)


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, (set, tuple)):
        return list(o)
    raise TypeError(type(o).__name__)


def to_json(result: dict) -> str:
    return json.dumps(result, default=_json_default, indent=1)


def run(args) -> int:
    result = evaluate(Path(args.real), quick=bool(args.quick), progress=True)
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


def publish(root: Path, docs: Path) -> dict:
    """Run the full evaluation; write ``docs/real-data-evaluation.json`` and the docs' table."""
    result = evaluate(root, progress=True)
    (docs / "real-data-evaluation.json").write_text(to_json(result) + "\n", encoding="utf-8")
    update_doc(docs / "real-data-evaluation.md", result)
    return result


if __name__ == "__main__":
    # python -m twitchwatch.evaluation.real publish REAL_DIR DOCS_DIR   (full run + docs)
    # python -m twitchwatch.evaluation.real table RESULT.json DOC.md    (re-render the docs table)
    if sys.argv[1] == "publish":
        publish(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        update_doc(Path(sys.argv[3]), json.loads(Path(sys.argv[2]).read_text(encoding="utf-8")))
