"""Every public dataset in ../shared/data/real replays with --json through the real CLI.

One representative file a dataset (each reader and each rate path: 10 Hz upsampled, 16, 25, 32,
64 Hz accel, 4 kHz EMG), every line valid JSON of the documented types, a summary last.
"""

from __future__ import annotations

import json

import pytest

from twitchwatch.cli import main

DATASETS = {
    "daphnet": "daphnet_fog/S02R01.txt",
    "uea_epilepsy": "uea_epilepsy/Epilepsy_TRAIN.ts",
    "uea_basicmotions": "uea_basicmotions/BasicMotions_TRAIN.ts",
    "osdb_one_event": "osdb_seizure_samples/rawData.json",
    "osdb_many_events": "osdb_seizure_samples/testDataVisualisation.json",
    "adl": "adl_wrist_accelerometer/Comb_hair",
    "wfdb": "physionet_emgdb/emg_neuropathy.hea",
}
TYPES = {"event", "episode", "alert", "fault", "summary"}


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_each_public_dataset_replays_with_json_without_error(name, real_data, capsys):
    path = real_data / DATASETS[name]
    if path.is_dir():  # ADL: one file of the activity folder
        path = sorted(path.glob("*.txt"))[0]
    code = main(["replay", str(path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Traceback" not in err
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines and all(obj["type"] in TYPES for obj in lines)
    summary = lines[-1]
    assert summary["type"] == "summary"
    assert summary["duration_s"] > 0 and summary["samples"] > 0
    times = [obj["t"] for obj in lines if obj["type"] in ("event", "alert")]
    assert all(0 <= t <= summary["duration_s"] + 1 for t in times)


def test_a_file_below_the_detectors_rate_is_upsampled_with_a_note(real_data, capsys):
    code = main(["replay", str(real_data / DATASETS["uea_basicmotions"]), "--json"])
    _, err = capsys.readouterr()
    assert code == 0
    assert "10 Hz is below the detector's 16 Hz; upsampled to 16 Hz" in err
