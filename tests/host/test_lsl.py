"""Lab Streaming Layer over loopback with the real pylsl/liblsl: twitchwatch -> LSL -> twitchwatch
gives the detections of a direct run on the same samples and clock; markers line up with samples;
the outlets describe their channels as LSL tools expect; a query that finds nothing is one line."""

from __future__ import annotations

import asyncio
import json
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

pylsl = pytest.importorskip("pylsl")

from twitchwatch.cli import main  # noqa: E402
from twitchwatch.core.detector import make_detector  # noqa: E402
from twitchwatch.hub import Hub  # noqa: E402
from twitchwatch.lsl import LslPublisher, _pylsl  # noqa: E402
from twitchwatch.model import Chunk, DetectorOutput, DeviceInfo, Fault  # noqa: E402
from twitchwatch.recording import SessionReader  # noqa: E402
from twitchwatch.sources.lsl import LslSource, plan_from_xml  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "recordings" / "rhythmic_jerking.twr"
SECONDS = 20.0


@pytest.fixture(autouse=True)
def private_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TWITCHWATCH_HOME", str(tmp_path / "home"))


def sample_items(seconds: float = SECONDS):
    """The sample session's DeviceInfo and its first ``seconds`` of chunks (live-sized, 0.1 s)."""
    reader = SessionReader(SAMPLE)
    t0 = reader.t_start_s
    items = [i for i in reader.items(0.1) if isinstance(i, Chunk) and i.t0_s < t0 + seconds]
    return reader.device_info, items


def detect(info: DeviceInfo, chunks) -> DetectorOutput:
    det = make_detector(info, classifier="baseline")
    outs = [det.process(c) for c in chunks]
    outs.append(det.finish())
    return DetectorOutput.concat(outs)


def relative(out: DetectorOutput, t0: float) -> dict:
    r = lambda t: round(t - t0, 5)  # noqa: E731
    return {
        "events": sorted((r(e.t_s), e.kind, e.stream, e.channel, round(e.amplitude, 3)) for e in out.events),
        "episodes": sorted((e.kind, r(e.start_s), r(e.end_s)) for e in out.episodes),
        "alerts": sorted((a.level, a.kind, r(a.t_s)) for a in out.alerts),
    }


async def wait_for(cond, timeout_s: float = 30.0, what: str = "") -> None:
    """Poll ``cond`` until true; the timeout only bounds a failure."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def test_a_round_trip_through_lsl_gives_the_detections_of_a_direct_run():
    info, chunks = sample_items()
    name = f"tw-test-{uuid.uuid4().hex[:8]}"
    hub = Hub()
    pub = LslPublisher(name).attach(hub)
    publishing = asyncio.create_task(pub.run())
    hub.publish(info)
    await wait_for(lambda: pub.outlets, what="outlets")
    # the receiver: the real source, resolving the sender's outlets by prefix
    src = LslSource(f"{name}-*", timeout_s=10.0)
    received: list = []
    got_info = asyncio.Event()

    async def receive():
        async for item in src:
            received.append(item)
            if isinstance(item, DeviceInfo):
                got_info.set()

    receiving = asyncio.create_task(receive())
    await asyncio.wait_for(got_info.wait(), 30)
    await wait_for(lambda: all(o.have_consumers() for o in pub.outlets.values()), what="consumers")
    # a marker inlet, as LabRecorder would open it
    markers_info = (await asyncio.get_running_loop().run_in_executor(
        None, lambda: _pylsl().resolve_byprop("name", f"{name}-markers", 1, 10.0)))[0]
    marker_inlet = pylsl.StreamInlet(markers_info)
    marker_inlet.open_stream(timeout=10.0)
    await wait_for(lambda: pub.marker_outlet.have_consumers(), what="marker consumer")
    # the sender's pipeline: every chunk to the hub, its detections too
    sent = detect(info, chunks)
    for c in chunks:
        hub.publish(c)
    hub.publish(sent)
    total = {k: sum(c.n for c in chunks if c.stream == k) for k in ("accel", "emg")}
    n_got = lambda k: sum(i.n for i in received if isinstance(i, Chunk) and i.stream == k)  # noqa: E731
    await wait_for(lambda: all(n_got(k) >= total[k] for k in total), what="all samples")
    await src.aclose()
    receiving.cancel()
    hub.close()
    await asyncio.gather(publishing, receiving, return_exceptions=True)

    got_info_item = received[0]
    assert {s.kind: (s.rate_hz, s.channels) for s in got_info_item.streams} == {
        s.kind: (s.rate_hz, s.channels) for s in info.streams}
    got_chunks = [i for i in received if isinstance(i, Chunk)]
    assert not [i for i in received if isinstance(i, Fault)]
    for kind in total:
        mine = np.concatenate([c.samples for c in chunks if c.stream == kind])
        theirs = np.concatenate([c.samples for c in got_chunks if c.stream == kind])
        np.testing.assert_allclose(theirs, mine.astype(np.float32), rtol=0, atol=0)
    # the receiver's clock is the sender's device clock plus the publisher's offset (and LSL's
    # measured clock correction, tens of microseconds on loopback), the same for both streams
    first_sent = {k: next(c.t0_s for c in chunks if c.stream == k) for k in total}
    first_got = {k: next(c.t0_s for c in got_chunks if c.stream == k) for k in total}
    for k in total:
        assert first_got[k] - first_sent[k] == pytest.approx(pub.offset_s, abs=1e-3)
    assert first_got["emg"] - first_sent["emg"] == pytest.approx(first_got["accel"] - first_sent["accel"], abs=2e-6)
    # detections: the round trip equals a direct run on the same (float32) samples and clock
    shift = first_got["emg"] - first_sent["emg"]
    direct_chunks = [Chunk(c.stream, round(c.t0_s + shift, 6), c.rate_hz,
                           c.samples.astype(np.float32).astype(np.float64)) for c in chunks]
    direct = detect(info, direct_chunks)
    t_origin = min(first_got.values())
    assert relative(detect(got_info_item, got_chunks), t_origin) == relative(direct, t_origin)
    # markers: every event, episode and alert, stamped at its device time + the same offset
    markers = []
    while True:
        sample, ts = marker_inlet.pull_sample(timeout=2.0)
        if sample is None:
            break
        markers.append((json.loads(sample[0]), ts))
        if len(markers) >= len(sent.events) + len(sent.episodes) + len(sent.alerts) + len(sent.faults):
            break
    assert len(markers) == len(sent.events) + len(sent.episodes) + len(sent.alerts) + len(sent.faults) > 0
    for obj, ts in markers:
        assert ts - obj["t_device"] == pytest.approx(pub.offset_s, abs=1e-6)
    assert sorted(m["t_device"] for m, _ in markers if m["type"] == "event") == sorted(e.t_s for e in sent.events)


def test_outlets_describe_their_channels_for_lsl_tools():
    info, _ = sample_items(1.0)
    name = f"tw-desc-{uuid.uuid4().hex[:8]}"
    pub = LslPublisher(name)
    pub.on_device_info(info)
    found = _pylsl().resolve_byprop("name", f"{name}-emg", 1, 10.0)
    inlet = pylsl.StreamInlet(found[0])
    xml = inlet.info(timeout=10.0).as_xml()
    root = ET.fromstring(xml)
    assert root.findtext("type") == "EMG"
    chans = root.findall("./desc/channels/channel")
    emg = info.stream("emg")
    assert [c.findtext("label") for c in chans] == list(emg.channel_names)
    assert {c.findtext("unit") for c in chans} == {"microvolts"} and {c.findtext("type") for c in chans} == {"EMG"}
    plan, = plan_from_xml(xml)
    assert plan.kind == "emg" and plan.rate_hz == emg.rate_hz and plan.factor == 1.0
    inlet.close_stream()
    pub.close()


def test_foreign_units_are_converted_and_unknown_ones_refused():
    def xml(ctype, unit):
        return (f"<info><name>x</name><type>Other</type><channel_count>3</channel_count><nominal_srate>100"
                f"</nominal_srate><desc><channels>" + "".join(
                    f"<channel><label>c{i}</label><unit>{unit}</unit><type>{ctype}</type></channel>" for i in range(3))
                + "</channels></desc></info>")
    plan, = plan_from_xml(xml("Accelerometer", "m/s^2"))
    assert plan.kind == "accel" and plan.factor == pytest.approx(1 / 9.80665)
    plan, = plan_from_xml(xml("EMG", "millivolts"))
    assert plan.kind == "emg" and plan.factor == 1e3 and len(plan.columns) == 2
    assert plan_from_xml(xml("EEG", "microvolts")) == []
    from twitchwatch.errors import DeviceError
    with pytest.raises(DeviceError, match="furlongs"):
        plan_from_xml(xml("EMG", "furlongs"))


def test_a_query_that_finds_nothing_is_one_line_exit_2(capsys):
    code = main(["record", "--lsl", f"nobody-{uuid.uuid4().hex[:6]}", "--lsl-timeout", "0.5", "--no-dashboard",
                 "--classifier", "baseline"])
    _, err = capsys.readouterr()
    lines = [x for x in err.splitlines() if x.strip()]
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("twitchwatch: error: lsl nobody-") and "no stream found within 0.5 s" in lines[0]
