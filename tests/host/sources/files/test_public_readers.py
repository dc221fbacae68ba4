"""Each public dataset's reader on a small slice of the real file: units, rates, labels."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from twitchwatch.model import Chunk, DeviceInfo, Fault
from twitchwatch.sources.files import detect_format, open_file


def first_chunk(source, stream="accel"):
    return next(i for i in source.items(block_s=5.0) if isinstance(i, Chunk) and i.stream == stream)


def test_daphnet_ankle_accel_is_in_g_at_64_hz_with_freeze_labels(real_data):
    path = real_data / "daphnet_fog" / "S01R02.txt"
    assert detect_format(path) == "daphnet"
    src = open_file(path)
    accel = src.device_info.stream("accel")
    assert accel.rate_hz == pytest.approx(64.0, abs=0.01)
    assert src.device_info.placement == "ankle"
    chunk = first_chunk(src)
    # first row of the file: "15 40 29 -960 ..." mg -> g
    np.testing.assert_allclose(chunk.samples[0], [0.040, 0.029, -0.960])
    assert chunk.n == round(5.0 * accel.rate_hz)
    labels = {a.label for a in src.annotations}
    assert labels == {"outside_experiment", "no_freeze", "freeze"}
    first_freeze = next(a for a in src.annotations if a.label == "freeze")
    assert first_freeze.onset_s == pytest.approx(478.266, abs=0.02)
    # standing still at the start: the vertical axis carries ~1 g of gravity
    assert np.median(np.linalg.norm(chunk.samples, axis=1)) == pytest.approx(1.0, abs=0.1)


def test_uea_epilepsy_is_16_hz_g_with_one_annotation_per_case(real_data):
    src = open_file(real_data / "uea_epilepsy" / "Epilepsy_TRAIN.ts")
    assert src.device_info.stream("accel").rate_hz == 16.0
    assert src.device_info.placement == "wrist"
    cases = src.cases()
    assert len(cases) == 137 and len(src.annotations) == 137
    assert {c.label for c in cases} == {"EPILEPSY", "WALKING", "RUNNING", "SAWING"}
    case = cases[0]
    assert case.source.duration_s == pytest.approx(206 / 16)
    np.testing.assert_allclose(first_chunk(case.source).samples[0], [0.35, 0.22, 0.55])
    # joined stream: case k starts where case k-1 ends, without gaps
    assert src.annotations[1].onset_s == pytest.approx(206 / 16)
    assert src.duration_s == pytest.approx(137 * 206 / 16)
    assert not any(isinstance(i, Fault) for i in src.items())
    # gravity included: the median magnitude of a seizure-mimicking case is near 1 g
    mags = np.linalg.norm(np.vstack([c.samples for c in case.source.items()]), axis=1)
    assert 0.8 < np.median(mags) < 1.3


def test_uea_basicmotions_is_10_hz_accel_only_converted_from_m_s2(real_data):
    src = open_file(real_data / "uea_basicmotions" / "BasicMotions_TRAIN.ts")
    accel = src.device_info.stream("accel")
    assert accel.rate_hz == 10.0 and accel.channels == 3
    assert {c.label for c in src.cases()} == {"Standing", "Running", "Walking", "Badminton"}
    case = src.cases()[0]
    first_line = next(ln for ln in (real_data / "uea_basicmotions" / "BasicMotions_TRAIN.ts").read_text().splitlines()
                      if ln and ln[0] not in "#@")
    dims = [[float(v) for v in d.split(",")] for d in first_line.split(":")[:-1]]
    assert len(dims) == 6  # 3 accel then 3 gyro: only the accel is read
    np.testing.assert_allclose(first_chunk(case.source).samples[:, 0], np.array(dims[0][:50]) / 9.80665, rtol=1e-9)
    np.testing.assert_allclose(first_chunk(case.source).samples[:, 2], np.array(dims[2][:50]) / 9.80665, rtol=1e-9)
    running = next(c for c in src.cases() if c.label == "Running")
    mags = np.linalg.norm(np.vstack([c.samples for c in running.source.items()]), axis=1)
    assert 1.0 < np.mean(mags) < 3.0  # ~17 m/s^2 of gravity-free arm acceleration while running


def test_osdb_single_event_is_25_hz_three_axis_milli_g_to_g(real_data):
    src = open_file(real_data / "osdb_seizure_samples" / "rawData.json")
    accel = src.device_info.stream("accel")
    assert accel.rate_hz == 25.0 and accel.channels == 3
    (case,) = src.cases()
    assert case.label == "Tonic-Clonic" and case.meta["event_id"] == 45781
    # seizureTimes [-50, 70] s relative to dataTime 06:28:47; first datapoint ends 06:27:35
    assert case.meta["seizure"] == pytest.approx((27.0, 147.0))
    chunk = first_chunk(case.source)
    assert chunk.n == 125  # one 5 s datapoint per chunk at block_s=5
    mags_mg = np.linalg.norm(chunk.samples, axis=1) * 1000
    import json
    raw = json.loads((real_data / "osdb_seizure_samples" / "rawData.json").read_text())
    first_dp = min(raw["datapoints"], key=lambda d: d["dataTime"])
    np.testing.assert_allclose(mags_mg, first_dp["rawData"], rtol=1e-4)


def test_osdb_collection_has_59_events_gaps_as_faults_and_magnitude_channel(real_data):
    src = open_file(real_data / "osdb_seizure_samples" / "testDataVisualisation.json")
    assert len(src.cases()) == 59
    assert src.device_info.placement == "wrist"
    assert open_file(src.path, placement="foot").device_info.placement == "foot"
    assert src.device_info.stream("accel").channel_names == ("magnitude",)
    assert {f.kind for f in src.faults} == {"gap"}
    assert len(src.faults) >= 45  # events days apart are separated by gaps, never glued together
    assert len([a for a in src.annotations if a.label.startswith("event:")]) == 59
    segs = src.segments  # events covering the same time (one seizure reported twice) never repeat samples
    assert all(b.t0_s >= a.t_end_s - 1e-6 for a, b in zip(segs, segs[1:]))
    subtypes = {c.label for c in src.cases()}
    assert {"Tonic-Clonic", "Aura", "Other"} <= subtypes
    unlabelled = [c for c in src.cases() if c.meta["seizure"] is None]
    assert [c.meta["event_id"] for c in unlabelled] == [7775]
    # event 1046 states 49 Hz but sends 125 samples every 5 s: read at 25 Hz, duplicates dropped
    e1046 = next(c for c in src.cases() if c.meta["event_id"] == 1046)
    assert e1046.source.device_info.stream("accel").rate_hz == 25.0
    assert e1046.meta["dropped_datapoints"] == 5


def test_adl_codes_become_g_at_32_hz_with_the_activity_from_the_folder(real_data):
    folder = real_data / "adl_wrist_accelerometer" / "Brush_teeth"
    path = sorted(folder.glob("*.txt"))[0]
    assert detect_format(path) == "adl"
    src = open_file(path)
    assert src.device_info.stream("accel").rate_hz == 32.0
    assert src.device_info.placement == "wrist"
    assert src.annotations[0].label == "brush_teeth"
    codes = np.loadtxt(path, max_rows=1)
    np.testing.assert_allclose(first_chunk(src).samples[0], -1.5 + 3 * codes / 63)
    assert src.annotations[0].duration_s == pytest.approx(len(np.loadtxt(path)) / 32.0)


def test_wfdb_emg_is_4000_hz_in_microvolts(real_data):
    path = real_data / "physionet_emgdb" / "emg_healthy.hea"
    src = open_file(path)
    emg = src.device_info.stream("emg")
    assert src.device_info.stream("accel") is None
    assert emg.rate_hz == 4000.0 and emg.channels == 1
    chunk = first_chunk(src, "emg")
    raw = np.fromfile(real_data / "physionet_emgdb" / "emg_healthy.dat", dtype="<i2", count=3)
    np.testing.assert_allclose(chunk.samples[:3, 0], raw / 10000 * 1000)  # 10000 units/mV -> uV
    assert chunk.samples[0, 0] == pytest.approx(-33.3)  # header's initial value -333
    assert src.duration_s == pytest.approx(50860 / 4000)
    # the .dat opens the same record
    assert open_file(path.with_suffix(".dat")).device_info == src.device_info


def test_placement_override_and_async_iteration_announce_device_info_first(real_data):
    src = open_file(real_data / "daphnet_fog" / "S03R02.txt", placement="foot")
    assert src.device_info.placement == "foot"

    async def first_two():
        out = []
        async for item in src:
            out.append(item)
            if len(out) == 2:
                break
        return out

    info, chunk = asyncio.run(first_two())
    assert isinstance(info, DeviceInfo) and isinstance(chunk, Chunk)


def test_items_are_read_only_and_tile_the_recording_at_any_block_size(real_data):
    src = open_file(real_data / "uea_epilepsy" / "Epilepsy_TRAIN.ts")
    a = np.vstack([c.samples for c in src.items(block_s=0.7)])
    b = np.vstack([c.samples for c in src.items(block_s=60.0)])
    np.testing.assert_array_equal(a, b)
    chunk = first_chunk(src)
    with pytest.raises(ValueError):
        chunk.samples[0, 0] = 1.0
