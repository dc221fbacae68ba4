"""HTTP and WebSocket rules of the dashboard: bind address, token, host/origin checks, path
traversal, input validation. Real server (uvicorn in the test loop), real sockets, real SQLite."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3

import pytest
import websockets

from twitchwatch.dashboard.server import start_dashboard
from twitchwatch.errors import ConfigError
from twitchwatch.hub import Hub
from twitchwatch.model import ConnectionChange

TOKEN = "s3cret-token-123"


def ws_url(handle, path="/ws/live", query=""):
    return f"ws://127.0.0.1:{handle.port}{path}{query}"


async def test_other_bind_addresses_are_refused_without_a_token(store):
    for host in ("0.0.0.0", "192.168.1.10", "::"):
        with pytest.raises(ConfigError, match="without a token"):
            await start_dashboard(store, host=host, port=0)
    with pytest.raises(ConfigError, match="at least 8"):
        await start_dashboard(store, host="0.0.0.0", port=0, token="short")
    with pytest.raises(ConfigError, match="letters, digits"):
        await start_dashboard(store, host="0.0.0.0", port=0, token="long enough; but=odd")


async def test_any_address_is_allowed_with_a_token(store, ahttp):
    h = await start_dashboard(store, host="0.0.0.0", port=0, token=TOKEN)
    try:
        status, _, _ = await ahttp(f"http://127.0.0.1:{h.port}/", "/api/sessions", headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 200
        assert h.url.endswith(f"?token={TOKEN}")
    finally:
        await h.stop()


async def test_a_busy_port_is_one_clear_error(store):
    h = await start_dashboard(store, port=0)
    try:
        with pytest.raises(ConfigError, match=f"127.0.0.1:{h.port}"):
            await start_dashboard(store, port=h.port)
    finally:
        await h.stop()


async def test_with_a_token_every_request_needs_it(store, ahttp):
    h = await start_dashboard(store, hub=Hub(), port=0, token=TOKEN)
    base = h.base_url
    try:
        for path in ("/", "/api/sessions", "/static/app.js", "/report", "/api/history", "/nope"):
            status, headers, body = await ahttp(base, path)
            assert status == 401, path
            assert headers.get("www-authenticate") == "Bearer"
            assert b"token" in body
        assert (await ahttp(base, "/api/sessions", headers={"Authorization": "Bearer wrong-token-xx"}))[0] == 401
        assert (await ahttp(base, "/api/sessions", headers={"Authorization": f"Bearer {TOKEN}"}))[0] == 200
        assert (await ahttp(base, "/api/labels/export", headers={"Cookie": "tw_token=nope"}))[0] == 401

        # the browser's first page: ?token= -> redirect without it, HttpOnly cookie set
        status, headers, _ = await ahttp(base, f"/?token={TOKEN}")
        assert status == 303
        assert headers["location"] == "/"
        cookie = headers["set-cookie"]
        assert cookie.startswith(f"tw_token={TOKEN}") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        status, _, body = await ahttp(base, "/static/app.js", headers={"Cookie": f"tw_token={TOKEN}"})
        assert status == 200 and b"twitchwatch" in body
        # a wrong token in the query is refused like any other
        assert (await ahttp(base, "/?token=not-the-token"))[0] == 401
    finally:
        await h.stop()


async def test_with_a_token_the_websocket_needs_it(store):
    h = await start_dashboard(store, hub=Hub(), port=0, token=TOKEN)
    try:
        with pytest.raises(websockets.exceptions.InvalidStatus) as exc:
            async with websockets.connect(ws_url(h)):
                pass
        assert exc.value.response.status_code == 401
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with websockets.connect(ws_url(h, query="?token=wrong-token-xx")):
                pass
        async with websockets.connect(ws_url(h), additional_headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert hello["type"] == "hello" and hello["live"] is True
        async with websockets.connect(ws_url(h, query=f"?token={TOKEN}")) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "hello"
        async with websockets.connect(ws_url(h), additional_headers={"Cookie": f"tw_token={TOKEN}"}) as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "hello"
    finally:
        await h.stop()


async def test_without_a_token_other_host_names_and_origins_are_refused(store, session_with_alert, ahttp):
    _, (aid, _) = session_with_alert
    h = await start_dashboard(store, hub=Hub(), port=0)
    base = h.base_url
    try:
        assert (await ahttp(base, "/api/sessions"))[0] == 200
        # DNS rebinding: a page at evil.example resolving to 127.0.0.1
        assert (await ahttp(base, "/api/sessions", headers={"Host": f"evil.example:{h.port}"}))[0] == 400
        # cross-site WebSocket and cross-site writes
        with pytest.raises(websockets.exceptions.InvalidStatus) as exc:
            async with websockets.connect(ws_url(h), origin="http://evil.example"):
                pass
        assert exc.value.response.status_code == 403
        status, _, _ = await ahttp(base, f"/api/alerts/{aid}/label", "PUT", {"label": "confirmed"}, headers={"Origin": "http://evil.example"})
        assert status == 403
        # a plain form post (not JSON) cannot label
        status, _, _ = await ahttp(base, f"/api/alerts/{aid}/label", "PUT", raw_body=b"label=confirmed",
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 415
        assert store.labels.get(aid) is None
        # same origin works
        async with websockets.connect(ws_url(h), origin=f"http://127.0.0.1:{h.port}") as ws:
            assert json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] == "hello"
        status, headers, _ = await ahttp(base, "/")
        assert "script-src 'self'" in headers["content-security-policy"]
    finally:
        await h.stop()


async def test_no_file_outside_the_package_static_folder_or_data_folder_is_reachable(store, data_dir, session_with_alert, ahttp, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    h = await start_dashboard(store, port=0)
    base = h.base_url
    try:
        for path in (
            "/static/../server.py",
            "/static/%2e%2e/server.py",
            "/static/..%2fserver.py",
            "/static/%2e%2e%2f%2e%2e%2fstore.py",
            "/static/..%5c..%5cstore.py",
            "/static//etc/passwd",
            "/static/%2fetc%2fpasswd",
            "//etc/passwd",
            "/../../etc/passwd",
            f"/static/{secret}",
            "/static/../../../../" + str(secret).lstrip("/"),
            "/twitchwatch.db",
            "/sessions/s1.twr",
        ):
            status, _, body = await ahttp(base, path)
            assert status in (400, 404, 405), (path, status)
            assert b"TOPSECRET" not in body and b"root:" not in body and b"import " not in body and b"SQLite" not in body

        # a session whose recording path points outside the data folder is never read
        info = store.sessions.get_session(session_with_alert[0])
        from twitchwatch.model import Alert, DetectorOutput, DeviceInfo

        dev = DeviceInfo("x", "1", 1, "foot", ())
        for outside in (secret, data_dir / ".." / "secret.txt"):
            sid = store.write.create_session(dev, "x", 0.0, recording_path=outside)
            (aid,) = store.write.add_output(sid, DetectorOutput(alerts=(Alert("alarm", "rhythmic_jerking", 5.0, 1.0),)))
            status, _, body = await ahttp(base, f"/api/alerts/{aid}/signal")
            assert status == 404 and b"outside the data folder" in body
        # nor through a symlink inside the data folder
        link = data_dir / "sessions" / "link.twr"
        os.symlink(secret, link)
        sid = store.write.create_session(dev, "x", 0.0)
        store.write.set_recording_path(sid, link)  # resolved -> outside
        (aid,) = store.write.add_output(sid, DetectorOutput(alerts=(Alert("alarm", "rhythmic_jerking", 5.0, 1.0),)))
        status, _, body = await ahttp(base, f"/api/alerts/{aid}/signal")
        assert status == 404 and b"TOPSECRET" not in body
        assert info["recording_path"].startswith(str(data_dir))
    finally:
        await h.stop()


async def test_bad_label_requests_get_a_4xx_with_a_message_and_change_nothing(store, data_dir, session_with_alert, ahttp):
    _, (aid, aid2) = session_with_alert
    store.labels.set(aid, "confirmed", "seen by carer", by="carer")
    h = await start_dashboard(store, port=0)
    base = h.base_url
    try:
        cases = [
            ({"label": "maybe"}, 400, b"label must be one of"),
            ({"label": "unsure", "note": 5}, 400, b"note"),
            ({"label": "unsure", "note": "x" * 2001}, 400, b"note"),
            ({"label": "unsure", "by": ["a"]}, 400, b"by"),
            ({"note": "no label"}, 400, b"required"),
            ({"label": "unsure", "extra": 1}, 400, b"unknown fields"),
            ({"label": None}, 400, b"label must be one of"),
        ]
        for body, want, words in cases:
            status, _, text = await ahttp(base, f"/api/alerts/{aid}/label", "PUT", body)
            assert status == want, (body, status, text)
            assert words in text, (body, text)
            assert "detail" in json.loads(text)
        for raw in (b"{not json", b"[1, 2]", b"\xff\xfe", b'"confirmed"', b"x" * 20000):
            status, _, text = await ahttp(base, f"/api/alerts/{aid}/label", "PUT", raw_body=raw, headers={"Content-Type": "application/json"})
            assert 400 <= status < 500, (raw[:10], status)
        assert (await ahttp(base, "/api/alerts/999999/label", "PUT", {"label": "unsure"}))[0] == 400
        assert (await ahttp(base, "/api/alerts/abc/label", "PUT", {"label": "unsure"}))[0] == 422
        assert (await ahttp(base, "/api/alerts/999999/label", "DELETE"))[0] == 404
        assert (await ahttp(base, "/api/settings", "PUT", {"alert_sound": "loud"}))[0] == 400
        assert (await ahttp(base, "/api/settings", "PUT", {"nope": 1}))[0] == 400
        assert (await ahttp(base, "/api/history?days=-3"))[0] == 400
        assert (await ahttp(base, "/api/history?tz_offset_min=nan"))[0] == 400
        assert (await ahttp(base, "/api/labels/export?format=xml"))[0] == 400

        lab = store.labels.get(aid)
        assert (lab["label"], lab["note"], lab["labelled_by"]) == ("confirmed", "seen by carer", "carer")
        assert store.labels.get(aid2) is None
        assert store.settings.get() == {"alert_sound": True, "stale_after_s": 3.0, "retention_days": 0}

        # and a good request still works, and is exported
        status, _, text = await ahttp(base, f"/api/alerts/{aid2}/label", "PUT", {"label": "unsure", "note": "ünïcode ✓", "by": "me"})
        assert status == 200 and json.loads(text)["label"] == "unsure"
        status, headers, text = await ahttp(base, "/api/labels/export?format=csv")
        assert status == 200 and "attachment" in headers["content-disposition"]
        assert "ünïcode ✓" in text.decode()
    finally:
        await h.stop()
    conn = sqlite3.connect(data_dir / "twitchwatch.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


async def test_the_live_socket_pushes_decimated_traces_state_and_alerts(store, simulated):
    from twitchwatch.model import Alert, DetectorOutput

    hub = Hub()
    info, chunks, _ = simulated("quiet:2,rhythmic_jerking:3", seed=2, block_s=0.1)
    h = await start_dashboard(store, hub=hub, port=0)
    try:
        async with websockets.connect(ws_url(h)) as ws:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert hello["state"]["connection"] == "waiting"
            hub.publish(info)
            for c in chunks:
                hub.publish(c)
            hub.publish(DetectorOutput(alerts=(Alert("warning", "rhythmic_jerking", 4.5, 2.5, (("dominant_hz", 2.0),)),)))
            got = {"trace": [], "state": [], "alert": []}
            while not got["alert"]:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                got.setdefault(msg["type"], []).append(msg)
            accel_buckets = sum(len(s["max"]) for m in got["trace"] for s in m["accel"])
            emg_buckets = sum(len(s["max"][0]) for m in got["trace"] for s in m["emg"])
            # 5 s of 208 Hz accel and 1 kHz EMG become ~52 and 50 buckets/s (all full buckets so far)
            assert 5 * 52 - 4 <= accel_buckets <= 5 * 52
            assert 5 * 50 - 1 <= emg_buckets <= 5 * 50
            assert all(len(s["max"]) == 2 for m in got["trace"] for s in m["emg"])  # both channels
            assert got["state"][-1]["device"]["device_id"] == info.device_id
            assert got["alert"][0]["reasons"] == [["dominant_hz", 2.0]]
            await ws.send(json.dumps({"type": "ack", "key": got["alert"][0]["key"]}))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if msg["type"] == "ack":
                    break
            assert h.feed.unacked == {}
            # garbage from the browser is ignored, the socket stays up
            await ws.send("not json")
            await ws.send(json.dumps([1, 2]))
            hub.publish(ConnectionChange("reconnecting", "virtual"))
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                if msg["type"] == "state" and msg["connection"] == "reconnecting":
                    break
    finally:
        await h.stop()
