"""The live pipeline with real parts: virtual device on a pty -> SerialSource -> recorder ->
Detector (rule-based baseline classifier) -> SQLite store -> hub subscribers."""

from __future__ import annotations

import asyncio
import io
import json
import sqlite3

import numpy as np
import pytest

from twitchwatch.core.detector import make_detector
from twitchwatch.errors import ProtocolVersionError
from twitchwatch.hub import Hub
from twitchwatch.live import LivePipeline
from twitchwatch.model import Chunk, DetectorOutput, DeviceInfo, Fault
from twitchwatch.recording import SessionReader
from twitchwatch.sources.serial import SerialSource
from twitchwatch.virtual import VirtualDevice, VirtualSerialPort
from twitchwatch.store import Store

SEIZURE = "quiet:6,rhythmic_jerking:20,quiet:4"


def baseline(info):
    return make_detector(info, classifier="baseline")


class ListSource:
    """Items from a list (a file's or a simulation's), as an async source."""

    def __init__(self, items):
        self.items = list(items)
        self.closed = False

    def __aiter__(self):
        return self._gen()

    async def _gen(self):
        for item in self.items:
            yield item
            await asyncio.sleep(0)

    async def aclose(self):
        self.closed = True


def sim_items(scenario: str, seed: int = 1, block_s: float = 0.25):
    dev = VirtualDevice(scenario, seed=seed)
    return dev, list(dev._first.items(block_s))


async def test_virtual_device_through_the_whole_pipeline_records_detects_and_stores(tmp_path):
    store = Store(tmp_path / "tw.db")
    hub = Hub()
    slow = hub.subscribe(maxsize=4, name="slow browser")  # never reads
    out = io.StringIO()
    dev = VirtualDevice(SEIZURE, seed=2)
    with VirtualSerialPort(dev, speed=0) as port:
        pipeline = LivePipeline(SerialSource(port.path), baseline, recording_path=tmp_path / "s.twr", store=store,
                                hub=hub, out=out, err=io.StringIO(), source_name="virtual:test",
                                truth=lambda: dev.annotations_until(float("inf")))
        stop = asyncio.Event()

        async def stop_at_end():
            done = asyncio.get_running_loop().run_in_executor(None, port.finished.wait)
            await done
            while pipeline.summary.t_last_s is None or pipeline.summary.t_last_s < dev.scenario.duration_s - 0.2:
                await asyncio.sleep(0.05)
            stop.set()

        stopper = asyncio.create_task(stop_at_end())
        summary = await asyncio.wait_for(pipeline.run(stop=stop), 60)
        stopper.cancel()
    # the detector saw every chunk, the slow subscriber lost only its own backlog
    assert slow.dropped > 0 and len(slow) == 4
    reader = SessionReader(tmp_path / "s.twr")
    recorded = [c for c in reader.items(5.0) if isinstance(c, Chunk)]
    assert sum(c.n for c in recorded) == summary.samples
    assert reader.complete and reader.problem is None
    # the rhythmic jerking was alerted, printed, recorded and stored
    assert any(a.kind == "rhythmic_jerking" and a.level in ("warning", "alarm") for a in summary.alerts)
    jerk_start = 6.0
    first = min(a.t_s for a in summary.alerts if a.kind == "rhythmic_jerking")
    assert jerk_start < first < jerk_start + 10
    assert "rhythmic_jerking" in out.getvalue()
    assert reader.outputs.alerts == tuple(summary.alerts)
    assert any(a.label == "rhythmic_jerking" for a in reader.annotations)  # ground truth kept
    db = sqlite3.connect(tmp_path / "tw.db")
    (n_alerts,) = db.execute("SELECT count(*) FROM alerts WHERE session_id = ?", (summary.session_id,)).fetchone()
    assert n_alerts == len(summary.alerts)
    session = store.sessions.get_session(summary.session_id)
    assert session["recording_path"].endswith("s.twr")
    assert session.get("duration_s") == pytest.approx(summary.duration_s, abs=0.01)
    store.close()


async def test_a_slow_subscriber_never_holds_back_the_detector(tmp_path):
    dev, items = sim_items("quiet:20", seed=3)
    hub = Hub()
    stuck = hub.subscribe(maxsize=1, name="stuck")
    live = hub.subscribe(maxsize=100_000, name="keeps up")
    n_chunks = sum(isinstance(i, Chunk) for i in items)
    pipeline = LivePipeline(ListSource(items), baseline, hub=hub, out=io.StringIO(), err=io.StringIO())
    summary = await pipeline.run()
    assert summary.chunks == n_chunks
    published = stuck.dropped + len(stuck)
    assert published == live.delivered + len(live) and stuck.dropped == published - 1
    assert summary.subscriber_drops == {"stuck": stuck.dropped}


async def test_on_alert_runs_the_command_with_json_without_blocking(tmp_path):
    dev, items = sim_items(SEIZURE, seed=2)
    started, release, marker = tmp_path / "hook-started", tmp_path / "release", tmp_path / "hook-finished"
    got = tmp_path / "alerts.jsonl"
    # the hook holds on until the test releases it, which the test does only once the pipeline has
    # processed data that the source gave out after the hook had started: a pipeline that waited for
    # its hooks would never get there (and the test would fail at its bound, not hang)
    hook = (f"cat >> {got}; touch {started}; while [ ! -e {release} ]; do sleep 0.02; done; touch {marker}")
    hub = Hub()
    sub = hub.subscribe(maxsize=100_000)
    gate_at = len(items) - 8  # the seizure is over by then: 4 s of quiet follow it

    class GatedSource(ListSource):
        async def _gen(self):
            for n, item in enumerate(self.items):
                if n == gate_at:
                    while not started.exists():  # the first hook is running (and held)
                        await asyncio.sleep(0.02)
                yield item
                await asyncio.sleep(0)

    last_chunk = max(n for n, item in enumerate(items) if isinstance(item, Chunk))
    pipeline = LivePipeline(GatedSource(items), baseline, hub=hub, on_alert=hook, out=io.StringIO(), err=io.StringIO())
    held_while_after_gate = []

    async def watch():
        seen = 0
        async for item in sub:
            if isinstance(item, Chunk):
                seen += 1
                if seen == sum(isinstance(x, Chunk) for x in items[: last_chunk + 1]):
                    held_while_after_gate.append(not marker.exists())
                    release.touch()
                    return

    watcher = asyncio.create_task(watch())
    summary = await asyncio.wait_for(pipeline.run(), timeout=120)
    await asyncio.wait_for(watcher, timeout=120)
    assert held_while_after_gate == [True]  # every chunk went through while the hook was still held
    assert summary.alerts and summary.hooks_run == len(summary.alerts) and summary.hooks_failed == 0
    assert marker.exists()
    lines = [json.loads(x) for x in got.read_text().splitlines()]
    assert [x["kind"] for x in lines] == [a.kind for a in summary.alerts]
    assert lines[0]["type"] == "alert" and lines[0]["level"] in ("warning", "alarm") and "t" in lines[0]


async def test_a_detector_crash_loses_no_recorded_data(tmp_path):
    dev, items = sim_items("quiet:6", seed=4)

    class Broken:
        def __init__(self, info):
            self.n = 0

        def process(self, chunk):
            self.n += 1
            if self.n == 5:
                raise RuntimeError("bug in a filter")
            return DetectorOutput()

        def process_fault(self, fault):
            return DetectorOutput()

        def finish(self):
            return DetectorOutput()

    err = io.StringIO()
    pipeline = LivePipeline(ListSource(items), Broken, recording_path=tmp_path / "s.twr", out=io.StringIO(), err=err)
    summary = await pipeline.run()
    assert "bug in a filter" in summary.detector_error and "NOTHING IS BEING DETECTED" in err.getvalue()
    recorded = [c for c in SessionReader(tmp_path / "s.twr").items() if isinstance(c, Chunk)]
    sent = [c for c in items if isinstance(c, Chunk)]
    for kind in ("accel", "emg"):
        a = np.concatenate([c.counts for c in recorded if c.stream == kind])
        b = np.concatenate([c.counts for c in sent if c.stream == kind])
        assert np.array_equal(a, b)


async def test_a_source_error_closes_the_recording_before_it_is_raised(tmp_path):
    dev, items = sim_items("quiet:3", seed=5)

    class Failing(ListSource):
        async def _gen(self):
            for item in self.items:
                yield item
            raise ProtocolVersionError("/dev/ttyX", 2, 1)

    pipeline = LivePipeline(Failing(items), baseline, recording_path=tmp_path / "s.twr", out=io.StringIO(),
                            err=io.StringIO())
    with pytest.raises(ProtocolVersionError):
        await pipeline.run()
    r = SessionReader(tmp_path / "s.twr")
    assert r.complete and isinstance(items[0], DeviceInfo)
    assert sum(c.n for c in r.items() if isinstance(c, Chunk)) == sum(c.n for c in items if isinstance(c, Chunk))


async def test_a_stop_is_prompt_even_with_a_backlog_and_the_backlog_is_still_recorded(tmp_path):
    dev, items = sim_items("quiet:30", seed=6, block_s=0.05)

    class Slow:
        def __init__(self, info):
            self.inner = baseline(info)

        def process(self, chunk):
            import time

            time.sleep(0.01)  # a detector that cannot keep up with a fast source
            return self.inner.process(chunk)

        def process_fault(self, fault):
            return self.inner.process_fault(fault)

        def finish(self):
            return self.inner.finish()

    pipeline = LivePipeline(ListSource(items), Slow, recording_path=tmp_path / "s.twr", out=io.StringIO(),
                            err=io.StringIO())
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    summary = await pipeline.run(duration_s=0.3)
    assert loop.time() - t0 < 3.0 and summary.stopped_by == "duration reached"
    assert summary.undetected_chunks > 0
    recorded = sum(c.n for c in SessionReader(tmp_path / "s.twr").items() if isinstance(c, Chunk))
    assert recorded == summary.samples  # every chunk read from the source was recorded


async def test_a_slow_detector_build_neither_stalls_the_device_nor_loses_detector_input(tmp_path):
    """Loading a model takes seconds: meanwhile the loop keeps reading and recording, and the
    detector gets every chunk it missed, in order, once it is ready."""
    import threading

    from twitchwatch.errors import ModelError

    _, items = sim_items("quiet:2,rhythmic_jerking:14", seed=3)
    built = threading.Event()
    recorded_before_ready = []

    def slow_factory(info):
        if not built.wait(10):  # released by the test once chunks have flowed past the build
            raise RuntimeError("the event loop was blocked while the detector was being built")
        return baseline(info)

    class GatedSource(ListSource):
        """Flows past the build, then pauses until the test releases it: however slow or loaded
        the machine, the source never outruns the held-input bound before the build is released."""

        async def _gen(self):
            for i, item in enumerate(self.items):
                if i == 60:
                    await released.wait()
                yield item
                await asyncio.sleep(0)

    released = asyncio.Event()
    pipeline = LivePipeline(GatedSource(items), slow_factory, recording_path=tmp_path / "s.twr",
                            out=io.StringIO(), err=io.StringIO())
    hub_sub = pipeline.hub.subscribe(maxsize=100000)
    run = asyncio.create_task(pipeline.run())
    while pipeline.summary.chunks < 20:  # the source keeps flowing while the detector is built
        await asyncio.sleep(0.01)
    recorded_before_ready.append(pipeline.summary.chunks)
    built.set()
    released.set()
    summary = await asyncio.wait_for(run, 60)
    assert recorded_before_ready[0] >= 20 and summary.undetected_chunks == 0
    whole = baseline(items[0])
    expected = DetectorOutput.concat([whole.process(i) if isinstance(i, Chunk) else whole.process_fault(i)
                                      for i in items[1:] if isinstance(i, (Chunk, Fault))]
                                     + [whole.finish()])
    got = DetectorOutput.concat([o for o in hub_sub.get_nowait() if isinstance(o, DetectorOutput)])
    assert got.alerts == expected.alerts and got.windows == expected.windows
    assert any(a.kind == "rhythmic_jerking" for a in got.alerts)

    def broken_factory(info):
        raise ModelError("models/foot.skops: holds untrusted types")

    pipeline = LivePipeline(ListSource(items), broken_factory, recording_path=tmp_path / "t.twr",
                            out=io.StringIO(), err=io.StringIO())
    with pytest.raises(ModelError, match="untrusted"):
        await asyncio.wait_for(pipeline.run(), 60)
    assert SessionReader(tmp_path / "t.twr").device_info is not None  # what was recorded is kept


async def test_a_source_that_ends_while_the_detector_is_still_being_built_is_analysed_whole(tmp_path):
    """A short file (or a fast source) can end before the model has loaded: the pipeline waits
    for the detector instead of finishing with everything unanalysed."""
    import threading

    _, items = sim_items("quiet:2,rhythmic_jerking:14", seed=3)
    built = threading.Event()

    def slow_factory(info):
        built.wait(10)
        return baseline(info)

    pipeline = LivePipeline(ListSource(items), slow_factory, recording_path=tmp_path / "s.twr",
                            out=io.StringIO(), err=io.StringIO())
    run = asyncio.create_task(pipeline.run())
    while not run.done() and pipeline.summary.chunks < sum(isinstance(i, Chunk) for i in items):
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    assert not run.done()  # the source has ended; the pipeline waits for the detector
    built.set()
    summary = await asyncio.wait_for(run, 60)
    assert summary.stopped_by == "source ended" and summary.undetected_chunks == 0
    assert any(a.kind == "rhythmic_jerking" for a in summary.alerts)
