"""CSV and EDF readers on files the test writes; bad files of every format -> FileFormatError."""

from __future__ import annotations

import json

import numpy as np
import pytest

from twitchwatch.errors import ConfigError, FileFormatError
from twitchwatch.model import Chunk
from twitchwatch.sources.files import open_file


def write_csv(path, t, cols: dict):
    names = ["t"] + list(cols)
    rows = np.column_stack([t] + [cols[n] for n in cols])
    path.write_text(",".join(names) + "\n" + "\n".join(",".join(f"{v:.9g}" for v in r) for r in rows) + "\n")


def test_csv_rate_comes_from_t_and_columns_map_to_streams(tmp_path):
    rate = 208.0
    t = 3.0 + np.arange(1000) / rate
    ax = np.sin(t)
    write_csv(tmp_path / "x.csv", t, {"ax": ax, "ay": 0 * t, "az": 1 + 0 * t, "emg0": 50 * np.cos(t), "note": 0 * t})
    src = open_file(tmp_path / "x.csv")
    assert src.device_info.stream("accel").rate_hz == pytest.approx(rate, rel=1e-6)
    assert src.device_info.stream("emg").channels == 1
    chunks = [c for c in src.items(block_s=1.0) if isinstance(c, Chunk)]
    accel = np.vstack([c.samples for c in chunks if c.stream == "accel"])
    np.testing.assert_allclose(accel[:, 0], ax, rtol=1e-7)
    assert chunks[0].t0_s == pytest.approx(3.0)
    assert chunks[2].t0_s == pytest.approx(3.0 + 208 / rate)  # second accel chunk starts after one block


def test_csv_non_uniform_t_is_refused_naming_the_file(tmp_path):
    t = np.arange(100) / 100.0
    t[50:] += 0.5  # a half-second jump
    write_csv(tmp_path / "jump.csv", t, {"ax": 0 * t})
    with pytest.raises(FileFormatError, match="jump.csv.*non-uniform"):
        open_file(tmp_path / "jump.csv")


def test_csv_non_uniform_beyond_the_first_block_is_found_while_reading(tmp_path):
    t = np.arange(10000) / 100.0
    t[9000:] += 1.0
    write_csv(tmp_path / "late.csv", t, {"az": 0 * t})
    src = open_file(tmp_path / "late.csv")
    with pytest.raises(FileFormatError, match="late.csv.*non-uniform t at sample 9001"):
        list(src.items(block_s=10.0))


def test_csv_without_t_or_known_columns_is_refused(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    with pytest.raises(FileFormatError, match="no 't' column"):
        open_file(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text("t,foo\n0,1\n0.1,2\n")
    with pytest.raises(FileFormatError, match="none of the columns"):
        open_file(tmp_path / "b.csv")


def write_edf(path, with_emg=True):
    from edfio import Edf, EdfAnnotation, EdfSignal

    rate_a, rate_e, dur = 100, 1000, 12
    ta = np.arange(rate_a * dur) / rate_a
    signals = [
        EdfSignal(np.sin(2 * np.pi * ta), rate_a, label="Accel X", physical_dimension="mg",
                  physical_range=(-16000, 16000)),
        EdfSignal(0 * ta, rate_a, label="Accel Y", physical_dimension="mg", physical_range=(-16000, 16000)),
        EdfSignal(1000 + 0 * ta, rate_a, label="Accel Z", physical_dimension="mg", physical_range=(-16000, 16000)),
        EdfSignal(np.zeros(10 * dur), 10, label="Temp", physical_dimension="degC", physical_range=(0, 50)),
    ]
    if with_emg:
        te = np.arange(rate_e * dur) / rate_e
        signals.append(EdfSignal(0.2 * np.sin(2 * np.pi * 50 * te), rate_e, label="EMG TA",
                                 physical_dimension="mV", physical_range=(-5, 5)))
    Edf(signals, annotations=[EdfAnnotation(2.5, 1.0, "jerk")]).write(path)


def test_edf_signals_map_to_accel_g_and_emg_uv_with_annotations(tmp_path):
    write_edf(tmp_path / "r.edf")
    src = open_file(tmp_path / "r.edf")
    accel, emg = src.device_info.stream("accel"), src.device_info.stream("emg")
    assert (accel.rate_hz, accel.channels) == (100.0, 3)
    assert (emg.rate_hz, emg.channels) == (1000.0, 1)
    assert src.annotations[0].label == "jerk" and src.annotations[0].onset_s == pytest.approx(2.5)
    items = list(src.items(block_s=5.0))
    a = np.vstack([c.samples for c in items if c.stream == "accel"])
    e = np.vstack([c.samples for c in items if c.stream == "emg"])
    assert a.shape == (1200, 3) and e.shape == (12000, 1)
    assert np.median(a[:, 2]) == pytest.approx(1.0, abs=1e-3)  # 1000 mg -> 1 g
    assert np.max(np.abs(e)) == pytest.approx(200.0, rel=1e-2)  # 0.2 mV -> 200 uV
    starts = [c.t0_s for c in items if c.stream == "accel"]
    assert starts == pytest.approx([0.0, 5.0, 10.0])


def test_truncated_and_misnamed_edf_are_refused(tmp_path):
    write_edf(tmp_path / "r.edf", with_emg=False)
    data = (tmp_path / "r.edf").read_bytes()
    (tmp_path / "cut.edf").write_bytes(data[:300])
    with pytest.raises(FileFormatError, match="cut.edf"):
        open_file(tmp_path / "cut.edf")
    (tmp_path / "text.edf").write_text("hello, this is not EDF\n" * 20)
    with pytest.raises(FileFormatError, match="text.edf"):
        open_file(tmp_path / "text.edf")


@pytest.mark.parametrize("name,content,fmt,match", [
    ("bad.json", '{"datapoints": [', None, "not valid JSON"),
    ("other.json", '{"hello": 1}', None, "not Open Seizure Database"),
    ("bad.ts", "@problemName Epilepsy\n@data\n1,2:3,4:x,y:EPILEPSY\n", None, "non-numeric"),
    ("empty.ts", "@problemName Epilepsy\n", None, "no @data"),
    ("weird.txt", "a b c\n", None, "neither Daphnet"),
    ("short.txt", "1 2 3 4 5\n6 7 8 9 10\n", "daphnet", "11 columns"),
    ("codes.txt", "1 2 99\n", "adl", "0..63"),
    ("nohea.dat", "\x00\x01", None, "header nohea.hea not found"),
    ("x.bin", "zzz", None, "unknown file type"),
    ("x.csv", "t,ax\n0,1\n", "nosuch", "unknown format"),
])
def test_bad_files_raise_one_line_file_format_errors(tmp_path, name, content, fmt, match):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(FileFormatError, match=match) as info:
        open_file(path, format=fmt)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_truncated_wfdb_and_missing_file(tmp_path):
    (tmp_path / "r.hea").write_text("r 1 4000 100\nr.dat 16 10000/mV 16 0 0 0 0 EMG\n")
    (tmp_path / "r.dat").write_bytes(np.zeros(60, "<i2").tobytes())
    with pytest.raises(FileFormatError, match="header says 100 samples.*holds 60"):
        open_file(tmp_path / "r.hea")
    with pytest.raises(FileFormatError, match="no such file"):
        open_file(tmp_path / "absent.csv")


def test_osdb_event_without_datapoints_and_bad_placement(tmp_path):
    (tmp_path / "e.json").write_text(json.dumps([{"dataTime": "2023-01-01T00:00:00Z", "datapoints": []}]))
    with pytest.raises(FileFormatError, match="no datapoints"):
        open_file(tmp_path / "e.json")
    t = np.arange(100) / 50
    write_csv(tmp_path / "ok.csv", t, {"ax": t})
    with pytest.raises(ConfigError, match="placement"):
        open_file(tmp_path / "ok.csv", placement="elbow")


def test_csv_rows_of_nan_are_a_gap_not_samples(tmp_path):
    t = np.arange(3000) / 100.0
    ax = np.ones_like(t)
    ax[1000:1500] = np.nan  # 5 s gap, across a block boundary
    write_csv(tmp_path / "g.csv", t, {"ax": ax, "ay": ax * 0, "az": ax})
    items = list(open_file(tmp_path / "g.csv").items(block_s=4.0))
    faults = [i for i in items if not isinstance(i, Chunk)]
    assert [(f.kind, f.start_s, f.end_s) for f in faults] == [("gap", pytest.approx(10.0), pytest.approx(15.0))]
    samples = np.vstack([c.samples for c in items if isinstance(c, Chunk)])
    assert samples.shape == (2500, 3) and not np.isnan(samples).any()
    after = next(c for c in items if isinstance(c, Chunk) and c.t0_s >= 15.0)
    assert after.t0_s == pytest.approx(15.0)


def test_a_session_exported_to_csv_and_edf_reads_back(tmp_path, repo_root):
    from twitchwatch.export import export_session

    session = repo_root / "recordings" / "walk.twr"
    if not session.exists():
        pytest.skip("recordings/walk.twr not present (helper D's sample sessions)")
    native = open_file(session)
    nat_accel = np.vstack([c.samples for c in native.items(10.0) if isinstance(c, Chunk) and c.stream == "accel"])
    for fmt in ("csv", "edf"):
        out = tmp_path / f"walk.{fmt}"
        export_session(session, fmt, out)
        src = open_file(out)
        assert {s.kind for s in src.device_info.streams} == {s.kind for s in native.device_info.streams}
        accel = np.vstack([c.samples for c in src.items(10.0) if isinstance(c, Chunk) and c.stream == "accel"])
        if fmt == "edf":  # lossless counts at the native rate
            np.testing.assert_allclose(accel, nat_accel, atol=1e-6)
        else:  # one uniform rate: accel interpolated onto the EMG rate's grid
            assert accel.shape[0] == pytest.approx(nat_accel.shape[0] * 1000 / 208, rel=0.01)


def test_edf_gap_and_mark_annotations_become_faults_and_marks_and_gap_zeros_are_dropped(tmp_path):
    from edfio import Edf, EdfAnnotation, EdfSignal

    from twitchwatch.model import Fault, Mark

    rate = 50
    x = np.ones(rate * 20)
    x[rate * 5:rate * 8] = 0.0  # EDF+C holds zeros where the device sent nothing
    sigs = [EdfSignal(x, rate, label=f"accel {a}", physical_dimension="g", physical_range=(-16, 16)) for a in "xyz"]
    Edf(sigs, annotations=[EdfAnnotation(5.0, 3.0, "gap accel"), EdfAnnotation(12.0, None, "mark"),
                           EdfAnnotation(1.0, 2.0, "truth quiet")]).write(tmp_path / "g.edf")
    src = open_file(tmp_path / "g.edf")
    assert [a.label for a in src.annotations] == ["truth quiet"]
    items = list(src.items(block_s=4.0))
    assert [(f.kind, f.start_s, f.end_s, f.stream) for f in items if isinstance(f, Fault)] == [("gap", 5.0, 8.0, "accel")]
    assert [m.t_s for m in items if isinstance(m, Mark)] == [12.0]
    samples = np.vstack([c.samples for c in items if isinstance(c, Chunk)])
    assert samples.shape == (rate * 17, 3) and np.allclose(samples, 1.0, atol=1e-3)


def test_upsampling_a_10_hz_file_keeps_its_timing_and_content(tmp_path):
    from twitchwatch.sources.files.resample import upsample_accel

    t = np.arange(200) / 10.0
    write_csv(tmp_path / "slow.csv", t, {"ax": np.sin(2 * np.pi * 1.0 * t), "ay": 0 * t, "az": 1 + 0 * t})
    from twitchwatch.sources.files import ArraySource, Segment

    csv_src = open_file(tmp_path / "slow.csv")
    with pytest.raises(ConfigError, match="in-memory"):
        upsample_accel(csv_src, 16.0)
    samples = np.vstack([c.samples for c in csv_src.items()])
    mem = ArraySource(tmp_path / "slow.csv", "csv", csv_src.device_info, [Segment("accel", 0.0, 10.0, samples)])
    up = upsample_accel(mem, 16.0)
    assert up.device_info.stream("accel").rate_hz == 16.0
    y = np.vstack([c.samples for c in up.items()])
    assert y.shape == (320, 3)
    tt = np.arange(320) / 16.0
    inner = slice(32, -32)  # away from the FIR's edge transients
    np.testing.assert_allclose(y[inner, 0], np.sin(2 * np.pi * tt[inner]), atol=0.05)
    assert upsample_accel(up, 16.0) is up
