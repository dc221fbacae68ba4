"""The dashboard in a real browser: Debian's Chromium, headless, driven by Playwright.

Every test serves a real store with the real server (uvicorn in the test's event loop) and saves
a screenshot under artifacts/screenshots/.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from twitchwatch.dashboard.server import start_dashboard
from twitchwatch.hub import Hub
from twitchwatch.model import Alert, Chunk, ConnectionChange, DetectorOutput, Status, WindowLabel

#: The product promises an alert on screen within 1 s; `twitchwatch bench` measures it
#: (dashboard_alert_latency_ms_*). Tests run on shared, loaded machines (load average 9 on 2 cores
#: seen), so they only bound it loosely: a banner that waited for a poll or a reload would fail.
LATENCY_BOUND_S = 3.0

# One Chromium for the whole module (launching it costs seconds): module-scoped event loop.
pytestmark = pytest.mark.asyncio(loop_scope="module")


async def non_blank_pixels(page, selector: str) -> int:
    """How many pixels of a canvas are drawn (not transparent/white)."""
    return await page.eval_on_selector(
        selector,
        """c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
                  for (let i = 0; i < d.length; i += 4) if (d[i+3] > 0 && (d[i] < 240 || d[i+1] < 240 || d[i+2] < 240)) n++;
                  return n; }""",
    )


async def test_labelling_an_alert_persists_across_a_reload(store, session_with_alert, page, screenshots):
    sid, (warning_id, alarm_id) = session_with_alert
    h = await start_dashboard(store, port=0)
    try:
        await page.goto(h.url + f"#/alert/{alarm_id}")
        await page.wait_for_selector("#reasons")
        assert "dominant frequency" in (await page.inner_text("#reasons"))
        await page.wait_for_selector("#signal[data-charts]")
        assert int(await page.get_attribute("#signal", "data-charts")) >= 4  # accel + 2 EMG channels
        assert await non_blank_pixels(page, "#signal canvas") > 500
        await page.check("#label-false_alarm")
        await page.fill("#label-note", "she was tapping her foot to music <b>not bold</b>")
        await page.fill("#label-by", "carer")
        await page.click("#label-save")
        await page.wait_for_function("() => document.getElementById('label-status').textContent.startsWith('saved')")
        await page.screenshot(path=str(screenshots / "alert-review.png"), full_page=True)

        await page.reload()
        await page.wait_for_selector("#reasons")
        assert await page.is_checked("#label-false_alarm")
        assert await page.input_value("#label-note") == "she was tapping her foot to music <b>not bold</b>"
        assert await page.input_value("#label-by") == "carer"
        stored = store.labels.get(alarm_id)
        assert (stored["label"], stored["labelled_by"]) == ("false_alarm", "carer")
        assert store.labels.get(warning_id) is None

        # saving without choosing is refused in the page and changes nothing
        await page.goto(h.url + f"#/alert/{warning_id}")
        await page.wait_for_selector("#reasons")
        await page.click("#label-save")
        assert "choose" in await page.inner_text("#label-status")
        assert store.labels.get(warning_id) is None
    finally:
        await h.stop()


async def test_review_page_draws_a_sessions_timeline(store, session_with_alert, page, screenshots):
    sid, ids = session_with_alert
    h = await start_dashboard(store, port=0)
    try:
        await page.goto(h.url + "#/review")
        await page.wait_for_selector(f"tr[data-session='{sid}']")
        assert len(await page.query_selector_all("#to-label tr[data-alert]")) == 2  # both unlabelled
        await page.screenshot(path=str(screenshots / "review-sessions.png"), full_page=True)
        await page.click(f"tr[data-session='{sid}']")
        await page.wait_for_selector("#timeline[data-drawn]")
        assert int(await page.get_attribute("#timeline", "data-drawn")) > 5
        assert await non_blank_pixels(page, "#timeline") > 2000
        rows = await page.query_selector_all("#alerts tr[data-alert]")
        assert len(rows) == 2
        await page.screenshot(path=str(screenshots / "review-timeline.png"), full_page=True)
        # clicking the alarm's diamond on the timeline opens it
        box = await page.eval_on_selector(
            "#timeline",
            """c => { const r = c.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height}; }""",
        )
        # lanes: 5 equal lanes between 8 px top and 20 px bottom padding; alerts are the 5th lane
        lane_h = (box["h"] - 28) / 5
        x = box["x"] + 78 + (26.0 / 40.0) * (box["w"] - 88)
        y = box["y"] + 8 + 4.5 * lane_h
        await page.mouse.click(x, y)
        await page.wait_for_function(f"() => location.hash === '#/alert/{ids[1]}'")
        await page.wait_for_selector("#reasons")
    finally:
        await h.stop()


async def test_history_page_renders_weeks_of_sessions(store, weeks_store, session_with_alert, page, screenshots):
    h = await start_dashboard(store, port=0)
    try:
        await page.goto(h.url + "#/history/all")
        await page.wait_for_selector("#guidance")
        await page.wait_for_function("() => document.body.dataset.ready === '1'")
        sid = next(s["id"] for s in store.sessions.list_sessions() if s["source"] == "virtual:test")
        # the 40 s session's isolated twitches: those outside its rhythmic-jerking episode (11-30 s)
        isolated = sum(1 for e in store.sessions.timeline(sid)["events"] if e["kind"] == "twitch" and not 11.0 <= e["t_s"] <= 30.0)
        twitches = weeks_store + isolated
        assert await page.inner_text("#tile-twitches .v") == str(twitches)
        assert int(await page.evaluate("() => document.body.dataset.historyDays")) >= 19
        for chart in ("#chart-daily", "#chart-hourly", "#chart-episodes", "#chart-weekly"):
            assert await non_blank_pixels(page, chart) > 300, chart
        # twitches on most days for three weeks: the gentle note shows; the guidance always does
        assert "more than two weeks" in await page.inner_text("#persist-note")
        text = await page.inner_text("#guidance")
        assert "not a diagnosis" in text and "neurologist" in text
        await page.screenshot(path=str(screenshots / "history.png"), full_page=True)

        report = await page.context.new_page()
        await report.goto(h.base_url + "report?days=40&tz_offset_min=0&until=" + str(1_767_571_200 + 22 * 86400))
        await report.emulate_media(media="print")
        body = await report.inner_text("body")
        assert "Isolated twitches at rest" in body and str(twitches) in body
        assert "carer saw the foot jerking" in body
        # the recorded episode gets two signal snippets, the others say their recording is absent
        assert await report.locator("td svg").count() == 2
        assert "recording not available" in body
        await report.screenshot(path=str(screenshots / "report-print.png"), full_page=True)
        pdf = await report.pdf(format="A4")
        assert pdf.startswith(b"%PDF")
    finally:
        await h.stop()


async def test_live_page_shows_an_alert_from_the_hub_within_a_second(store, page, screenshots, simulated):
    """Real model objects through a real Hub (the path the live pipeline publishes on)."""
    store.settings.update({"stale_after_s": 1.0})
    hub = Hub()
    info, chunks, _ = simulated("quiet:4,rhythmic_jerking:6", seed=5, block_s=0.1)
    h = await start_dashboard(store, hub=hub, port=0)
    try:
        await page.goto(h.url + "#/live")
        await page.wait_for_selector("#tile-connection")
        hub.publish(ConnectionChange("connected", "virtual"))
        hub.publish(info)
        hub.publish(Status(0.0, 76, 3900, 0, (False, False), 0))
        t_wall0 = time.monotonic()
        for c in chunks:  # 10 s of signal at 5x real time
            wait = c.t0_s / 5.0 - (time.monotonic() - t_wall0)
            if wait > 0:
                await asyncio.sleep(wait)
            hub.publish(c)
        hub.publish(DetectorOutput(windows=(WindowLabel(7.0, 9.0, "rhythmic_jerking", 0.93, 2.1, 0.88),)))
        await page.wait_for_function("() => window.TW.charts.accel.tLatest > 9 && window.TW.charts.emg.tLatest > 9")
        await page.wait_for_function("() => document.querySelector('#tile-window .v').textContent === 'rhythmic jerking'")
        assert await page.inner_text("#tile-battery .v") == "76 %"
        assert await page.inner_text("#tile-signal .v") == "good"
        assert await non_blank_pixels(page, "#chart-emg") > 1000

        # the page says when the browser will not play sound until clicked, and a click enables it
        assert await page.inner_text("#sound-status") == "click here to enable the alert sound"
        await page.click("#sound-status")
        await page.wait_for_function("() => document.getElementById('sound-status').textContent === 'alert sound on'")

        alert = Alert("alarm", "rhythmic_jerking", 9.5, 4.5, (("dominant_hz", 2.1), ("rhythmicity", 0.88), ("duration_s", 5.0)))
        t_raised = time.monotonic()
        hub.publish(DetectorOutput(alerts=(alert,)))
        await page.wait_for_selector(".banner.alarm", timeout=LATENCY_BOUND_S * 1000)
        assert time.monotonic() - t_raised < LATENCY_BOUND_S
        banner = await page.inner_text(".banner.alarm")
        assert "ALARM" in banner and "rhythmic jerking" in banner and "2.10 Hz" in banner
        await page.screenshot(path=str(screenshots / "live-alert.png"))

        # zoomed in to 2 s, the page asks for (and gets) raw EMG at 250 buckets/s
        await page.click("button[data-s='2']")
        await page.wait_for_function("() => window.TW.live.raw === true")
        await asyncio.sleep(0.2)  # the view message reaches the server
        _, more, _ = simulated("quiet:1", seed=6, block_s=0.1)
        for c in more:
            hub.publish(Chunk(c.stream, c.t0_s + 10.0, c.rate_hz, c.samples, counts=c.counts))
        await page.wait_for_function(
            "() => window.TW.charts.emg.series.find(s => s.name === 'raw0').ring.n >= 200"
        )
        await page.screenshot(path=str(screenshots / "live-raw-zoom.png"))
        await page.click("button[data-s='10']")

        # no more data: the charts say so (stale), they do not silently freeze
        await page.wait_for_function("() => document.body.dataset.stale === '1'", timeout=5000)
        assert "no data from the sensor" in await page.inner_text("#live-stale")
        await page.screenshot(path=str(screenshots / "live-stale.png"))

        # settings are validated by the server and kept in the store
        await page.fill("#set-stale", "999")
        await page.dispatch_event("#set-stale", "change")
        await page.wait_for_function("() => document.getElementById('set-status').textContent.startsWith('not saved')")
        assert store.settings.get()["stale_after_s"] == 1.0
        await page.uncheck("#set-sound")
        await page.fill("#set-stale", "2.5")
        await page.dispatch_event("#set-stale", "change")
        await page.wait_for_function("() => document.getElementById('set-status').textContent === 'saved'")
        assert store.settings.get() == {"alert_sound": False, "stale_after_s": 2.5, "retention_days": 0}
        assert await page.inner_text("#sound-status") == "alert sound off (settings)"

        await page.click(".banner.alarm button.ack")
        await page.wait_for_selector(".banner.alarm", state="detached", timeout=2000)
        assert h.feed.unacked == {}
    finally:
        await h.stop()


async def test_a_lost_server_connection_is_shown_and_the_page_reconnects(store, page, screenshots):
    h = await start_dashboard(store, hub=Hub(), port=0)
    port = h.port
    await page.goto(h.url + "#/live")
    await page.wait_for_function("() => document.getElementById('server-status').textContent === 'server connected'")
    await h.stop()
    await page.wait_for_selector("#conn-banner", timeout=5000)
    assert "Reconnecting" in await page.inner_text("#conn-banner")
    await page.wait_for_function("() => document.body.dataset.stale === '1'")
    await page.screenshot(path=str(screenshots / "live-server-lost.png"))
    h2 = await start_dashboard(store, hub=Hub(), port=port)
    try:
        await page.wait_for_selector("#conn-banner", state="detached", timeout=10000)
        assert await page.inner_text("#server-status") == "server connected"
    finally:
        await h2.stop()


async def test_an_alert_from_the_virtual_device_shows_live_and_is_reviewed_and_labelled(
    store, data_dir, page, screenshots, repo_root
):
    """The real pipeline: virtual device on a pty -> SerialSource -> recorder -> Detector -> store
    -> Hub -> dashboard -> Chromium. Then the banner's Review button opens the stored alert."""
    import io

    from twitchwatch.core.detector import make_detector
    from twitchwatch.live import LivePipeline
    from twitchwatch.sources.serial import SerialSource
    from twitchwatch.virtual import VirtualDevice, VirtualSerialPort

    classifier = "model" if (repo_root / "models" / "foot.skops").exists() else "baseline"
    hub = Hub()
    raised: list[float] = []

    async def watch_alerts(sub):
        async for item in sub:
            if isinstance(item, DetectorOutput) and item.alerts and not raised:
                raised.append(time.monotonic())

    watcher = asyncio.create_task(watch_alerts(hub.subscribe(name="test")))
    h = await start_dashboard(store, hub=hub, port=0)
    dev = VirtualDevice("quiet:3,rhythmic_jerking:40", seed=2)
    stop = asyncio.Event()
    # the page is open and connected before the device starts (an alert raised before the page
    # loads would arrive with the page's first message, which is not what is measured here)
    await page.goto(h.url + "#/live")
    await page.wait_for_function("() => document.getElementById('server-status').textContent === 'server connected'")
    with VirtualSerialPort(dev, speed=4.0) as port:
        pipeline = LivePipeline(
            SerialSource(port.path), lambda info: make_detector(info, classifier=classifier),
            recording_path=data_dir / "sessions" / "live.twr", store=store, hub=hub,
            out=io.StringIO(), err=io.StringIO(), source_name="virtual:test",
        )
        run = asyncio.create_task(pipeline.run(stop=stop))
        try:
            banner = await page.wait_for_selector(".banner.alarm, .banner.warning", timeout=30000)
            # no wall-clock bound here: this test runs the whole pipeline at 4x real time, and on a
            # loaded machine its timing is the machine's. Hub-to-banner latency is bounded in
            # test_live_page_shows_an_alert_from_the_hub_within_a_second and measured in
            # `twitchwatch bench` (dashboard_alert_latency_ms_*).
            assert raised, "the page showed an alert the pipeline never raised"
            assert "rhythmic jerking" in await banner.inner_text()
            await page.wait_for_function("() => document.querySelector('#tile-connection .v').textContent === 'connected'")
            await page.screenshot(path=str(screenshots / "live-virtual-device.png"))
        finally:
            stop.set()
            await asyncio.wait_for(run, 30)
            watcher.cancel()
    try:
        await page.click(".banner button:text('Review')")
        await page.wait_for_selector("#reasons")
        await page.wait_for_selector("#signal[data-charts]", timeout=15000)
        await page.check("#label-confirmed")
        await page.fill("#label-note", "from the virtual device")
        await page.click("#label-save")
        await page.wait_for_function("() => document.getElementById('label-status').textContent.startsWith('saved')")
        await page.screenshot(path=str(screenshots / "review-virtual-device-alert.png"), full_page=True)
        labelled = [a for a in store.sessions.alerts() if a["label"]]
        assert len(labelled) == 1 and labelled[0]["label"]["note"] == "from the virtual device"
        assert labelled[0]["kind"] == "rhythmic_jerking"
    finally:
        await h.stop()


async def test_with_a_token_the_browser_gets_in_through_the_first_link_only(store, session_with_alert, browser, screenshots):
    token = "browser-token-42"
    h = await start_dashboard(store, hub=Hub(), port=0, token=token)
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        pg = await ctx.new_page()
        r = await pg.goto(h.base_url + "#/review")
        assert r.status == 401  # no token, no page
        await pg.goto(h.url + "#/review")  # the URL printed at start, with ?token=
        await pg.wait_for_selector("tr[data-session]")
        assert "token" not in pg.url  # redirected away from the token, kept in an HttpOnly cookie
        await pg.wait_for_function("() => document.getElementById('server-status').textContent === 'server connected'")
        assert await pg.evaluate("() => document.cookie") == ""  # not readable by scripts
        other = await browser.new_context()
        try:
            p2 = await other.new_page()
            assert (await p2.goto(h.base_url + "api/sessions")).status == 401
        finally:
            await other.close()
    finally:
        await ctx.close()
        await h.stop()
