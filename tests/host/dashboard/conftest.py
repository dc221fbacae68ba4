"""Fixtures for the dashboard tests: real SQLite stores, real session recordings made from the
simulator with the real SessionWriter, a real uvicorn server in the test's event loop, and Debian's
Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import http.client
import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import pytest_asyncio

from twitchwatch.model import Alert, Chunk, DetectorOutput, Episode, Event, Fault, Mark, Status, WindowLabel
from twitchwatch.store import DB_NAME, Store

from twitchwatch.bench.dashboard import CHROMIUM, CHROMIUM_ARGS  # one launch recipe for tests and bench
DAY = 86400.0
#: A fixed wall-clock origin for generated stores (a Monday, 00:00 UTC).
EPOCH = 1_767_571_200.0  # 2026-01-05


def sim_chunks(scenario: str, seed: int = 3, block_s: float = 0.5):
    """(device_info, list of Chunks, annotations) of a simulated recording, cut into blocks."""
    from twitchwatch.sim import SimConfig, draw_subject, parse_scenario, simulate

    rec = simulate(parse_scenario(scenario), draw_subject(seed, "foot"), SimConfig(), seed=seed)
    info = rec.device_info()
    chunks = []
    for kind, counts, scale, rate in (
        ("accel", rec.accel_counts, rec.accel_scale_g, info.stream("accel").rate_hz),
        ("emg", rec.emg_counts, rec.emg_scale_uv, info.stream("emg").rate_hz),
    ):
        step = int(round(block_s * rate))
        for i in range(0, counts.shape[0], step):
            c = counts[i : i + step]
            chunks.append(Chunk(kind, i / rate, rate, c * scale, counts=c))
    chunks.sort(key=lambda c: (c.t0_s, c.stream))
    return info, chunks, rec.annotations


def write_recording(path: Path, scenario: str, seed: int = 3, started_at_unix: float = EPOCH):
    from twitchwatch.recording import SessionWriter

    info, chunks, anns = sim_chunks(scenario, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with SessionWriter(path, info, started_at_unix=started_at_unix, fsync=False) as w:
        for c in chunks:
            w.write_chunk(c)
    return info, anns


@pytest.fixture
def simulated():
    """``simulated(scenario, seed, block_s) -> (device_info, chunks, annotations)``."""
    return sim_chunks


@pytest.fixture
def data_dir(tmp_path) -> Path:
    d = tmp_path / "twhome"
    d.mkdir()
    return d


@pytest.fixture
def store(data_dir):
    s = Store(data_dir / DB_NAME)
    yield s
    s.close()


@pytest.fixture
def session_with_alert(store, data_dir):
    """A 40 s session (quiet, rhythmic jerking 10-30 s, quiet) with its recording inside the data
    folder, twitch events from the ground truth, an episode, a warning and an alarm alert, a fault
    and a button mark. Returns (session_id, [alert ids])."""
    rec = data_dir / "sessions" / "s1.twr"
    info, anns = write_recording(rec, "quiet:10,rhythmic_jerking:20,quiet:10", started_at_unix=EPOCH + 9 * 3600)
    sid = store.write.create_session(info, "virtual:test", EPOCH + 9 * 3600, recording_path=rec, device_t0_s=0.0)
    twitches = tuple(Event(a.onset_s, 0.01, "twitch", "emg", "tibialis_anterior", 35.0) for a in anns if a.label == "fasciculation")
    out = DetectorOutput(
        events=twitches + (Event(2.0, 0.01, "twitch", "emg", "tibialis_anterior", 40.0), Event(5.5, 0.012, "twitch", "emg", "gastrocnemius", 28.0)),
        windows=(WindowLabel(12.0, 14.0, "rhythmic_jerking", 0.9, 2.0, 0.85),),
        episodes=(Episode("rhythmic_jerking", 11.0, 30.0, 2.1, 19, "alarm"),),
        alerts=(
            Alert("warning", "rhythmic_jerking", 16.0, 11.0, (("dominant_hz", 2.1), ("rhythmicity", 0.82), ("duration_s", 5.0))),
            Alert("alarm", "rhythmic_jerking", 26.0, 11.0, (("dominant_hz", 2.0), ("rhythmicity", 0.9), ("duration_s", 15.0))),
        ),
        faults=(Fault("gap", 33.0, 33.4, "emg", "2 frames lost"),),
    )
    ids = store.write.add_output(sid, out)
    store.write.add_marks(sid, [Mark(12.5, "felt it")])
    store.write.add_status(sid, Status(1.0, 87, 3950, 0, (False, False), 0))
    store.write.end_session(sid, 40.0)
    return sid, ids


@pytest.fixture
def weeks_store(store):
    """Three weeks of daily sessions (seeded): twitches on most days, a few rhythmic episodes and
    tremor episodes, alerts, one labelled. Returns the number of twitches stored."""
    rng = np.random.default_rng(11)
    total = 0
    info, _, _ = sim_chunks("quiet:1", seed=1)
    for day in range(21):
        if day in (4, 11):
            continue  # days not worn
        start = EPOCH + day * DAY + 8 * 3600 + float(rng.uniform(0, 3600))
        dur = float(rng.uniform(4, 10)) * 3600
        sid = store.write.create_session(info, "virtual:history", start, device_t0_s=0.0)
        n = int(rng.poisson(25 + day * 3)) if day % 6 != 5 else 0
        ts = np.sort(rng.uniform(0, dur, n))
        ev = tuple(Event(float(t), 0.01, "twitch", "emg", "tibialis_anterior", float(rng.uniform(15, 60))) for t in ts)
        eps, alerts = [], []
        if day in (3, 9, 16):
            t = float(rng.uniform(600, dur - 600))
            eps.append(Episode("rhythmic_jerking", t, t + 40.0, 2.2, 39, "alarm"))
            alerts.append(Alert("alarm", "rhythmic_jerking", t + 20.0, t, (("dominant_hz", 2.2), ("rhythmicity", 0.9), ("duration_s", 20.0))))
        if day % 5 == 2:
            t = float(rng.uniform(600, dur - 600))
            eps.append(Episode("tremor", t, t + 60.0, 5.5, 59, ""))
        ids = store.write.add_output(sid, DetectorOutput(events=ev, episodes=tuple(eps), alerts=tuple(alerts)))
        if day == 9:
            store.labels.set(ids[0], "confirmed", "carer saw the foot jerking", by="carer")
        store.write.end_session(sid, dur)
        # twitches during an episode are jerks or tremor beats, not isolated twitches
        total += sum(1 for t in ts if not any(e.start_s <= t <= e.end_s for e in eps))
    return total


# ----------------------------------------------------------------------------- HTTP helpers
def http_request(url: str, path: str, method: str = "GET", body=None, headers: dict | None = None, raw_body: bytes | None = None):
    """(status, headers dict (lower-case), body bytes) of one request; no redirects followed."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    h = dict(headers or {})
    data = raw_body
    if body is not None:
        data = json.dumps(body).encode()
        h.setdefault("Content-Type", "application/json")
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    conn.close()
    return out


@pytest.fixture
def ahttp():
    async def call(*args, **kw):
        return await asyncio.to_thread(http_request, *args, **kw)

    return call


# ----------------------------------------------------------------------------- browser
@pytest.fixture
def screenshots(repo_root) -> Path:
    d = repo_root / "artifacts" / "screenshots"
    d.mkdir(parents=True, exist_ok=True)
    return d


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} not found: install Debian's chromium (scripts/setup.sh --test)")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@pytest_asyncio.fixture(loop_scope="module")
async def page(browser):
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
    pg = await ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    yield pg
    await ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
