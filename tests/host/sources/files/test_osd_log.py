"""OpenSeizureDetector DataLog reader on the real day logs (osd_watch_daylogs)."""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch.errors import FileFormatError
from twitchwatch.model import Chunk
from twitchwatch.sources.files import detect_format, open_file


def test_day_log_is_one_l1_channel_in_g_at_25_hz_with_gaps_notes_and_osd_phrases(real_data):
    path = real_data / "osd_watch_daylogs" / "GJ_2019-03-31.csv"
    assert detect_format(path) == "osd_log"
    src = open_file(path)
    accel = src.device_info.stream("accel")
    assert accel.rate_hz == 25.0 and accel.channels == 1 and accel.channel_names == ("l1_magnitude",)
    assert src.device_info.placement == "wrist"
    first = next(i for i in src.items(block_s=5.0) if isinstance(i, Chunk))
    # first line's raw samples start "1200.0, 1216.0, 1232.0" milli-g
    np.testing.assert_allclose(first.samples[:3, 0], [1.200, 1.216, 1.232])
    assert first.n == 125
    # 2362 datapoints of 125 samples; the two holes of 88 s and 118 s are the only gaps
    assert sum(s.samples.shape[0] for s in src.segments) == 2362 * 125
    assert [f.kind for f in src.faults] == ["gap", "gap"]
    (case,) = src.cases()
    assert case.meta["subject"] == "GJ" and case.meta["seizure"] is None
    phrases = case.meta["osd_phrases"]
    assert len(phrases) == 2362 and phrases[0] == (5.0, "OK") and phrases[1][1] == "FAULT"
    assert sum(p == "ALARM" for _, p in phrases) == 41
    labels = [a.label for a in src.annotations]
    assert len(labels) == 16 and labels[0] == "Climb Stairs" and labels.count("Driving") == 2
    # 09:36:00 is 73 s after the first sample (09:34:47 = first datapoint 09:34:52 minus 5 s)
    assert src.annotations[0].onset_s == pytest.approx(73.0, abs=1.0)
    # L1 norm: rest reads between 1 and sqrt(3) g, never below 1 g on average
    assert 1.0 <= np.median(src.segments[0].samples) <= 3 ** 0.5


def test_evening_log_with_hr_column_has_no_notes_and_a_long_gap(real_data):
    src = open_file(real_data / "osd_watch_daylogs" / "GJ_2019-05-19.csv")
    assert src.device_info.stream("accel").rate_hz == 25.0
    assert src.annotations == ()  # notes.txt describes other days
    assert max(f.end_s - f.start_s for f in src.faults) > 2 * 3600  # the 2.5 h hole
    phrases = {p for _, p in src.cases()[0].meta["osd_phrases"]}
    assert {"OK", "HR ABNORMAL", "ALARM", "FAULT"} <= phrases
    # the raw samples are the last 125 fields even with the HR field before them
    first = next(i for i in src.items(block_s=5.0) if isinstance(i, Chunk))
    assert first.samples[0, 0] == pytest.approx(1.372)


def test_truncated_osd_log_is_a_one_line_error(real_data, tmp_path):
    lines = (real_data / "osd_watch_daylogs" / "GJ_2019-05-19.csv").read_text().splitlines()
    bad = tmp_path / "GJ_2019-05-19.csv"
    bad.write_text("\n".join(lines[:3]) + "\n" + lines[3][:400] + "\n")
    assert detect_format(bad) == "osd_log"
    with pytest.raises(FileFormatError) as err:
        open_file(bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value) and "truncated" in str(err.value)
