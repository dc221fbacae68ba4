"""OSDB curator report reader (osdb_false_alarms) and the shared-datapoint grouping of OSDB events."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from twitchwatch.errors import FileFormatError
from twitchwatch.sources.files import Case, detect_format, open_file
from twitchwatch.sources.files.osdb import overlapping_event_groups


def test_report_has_11_false_alarm_events_of_user38_in_g_at_25_hz(real_data):
    path = real_data / "osdb_false_alarms" / "time_boundaries_results.json"
    assert detect_format(path) == "osdb_report"
    src = open_file(path)
    cases = src.cases()
    assert len(cases) == 11 and src.format == "osdb_report"
    assert {c.meta["subject"] for c in cases} == {"user38"}
    assert all(c.meta["seizure"] is None for c in cases)
    assert Counter(c.label for c in cases) == {"Motor Vehicle": 3, "Other": 4, "unspecified": 4}
    assert sum(c.meta["desc"] == "Zero motion for training" for c in cases) == 4
    # phone events state 49-50 Hz but send 125 samples every 5 s: 25 Hz; 396/397 state NaN
    assert {c.source.device_info.stream("accel").rate_hz for c in cases} == {25.0}
    e19972 = next(c for c in cases if c.meta["event_id"] == 19972)
    assert e19972.meta["three_axis"] and e19972.source.device_info.stream("accel").channels == 3
    raw = json.loads(path.read_text())["unique_events"][0]
    first_dp = min(raw["datapoints"], key=lambda d: d["dataTime"])
    chunk = next(iter(e19972.source.items(block_s=5.0)))
    np.testing.assert_allclose(np.linalg.norm(chunk.samples, axis=1) * 1000, first_dp["rawData"], rtol=0.02)
    # the event time (re-written with day and month swapped) still lands inside its datapoints
    assert 0 < e19972.meta["ref_offset_s"] < e19972.source.duration_s
    assert {p for c in cases for _, p in c.meta["osd_phrases"]} >= {"OK", "ALARM"}


def test_overlapping_event_groups_join_events_sharing_datapoints(real_data):
    seizures = open_file(real_data / "osdb_seizure_samples" / "testDataVisualisation.json").cases()
    alarms = open_file(real_data / "osdb_false_alarms" / "time_boundaries_results.json").cases()
    groups = overlapping_event_groups(list(seizures) + list(alarms))
    assert len(groups) == 70
    members = Counter(groups.values())
    shared = sorted(sorted(e for e, g in groups.items() if g == gid) for gid, n in members.items() if n > 1)
    assert len(shared) == 11 and all(len(s) == 2 for s in shared)
    assert [5483, 5486] in shared and [7363, 7365] in shared
    assert all(groups[e] == min(s) for s in shared for e in s)
    assert all(groups[c.meta["event_id"]] == c.meta["event_id"] for c in alarms)  # no sharing there


def test_overlap_groups_are_transitive_on_synthetic_keys():
    def case(ev, *keys):
        return Case(f"event{ev}", "x", None, {"event_id": ev, "datapoint_keys": keys})
    groups = overlapping_event_groups([case(3, "a", "b"), case(1, "c"), case(2, "b", "c"), case(9, "z")])
    assert groups == {3: 1, 1: 1, 2: 1, 9: 9}


def test_a_report_without_unique_events_is_a_one_line_error(tmp_path):
    bad = tmp_path / "report.json"
    bad.write_text(json.dumps({"dataset": "x", "unique_events": []}))
    assert detect_format(bad) == "osdb_report"
    with pytest.raises(FileFormatError, match="unique_events") as err:
        open_file(bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
    cut = tmp_path / "cut.json"
    cut.write_text('{"unique_events": [{"datapoints": [')
    with pytest.raises(FileFormatError, match="truncated"):
        open_file(cut)
