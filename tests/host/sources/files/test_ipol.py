"""IPOL healthy-gait foot IMU reader (foot_gait_ipol): samples placed by PacketCounter."""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch.errors import FileFormatError
from twitchwatch.model import Fault
from twitchwatch.sources.files import detect_format, open_file
from twitchwatch.sources.files.base import place_by_counter


def test_ipol_foot_file_is_100_hz_g_with_dropped_packets_as_gaps(real_data):
    path = real_data / "foot_gait_ipol" / "11-1_lf.txt"
    assert detect_format(path) == "ipol"
    src = open_file(path)
    accel = src.device_info.stream("accel")
    assert accel.rate_hz == 100.0 and accel.channels == 3 and src.device_info.placement == "foot"
    table = np.loadtxt(path, skiprows=2)
    counter = table[:, 0]
    np.testing.assert_allclose(src.segments[0].samples[0], table[0, 1:4] / 9.80665)
    # 65 missing counter values become gap faults; every sample sits at its counter time
    holes = np.diff(np.unique(counter))
    assert all(isinstance(f, Fault) and f.kind == "gap" for f in src.faults)
    assert len(src.faults) == int(np.count_nonzero(holes > 1))
    assert sum(round((f.end_s - f.start_s) * 100) for f in src.faults) == int(np.sum(holes[holes > 1] - 1)) == 65
    assert src.duration_s == pytest.approx((counter.max() - counter[0] + 1) / 100)
    case = src.cases()[0]
    assert case.meta["subject"] == "11" and case.meta["foot"] == "left" and case.meta["seizure"] is None
    assert case.meta["repeated_rows"] == 1  # one packet logged twice
    trial = next(a for a in src.annotations if a.label == "trial")
    assert trial.onset_s == pytest.approx(5.44)  # TrialBoundaries start 544 (PacketCounter samples)
    assert sum(a.label == "swing" for a in src.annotations) > 5


def test_counter_wrap_and_repeats_are_handled():
    counter = np.array([65534, 65535, 0, 0, 1, 3])
    samples = np.arange(12, dtype=float).reshape(6, 2)
    segments, faults, repeats = place_by_counter(counter, samples, 100.0, "x", counter_bits=16)
    assert repeats == 1 and [s.samples.shape[0] for s in segments] == [4, 1]
    assert segments[1].t0_s == pytest.approx(0.05) and faults[0].start_s == pytest.approx(0.04)


def test_truncated_ipol_file_is_a_one_line_error(real_data, tmp_path):
    text = (real_data / "foot_gait_ipol" / "1-1_lf.txt").read_text().splitlines()
    bad = tmp_path / "1-1_lf.txt"
    bad.write_text("\n".join(text[:50]) + "\n" + text[50][:12] + "\n")
    with pytest.raises(FileFormatError) as err:
        open_file(bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
