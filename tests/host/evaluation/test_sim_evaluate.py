import json

import numpy as np
import pytest

from twitchwatch.cli import main
from twitchwatch.evaluation.sim import EVAL_SEED_BASE, TRAIN_SEED_BASE, Tally, match_events
from twitchwatch.model import Alert, Annotation, DetectorOutput, Event

KEYS = {"sensitivity", "false_alarms_per_24h", "median_latency_s", "fasciculation_f1", "per_confounder"}


def test_event_matching_is_one_to_one_within_tolerance():
    truth = np.array([1.0, 2.0, 2.03, 5.0])
    found = np.array([1.04, 2.01, 3.0, 5.06])
    assert match_events(truth, found, 0.05) == 2


def test_tally_scores_detection_latency_false_alarms_and_fasciculations():
    ann = (
        Annotation(0.0, 100.0, "walking"),
        Annotation(100.0, 30.0, "rhythmic_jerking"),
        Annotation(101.0, 0.25, "jerk"),
        Annotation(130.0, 70.0, "quiet"),
        Annotation(150.0, 0.01, "fasciculation"),
        Annotation(160.0, 0.01, "fasciculation"),
    )
    out = DetectorOutput(
        events=(Event(150.02, 0.01, "twitch", "emg", "ta", 80.0), Event(170.0, 0.01, "twitch", "emg", "ta", 80.0)),
        alerts=(
            Alert("warning", "rhythmic_jerking", 40.0, 37.0),  # during walking: a false alarm
            Alert("alarm", "rhythmic_jerking", 45.0, 37.0),  # same episode: not counted twice
            Alert("warning", "rhythmic_jerking", 104.5, 102.0),
        ),
    )
    t = Tally()
    t.add(out, ann, has_emg=True, window_s=4.0)
    f = t.figures()
    assert f["sensitivity"] == 1.0 and f["median_latency_s"] == pytest.approx(3.5)
    assert f["false_alarms"] == 1 and f["false_alarms_per_24h"] == pytest.approx(86400 / 170)
    assert f["per_confounder"]["walking"] == pytest.approx(864.0) and f["per_confounder"]["quiet"] == 0.0
    assert f["fasciculation_f1"] == pytest.approx(0.5)


def test_training_and_evaluation_seeds_never_meet():
    assert TRAIN_SEED_BASE + 9 * 10_000 + 1000 < EVAL_SEED_BASE


def test_quick_sim_evaluation_prints_the_promised_json(capsys, repo_root):
    if not (repo_root / "models" / "foot.skops").is_file():
        pytest.fail("models/foot.skops is missing: run `twitchwatch train` and commit the model")
    assert main(["evaluate", "--sim", "--quick", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert KEYS <= set(result) and KEYS <= set(result["baseline"])
    assert 0.0 <= result["sensitivity"] <= 1.0 and result["seizures"] >= 4
    assert result["false_alarms_per_24h"] >= 0.0
    assert set(result["per_confounder"]) >= {"walking", "tapping", "tremor"}
    assert len(result["confusion"]["matrix"]) == 5
