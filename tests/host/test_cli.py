"""The command line as a user meets it: record (killed with -9 too), replay --json, export, and
one-line errors with exit code 2 for bad input."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from twitchwatch.cli import main
from twitchwatch.model import Chunk
from twitchwatch.recording import SessionReader

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "recordings" / "rhythmic_jerking.twr"


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TWITCHWATCH_HOME", str(tmp_path / "home"))


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *needles):
    assert code == 2
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and lines[0].startswith("twitchwatch: error: "), err
    assert "Traceback" not in err
    for n in needles:
        assert n in lines[0], (n, lines[0])


def test_replay_json_prints_the_documented_schema(capsys):
    code, out, err = run_cli(capsys, "replay", str(SAMPLE), "--json", "--classifier", "baseline")
    assert code == 0
    objs = [json.loads(line) for line in out.splitlines()]
    required = {
        "event": {"t", "kind", "channel", "amplitude"},
        "episode": {"kind", "start", "end", "dominant_hz"},
        "alert": {"level", "kind", "t"},
        "fault": {"kind", "start", "end"},
        "summary": {"duration_s", "events", "episodes", "alerts", "faults"},
    }
    for o in objs:
        assert required[o["type"]] <= o.keys(), o
    assert objs[-1]["type"] == "summary" and sum(o["type"] == "summary" for o in objs) == 1
    s = objs[-1]
    assert s["duration_s"] == pytest.approx(75.0, abs=0.1)
    assert s["events"] == sum(o["type"] == "event" for o in objs) > 0
    assert s["alerts"] == sum(o["type"] == "alert" for o in objs)
    # times are seconds from the first sample of the file
    assert all(0.0 <= o["t"] <= 75.0 for o in objs if o["type"] in ("event", "alert"))
    jerks = [o for o in objs if o["type"] == "alert" and o["kind"] == "rhythmic_jerking"]
    assert jerks and 20.0 <= jerks[0]["t"] <= 60.0  # the jerking runs from 20 s to 60 s


def test_replay_prints_readable_tables_by_default(capsys):
    code, out, err = run_cli(capsys, "replay", str(SAMPLE), "--classifier", "baseline")
    assert code == 0
    assert "Episodes (" in out and "Alerts (" in out and "replayed 1:15.0" in out


def test_a_truncated_recording_replays_up_to_its_last_good_block_and_says_what_was_lost(tmp_path, capsys):
    cut = tmp_path / "cut.twr"
    data = SAMPLE.read_bytes()
    cut.write_bytes(data[: len(data) - 20_000])
    code, out, err = run_cli(capsys, "replay", str(cut), "--json", "--classifier", "baseline")
    assert code == 0
    summary = json.loads(out.splitlines()[-1])
    assert summary["lost_bytes"] > 0 and 65.0 < summary["duration_s"] < 75.0
    assert "replayed up to 1:" in err and "lost the last" in err and "cut.twr" in err


@pytest.mark.parametrize(
    "content, needle",
    [
        (None, "no such file"),
        (b"TWATCH1\n\x89TW", "header is truncated or corrupt"),
        (bytes(range(256)) * 10, "not a twitchwatch session"),
    ],
)
def test_bad_files_are_one_line_exit_2(tmp_path, capsys, content, needle):
    bad = tmp_path / "bad.twr"
    if content is not None:
        bad.write_bytes(content)
    code, out, err = run_cli(capsys, "replay", str(bad))
    assert_one_line_error(code, err, "bad.twr", needle)


def test_a_missing_port_is_one_line_exit_2(tmp_path, capsys):
    code, out, err = run_cli(capsys, "record", "--serial", str(tmp_path / "ttyACM9"), "--no-dashboard",
                             "--classifier", "baseline", "--duration", "5")
    assert_one_line_error(code, err, "ttyACM9", "no such serial port")


def test_nothing_is_overwritten_without_force(tmp_path, capsys):
    out_file = tmp_path / "mine.twr"
    shutil.copy(SAMPLE, out_file)
    before = out_file.read_bytes()
    code, out, err = run_cli(capsys, "record", "--virtual", "quiet:2", "--out", str(out_file), "--no-dashboard",
                             "--classifier", "baseline")
    assert_one_line_error(code, err, "mine.twr", "--force")
    edf = tmp_path / "mine.edf"
    edf.write_bytes(b"keep me")
    code, out, err = run_cli(capsys, "export", str(out_file), "--to", "edf", "--out", str(edf))
    assert_one_line_error(code, err, "mine.edf", "--force")
    assert out_file.read_bytes() == before and edf.read_bytes() == b"keep me"


def test_record_virtual_records_detects_and_stores(tmp_path, capsys):
    out_file = tmp_path / "v.twr"
    code, out, err = run_cli(capsys, "record", "--virtual", "quiet:4,rhythmic_jerking:20", "--speed", "40",
                             "--out", str(out_file), "--no-dashboard", "--classifier", "baseline")
    assert code == 0, err
    assert "rhythmic_jerking" in out  # the alert line
    r = SessionReader(out_file)
    assert r.complete and r.duration_s == pytest.approx(24.0, abs=0.2)
    assert r.outputs.alerts and any(a.label == "rhythmic_jerking" for a in r.annotations)
    from twitchwatch.store import Store, default_db_path

    store = Store(default_db_path())
    sessions = store.sessions.list_sessions()
    store.close()
    assert len(sessions) == 1 and sessions[0]["recording_path"] == str(out_file.resolve())
    # the detector's alerts travel into EDF+ annotations
    import pyedflib

    edf = tmp_path / "v.edf"
    assert run_cli(capsys, "export", str(out_file), "--to", "edf", "--out", str(edf))[0] == 0
    with pyedflib.EdfReader(str(edf)) as f:
        onsets, _, texts = f.readAnnotations()
    alerts = [o for o, t in zip(onsets, texts) if t.startswith("alert ") and "rhythmic_jerking" in t]
    assert alerts and 4.0 < alerts[0] < 24.0
    # a session can be named by its number in the store
    csv = tmp_path / "v.csv"
    assert run_cli(capsys, "export", str(sessions[0]["id"]), "--to", "csv", "--out", str(csv))[0] == 0
    assert csv.read_text().splitlines()[0] == "t,ax,ay,az,emg0,emg1"


def test_export_edf_and_csv_round_trip(tmp_path, capsys):
    import pyedflib

    from twitchwatch.sources.files import open_file

    edf, csv = tmp_path / "s.edf", tmp_path / "s.csv"
    assert run_cli(capsys, "export", str(SAMPLE), "--to", "edf", "--out", str(edf))[0] == 0
    assert run_cli(capsys, "export", str(SAMPLE), "--to", "csv", "--out", str(csv))[0] == 0
    chunks = [c for c in SessionReader(SAMPLE).items(1000.0) if isinstance(c, Chunk)]
    emg = np.concatenate([c.samples for c in chunks if c.stream == "emg"])
    acc = np.concatenate([c.samples for c in chunks if c.stream == "accel"])
    with pyedflib.EdfReader(str(edf)) as f:
        labels = f.getSignalLabels()
        assert labels == ["MISC Accel x", "MISC Accel y", "MISC Accel z", "EMG tibialis_ant", "EMG gastrocnemiu"]
        assert list(f.getSampleFrequencies()) == [208, 208, 208, 1000, 1000]
        np.testing.assert_allclose(f.readSignal(3), emg[:, 0], atol=1e-3)
        np.testing.assert_allclose(f.readSignal(0), acc[:, 0], atol=1e-5)
        onsets, durations, texts = f.readAnnotations()
    assert any(t == "truth jerk" for t in texts) and any(t == "truth rhythmic_jerking" for t in texts)
    # the sample holds no stored detector outputs: export ran the detector, so the EDF+ carries
    # what replay finds in the same file
    code, out, err = run_cli(capsys, "replay", str(SAMPLE), "--json")
    assert code == 0
    found = [json.loads(line) for line in out.splitlines()]
    replay_alerts = sorted((o["level"], o["kind"]) for o in found if o["type"] == "alert")
    edf_alerts = sorted(tuple(t.split()[1:3]) for t in texts if t.startswith("alert "))
    assert replay_alerts and edf_alerts == replay_alerts
    assert sum(t.startswith("episode ") for t in texts) == sum(o["type"] == "episode" for o in found)
    assert sum(t.startswith("event ") for t in texts) == sum(o["type"] == "event" for o in found)
    src = open_file(csv)
    back = [c for c in src.items(1000.0) if isinstance(c, Chunk)]
    assert src.device_info.stream("emg").rate_hz == 1000.0
    emg_csv = np.concatenate([c.samples for c in back if c.stream == "emg"])
    np.testing.assert_allclose(emg_csv, emg, rtol=1e-5, atol=1e-3)


def test_a_recorder_killed_with_sigkill_leaves_a_file_that_replays_up_to_the_last_second(tmp_path, capsys):
    out_file = tmp_path / "killed.twr"
    env = {**os.environ, "TWITCHWATCH_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "twitchwatch", "record", "--virtual", "quiet:600", "--speed", "1",
         "--out", str(out_file), "--no-dashboard", "--classifier", "baseline"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 60
        seen_at = None
        while True:  # wait for the recorder's own flushes to show 2 s of signal in the file
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline
            if out_file.exists() and out_file.stat().st_size > 4096:
                t_end = SessionReader(out_file).t_end_s
                if t_end is not None and t_end >= 2.0:
                    seen_at = (time.monotonic(), t_end)
                    break
            time.sleep(0.05)
        time.sleep(1.0)
        killed_at = time.monotonic()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    # the device time reached at the kill, at real-time speed
    reached = seen_at[1] + (killed_at - seen_at[0])
    code, out, err = run_cli(capsys, "replay", str(out_file), "--json", "--classifier", "baseline")
    assert code == 0
    summary = json.loads(out.splitlines()[-1])
    assert summary["duration_s"] >= reached - 1.5  # nothing older than about a second is lost
    assert "did not close it cleanly" in err or "lost the last" in err


def test_demo_runs_for_the_duration_with_the_dashboard_and_stops_cleanly(tmp_path, capsys):
    code, out, err = run_cli(capsys, "demo", "--duration", "2", "--speed", "4", "--classifier", "baseline",
                             "--dashboard-port", "0")
    assert code == 0, err
    assert "dashboard at http://127.0.0.1:" in err and "duration reached" in err
    sessions = list((tmp_path / "home" / "sessions").glob("*.twr"))
    assert len(sessions) == 1
    r = SessionReader(sessions[0])
    assert r.complete and r.duration_s > 2.0 and r.device_info.source == "file:" + sessions[0].name


def test_ctrl_c_stops_a_recording_cleanly(tmp_path):
    out_file = tmp_path / "stopped.twr"
    env = {**os.environ, "TWITCHWATCH_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "twitchwatch", "record", "--virtual", "quiet:600", "--speed", "4",
         "--out", str(out_file), "--no-dashboard", "--classifier", "baseline"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 60
        while not (out_file.exists() and (SessionReader(out_file).t_end_s or 0) >= 2.0):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    assert b"Traceback" not in err and b"stopped" in err
    r = SessionReader(out_file)
    assert r.complete and r.problem is None and r.duration_s >= 2.0


def test_devices_lists_serial_ports_and_says_what_it_found_over_ble(capsys):
    code, out, err = run_cli(capsys, "devices", "--ble-timeout", "0.5")
    assert code == 0
    assert out.startswith("Serial ports:") and "2886:8045" in out  # how the sensor is recognised
    ble = out.split("BLE sensors:", 1)[1].strip()
    assert ble  # a device, "(none found ...)", or one line saying why BLE is unavailable
    assert "Traceback" not in out + err
