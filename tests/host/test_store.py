"""The SQLite store: real SQLite files in a temporary folder."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from twitchwatch.errors import StoreError
from twitchwatch.model import (
    Alert, DetectorOutput, DeviceInfo, Episode, Event, Fault, Mark, Status, StreamInfo, WindowLabel,
)
from twitchwatch.store import LABELS, MIGRATIONS, InvalidInput, Store, default_data_dir, read_labels

INFO = DeviceInfo(
    device_id="tw-test", firmware_version="1.0", protocol_version=1, placement="foot",
    streams=(StreamInfo("accel", 208.0, 3, 16.0, 16.0 / 32768), StreamInfo("emg", 1000.0, 2, 5000.0, 0.2)),
    source="virtual:test",
)
T0 = 1_700_000_000.0


def output(t: float) -> DetectorOutput:
    return DetectorOutput(
        events=(Event(t, 0.01, "twitch", "emg", "ta", 40.0), Event(t + 1, 0.3, "burst", "emg", "ta", 200.0)),
        windows=(WindowLabel(t, t + 2, "quiet", 0.9, 0.0, 0.1), WindowLabel(t + 1, t + 3, "rhythmic_jerking", 0.8, 2.0, 0.9)),
        episodes=(Episode("rhythmic_jerking", t, t + 20, 2.1, 19, "alarm"),),
        alerts=(Alert("alarm", "rhythmic_jerking", t + 10, t, (("dominant_hz", 2.1), ("rhythmicity", 0.9), ("duration_s", 10.0))),),
        faults=(Fault("gap", t + 5, t + 5.5, "emg", "3 frames"),),
    )


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "data" / "twitchwatch.db")
    yield s
    s.close()


def test_a_new_store_is_in_wal_mode_at_the_latest_schema_version(store):
    assert store.schema_version == len(MIGRATIONS)
    conn = sqlite3.connect(store.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sessions", "events", "episodes", "alerts", "faults", "marks", "status", "labels", "schema_version"} <= tables


def test_reopening_keeps_data_and_does_not_migrate_twice(tmp_path):
    p = tmp_path / "tw.db"
    with Store(p) as s:
        sid = s.write.create_session(INFO, "virtual:test", T0)
        s.write.add_output(sid, output(10.0))
    with Store(p) as s:
        assert s.schema_version == len(MIGRATIONS)
        assert s.sessions.list_sessions()[0]["n_alerts"] == 1


def test_a_store_from_a_newer_twitchwatch_is_refused(tmp_path):
    p = tmp_path / "tw.db"
    Store(p).close()
    conn = sqlite3.connect(p)
    conn.execute("UPDATE schema_version SET version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema version 99"):
        Store(p)


def test_a_file_that_is_not_sqlite_is_refused_with_one_line(tmp_path):
    p = tmp_path / "tw.db"
    p.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="tw.db") as exc:
        Store(p)
    assert "\n" not in str(exc.value)


def test_outputs_round_trip_through_the_timeline(store):
    sid = store.write.create_session(INFO, "virtual:test", T0, recording_path=None, device_t0_s=5.0)
    ids = store.write.add_output(sid, output(10.0))
    store.write.add_marks(sid, [Mark(12.0, "felt it")])
    store.write.add_faults(sid, [Fault("not_worn", 30.0, 40.0)])
    store.write.add_status(sid, Status(11.0, 80, 3900, 0, (False, True), 0))
    store.write.end_session(sid, 60.0)
    tl = store.sessions.timeline(sid)
    assert [e["kind"] for e in tl["events"]] == ["twitch", "burst"]
    assert tl["events"][0]["t_unix"] == pytest.approx(T0 + 5.0)  # device 10 s, anchored at 5 s
    assert tl["episodes"][0]["dominant_hz"] == pytest.approx(2.1)
    assert [a["id"] for a in tl["alerts"]] == ids
    a = tl["alerts"][0]
    assert a["reasons"] == [("dominant_hz", 2.1), ("rhythmicity", 0.9), ("duration_s", 10.0)]
    assert a["episode_end_s"] == pytest.approx(30.0)
    assert a["label"] is None
    assert sorted(f["kind"] for f in tl["faults"]) == ["gap", "not_worn"]
    assert tl["marks"][0]["note"] == "felt it"
    assert tl["status"][0]["lead_off"] == [False, True]
    assert {w["label"]: w["n"] for w in tl["windows"]} == {"quiet": 1, "rhythmic_jerking": 1}
    s = store.sessions.list_sessions()[0]
    assert (s["n_twitches"], s["n_events"], s["n_alerts"], s["n_unlabelled"], s["duration_s"]) == (1, 2, 1, 1, 60.0)


def test_window_counts_accumulate_across_calls(store):
    sid = store.write.create_session(INFO, "x", T0)
    for _ in range(3):
        store.write.add_output(sid, DetectorOutput(windows=(WindowLabel(1.0, 3.0, "quiet", 1.0, 0.0, 0.0),)))
    assert store.sessions.timeline(sid)["windows"] == [{"start_s": 0.0, "label": "quiet", "n": 3}]


def test_anchor_clock_is_set_once(store):
    sid = store.write.create_session(INFO, "x", T0)
    assert store.write.anchor_clock(sid, 100.0) is True
    assert store.write.anchor_clock(sid, 200.0) is False
    assert store.sessions.get_session(sid)["device_t0_s"] == 100.0


def test_labels_are_validated_and_bad_input_changes_nothing(store):
    sid = store.write.create_session(INFO, "x", T0)
    (aid,) = store.write.add_output(sid, output(0.0))
    store.labels.set(aid, "confirmed", "it was a jerk", by="carer")
    for bad in [
        dict(alert_id=aid, label="maybe"),
        dict(alert_id=aid, label="unsure", note=123),
        dict(alert_id=aid, label="unsure", note="x" * 5000),
        dict(alert_id=aid + 999, label="unsure"),
        dict(alert_id="1; DROP TABLE labels", label="unsure"),
    ]:
        with pytest.raises(InvalidInput):
            store.labels.set(**bad)
    lab = store.labels.get(aid)
    assert (lab["label"], lab["note"], lab["labelled_by"]) == ("confirmed", "it was a jerk", "carer")
    store.labels.set(aid, "false_alarm", "")
    assert store.sessions.alerts(session_id=sid)[0]["label"]["label"] == "false_alarm"
    assert issubclass(InvalidInput, ValueError) and set(LABELS) == {"confirmed", "false_alarm", "unsure"}


def test_writes_to_an_unknown_session_fail_and_leave_nothing(store):
    with pytest.raises(InvalidInput):
        store.write.add_output(42, output(0.0))
    sid = store.write.create_session(INFO, "x", T0)
    assert store.sessions.timeline(sid)["events"] == []
    assert store.sessions.alerts() == []


def test_exported_labels_read_back_as_json_and_csv(store, tmp_path):
    rec = store.data_dir / "sessions" / "s1.twr"
    sid = store.write.create_session(INFO, "x", T0, recording_path=rec)
    (a1,) = store.write.add_output(sid, output(0.0))
    (a2,) = store.write.add_output(sid, output(100.0))
    store.labels.set(a1, "confirmed", 'note, with "quotes"\nand a newline')
    for fmt in ("json", "csv"):
        path = tmp_path / f"labels.{fmt}"
        store.labels.export(path, format=fmt)
        rows = read_labels(path)
        assert len(rows) == 1  # only labelled alerts
        r = rows[0]
        assert (r["alert_id"], r["label"], r["recording_path"], r["placement"]) == (a1, "confirmed", str(rec), "foot")
        assert (r["start_s"], r["end_s"], r["alert_t_s"]) == (0.0, 20.0, 10.0)
        assert r["note"] == 'note, with "quotes"\nand a newline'
    assert json.loads(store.labels.export())["format"] == "twitchwatch-labels"
    assert a2 != a1


def test_history_counts_per_day_with_monitored_time(store):
    day = 86400.0
    for d in range(3):
        sid = store.write.create_session(INFO, "x", T0 - (T0 % day) + d * day + 3600)
        store.write.add_output(sid, output(0.0))
        store.write.add_output(sid, DetectorOutput(events=tuple(Event(100.0 + i, 0.01, "twitch", "emg", "ta", 30.0) for i in range(d))))
        store.write.end_session(sid, 7200.0)
    rows = store.history.counts("day")
    # the twitch at t=0 is a jerk inside the rhythmic-jerking episode: counted as an event only
    assert [r["twitches"] for r in rows] == [0, 1, 2]
    assert [r["twitch_events"] for r in rows] == [1, 2, 3]
    assert [r["episodes"] for r in rows] == [{"rhythmic_jerking": 1}] * 3
    # the 0.5 s gap is not monitored time
    assert all(r["monitored_s"] == pytest.approx(7199.5) for r in rows)
    assert all(r["not_monitored_s"] == pytest.approx(0.5) for r in rows)
    assert [r["rate_per_h"] for r in rows] == [pytest.approx(n / (7199.5 / 3600)) for n in (0, 1, 2)]
    hours = store.history.counts("hour")
    assert sum(r["monitored_s"] for r in hours) == pytest.approx(3 * 7199.5)
    assert len(store.history.counts("week")) in (1, 2)
    with pytest.raises(InvalidInput):
        store.history.counts("fortnight")


def test_settings_validate_before_writing(store):
    assert store.settings.get()["alert_sound"] is True
    with pytest.raises(InvalidInput):
        store.settings.update({"alert_sound": False, "stale_after_s": "soon"})
    assert store.settings.get()["alert_sound"] is True
    assert store.settings.update({"alert_sound": False})["alert_sound"] is False


def test_a_writer_thread_and_reader_threads_run_together(store):
    sid = store.write.create_session(INFO, "x", T0)
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader():
        try:
            while not stop.is_set():
                store.sessions.timeline(sid)
                store.sessions.list_sessions()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    for i in range(200):
        store.write.add_output(sid, output(float(i * 100)))
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.sessions.alerts(session_id=sid)) == 200


def test_default_data_dir_follows_twitchwatch_home(monkeypatch, tmp_path):
    monkeypatch.setenv("TWITCHWATCH_HOME", str(tmp_path / "home"))
    assert default_data_dir() == tmp_path / "home"
    monkeypatch.delenv("TWITCHWATCH_HOME")
    assert default_data_dir().parts[-3:] == (".local", "share", "twitchwatch")


def test_an_old_store_is_migrated_in_place_and_keeps_its_data(tmp_path):
    """A version-1 store (made with the first migration only) gains the per-minute event counts,
    backfilled from its events."""
    p = tmp_path / "old.db"
    conn = sqlite3.connect(p)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (1)")
    for stmt in MIGRATIONS[0]:
        conn.execute(stmt)
    conn.execute("INSERT INTO sessions (id, started_at_unix, device_t0_s, duration_s) VALUES (1, ?, 0.0, 600.0)", (T0,))
    conn.executemany(
        "INSERT INTO events (session_id, t_s, duration_s, kind, stream, channel, amplitude) VALUES (1, ?, 0.01, ?, 'emg', 'ta', 30.0)",
        [(10.0, "twitch"), (20.0, "twitch"), (70.0, "burst"), (130.0, "twitch")],
    )
    conn.commit()
    conn.close()
    with Store(p) as s:
        assert s.schema_version == len(MIGRATIONS) >= 2
        row = s.sessions.list_sessions()[0]
        assert (row["n_twitches"], row["n_events"]) == (3, 4)
        assert sum(r["twitches"] for r in s.history.counts("hour")) == 3
        s.write.add_output(1, DetectorOutput(events=(Event(15.0, 0.01, "twitch", "emg", "ta", 30.0),)))
        assert s.sessions.list_sessions()[0]["n_twitches"] == 4
