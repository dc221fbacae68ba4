"""The virtual device on a real pseudo-terminal, read by the real SerialSource (pyserial)."""

from __future__ import annotations

import asyncio
import os
import tty

import numpy as np
import pytest
import serial

from twitchwatch import sim
from twitchwatch.errors import DeviceError, ProtocolVersionError
from twitchwatch.model import Chunk, ConnectionChange, DeviceInfo, Fault, Status
from twitchwatch.protocol import Hello, encode
from twitchwatch.sources.serial import SerialSource
from twitchwatch.virtual import VirtualDevice, VirtualSerialPort, wire_bytes

SCENARIO = "quiet:6,rhythmic_jerking:6"


async def collect(source, until, limit_s: float = 20.0):
    """Items from ``source`` until ``until(items)`` is true (or fail after limit_s)."""
    items = []

    async def run():
        async for item in source:
            items.append(item)
            if until(items):
                return

    try:
        await asyncio.wait_for(run(), limit_s)
    finally:
        await source.aclose()
    return items


def counts_of(items, kind):
    return np.concatenate([c.counts for c in items if isinstance(c, Chunk) and c.stream == kind])


async def test_the_serial_source_receives_exactly_what_the_simulator_made():
    dev = VirtualDevice(SCENARIO, seed=3)
    with VirtualSerialPort(dev, speed=0) as port:
        src = SerialSource(port.path)
        items = await collect(src, lambda it: any(isinstance(i, Chunk) and i.stream == "emg" and i.t_end_s >= 11.9 for i in it))
    assert isinstance(items[0], DeviceInfo)
    assert items[0].source == port.path and items[0].streams == dev.device_info.streams
    truth = sim.simulate(dev.scenario, sim.draw_subject(3, "foot"), dev.config, seed=3)
    acc, emg = counts_of(items, "accel"), counts_of(items, "emg")
    assert np.array_equal(emg, truth.emg_counts[: emg.shape[0]]) and emg.shape[0] >= 11_900
    assert np.array_equal(acc, truth.accel_counts[: acc.shape[0]])
    chunks = [i for i in items if isinstance(i, Chunk) and i.stream == "accel"]
    assert [c.seq_first for c in chunks] == list(range(len(chunks)))
    assert chunks[3].t0_s == pytest.approx(3 * 26 / 208.0, abs=1e-6)
    assert any(isinstance(i, Status) for i in items)  # STATUS every 5 s of device time
    assert not any(isinstance(i, Fault) for i in items)
    assert src.stream.counters["checksum"] == 0 and src.stream.acks  # START/SEND_HELLO were ACKed


async def test_unplug_and_replug_continue_the_same_session_with_a_gap_fault():
    dev = VirtualDevice(SCENARIO, seed=4)
    with VirtualSerialPort(dev, speed=20) as port:
        src = SerialSource(port.path, backoff_s=0.02)
        items = []
        unplugged_at = None

        async def run():
            nonlocal unplugged_at
            async for item in src:
                items.append(item)
                if isinstance(item, Chunk) and unplugged_at is None and item.t_end_s > 3.0:
                    port.unplug()
                    unplugged_at = port.device_time_s
                if isinstance(item, ConnectionChange) and item.state == "disconnected":
                    # the device keeps sampling while unplugged; plug back after ~1 s of device time
                    while port.device_time_s < unplugged_at + 1.0:
                        await asyncio.sleep(0.01)
                    port.replug()
                if isinstance(item, Chunk) and item.t_end_s > 8.0:
                    return

        try:
            await asyncio.wait_for(run(), 20)
        finally:
            await src.aclose()
    states = [i.state for i in items if isinstance(i, ConnectionChange)]
    assert states == ["disconnected", "reconnecting", "connected"]
    gaps = [i for i in items if isinstance(i, Fault) and i.kind == "gap"]
    assert {g.stream for g in gaps} == {"accel", "emg"}
    for g in gaps:
        assert g.end_s - g.start_s >= 0.9  # at least the second the cable was out
        assert 2.5 < g.start_s < unplugged_at + 0.5
    # one session: DeviceInfo once at the start, chunk times keep increasing across the gap
    assert sum(isinstance(i, DeviceInfo) for i in items) == 1
    t = [c.t0_s for c in items if isinstance(c, Chunk) and c.stream == "emg"]
    assert all(b > a for a, b in zip(t, t[1:])) and t[-1] > 7.5
    assert src.reconnects == 1


async def test_a_missing_port_is_one_line_naming_it(tmp_path):
    src = SerialSource(str(tmp_path / "ttyNOPE"))
    with pytest.raises(DeviceError, match=r"ttyNOPE: no such serial port$"):
        await collect(src, lambda it: True, limit_s=5)


async def test_a_busy_port_is_one_line_naming_it():
    dev = VirtualDevice(SCENARIO, seed=5)
    with VirtualSerialPort(dev, speed=1) as port:
        holder = serial.Serial(port.path, exclusive=True)
        try:
            with pytest.raises(DeviceError, match="busy"):
                await collect(SerialSource(port.path), lambda it: True, limit_s=5)
        finally:
            holder.close()


def raw_pty():
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


async def test_a_device_speaking_another_protocol_version_is_refused_by_name():
    master, slave, path = raw_pty()
    try:
        info = VirtualDevice(SCENARIO).device_info
        loop = asyncio.get_running_loop()

        def answer():  # like firmware: announce itself when the host says START
            os.read(master, 4096)
            os.write(master, encode(Hello(0, "future", "9.0", "foot", info.streams, protocol_version=2)))
            loop.remove_reader(master)

        loop.add_reader(master, answer)
        with pytest.raises(ProtocolVersionError) as exc:
            await collect(SerialSource(path, hello_timeout_s=3), lambda it: False, limit_s=5)
        assert path in str(exc.value) and "version 2" in str(exc.value) and "version 1" in str(exc.value)
    finally:
        os.close(master)
        os.close(slave)


async def test_a_silent_port_is_not_mistaken_for_a_sensor():
    master, slave, path = raw_pty()
    try:
        with pytest.raises(DeviceError, match="no twitchwatch device answered"):
            await collect(SerialSource(path, hello_timeout_s=0.5), lambda it: False, limit_s=5)
    finally:
        os.close(master)
        os.close(slave)


def test_wire_bytes_are_reproducible_and_decode_to_the_same_frames():
    a = [b for _, b in zip(range(200), wire_bytes(SCENARIO, seed=9))]
    b = [b for _, b in zip(range(200), wire_bytes(SCENARIO, seed=9))]
    assert a == b
    times = [t for t, _ in zip(range(200), (t for t, _ in wire_bytes(SCENARIO, seed=9)))]
    assert times == sorted(times)


def test_marks_from_the_scenario_and_dropouts_as_lost_frames():
    dev = VirtualDevice("quiet:1,quiet[posture=standing;mark=0.5]:2", seed=2, marks_s=(0.2,),
                        config=sim.SimConfig(dropouts_per_hour=3600.0, dropout_max_s=0.3))
    frames = list(dev.frames())
    from twitchwatch.protocol import MarkFrame, SampleBlock

    marks = [f for _, f in frames if isinstance(f, MarkFrame)]
    assert [m.t_us for m in marks] == [200_000, 1_500_000]
    seqs = [f.seq for _, f in frames if isinstance(f, SampleBlock) and f.kind == "emg"]
    assert seqs == sorted(seqs) and len(seqs) < seqs[-1] + 1  # holes where the link dropped
    assert dev.dropped_samples > 0


def test_taking_the_sensor_off_reports_lost_electrode_contact():
    from twitchwatch.sources.device_stream import DeviceStream

    dev = VirtualDevice("quiet:6,not_worn:10,quiet:6", seed=1)
    ds = DeviceStream("virtual")
    items = [item for _, f in dev.frames() for item in ds.feed(encode(f))]
    off = [i for i in items if isinstance(i, Fault) and i.kind in ("lead_off", "not_worn")]
    # every electrode lost contact: the sensor is off the body. Reported when it came off (the
    # first STATUS after, open) and again with its end (the first STATUS after it was put back)
    assert [(f.kind, f.start_s, f.end_s) for f in off] == [("not_worn", 10.0, 10.0), ("not_worn", 10.0, 20.0)]
    statuses = [s for s in items if isinstance(s, Status)]
    assert [s.lead_off for s in statuses] == [(False, False), (True, True), (True, True), (False, False)]


async def test_a_device_that_missed_the_first_hello_request_is_asked_again():
    from twitchwatch.protocol import Command, FrameDecoder

    master, slave, path = raw_pty()
    try:
        info = VirtualDevice(SCENARIO).device_info
        loop = asyncio.get_running_loop()
        decoder = FrameDecoder()
        commands = []

        def firmware():  # still booting: ignores START and the first SEND_HELLO
            commands.extend(f for f in decoder.feed(os.read(master, 4096)) if isinstance(f, Command))
            if len(commands) >= 3:
                os.write(master, encode(Hello(0, "late", "1.0", "foot", info.streams)))
                loop.remove_reader(master)

        loop.add_reader(master, firmware)
        items = await collect(SerialSource(path, hello_timeout_s=5), lambda it: True, limit_s=8)
        assert isinstance(items[0], DeviceInfo) and items[0].device_id == "late"
        assert [c.code.name for c in commands[:3]] == ["START", "SEND_HELLO", "SEND_HELLO"]
    finally:
        os.close(master)
        os.close(slave)
