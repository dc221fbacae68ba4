"""`twitchwatch sessions` and what a killed recorder leaves behind, as a user meets them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from twitchwatch.cli import main
from twitchwatch.model import DeviceInfo, StreamInfo
from twitchwatch.recording import SessionReader, SessionWriter
from twitchwatch.store import Store, default_db_path

REPO = Path(__file__).resolve().parents[2]
INFO = DeviceInfo("dev-1", "1.0", 1, "foot", (StreamInfo("accel", 208.0, 3, 16.0, 0.001),))


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TWITCHWATCH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def make_session(home: Path, name: str, started: float, duration: float | None = 10.0, inside: bool = True) -> int:
    """A stored session with a small recording file (in the data folder's sessions/ or not)."""
    import numpy as np

    from twitchwatch.model import Chunk

    folder = home / "sessions" if inside else home.parent / "elsewhere"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.twr"
    with SessionWriter(path, INFO, started_at_unix=started, fsync=False, wall_clock=False) as w:
        w.write_chunk(Chunk("accel", 0.0, 208.0, np.zeros((208 * 10, 3)), 0, 0, np.zeros((208 * 10, 3), np.int16)))
    with Store(default_db_path()) as store:
        sid = store.write.create_session(INFO, "test", started, recording_path=path, device_t0_s=0.0)
        if duration is not None:
            store.write.end_session(sid, duration)
    return sid


def test_a_session_left_open_by_a_killed_recorder_is_closed_from_its_file_at_the_next_start(tmp_path, capsys, private_home):
    env = {**os.environ, "TWITCHWATCH_HOME": str(private_home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "twitchwatch", "record", "--virtual", "quiet:600", "--speed", "4",
         "--no-dashboard", "--classifier", "baseline"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 90
        rec = None
        while True:  # until the recording holds 3 s of signal
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline
            files = list((private_home / "sessions").glob("*.twr"))
            if files and files[0].stat().st_size > 4096 and (SessionReader(files[0]).t_end_s or 0) >= 3.0:
                rec = files[0]
                break
            time.sleep(0.05)
        # while it records, `sessions list` leaves its (open) session alone
        code, out, err = run_cli(capsys, "sessions", "list", "--json")
        assert code == 0 and json.loads(out.splitlines()[0])["duration_s"] is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()
    with Store(default_db_path()) as store:
        assert store.sessions.list_sessions()[0]["duration_s"] is None  # what kill -9 leaves
        assert store.history.counts("day") == [] or all(r["monitored_s"] == 0 for r in store.history.counts("day"))
    # the next start closes it from its recording file
    code, out, err = run_cli(capsys, "record", "--virtual", "quiet:2", "--speed", "8", "--no-dashboard",
                             "--classifier", "baseline")
    assert code == 0, err
    assert "was left open" in err
    on_disk = SessionReader(rec).duration_s
    with Store(default_db_path()) as store:
        crashed = store.sessions.list_sessions()[-1]
        assert crashed["duration_s"] == pytest.approx(on_disk, abs=1e-6) and on_disk >= 3.0
        assert sum(r["monitored_s"] for r in store.history.counts("day")) >= on_disk  # History counts it


def test_sessions_list_show_delete_with_confirmation_and_prune_keep_store_and_files_consistent(capsys, private_home, monkeypatch):
    now = time.time()
    old = make_session(private_home, "old", now - 40 * 86400)
    mid = make_session(private_home, "mid", now - 10 * 86400)
    new = make_session(private_home, "new", now - 3600)
    outside = make_session(private_home, "outside", now - 50 * 86400, inside=False)

    code, out, err = run_cli(capsys, "sessions", "list")
    assert code == 0 and "4 session(s)" in out
    assert all(f"{i:>5}  " in out for i in (old, mid, new, outside))
    code, out, err = run_cli(capsys, "sessions", "show", str(mid), "--json")
    shown = json.loads(out)
    assert shown["session"]["id"] == mid and shown["recording_bytes"] == (private_home / "sessions" / "mid.twr").stat().st_size

    # delete asks first: "no" deletes nothing, without a terminal it refuses with one line
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdin, "readline", lambda: "n\n", raising=False)
    code, out, err = run_cli(capsys, "sessions", "delete", str(mid))
    assert code == 1 and "nothing deleted" in err and (private_home / "sessions" / "mid.twr").exists()
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False, raising=False)
    code, out, err = run_cli(capsys, "sessions", "delete", str(mid))
    assert code == 2 and "add --yes" in err and "Traceback" not in err
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdin, "readline", lambda: "y\n", raising=False)
    code, out, err = run_cli(capsys, "sessions", "delete", str(mid))
    assert code == 0 and f"deleted session {mid} and its recording" in out
    assert not (private_home / "sessions" / "mid.twr").exists()
    with Store(default_db_path()) as store:
        assert store.sessions.get_session(mid) is None

    # prune by age: sessions older than 30 days go; a file outside the data folder is kept
    code, out, err = run_cli(capsys, "sessions", "prune", "--older-than", "30", "--yes")
    assert code == 0 and f"deleted session {old}" in out and f"deleted session {outside}" in out
    assert "outside the data folder was kept" in out
    assert not (private_home / "sessions" / "old.twr").exists()
    assert (private_home.parent / "elsewhere" / "outside.twr").exists()
    with Store(default_db_path()) as store:
        assert [s["id"] for s in store.sessions.list_sessions()] == [new]
    assert sorted(p.name for p in (private_home / "sessions").glob("*.twr")) == ["new.twr"]


def test_the_retention_setting_deletes_old_sessions_when_a_recording_starts(capsys, private_home):
    now = time.time()
    old = make_session(private_home, "old", now - 9 * 86400)
    recent = make_session(private_home, "recent", now - 2 * 86400)
    code, out, err = run_cli(capsys, "sessions", "retention")
    assert code == 0 and "until you delete them" in out
    code, out, err = run_cli(capsys, "sessions", "retention", "7")
    assert code == 0 and "retention set to 7 days" in out
    code, out, err = run_cli(capsys, "sessions", "retention", "-1")
    assert code == 2 and "between 0 and 36500" in err
    code, out, err = run_cli(capsys, "record", "--virtual", "quiet:2", "--speed", "8", "--no-dashboard",
                             "--classifier", "baseline")
    assert code == 0, err
    assert f"deleted session {old} (older than the retention setting)" in err
    with Store(default_db_path()) as store:
        ids = [s["id"] for s in store.sessions.list_sessions()]
    assert old not in ids and recent in ids and len(ids) == 2
    assert not (private_home / "sessions" / "old.twr").exists() and (private_home / "sessions" / "recent.twr").exists()
