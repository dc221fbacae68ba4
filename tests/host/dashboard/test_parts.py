"""The dashboard's parts without a browser: decimation, the live feed's budget, the review
snippet, the guidance rule, the report, and the `twitchwatch dashboard` command."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess

import numpy as np
import pytest

from twitchwatch.dashboard.decimate import StreamingBuckets, bucket_size, minmax
from twitchwatch.dashboard.guidance import persistence
from twitchwatch.dashboard.livefeed import CLIENT_QUEUE, LiveClient, LiveFeed
from twitchwatch.dashboard.report import render_report
from twitchwatch.dashboard.snippet import SnippetError, alert_signal, resolve_recording
from twitchwatch.hub import Hub
from twitchwatch.model import Chunk

DAY = 86400.0


def test_streaming_buckets_do_not_depend_on_how_the_stream_is_cut():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10_000, 2))
    rate = 1000.0
    size = bucket_size(rate, 50.0)
    whole = StreamingBuckets(rate, size, 2).push(0.0, x)[2]
    pieces, sb, i = [], StreamingBuckets(rate, size, 2), 0
    for n in rng.integers(1, 700, 100):
        t, dt, b = sb.push(i / rate, x[i : i + n])
        if b is not None:
            pieces.append(b)
        i += n
        if i >= len(x):
            break
    cut = np.concatenate(pieces)
    assert np.array_equal(cut, whole[: len(cut)])
    assert len(cut) >= len(whole) - 1


def test_a_gap_restarts_the_buckets_at_the_new_time():
    sb = StreamingBuckets(100.0, 10, 1)
    sb.push(0.0, np.ones((15, 1)))
    t, dt, b = sb.push(5.0, np.zeros((20, 1)))  # 4.85 s later than expected
    assert t == 5.0 and b.shape == (2, 10, 1) and not b.any()


def test_minmax_keeps_every_spike():
    x = np.zeros(10_000)
    x[1234] = 7.0
    x[8888] = -3.0
    lo, hi = minmax(x, 100)
    assert hi.max() == 7.0 and lo.min() == -3.0 and len(hi) == 100
    assert hi.argmax() == 12 and lo.argmin() == 88


def feed_signal(feed: LiveFeed, seconds: float, emg_rate=1000.0, accel_rate=208.0, block_s=0.05):
    rng = np.random.default_rng(1)
    for k in range(int(seconds / block_s)):
        t0 = k * block_s
        feed.handle(Chunk("accel", t0, accel_rate, rng.normal(0, 0.1, (int(accel_rate * block_s), 3)) + [0, 0, 1]))
        feed.handle(Chunk("emg", t0, emg_rate, rng.normal(0, 20, (int(emg_rate * block_s), 2))))
        if k % 2:
            feed._flush()


def test_the_live_view_is_sent_well_under_50_kB_per_second_of_signal():
    feed = LiveFeed(Hub())
    client = feed.attach()
    feed_signal(feed, 10.0)
    texts = [t for _, t in client._items]
    traces = [json.loads(t) for t in texts]
    assert sum(len(t) for t in texts) / 10.0 < 50_000
    n_emg = sum(len(s["max"][0]) for m in traces for s in m["emg"])
    assert 490 <= n_emg <= 500  # 1 kHz -> 50 buckets/s, never raw
    assert all("raw" not in m for m in traces)


def test_raw_emg_goes_only_to_a_browser_that_zoomed_in():
    feed = LiveFeed(Hub())
    normal, zoomed = feed.attach(), feed.attach()
    zoomed.raw = True
    feed_signal(feed, 2.0)
    raw_n = sum(len(s["max"][0]) for _, t in zoomed._items for s in json.loads(t).get("raw", []))
    assert 490 <= raw_n <= 500  # 250 buckets/s for 2 s
    assert all("raw" not in json.loads(t) for _, t in normal._items)


def test_a_full_browser_queue_drops_traces_before_alerts():
    c = LiveClient()
    c.put("alert", "A")
    for i in range(CLIENT_QUEUE + 10):
        c.put("trace", str(i))
    kinds = [k for k, _ in c._items]
    assert "alert" in kinds and len(kinds) == CLIENT_QUEUE and c.dropped == 11


def test_the_live_state_reports_faults_and_quality():
    from twitchwatch.model import DeviceInfo, Fault, Status

    feed = LiveFeed(Hub())
    feed.handle(DeviceInfo("d", "1", 1, "foot", ()))
    feed.handle(Chunk("accel", 0.0, 100.0, np.ones((100, 3))))
    assert feed._derive_state()["signal_quality"] == "good"
    feed.handle(Status(1.0, 50, 3700, 0, (True, False), 0))
    assert feed._derive_state()["signal_quality"] == "poor"
    feed.handle(Fault("not_worn", 0.2, 1.0))
    st = feed._derive_state()
    assert st["worn"] == "no" and "not_worn" in st["faults_now"]
    feed.handle(Fault("signal_lost", 0.5, 1.0))
    assert feed._derive_state()["signal_quality"] == "lost"


def test_the_alert_snippet_shows_the_rhythm_the_recording_holds(store, session_with_alert, data_dir):
    sid, (_, alarm) = session_with_alert
    a = store.sessions.get_alert(alarm)
    sig = alert_signal(a["session"]["recording_path"], store.data_dir, a["episode_start_s"], a["episode_end_s"])
    assert sig["span_s"] == [a["episode_start_s"] - 5.0, a["episode_end_s"] + 5.0]
    acc = sig["accel"]["spectrum"]["dominant_hz"]
    envs = [ch["envelope_spectrum"]["dominant_hz"] for ch in sig["emg"]["channels"]]
    assert 0.5 <= acc <= 5.0  # clonic jerking rhythm (PHYSIOLOGY.md: 0.2-5 Hz)
    assert all(abs(e - acc) <= 0.3 for e in envs)  # movement and muscle agree
    for tr in (sig["accel"]["raw"], sig["emg"]["channels"][0]["filtered"]):
        assert len(tr["max"]) <= 1200 and len(tr["min"]) == len(tr["max"])
    # the envelope is larger during the jerking than before it
    env = np.array(sig["emg"]["channels"][0]["envelope"]["max"])
    t = sig["emg"]["channels"][0]["envelope"]["t0"] + np.arange(len(env)) * sig["emg"]["channels"][0]["envelope"]["dt"]
    assert env[(t > 15) & (t < 28)].mean() > 5 * env[t < 9].mean()


def test_recordings_outside_the_data_folder_or_broken_are_not_shown(tmp_path, data_dir):
    outside = tmp_path / "x.twr"
    outside.write_bytes(b"whatever")
    with pytest.raises(SnippetError, match="outside the data folder"):
        resolve_recording(str(outside), data_dir)
    with pytest.raises(SnippetError, match="outside the data folder"):
        resolve_recording(str(data_dir / ".." / "x.twr"), data_dir)
    with pytest.raises(SnippetError, match="missing"):
        resolve_recording(str(data_dir / "sessions" / "gone.twr"), data_dir)
    with pytest.raises(SnippetError, match="no recording"):
        resolve_recording(None, data_dir)
    bad = data_dir / "bad.twr"
    bad.write_bytes(b"not a session file at all")
    with pytest.raises(SnippetError, match="bad.twr"):
        alert_signal(str(bad), data_dir, 0.0, 1.0)


def daily_rows(pattern: str) -> list[dict]:
    """'T' twitching day, 'q' monitored without twitches, '.' not monitored."""
    return [
        {"start_unix": i * DAY, "twitches": 5 if c == "T" else 0, "monitored_s": 3600.0}
        for i, c in enumerate(pattern)
        if c != "."
    ]


@pytest.mark.parametrize(
    "pattern, show",
    [
        ("TTTTTTTTTTTTTTTTTTTT", True),  # 20 days of twitching
        ("TTqTTqTTTqTT.TTqTT", True),  # most monitored days over 18 days
        ("TTTTTTTTTTTTT", False),  # under two weeks
        ("TqqqqqqqqqqqqqqqqqqT", False),  # twitching on 2 of 20 days
        ("T..............T", False),  # two days, too few monitored
        ("", False),
    ],
)
def test_the_gentle_note_needs_twitching_on_most_days_for_over_two_weeks(pattern, show):
    p = persistence(daily_rows(pattern))
    assert p["show"] is show
    assert (p["note"] is not None) is show


def test_the_report_escapes_what_people_typed(store, session_with_alert):
    sid, (warn, alarm) = session_with_alert
    store.labels.set(alarm, "confirmed", "<script>alert('x')</script> & more", by="<b>carer</b>")
    html = render_report(store, 1_767_571_200.0 - DAY, 1_767_571_200.0 + 2 * DAY, 0.0)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;carer&lt;/b&gt;" in html
    assert "2026-01-05 09:00" in html  # the episode, in the requested local time
    assert html.count("<svg") >= 3  # bars + the episode's two snippets
    assert "not a diagnosis" in html


def test_the_dashboard_command_refuses_an_open_address_without_a_token(tmp_path, repo_root):
    r = subprocess.run(
        [str(repo_root / ".venv" / "bin" / "twitchwatch"), "dashboard", "--host", "0.0.0.0", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "without a token" in r.stderr and "Traceback" not in r.stderr


def test_the_dashboard_command_serves_the_store_until_ctrl_c(tmp_path, repo_root):
    import urllib.request

    env = dict(os.environ, TWITCHWATCH_HOME=str(tmp_path / "home"))
    p = subprocess.Popen(
        [str(repo_root / ".venv" / "bin" / "twitchwatch"), "dashboard", "--port", "0"],
        stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        line = p.stderr.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert m, line
        body = json.loads(urllib.request.urlopen(m.group(1) + "api/sessions", timeout=10).read())
        assert body == {"sessions": []}
        assert (tmp_path / "home" / "twitchwatch.db").exists()
        # a browser tab left open: an idle keep-alive connection and a live WebSocket must not
        # hold the program after one Ctrl-C
        import socket

        host, port = m.group(1)[7:-1].split(":")
        idle = socket.create_connection((host, int(port)), timeout=10)
        ws = socket.create_connection((host, int(port)), timeout=10)
        ws.sendall(f"GET /ws/live HTTP/1.1\r\nHost: {host}:{port}\r\nOrigin: http://{host}:{port}\r\n".encode() + b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        assert b"101" in ws.recv(200)
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=15) == 0
        assert "stopping" in p.stderr.read()
        idle.close()
        ws.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
