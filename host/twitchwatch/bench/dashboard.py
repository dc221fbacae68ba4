"""Dashboard speed: what the live view pushes and how smoothly headless Chromium draws it.

Figures (flat keys):

- ``dashboard_push_msgs_per_s``, ``dashboard_push_kb_per_s``: WebSocket messages and kilobytes
  (1000 bytes) per second received by a client of ``/ws/live`` while the Hub carries a real-time
  feed of simulated 1 kHz x 2-channel EMG and 208 Hz 3-axis accelerometer (goal < 50 kB/s).
- ``dashboard_fps``: requestAnimationFrame callbacks per second of the live page in headless
  Chromium with 10 s of traces on screen, while that feed streams (goal >= 30).
- ``dashboard_browser_kb_per_s``: the same push rate as the browser counted it.
- ``dashboard_alert_latency_ms_median``, ``..._max``: from the Hub publishing an alert to its
  banner being on the page in Chromium (wall clocks of the same machine), over 5 alerts raised
  during the measurement (goal < 1000 ms).
- ``dashboard_feed_x_realtime``: seconds of signal the live feed decimates per second of CPU
  (server side, offline; the ratio to real time).
- ``dashboard_fps_reason``: null, or why the browser figures are null (no Chromium, no Playwright).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import websockets

from twitchwatch.dashboard.livefeed import LiveFeed
from twitchwatch.dashboard.server import start_dashboard
from twitchwatch.hub import Hub
from twitchwatch.model import Alert, Chunk, DetectorOutput
from twitchwatch.sim import SimConfig, draw_subject, parse_scenario, simulate
from twitchwatch.store import Store

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
GOAL_FPS = 30.0
GOAL_KB_PER_S = 50.0
#: Traces shown while measuring, seconds (a page open for a while shows 10 s).
PREFILL_S = 10.0
#: Alerts raised during the measurement, for the latency figure.
N_ALERTS = 5
GOAL_ALERT_LATENCY_MS = 1000.0


def _chunks(seconds: float, block_s: float = 0.05):
    quiet = max(1, int(seconds * 0.4))
    text = f"quiet:{quiet},rhythmic_jerking:{int(seconds) - quiet + 1}"
    rec = simulate(parse_scenario(text), draw_subject(4, "foot"), SimConfig(), seed=4)
    info = rec.device_info()
    out = []
    for kind, counts, scale in (("accel", rec.accel_counts, rec.accel_scale_g), ("emg", rec.emg_counts, rec.emg_scale_uv)):
        rate = info.stream(kind).rate_hz
        step = int(round(block_s * rate))
        for i in range(0, counts.shape[0], step):
            c = counts[i : i + step]
            out.append(Chunk(kind, i / rate, rate, c * scale, counts=c))
    out.sort(key=lambda c: c.t0_s)
    return info, [c for c in out if c.t0_s < seconds]


def feed_throughput(seconds: float) -> float:
    """Seconds of signal the LiveFeed decimates per CPU second."""
    info, chunks = _chunks(seconds)
    feed = LiveFeed(Hub())
    feed.attach()
    feed.handle(info)
    t = time.process_time()
    for i, c in enumerate(chunks):
        feed.handle(c)
        if i % 8 == 0:
            feed._flush()
    used = time.process_time() - t
    return seconds / used if used > 0 else float("inf")


async def _measure(measure_s: float) -> dict:
    out: dict = {}
    info, chunks = _chunks(PREFILL_S + measure_s + 1.0)
    with tempfile.TemporaryDirectory(prefix="twitchwatch-bench-") as tmp:
        store = Store(Path(tmp) / "twitchwatch.db")
        hub = Hub()
        handle = await start_dashboard(store, hub=hub, port=0)
        browser_cm = page = None
        try:
            browser_cm, page, reason = await _open_page(handle.url)
            async with websockets.connect(f"ws://127.0.0.1:{handle.port}/ws/live") as ws:
                await ws.recv()  # hello
                msgs, nbytes, dt = await _stream(ws, hub, info, chunks, page, measure_s, out)
            out["dashboard_push_msgs_per_s"] = round(msgs / dt, 1)
            out["dashboard_push_kb_per_s"] = round(nbytes / dt / 1000.0, 2)
        finally:
            if browser_cm is not None:
                await browser_cm.__aexit__(None, None, None)
            await handle.stop()
            store.close()
    out.setdefault("dashboard_fps", None)
    out.setdefault("dashboard_browser_kb_per_s", None)
    out.setdefault("dashboard_alert_latency_ms_median", None)
    out.setdefault("dashboard_alert_latency_ms_max", None)
    out["dashboard_fps_reason"] = reason
    return out


async def _open_page(url: str):
    """(playwright context manager, the live page, None) or (None, None, why there is no browser)."""
    if not os.path.exists(CHROMIUM):
        return None, None, f"{CHROMIUM} not found"
    try:
        from playwright.async_api import async_playwright  # optional: a test dependency
    except ImportError:
        return None, None, "playwright is not installed"
    browser_cm = async_playwright()
    pw = await browser_cm.__aenter__()
    browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    page = await (await browser.new_context(viewport={"width": 1280, "height": 900})).new_page()
    await page.goto(url + "#/live")
    await page.wait_for_selector("#chart-emg")
    return browser_cm, page, None


async def _stream(ws, hub: Hub, info, chunks, page, measure_s: float, out: dict) -> tuple[int, int, float]:
    """Publish 10 s of traces at once (as if the page had been open a while), then real time, and
    raise :data:`N_ALERTS` alerts; count what ``ws`` receives. Returns (messages, bytes, seconds);
    the browser's figures go into ``out``."""
    hub.publish(info)
    prefill = [c for c in chunks if c.t0_s < PREFILL_S]
    live = [c for c in chunks if c.t0_s >= PREFILL_S]
    t_start = time.monotonic() - PREFILL_S
    for c in prefill:
        hub.publish(c)
    counts = {"msgs": 0, "bytes": 0}
    stop = asyncio.Event()

    async def receive():
        while not stop.is_set():
            try:
                m = await asyncio.wait_for(ws.recv(), 0.5)
            except asyncio.TimeoutError:
                continue
            counts["msgs"] += 1
            counts["bytes"] += len(m.encode() if isinstance(m, str) else m)

    async def publish_live():
        for c in live:
            wait = t_start + c.t0_s - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            hub.publish(c)

    await asyncio.sleep(0.5)  # let the prefill burst go out before counting
    rx = asyncio.create_task(receive())
    pub = asyncio.create_task(publish_live())
    await asyncio.sleep(0.3)
    counts["msgs"] = counts["bytes"] = 0
    before = await _page_counters(page)
    t0 = time.monotonic()
    raised_at = []
    for k in range(N_ALERTS):
        await asyncio.sleep(measure_s / N_ALERTS)
        raised_at.append(time.time())
        hub.publish(DetectorOutput(alerts=(Alert("alarm", "rhythmic_jerking", PREFILL_S + k, PREFILL_S, (("dominant_hz", 2.0),)),)))
    dt = time.monotonic() - t0
    msgs, nbytes = counts["msgs"], counts["bytes"]
    if page is not None:
        await _browser_figures(page, before, dt, raised_at, out)
    stop.set()
    pub.cancel()
    await asyncio.gather(rx, pub, return_exceptions=True)
    return msgs, nbytes, dt


async def _page_counters(page) -> tuple[int, int] | None:
    """The page's (frames drawn, bytes received) so far; None without a page."""
    if page is None:
        return None
    return (await page.evaluate("() => window.TW.frames"), await page.evaluate("() => window.TW.live.stats.bytes"))


async def _browser_figures(page, before: tuple[int, int], dt: float, raised_at: list[float], out: dict) -> None:
    """Frames per second, bytes per second and alert latency as the browser saw them."""
    f0, b0 = before
    f1, b1 = await _page_counters(page)
    out["dashboard_fps"] = round((f1 - f0) / dt, 1)
    out["dashboard_browser_kb_per_s"] = round((b1 - b0) / dt / 1000.0, 2)
    await asyncio.sleep(1.0)
    shown = await page.evaluate("() => window.TW.live.alertShownAt")
    lat = [shown[str(k + 1)] / 1000.0 - t for k, t in enumerate(raised_at) if str(k + 1) in shown]
    if len(lat) == N_ALERTS:
        out["dashboard_alert_latency_ms_median"] = round(statistics.median(lat) * 1000.0, 1)
        out["dashboard_alert_latency_ms_max"] = round(max(lat) * 1000.0, 1)


def run(quick: bool = False) -> dict:
    measure_s = 3.0 if quick else 10.0
    figures: dict = {}
    try:
        figures.update(asyncio.run(_measure(measure_s)))
    except Exception as exc:  # report, do not fail the whole bench
        figures.update(
            dashboard_push_msgs_per_s=None,
            dashboard_push_kb_per_s=None,
            dashboard_fps=None,
            dashboard_browser_kb_per_s=None,
            dashboard_alert_latency_ms_median=None,
            dashboard_alert_latency_ms_max=None,
            dashboard_fps_reason=f"{type(exc).__name__}: {exc}",
        )
    figures["dashboard_feed_x_realtime"] = round(feed_throughput(20.0 if quick else 60.0), 1)
    figures["dashboard_measure_s"] = measure_s
    figures["dashboard_goal_fps"] = GOAL_FPS
    figures["dashboard_goal_push_kb_per_s"] = GOAL_KB_PER_S
    figures["dashboard_goal_alert_latency_ms"] = GOAL_ALERT_LATENCY_MS
    return figures


if __name__ == "__main__":
    print(json.dumps(run(quick=True), indent=2))
