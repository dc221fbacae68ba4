"""Every public dataset's cases name their subject and seizure the same way (the evaluation's contract)."""

from __future__ import annotations

import pytest

from twitchwatch.sources.files import open_file

FILES = {
    "daphnet_fog/S01R02.txt": "S01",
    "uea_epilepsy/Epilepsy_TRAIN.ts": None,
    "osdb_seizure_samples/rawData.json": "user",
    "osd_watch_daylogs/GJ_2019-05-19.csv": "GJ",
    "osdb_false_alarms/time_boundaries_results.json": "user38",
    "smartwatch_har/s02/s02_01_sw.csv": "s02",
    "foot_gait_ipol/2-1_rf.txt": "2",
    "foot_gait_gaitmap/imu_sample_ms_left.csv": "ms_patient",
}


@pytest.mark.parametrize("rel", sorted(FILES))
def test_cases_carry_subject_and_seizure(real_data, rel):
    cases = open_file(real_data / rel).cases()
    assert cases
    for case in cases:
        subject, seizure = case.meta["subject"], case.meta["seizure"]
        if FILES[rel] is None:
            assert subject is None
        else:
            assert isinstance(subject, str) and subject.startswith(FILES[rel])
        assert seizure is None or (len(seizure) == 2 and seizure[0] < seizure[1])


def test_adl_case_subject_is_the_file_name_code(real_data):
    path = sorted((real_data / "adl_wrist_accelerometer" / "Brush_teeth").glob("*.txt"))[0]
    (case,) = open_file(path).cases()
    assert case.meta["subject"] == path.stem.rsplit("-", 1)[-1] and case.meta["seizure"] is None


def test_uea_acted_seizures_span_their_case(real_data):
    cases = open_file(real_data / "uea_epilepsy" / "Epilepsy_TRAIN.ts").cases()
    acted = [c for c in cases if c.label == "EPILEPSY"]
    assert acted and all(c.meta["seizure"] == [0.0, 206 / 16] and c.meta["acted"] for c in acted)
    assert all(c.meta["seizure"] is None for c in cases if c.label != "EPILEPSY")
