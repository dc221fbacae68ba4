"""The real-data evaluation: scoring rules, the command, the published table, and the regression
guard against the last published figures (docs/real-data-regression.json)."""

from __future__ import annotations

import argparse
import json

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


def test_regressions_name_figures_that_got_worse_beyond_the_margin():
    published = {"a/sensitivity": [0.90, "higher"], "b/false_alerts_per_h": [2.0, "lower"], "c/x": [None, "higher"]}
    ok = {"a/sensitivity": (0.86, "higher"), "b/false_alerts_per_h": (2.6, "lower")}
    assert real.regressions(published, ok) == []
    bad = {"a/sensitivity": (0.84, "higher"), "b/false_alerts_per_h": (2.8, "lower")}
    assert [line.split(":")[0] for line in real.regressions(published, bad)] == ["a/sensitivity", "b/false_alerts_per_h"]
    assert "not available" in real.regressions(published, {})[0]


def test_the_command_prints_both_detectors_side_by_side_as_json_and_as_a_table(real_data, tmp_path, capsys):
    # a stated small folder: the two smallest datasets, linked from the real data
    for name in ("uea_basicmotions", "physionet_emgdb"):
        (tmp_path / name).symlink_to(real_data / name)
    args = argparse.Namespace(real=str(tmp_path), json=True, placement=None, sim=False, quick=False, seed=None)
    assert real.run(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["datasets"]) == {"uea_basicmotions", "emgdb"}
    assert out["date"] and out["command"].startswith("twitchwatch evaluate --real")
    bm = out["datasets"]["uea_basicmotions"]
    assert bm["osd"]["any"]["per_case"]["Running"]["cases"] == 10
    assert "twitchwatch" in bm or out["errors"].get("twitchwatch")  # run, or the failure is reported
    assert out["datasets"]["emgdb"]["osd"] == {"not_applicable": "no accelerometer in these records"}
    table = real.format_table(out)  # what the command prints without --json, from the same result
    assert "twitchwatch" in table and "OSD" in table and "cases alerted, running" in table
    assert out["date"] in table and out["command"] in table


def test_the_published_table_is_generated_from_the_published_json(repo_root):
    result = json.loads((repo_root / "docs" / "real-data-evaluation.json").read_text())
    doc = (repo_root / "docs" / "real-data-evaluation.md").read_text()
    assert real.markdown_table(result) in doc


def test_real_figures_have_not_fallen_below_the_published_ones(real_data, repo_root):
    """Runs the stated regression subset (real.REGRESSION_SUBSET) with the shipped detector."""
    published = json.loads((repo_root / "docs" / "real-data-regression.json").read_text())
    assert published["subset"]["max_files"] == real.REGRESSION_SUBSET["max_files"]
    current = real.headline_figures(real.evaluate_regression_subset(real_data))
    assert real.regressions(published["figures"], current) == []


def test_an_alarm_stays_on_from_its_notification_to_the_end_of_its_episode():
    from twitchwatch.model import Episode

    alerts = [alert("warning", 10, 0), alert("alarm", 15, 0), alert("warning", 100, 90)]
    episodes = [Episode("rhythmic_jerking", 0, 60, 3.0, 10, "alarm")]
    active = scoring.active_alert_intervals(alerts, episodes, "any")
    assert active == [(10, 60), (100, 100)]  # the second episode never closed: on at its notification only
    assert scoring.active_alert_intervals(alerts, episodes, "alarm") == [(15, 60)]
    assert scoring.overlaps(active, 40, 52) and not scoring.overlaps(active, 60.5, 99) and scoring.overlaps(active, 95, 101)


def test_the_evaluation_builds_the_same_detector_as_the_live_product(real_data):
    from twitchwatch.core.detector import make_detector
    from twitchwatch.errors import ModelError
    from twitchwatch.sources.files import open_file

    make, _ = real.twitchwatch_factory("model")
    for path in (real_data / "uea_epilepsy" / "Epilepsy_TRAIN.ts", real_data / "daphnet_fog" / "S03R02.txt"):
        info = open_file(path).device_info
        try:
            live = make_detector(info)
        except ModelError as exc:
            pytest.fail(f"no shipped model to evaluate: {exc}")
        ours = make(info)
        assert type(ours) is type(live)
        assert ours.c == live.c  # the per-placement DetectorConfig
        assert type(ours.classifier) is type(live.classifier)
        assert make(info).classifier is ours.classifier  # loaded once per placement
