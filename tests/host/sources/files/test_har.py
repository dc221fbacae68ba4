"""GeoTecINIT smartwatch HAR CSV reader (smartwatch_har)."""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch.errors import FileFormatError
from twitchwatch.sources.files import detect_format, open_file


def test_har_file_is_uniform_at_its_mean_rate_in_g_with_activity_runs(real_data):
    path = real_data / "smartwatch_har" / "s01" / "s01_01_sw.csv"
    assert detect_format(path) == "har_csv"
    src = open_file(path)
    rows = np.loadtxt(path, delimiter=",", skiprows=1, usecols=(0, 1, 2, 6))
    rate = (len(rows) - 1) / ((rows[-1, 3] - rows[0, 3]) / 1000)
    accel = src.device_info.stream("accel")
    assert accel.rate_hz == rate and accel.rate_hz != round(accel.rate_hz)  # 104.27... Hz, not rounded
    assert accel.channels == 3 and src.device_info.placement == "wrist"
    np.testing.assert_allclose(src.segments[0].samples, rows[:, :3] / 9.80665)
    assert len(src.segments) == 1 and src.faults == ()
    labels = [a.label for a in src.annotations]
    assert labels[0] == "SEATED" and {"STANDING_UP", "WALKING", "TURNING", "SITTING_DOWN"} <= set(labels)
    assert sum(a.duration_s for a in src.annotations) == pytest.approx(len(rows) / rate)
    (case,) = src.cases()
    assert case.meta["subject"] == "s01" and case.meta["seizure"] is None and case.meta["execution"] == "01"
    assert case.meta["subject_info"]["age"] == "54"


def test_har_garbled_row_is_a_one_line_error(tmp_path):
    bad = tmp_path / "s99_01_sw.csv"
    bad.write_text("x_acc,y_acc,z_acc,x_gyro,y_gyro,z_gyro,timestamp,label\n1,2,3,4,5,6,1000,SEATED\n1,2,oops\n")
    assert detect_format(bad) == "har_csv"
    with pytest.raises(FileFormatError) as err:
        open_file(bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
