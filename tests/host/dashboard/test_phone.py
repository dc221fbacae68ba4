"""The dashboard on a phone (what a carer on the same network has in hand): a 390 x 844 viewport
in headless Chromium. Nothing is wider than the screen, the navigation and an alarm banner's
buttons are reachable and big enough to tap, and the banner says how long the episode has lasted."""

from __future__ import annotations

import asyncio

import pytest

from twitchwatch.dashboard.server import start_dashboard
from twitchwatch.hub import Hub
from twitchwatch.model import Alert, Chunk, DetectorOutput, Episode

pytestmark = pytest.mark.asyncio(loop_scope="module")

PHONE = {"width": 390, "height": 844}


async def overflow(page) -> int:
    """How far the page is wider than the phone's screen, px (0 when it fits)."""
    return await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


async def test_every_view_fits_a_phone_and_a_live_alarm_shows_how_long_it_has_lasted(browser, store, session_with_alert, weeks_store, screenshots):
    import numpy as np

    ctx = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    hub = Hub()
    h = await start_dashboard(store, hub=hub, port=0)
    try:
        sid, (warning_id, alarm_id) = session_with_alert
        for view, ready in (("#/review", f"tr[data-session='{sid}']"), (f"#/session/{sid}", "#timeline[data-drawn]"),
                            (f"#/alert/{alarm_id}", "#reasons"), ("#/history/7", "#guidance"), ("#/history/84", "#guidance"),
                            ("#/live", "#live-tiles")):
            await page.goto(h.url + view)
            await page.wait_for_selector(ready)
            await page.wait_for_function("() => document.body.dataset.ready === '1'")
            assert await overflow(page) <= 0, view
            await page.screenshot(path=str(screenshots / f"phone-{view.strip('#/').replace('/', '-')}.png"), full_page=True)
        for a in await page.query_selector_all("header nav a"):
            box = await a.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 36

        # a live rhythmic-jerking alarm: the banner counts how long the episode has lasted
        from twitchwatch.model import DeviceInfo, StreamInfo

        info = DeviceInfo("phone-test", "1", 1, "foot", (StreamInfo("accel", 100.0, 3, 16.0, 0.001),))
        hub.publish(info)
        block = np.zeros((100, 3))
        for i in range(30):
            hub.publish(Chunk("accel", float(i), 100.0, block))
        hub.publish(DetectorOutput(alerts=(Alert("alarm", "rhythmic_jerking", 25.0, 10.0, (("dominant_hz", 2.0),)),)))
        await page.wait_for_selector(".banner.alarm .ep-dur")
        await page.wait_for_function("() => /lasting 20 s so far/.test(document.querySelector('.banner.alarm .ep-dur').textContent)")
        for i in range(30, 75):
            hub.publish(Chunk("accel", float(i), 100.0, block))
        await page.wait_for_function("() => /lasting 1 min 05 s so far/.test(document.querySelector('.banner.alarm .ep-dur').textContent)")
        hub.publish(DetectorOutput(episodes=(Episode("rhythmic_jerking", 10.0, 70.0, 2.0, 120, "alarm"),)))
        await page.wait_for_function("() => /lasted 1 min 00 s \\(ended\\)/.test(document.querySelector('.banner.alarm .ep-dur').textContent)")
        assert await overflow(page) <= 0
        for b in await page.query_selector_all(".banner.alarm button"):
            box = await b.bounding_box()
            assert box["x"] + box["width"] <= PHONE["width"] and box["height"] >= 40
        await page.screenshot(path=str(screenshots / "phone-live-alarm.png"), full_page=True)
        assert not errors, errors
    finally:
        await h.stop()
        await ctx.close()
