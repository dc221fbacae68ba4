"""gaitmap example foot IMU CSV reader (foot_gait_gaitmap)."""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch.errors import FileFormatError
from twitchwatch.sources.files import detect_format, open_file


def test_two_foot_file_is_204_8_hz_g_with_a_case_per_foot_and_strides(real_data):
    path = real_data / "foot_gait_gaitmap" / "imu_sample.csv"
    assert detect_format(path) == "gaitmap"
    src = open_file(path)
    accel = src.device_info.stream("accel")
    assert accel.rate_hz == 204.8 and accel.channels == 3 and src.device_info.placement == "foot"
    left, right = src.cases()
    assert (left.label, right.label) == ("left", "right") and src.foot == "left"
    row = np.loadtxt(path, delimiter=",", skiprows=2, max_rows=1)
    np.testing.assert_allclose(left.source.segments[0].samples[0], row[[1, 3, 5]] / 9.80665)
    np.testing.assert_allclose(right.source.segments[0].samples[0], row[[2, 4, 6]] / 9.80665)
    assert src.segments[0].samples[0] == pytest.approx(left.source.segments[0].samples[0])
    assert left.meta["subject"] == right.meta["subject"] and left.meta["seizure"] is None
    assert left.source.duration_s == pytest.approx(7928 / 204.8)
    # stride_borders_sample.csv: first left stride 364..584 samples
    assert left.source.annotations[0].onset_s == pytest.approx(364 / 204.8)
    assert all(a.label == "stride" for a in right.source.annotations)


@pytest.mark.parametrize("name, rate, feet", [("imu_sample_healthy_stair_up.csv", 204.8, 2),
                                               ("imu_sample_ic_stride.csv", 102.4, 2),
                                               ("imu_sample_ms_right.csv", 102.4, 1)])
def test_rates_and_feet_of_the_other_layouts(real_data, name, rate, feet):
    src = open_file(real_data / "foot_gait_gaitmap" / name)
    assert src.device_info.stream("accel").rate_hz == pytest.approx(rate, rel=1e-9)
    assert len(src.cases()) == feet and src.faults == ()
    if feet == 1:
        assert src.cases()[0].meta["foot"] == "right" == src.foot
    mags = np.linalg.norm(src.segments[0].samples, axis=1)
    assert 0.5 < np.percentile(mags, 5) < 1.2  # m/s^2 became g


@pytest.mark.parametrize("name", ["stride_borders_sample.csv", "stride_events_sample.csv"])
def test_label_files_are_refused_with_one_line(real_data, name):
    path = real_data / "foot_gait_gaitmap" / name
    with pytest.raises(FileFormatError, match="label file") as err:
        open_file(path)
    assert "\n" not in str(err.value) and str(path) in str(err.value)
    with pytest.raises(FileFormatError, match="label file"):
        open_file(path, format="gaitmap")


def test_truncated_gaitmap_file_is_a_one_line_error(real_data, tmp_path):
    lines = (real_data / "foot_gait_gaitmap" / "imu_sample.csv").read_text().splitlines()
    bad = tmp_path / "imu_sample.csv"
    bad.write_text("\n".join(lines[:20]) + "\n" + lines[20][:30] + "\n")
    with pytest.raises(FileFormatError) as err:
        open_file(bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
