"""Every public dataset in ../shared/data/real replays with --json through the real CLI.

One representative file a dataset (each reader and each rate path: 10 Hz upsampled, 16, 25, 32,
64, 100, 102.4 Hz and a non-integer ~104.3 Hz accel, 4 kHz EMG; the OSD day log's L1 channel, an
OSDB curator report's cases, IPOL's dropped-packet gaps, a gaitmap file's two feet), every line
valid JSON of the documented types, a summary last.
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
    "osd_log": "osd_watch_daylogs/GJ_2019-05-19.csv",
    "osdb_report": "osdb_false_alarms/time_boundaries_results.json",
    "har_csv": "smartwatch_har/s01/s01_01_sw.csv",
    "ipol": "foot_gait_ipol/1-1_lf.txt",
    "gaitmap": "foot_gait_gaitmap/imu_sample_ic_stride.csv",
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
    # a file with cases replays each case on its own clock, with its own summary
    durations = {obj.get("case"): obj["duration_s"] for obj in lines if obj["type"] == "summary"}
    timed = [obj for obj in lines if obj["type"] in ("event", "alert")]
    assert all(0 <= obj["t"] <= durations[obj.get("case")] + 1 for obj in timed)


def test_a_file_below_the_detectors_rate_is_upsampled_with_a_note(real_data, capsys):
    code = main(["replay", str(real_data / DATASETS["uea_basicmotions"]), "--json"])
    _, err = capsys.readouterr()
    assert code == 0
    assert "10 Hz is below the detector's 16 Hz; upsampled to 16 Hz" in err
