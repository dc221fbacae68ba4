"""History and the report as a person meets them after recording: `twitchwatch record --virtual
faults --speed 10` (the sensor taken off for two minutes), then the dashboard over HTTP.

The not-worn time is an interval everywhere, it is not monitored time, twitches are the isolated
ones at rest, a rate is given only where it means something, and a week / twelve weeks have seven
day slots / twelve week slots whatever was recorded.
"""

from __future__ import annotations

import json
import re
import time

import pytest

from twitchwatch.cli import main
from twitchwatch.dashboard.server import start_dashboard
from twitchwatch.model import DetectorOutput, Episode, Event, Fault, WindowLabel
from twitchwatch.store import DB_NAME, Store

from .conftest import http_request


@pytest.fixture(scope="module")
def faults_home(tmp_path_factory):
    """One run of the virtual `faults` scenario (quiet 60 s, not worn 2 min, quiet, fidget,
    quiet) through the CLI at 10x, stored in a private home."""
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("TWITCHWATCH_HOME", str(home))
    try:
        code = main(["record", "--virtual", "faults", "--speed", "10", "--no-dashboard"])
    finally:
        mp.undo()
    assert code == 0
    return home


async def get_json(base: str, path: str):
    import asyncio

    status, _, body = await asyncio.to_thread(http_request, base, path)
    assert status == 200, (path, status, body[:200])
    return json.loads(body)


async def test_after_the_faults_scenario_history_shows_the_not_worn_interval_and_no_rate(faults_home):
    store = Store(faults_home / DB_NAME)
    h = await start_dashboard(store, port=0)
    try:
        base = h.url
        sess = store.sessions.list_sessions()[0]
        tl = store.sessions.timeline(sess["id"])
        # the store: one not_worn fault from 1:00 to 3:00 (device clock), not an instant
        off = [f for f in tl["faults"] if f["kind"] == "not_worn"]
        assert len(off) == 1 and off[0]["end_s"] - off[0]["start_s"] == pytest.approx(120.0, abs=5.0)
        assert any(a["kind"] == "not_worn" and a["level"] == "fault" for a in tl["alerts"])

        week = await get_json(base, "/api/history?days=7&tz_offset_min=0")
        s = week["summary"]
        assert s["not_monitored_s"] == pytest.approx(120.0, abs=5.0)
        assert s["monitored_s"] == pytest.approx(sess["duration_s"] - s["not_monitored_s"], abs=0.01)
        assert s["rate_per_h"] is None and "too little monitored time" in s["rate_note"]
        assert s["monitored_text"].endswith("min") and not s["monitored_text"].startswith("0.0")
        # isolated twitches at rest: fewer than every twitch-kind event (steps while fidgeting,
        # one twitch seen by the accelerometer and the EMG, are not counted twice)
        assert s["twitches"] < s["twitch_events"]
        assert len(week["daily"]) == 7 and len(week["weekly"]) == 1
        assert [d["monitored"] for d in week["daily"]].count(True) == 1
        assert [(f["kind"], round(f["duration_s"])) for f in week["not_monitored"]] == [("not_worn", round(s["not_monitored_s"]))]

        twelve = await get_json(base, "/api/history?days=84&tz_offset_min=0")
        assert len(twelve["daily"]) == 84 and len(twelve["weekly"]) == 12
        assert sum(w["monitored"] for w in twelve["weekly"]) == 1

        import asyncio

        status, _, body = await asyncio.to_thread(http_request, base, "/report?days=7&tz_offset_min=0")
        page = body.decode()
        assert status == 200
        assert re.search(r"id=not-monitored>2\.0 min", page), page[:2000]
        assert "too little monitored time for a rate" in page
        assert "per monitored hour)" not in page
        assert page.count('<table id=not-worn>') == 1 and "sensor off the body" in page
        assert 'data-slots="7"' in page
    finally:
        await h.stop()
        store.close()


async def test_a_rate_is_given_once_an_hour_is_monitored_and_counts_only_twitches_at_rest(tmp_path):
    """Two hours worn: twitches at rest count; a step during movement, a jerk inside a
    rhythmic-jerking episode, an accelerometer twitch of an EMG session and a twitch while the
    sensor was off do not; the 10 min off are not monitored."""
    from twitchwatch.model import DeviceInfo, StreamInfo

    store = Store(tmp_path / DB_NAME)
    info = DeviceInfo("d", "1", 1, "foot", (StreamInfo("accel", 208.0, 3, 16.0, 0.001), StreamInfo("emg", 1000.0, 1, 3000.0, 0.1)))
    start = time.time() - 3 * 3600
    sid = store.write.create_session(info, "test", start, device_t0_s=0.0)
    rest = tuple(Event(100.0 + 10 * i, 0.01, "twitch", "emg", "ta", 30.0) for i in range(30))
    store.write.add_output(sid, DetectorOutput(
        events=rest + (
            Event(1000.5, 0.01, "twitch", "emg", "ta", 30.0),  # inside walking windows
            Event(2005.0, 0.01, "twitch", "emg", "ta", 30.0),  # inside a rhythmic-jerking episode
            Event(150.0, 0.01, "twitch", "accel", "z", 0.1),  # the accelerometer's view of a twitch
            Event(4000.0, 0.01, "twitch", "emg", "ta", 30.0),  # while the sensor was off
        ),
        windows=(WindowLabel(998.0, 1002.0, "voluntary_movement", 0.9, 1.0, 0.5),
                 WindowLabel(998.5, 1002.5, "voluntary_movement", 0.9, 1.0, 0.5)),
        episodes=(Episode("rhythmic_jerking", 2000.0, 2030.0, 2.0, 50, "alarm"),),
    ))
    store.write.add_faults(sid, [Fault("not_worn", 3900.0, 3900.0, "emg", "off")])  # open...
    store.write.add_faults(sid, [Fault("not_worn", 3900.0, 4500.0, "emg", "off for 600 s")])  # ...closed
    store.write.end_session(sid, 7800.0)
    h = await start_dashboard(store, port=0)
    try:
        v = await get_json(h.url, "/api/history?days=7&tz_offset_min=0")
        s = v["summary"]
        assert s["twitches"] == 30 and s["twitch_events"] == 34
        assert s["monitored_s"] == pytest.approx(7200.0) and s["not_monitored_s"] == pytest.approx(600.0)
        assert s["rate_per_h"] == pytest.approx(15.0) and s["rate_note"] is None
        assert len(store.sessions.timeline(sid)["faults"]) == 1  # the open fault was extended, not duplicated
    finally:
        await h.stop()
        store.close()
