"""The real-data evaluation: scoring rules, the cross-fitted command (no group ever trains the model
that scores it), and the published table."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from twitchwatch.evaluation import real, scoring
from twitchwatch.model import Alert


def alert(level, t, start):
    return Alert(level, "rhythmic_jerking", t, start)


def test_an_episode_notifies_once_at_its_first_alert_and_fault_alerts_are_ignored():
    alerts = [alert("warning", 10, 0), alert("alarm", 15, 0), alert("warning", 40, 30),
              Alert("fault", "not_worn", 50, 50)]
    assert scoring.notification_times(alerts, "any").tolist() == [10, 40]
    assert scoring.notification_times(alerts, "alarm").tolist() == [15]


def test_a_seizure_counts_as_detected_inside_the_grace_period_with_latency_from_its_start():
    times = np.array([3.0, 52.0, 130.0])
    s = scoring.score_seizure(times, 50, 100, 0, 150, grace_before_s=5, grace_after_s=10)
    assert s.detected and s.latency_s == pytest.approx(2.0)
    assert s.false_alerts == 2  # at 3 s (before 45 s) and 130 s (after 110 s)
    assert s.non_seizure_s == pytest.approx(45 + 40)
    late = scoring.score_seizure(np.array([111.0]), 50, 100, 0, 150, 5, 10)
    assert not late.detected and late.false_alerts == 1
    # a seizure labelled as starting before the recording is timed from the first sample
    early = scoring.score_seizure(np.array([12.0]), -20, 60, 0, 150, 5, 10)
    assert early.detected and early.latency_s == pytest.approx(12.0)



def test_the_quick_evaluation_scores_every_group_with_a_model_that_never_saw_it(real_data, monkeypatch, capsys):
    from twitchwatch.evaluation import crossfit

    seen = []
    original = crossfit.train_seizure_model

    def spy(windows, placement, seed):
        seen.append({windows.units[i].group for i in set(windows.unit.tolist())})
        return original(windows, placement, seed)

    monkeypatch.setattr(crossfit, "train_seizure_model", spy)
    result = real.evaluate(real_data, quick=True)
    assert result["out_of_fold"] is True and result["quick"] is True
    folds = list(result["folds"])
    assert len(seen) == len(folds) >= 4
    for left_out, trained_on in zip(folds, seen):
        assert left_out not in trained_on  # neither the model nor its settings saw the scored group
        assert any(g.startswith("sim_") for g in trained_on)
    names = [r["set"] for r in result["summary"]]
    assert names[:3] == ["osdb_seizure_samples", "osdb_seizure_samples:other", "osdb_seizure_samples:tonic_clonic"]
    for row in result["summary"]:
        assert set(row) >= {"set", "placement", "hours", "seizures", "twitchwatch", "osd"}
        for det in ("twitchwatch", "osd"):
            assert set(row[det]) == {"detected", "false_alerts", "median_latency_s"}
            if row["seizures"]:
                assert 0 <= row[det]["detected"] <= row["seizures"]
    tc = next(r for r in result["summary"] if r["set"].endswith(":tonic_clonic"))
    other = next(r for r in result["summary"] if r["set"].endswith(":other"))
    whole = result["summary"][0]
    for det in ("twitchwatch", "osd"):  # subtype rows add up to the set's row
        assert tc[det]["detected"] + other[det]["detected"] == whole[det]["detected"]
    assert {g["goal"] for g in result["goals"]} >= {"OSDB tonic-clonic: detected >= OSD",
                                                    "foot_gait_ipol: no false alert"}
    assert all(isinstance(g["met"], bool) for g in result["goals"])
    table = real.format_table(result)
    assert "QUICK SUBSET" in table and "goals:" in table and result["date"] in table


def test_osd_figures_count_what_the_baseline_itself_alerts(real_data):
    from twitchwatch.core.run import run
    from twitchwatch.evaluation.crossfit import osd_scores
    from twitchwatch.evaluation.datasets import load_units
    from twitchwatch.evaluation.osd_baseline import OsdBaseline

    units, _ = load_units(real_data, 16.0, only=("uea_epilepsy",))
    units = units[:20]
    scores = osd_scores(units)
    for u, s in zip(units, scores):
        out = run(OsdBaseline(u.osd_source.device_info), u.osd_source.items(5.0))
        n = len({a.episode_start_s for a in out.alerts})
        assert s.notifications == n
        assert s.detected is (None if u.seizure is None else n > 0)


def test_evaluate_real_is_a_command_with_a_clear_error_for_a_wrong_folder(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "twitchwatch", "evaluate", "--real", str(tmp_path / "nope")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "nope" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_the_published_table_is_generated_from_the_published_json(repo_root):
    result = json.loads((repo_root / "docs" / "real-data-evaluation.json").read_text())
    doc = (repo_root / "docs" / "real-data-evaluation.md").read_text()
    assert result["out_of_fold"] is True and not result["quick"]
    assert real.markdown_table(result) in doc
