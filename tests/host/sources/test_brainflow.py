"""BrainFlow boards through the real BrainFlow library: its synthetic board live, its playback
board on a file written by BrainFlow's own DataFilter, end to end through the CLI (detection,
recording, store), plus reconnects, gaps and one-line errors for bad boards."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("brainflow")

from brainflow.board_shim import BoardIds, BoardShim, BrainFlowError  # noqa: E402
from brainflow.data_filter import DataFilter  # noqa: E402

from twitchwatch.cli import main  # noqa: E402
from twitchwatch.core.detector import make_detector  # noqa: E402
from twitchwatch.model import Chunk, ConnectionChange, DetectorOutput, Fault  # noqa: E402
from twitchwatch.recording import SessionReader  # noqa: E402
from twitchwatch.sources import brainflow as tb  # noqa: E402
from twitchwatch.sources.files import ArraySource, Segment  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "recordings" / "rhythmic_jerking.twr"
#: Cyton over Wi-Fi: accelerometer and 8 EMG channels at 1 kHz in BrainFlow's description, so a
#: playback file of it carries both streams at rates the detector reads.
MASTER = "cyton_wifi"
PLAYBACK_S = 8.0


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TWITCHWATCH_HOME", str(tmp_path / "home"))


def one_line_error(capsys, code, *needles):
    _, err = capsys.readouterr()
    lines = [x for x in err.splitlines() if x.strip() and not x.startswith("twitchwatch: note:")]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("twitchwatch: error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def detections(out: DetectorOutput, t0: float) -> dict:
    """What a run detected, times relative to its first sample (rounded to the microsecond)."""
    r = lambda t: round(t - t0, 6)  # noqa: E731
    return {
        "events": sorted((r(e.t_s), e.kind, e.stream, e.channel) for e in out.events),
        "episodes": sorted((e.kind, r(e.start_s), r(e.end_s)) for e in out.episodes),
        "alerts": sorted((a.level, a.kind, r(a.t_s)) for a in out.alerts),
    }


def run_detector(source, block_s: float = 1.0) -> DetectorOutput:
    det = make_detector(source.device_info, classifier="baseline")
    outs = []
    for item in source.items(block_s=block_s):
        if isinstance(item, Chunk):
            outs.append(det.process(item))
        elif isinstance(item, Fault):
            outs.append(det.process_fault(item))
    outs.append(det.finish())
    return DetectorOutput.concat(outs)


# ---- names, descriptions -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["synthetic", "SYNTHETIC_BOARD", "Synthetic_board", "-1"])
def test_a_board_is_named_by_name_with_or_without_board_or_by_id(text):
    assert tb.resolve_board(text) == BoardIds.SYNTHETIC_BOARD.value


def test_streams_rates_and_channels_come_from_brainflows_description():
    layout = tb.board_layout(tb.resolve_board(MASTER))
    descr = BoardShim.get_board_descr(BoardIds.CYTON_WIFI_BOARD.value)
    accel, emg = layout.stream("accel"), layout.stream("emg")
    assert accel.rows == tuple(descr["accel_channels"]) and accel.rate_hz == descr["sampling_rate"]
    assert emg.rows == tuple(descr["emg_channels"][:2]) and emg.rate_hz == descr["sampling_rate"]
    # a board with only EMG has only an EMG stream
    only_emg = tb.board_layout(tb.resolve_board("callibri_emg"))
    assert [s.kind for s in only_emg.streams] == ["emg"]


def test_devices_lists_what_brainflow_can_open(capsys):
    assert main(["devices", "--no-ble"]) == 0
    out = capsys.readouterr().out
    assert "BrainFlow boards" in out
    assert "synthetic" in out and "cyton_wifi" in out and "accel 1000 Hz x3, emg 1000 Hz x2" in out


# ---- the session logic -----------------------------------------------------------------------------

def test_late_data_is_a_gap_and_the_clock_re_anchors():
    rows = tb.StreamRows("accel", 0, (1, 2, 3), 0, 100.0, ("x", "y", "z"))
    stream = tb.BoardStream([rows])
    def block(t0, n):
        d = np.zeros((4, n))
        d[0] = t0 + np.arange(n) / 100.0
        return d
    first = stream.feed(0, block(50.0, 10))
    second = stream.feed(0, block(50.1, 10))  # on time: contiguous
    third = stream.feed(0, block(53.2, 10))  # 3 s late
    assert [type(i) for i in first + second] == [Chunk, Chunk]
    assert second[0].t0_s == pytest.approx(50.1)
    gap, chunk = third
    assert isinstance(gap, Fault) and gap.kind == "gap"
    assert gap.start_s == pytest.approx(50.2) and gap.end_s == pytest.approx(53.2)
    assert chunk.t0_s == 53.2


# ---- synthetic board, live --------------------------------------------------------------------------

def test_the_synthetic_board_records_detects_and_stores_through_the_cli(tmp_path, capsys):
    out = tmp_path / "synthetic.twr"
    code = main(["record", "--brainflow", "synthetic", "--duration", "3", "--no-dashboard",
                 "--classifier", "baseline", "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert "emg at 250 Hz is below the detector's 500 Hz; left out" in err
    rec = SessionReader(out)
    accel = rec.device_info.stream("accel")
    assert accel.rate_hz == BoardShim.get_sampling_rate(BoardIds.SYNTHETIC_BOARD.value) and accel.channels == 3
    chunks = [i for i in rec.items(60.0) if isinstance(i, Chunk)]
    assert sum(c.n for c in chunks) > accel.rate_hz  # more than a second of samples
    # the synthetic board's accelerometer sits near 1 g on each axis (BrainFlow's units, g)
    assert 0.5 < float(np.median(np.concatenate([c.samples for c in chunks]))) < 1.5
    # the live detector's outputs (kept in the recording) are what a replay of the recording finds
    live = rec.outputs
    replayed = run_detector(SessionReader(out))
    assert detections(live, rec.t_start_s) == detections(replayed, rec.t_start_s)
    db = Path(tmp_path / "home" / "twitchwatch.db")
    with sqlite3.connect(db) as conn:
        (n_sessions,) = conn.execute("select count(*) from sessions").fetchone()
    assert n_sessions == 1


async def test_a_link_failure_reconnects_and_the_hole_is_a_gap(monkeypatch):
    src = tb.BrainFlowSource("synthetic", kinds=("accel",), backoff_s=0.05)
    real_read = src._link.read
    calls = {"n": 0}
    def flaky_read():
        calls["n"] += 1
        if calls["n"] == 5:
            raise BrainFlowError("BOARD_NOT_READY_ERROR:7 link lost", 7)
        return real_read()
    monkeypatch.setattr(src._link, "read", flaky_read)
    real_open = src._link.open
    opens = {"n": 0}
    def slow_open():  # the board is away for a second before it comes back
        opens["n"] += 1
        if opens["n"] == 2:
            import time
            time.sleep(1.0)
        real_open()
    monkeypatch.setattr(src._link, "open", slow_open)
    seen = []
    async def collect():
        async for item in src:
            seen.append(item)
            if any(isinstance(i, Fault) for i in seen) and isinstance(item, Chunk):
                break
    await asyncio.wait_for(collect(), 30)
    await src.aclose()
    states = [i.state for i in seen if isinstance(i, ConnectionChange)]
    assert states == ["disconnected", "connected"]
    gap = next(i for i in seen if isinstance(i, Fault))
    assert gap.kind == "gap" and gap.end_s - gap.start_s > 0.5
    assert src.reconnects == 1


# ---- playback board, a file written by BrainFlow ----------------------------------------------------

def sample_signals(seconds: float) -> tuple[np.ndarray, np.ndarray, float]:
    """EMG (n, 2) in uV at its own 1 kHz and accel (n, 3) in g brought to the same rate, from a sample."""
    reader = SessionReader(SAMPLE)
    emg, acc = [], []
    for item in reader.items(60.0):
        if isinstance(item, Chunk):
            (emg if item.stream == "emg" else acc).append(item)
    emg_rate = emg[0].rate_hz
    e = np.concatenate([c.samples for c in emg])[: int(seconds * emg_rate)]
    a = np.concatenate([c.samples for c in acc])
    t_a = np.arange(a.shape[0]) / acc[0].rate_hz
    t_e = np.arange(e.shape[0]) / emg_rate
    a_up = np.stack([np.interp(t_e, t_a, a[:, k]) for k in range(3)], axis=1)
    return e, a_up, emg_rate


@pytest.fixture(scope="module")
def playback_file(tmp_path_factory):
    descr = BoardShim.get_board_descr(BoardIds.CYTON_WIFI_BOARD.value)
    rate = descr["sampling_rate"]
    emg, acc, emg_rate = sample_signals(PLAYBACK_S)
    assert emg_rate == rate
    n = emg.shape[0]
    data = np.zeros((descr["num_rows"], n))
    data[descr["package_num_channel"]] = np.arange(n) % 256
    data[descr["timestamp_channel"]] = 1000.0 + np.arange(n) / rate
    for k, row in enumerate(descr["accel_channels"]):
        data[row] = acc[:, k]
    for k, row in enumerate(descr["emg_channels"][:2]):
        data[row] = emg[:, k]
    path = tmp_path_factory.mktemp("brainflow") / "playback.csv"
    DataFilter.write_file(data, str(path), "w")
    return path, data, descr


def test_a_playback_file_replays_to_the_same_detections_as_a_direct_run(playback_file, tmp_path, capsys):
    path, data, descr = playback_file
    out = tmp_path / "playback.twr"
    code = main(["record", "--brainflow", "playback_file", "--brainflow-param", f"file={path}",
                 "--brainflow-param", f"master_board={MASTER}", "--no-dashboard", "--classifier", "baseline",
                 "--out", str(out), "--duration", str(PLAYBACK_S * 6)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert "source ended" in err  # it stopped because the file was played, not on the duration
    rec = SessionReader(out)
    recorded = {"accel": [], "emg": []}
    for item in rec.items(60.0):
        if isinstance(item, Chunk):
            recorded[item.stream].append(item.samples)
    rate = float(descr["sampling_rate"])
    acc_rec = np.concatenate(recorded["accel"])
    emg_rec = np.concatenate(recorded["emg"])
    # every sample arrived, on the file's own clock (as BrainFlow reads the file back; the
    # recording keeps float32 where a source has no integer counts)
    played = DataFilter.read_file(str(path))
    acc_file = np.ascontiguousarray(played[descr["accel_channels"]].T)
    emg_file = np.ascontiguousarray(played[descr["emg_channels"][:2]].T)
    np.testing.assert_allclose(acc_rec, acc_file, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(emg_rec, emg_file, rtol=1e-6, atol=1e-3)
    np.testing.assert_allclose(acc_file, data[descr["accel_channels"]].T, rtol=1e-5, atol=1e-5)
    assert rec.t_start_s == 1000.0
    # the same samples read directly (no BrainFlow board) give the same detections as the live run
    info = rec.device_info
    direct = ArraySource(path, "brainflow", info, [Segment("accel", 1000.0, rate, acc_file),
                                                  Segment("emg", 1000.0, rate, emg_file)])
    assert detections(rec.outputs, 1000.0) == detections(run_detector(direct), 1000.0)
    assert len(rec.outputs.events) > 0


# ---- bad input ------------------------------------------------------------------------------------------

def test_an_unknown_board_is_one_line_exit_2(capsys):
    code = main(["record", "--brainflow", "no_such_board", "--no-dashboard", "--classifier", "baseline"])
    one_line_error(capsys, code, "no_such_board", "unknown board")


def test_a_board_that_cannot_be_opened_is_one_line_exit_2(capsys):
    code = main(["record", "--brainflow", "cyton_wifi", "--brainflow-param", "ip_address=127.0.0.1",
                 "--brainflow-param", "ip_port=1", "--brainflow-param", "timeout=1",
                 "--no-dashboard", "--classifier", "baseline", "--duration", "5"])
    one_line_error(capsys, code, "brainflow board cyton_wifi", "cannot open it")


def test_a_missing_playback_file_and_a_bad_param_are_one_line_exit_2(tmp_path, capsys):
    code = main(["record", "--brainflow", "playback_file", "--brainflow-param", f"file={tmp_path / 'nope.csv'}",
                 "--brainflow-param", "master_board=synthetic", "--no-dashboard", "--classifier", "baseline"])
    one_line_error(capsys, code, "nope.csv", "no such file")
    code = main(["record", "--brainflow", "synthetic", "--brainflow-param", "colour=blue", "--no-dashboard"])
    one_line_error(capsys, code, "colour", "unknown")
