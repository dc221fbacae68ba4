"""Export of a session with a gap: EDF+ keeps the time axis (zeros + a "gap" annotation), CSV
keeps one uniform rate (nan rows), and both read back with the right samples in the right place."""

from __future__ import annotations

import numpy as np
import pyedflib
import pytest

from twitchwatch.errors import RefuseOverwrite
from twitchwatch.export import export_csv, export_edf
from twitchwatch.model import Chunk, DeviceInfo, Fault, StreamInfo
from twitchwatch.recording import SessionWriter

ACC = StreamInfo("accel", 208.0, 3, 16.0, 16.0 / 32768, ("x", "y", "z"))
EMG = StreamInfo("emg", 1000.0, 2, 5000.0, 5000.0 / 32768, ("ta", "gc"))
INFO = DeviceInfo("dev", "1", 1, "foot", (ACC, EMG), "test")
T0 = 7.0  # device clock at the first sample, s
GAP = (2.0, 3.0)  # seconds from T0 with no samples


@pytest.fixture
def session(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "gap.twr"
    expected = {}
    with SessionWriter(path, INFO, fsync=False) as w:
        for s, block in ((ACC, 26), (EMG, 50)):
            n_total = int(5 * s.rate_hz)
            full = rng.integers(-2000, 2000, (n_total, s.channels)).astype(np.int16)
            keep = np.ones(n_total, bool)
            keep[int(GAP[0] * s.rate_hz):int(GAP[1] * s.rate_hz)] = False
            expected[s.kind] = (full, keep)
            for i in range(0, n_total, block):
                if not keep[i]:
                    continue
                c = full[i:i + block]
                w.write_chunk(Chunk(s.kind, T0 + i / s.rate_hz, s.rate_hz, c * s.scale, i // block, i // block, c))
        w.write_fault(Fault("gap", T0 + GAP[0], T0 + GAP[1], "emg", "cable out"))
    return path, expected


def test_edf_keeps_counts_in_place_with_zeros_and_a_gap_annotation_in_the_hole(session, tmp_path):
    path, expected = session
    out = export_edf(path, tmp_path / "gap.edf")
    with pyedflib.EdfReader(str(out)) as f:
        assert f.file_duration == 5
        emg_ta = f.readSignal(3, digital=True)
        acc_z = f.readSignal(2, digital=True)
        onsets, durations, texts = f.readAnnotations()
    full, keep = expected["emg"]
    assert np.array_equal(emg_ta[keep], full[keep, 0]) and not emg_ta[~keep].any()
    full, keep = expected["accel"]
    assert np.array_equal(acc_z[keep], full[keep, 2]) and not acc_z[~keep].any()
    # the 1 s hole is an interval per stream, measured from the samples (not an instant at its end)
    gaps = sorted((t, o, d) for o, d, t in zip(onsets, durations, texts) if t.startswith("gap"))
    assert gaps == [("gap accel", pytest.approx(GAP[0]), pytest.approx(GAP[1] - GAP[0])),
                    ("gap emg", pytest.approx(GAP[0]), pytest.approx(GAP[1] - GAP[0]))]
    with pytest.raises(RefuseOverwrite):
        export_edf(path, out)


def test_csv_has_one_uniform_rate_with_nan_in_the_hole_and_reads_back(session, tmp_path):
    from twitchwatch.sources.files import open_file

    path, expected = session
    out = export_csv(path, tmp_path / "gap.csv")
    rows = np.genfromtxt(out, delimiter=",", names=True)
    assert rows.dtype.names == ("t", "ax", "ay", "az", "emg0", "emg1")
    assert np.allclose(np.diff(rows["t"]), 0.001)
    full, keep = expected["emg"]
    np.testing.assert_allclose(rows["emg0"][keep], full[keep, 0] * EMG.scale, rtol=1e-5)
    assert np.isnan(rows["emg0"][~keep]).all()
    # accel (208 Hz) is interpolated onto the 1 kHz rows: exact where a row falls on a sample
    acc_full, acc_keep = expected["accel"]
    on_sample = np.arange(0, 5000, 125)  # every 0.125 s is a sample of both streams
    k = (on_sample * 208) // 1000
    ok = acc_keep[k] & keep[on_sample]
    np.testing.assert_allclose(rows["ax"][on_sample][ok], acc_full[k[ok], 0] * ACC.scale, rtol=1e-5)
    src = open_file(out)
    assert src.device_info.stream("emg").rate_hz == pytest.approx(1000.0)


def test_edf_annotations_stay_inside_the_data_and_channels_say_what_they_are(tmp_path):
    """Nothing is annotated past the last sample (a label running over the end is clipped);
    labels are EDF+ "type specification" texts: EMG in uV, the accelerometer as MISC Accel in g
    (MNE's reader with infer_types takes it for a misc channel, not EEG in volts), and they read
    back exactly as acceleration in g."""
    from twitchwatch.model import Annotation
    from twitchwatch.sources.files import open_file

    path = tmp_path / "s.twr"
    rng = np.random.default_rng(1)
    acc = rng.integers(-3000, 3000, (208 * 4, 3)).astype(np.int16)
    emg = rng.integers(-3000, 3000, (1000 * 4, 2)).astype(np.int16)
    with SessionWriter(path, INFO, fsync=False) as w:
        w.write_chunk(Chunk("accel", 0.0, 208.0, acc * ACC.scale, 0, 0, acc))
        w.write_chunk(Chunk("emg", 0.0, 1000.0, emg * EMG.scale, 0, 0, emg))
        w.write_annotations([Annotation(1.0, 1.0, "inside"), Annotation(3.5, 2.0, "over the end"),
                             Annotation(9.0, 1.0, "after the end")])
    out = export_edf(path, tmp_path / "s.edf")
    with pyedflib.EdfReader(str(out)) as f:
        labels = f.getSignalLabels()
        dims = [f.getPhysicalDimension(i) for i in range(f.signals_in_file)]
        acc_x = f.readSignal(0)
        onsets, durations, texts = f.readAnnotations()
    assert labels == ["MISC Accel x", "MISC Accel y", "MISC Accel z", "EMG ta", "EMG gc"]
    assert dims == ["g"] * 3 + ["uV"] * 2
    np.testing.assert_allclose(acc_x, acc[:, 0] * ACC.scale, atol=1e-6)
    truth = {t: (o, d) for o, d, t in zip(onsets, durations, texts) if t.startswith("truth")}
    assert truth == {"truth inside": (1.0, 1.0), "truth over the end": (3.5, pytest.approx(0.5))}
    back = open_file(out)
    assert [s.kind for s in back.device_info.streams] == ["accel", "emg"]
    got = np.concatenate([c.samples for c in back.items(100.0) if isinstance(c, Chunk) and c.stream == "accel"])
    np.testing.assert_allclose(got[:, 0], acc[:, 0] * ACC.scale, atol=1e-6)
