"""BLE source end to end: the unmodified bleak BlueZ backend against a fake org.bluez on a private
D-Bus (tests/host/sources/blefake), with a virtual sensor speaking protocol v1.

What is real here: bleak (scanner, client, its BlueZ D-Bus manager and signal handling), dbus-fast,
a dbus-daemon and its socket, the protocol codec, DeviceStream and BleSource. What is fake: BlueZ
itself (the object tree and its state machine, see blefake/fake_bluez.py) and the radio.
"""

from __future__ import annotations

import asyncio
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.append(str(Path(__file__).resolve().parent))  # for the blefake helpers

from blefake.ble_sensor_app import SensorFirmware, VirtualDeviceFirmware  # noqa: E402
from blefake.fake_bluez import FakePeripheral  # noqa: E402
from blefake.fixtures import bluez, private_bus, system_bus  # noqa: E402, F401 (fixtures)

from twitchwatch.errors import DeviceError, ProtocolVersionError  # noqa: E402
from twitchwatch.model import Chunk, ConnectionChange, DeviceInfo, Fault, Mark  # noqa: E402
from twitchwatch.protocol import CommandCode  # noqa: E402
from twitchwatch.sources import ble  # noqa: E402
from twitchwatch.sources.ble import (  # noqa: E402
    COMMAND_CHAR_UUID,
    DEFAULT_NAME,
    PROTOCOL_SERVICE_UUID,
    STREAM_CHAR_UUID,
    BleSource,
)

SENSOR_ADDRESS = "F0:0D:BE:EF:00:01"
OTHER_SERVICE = "0000180d-0000-1000-8000-00805f9b34fb"  # heart rate: some other wearable
STEP_TIMEOUT_S = 10.0  # generous bound on any single wait; the tests finish in a few seconds


def add_sensor(fake, *, speed: float = 4.0, seed: int = 1, mtu: int = 247, address: str = SENSOR_ADDRESS,
               name: str = DEFAULT_NAME, **firmware) -> FakePeripheral:
    app = SensorFirmware(speed=speed, seed=seed, **firmware)
    return fake.add_peripheral(
        FakePeripheral(address, name, PROTOCOL_SERVICE_UUID, STREAM_CHAR_UUID, COMMAND_CHAR_UUID, app,
                       mtu=mtu, seed=seed)
    )


def add_other_wearable(fake) -> FakePeripheral:
    app = SensorFirmware(speed=1.0)
    return fake.add_peripheral(
        FakePeripheral("12:34:56:78:9A:BC", "hr-strap", OTHER_SERVICE, "00002a37-0000-1000-8000-00805f9b34fb",
                       None, app, rssi=-80)
    )


async def next_item(agen):
    return await asyncio.wait_for(anext(agen), STEP_TIMEOUT_S)


async def take_until(agen, done, items=None):
    """Pull items until ``done(items)``; bounded by STEP_TIMEOUT_S per item."""
    items = [] if items is None else items
    while not done(items):
        items.append(await next_item(agen))
    return items


async def drain(source, timeout_s: float = 2 * STEP_TIMEOUT_S):
    """Iterate a source to its end (or its error), failing rather than hanging past timeout_s."""
    async def run():
        async for _ in source:
            pass
    await asyncio.wait_for(run(), timeout_s)


def chunks(items, kind=None):
    return [i for i in items if isinstance(i, Chunk) and (kind is None or i.stream == kind)]


def assert_samples_are_what_was_sent(items, app: SensorFirmware, info: DeviceInfo):
    """Every chunk holds exactly the counts the device made for its sequence numbers, scaled."""
    for c in chunks(items):
        made = np.concatenate([app.made[c.stream][s] for s in range(c.seq_first, c.seq_last + 1)])
        np.testing.assert_array_equal(c.counts, made)
        np.testing.assert_allclose(c.samples, made * info.stream(c.stream).scale)
        assert c.rate_hz == info.stream(c.stream).rate_hz


def test_gatt_uuids_are_the_ones_in_protocol_md(repo_root):
    text = (repo_root / "firmware" / "PROTOCOL.md").read_text()
    section = text[text.index("## 4. BLE GATT"):]
    uuids = re.findall(r"`([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})`", section)
    assert uuids[:3] == [PROTOCOL_SERVICE_UUID, STREAM_CHAR_UUID, COMMAND_CHAR_UUID]
    assert f"Advertised local name: `{DEFAULT_NAME}`" in section


async def test_scan_lists_sensors_by_service_uuid(bluez):
    add_sensor(bluez)
    add_other_wearable(bluez)
    found = await ble.ascan(timeout_s=0.4)
    assert [(d.address, d.name) for d in found] == [(SENSOR_ADDRESS, DEFAULT_NAME)]
    assert -70 <= found[0].rssi <= -50
    everything = await ble.ascan(timeout_s=0.4, service_uuid=None)
    assert {d.name for d in everything} == {DEFAULT_NAME, "hr-strap"}
    assert everything[0].rssi >= everything[1].rssi  # strongest first
    adapter = bluez.adapters["/org/bluez/hci0"]
    assert adapter.calls.count("StartDiscovery") == 2 and adapter.calls.count("StopDiscovery") == 2
    assert not adapter.discovering


async def test_stream_by_name_delivers_device_info_then_the_samples_sent(bluez):
    p = add_sensor(bluez, speed=4.0)
    add_other_wearable(bluez)
    src = BleSource(name=DEFAULT_NAME, scan_timeout_s=3.0)
    agen = aiter(src)
    try:
        info = await next_item(agen)
        assert isinstance(info, DeviceInfo)
        assert info.device_id == p.app.device_id and info.source == f"ble:{SENSOR_ADDRESS}"
        assert [s.kind for s in info.streams] == ["accel", "emg"]
        items = await take_until(agen, lambda it: len(chunks(it, "accel")) >= 16 and len(chunks(it, "emg")) >= 40)
    finally:
        await src.aclose()
    assert_samples_are_what_was_sent(items, p.app, info)
    # no frame lost or mangled on a clean link: consecutive sequence numbers, no faults
    for kind in ("accel", "emg"):
        seqs = [c.seq_first for c in chunks(items, kind)]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert not [i for i in items if isinstance(i, Fault)]
    # the stream really was cut at arbitrary points: more notifications than frames, some of
    # them holding pieces of two frames (sizes are random up to MTU-3)
    assert src.mtu == 247
    assert src.notifications > len(chunks(items))
    assert p.app.commands[0].code == CommandCode.START
    # leaving the iteration disconnected us
    await asyncio.wait_for(p.link_dropped.wait(), STEP_TIMEOUT_S)
    assert "Disconnect" in p.calls


async def test_connect_by_address_with_small_mtu(bluez):
    p = add_sensor(bluez, mtu=23, speed=2.0)  # 20-byte notifications: every frame spans ~10
    src = BleSource(address=SENSOR_ADDRESS.lower(), scan_timeout_s=3.0)
    agen = aiter(src)
    try:
        items = await take_until(agen, lambda it: len(chunks(it, "accel")) >= 4)
    finally:
        await src.aclose()
    info = next(i for i in items if isinstance(i, DeviceInfo))
    assert info.source == f"ble:{SENSOR_ADDRESS}"
    assert src.mtu == 23
    assert_samples_are_what_was_sent(items, p.app, info)
    assert max(len(w) for w in p.writes) <= 20  # commands written in MTU-3 pieces


async def test_forced_disconnect_reconnects_with_a_gap_and_the_stream_continues(bluez):
    p = add_sensor(bluez, speed=4.0)
    src = BleSource(name=DEFAULT_NAME, scan_timeout_s=3.0, backoff_s=(0.1, 0.4))
    agen = aiter(src)
    try:
        before = await take_until(agen, lambda it: len(chunks(it, "accel")) >= 8)
        t_before = max(c.t_end_s for c in chunks(before))
        # the wearer walks out of range: the link drops, the sensor stops advertising for 0.6 s
        await p.drop_link(out_of_range_s=0.6)
        after = await take_until(
            agen, lambda it: any(isinstance(i, Fault) and i.kind == "gap" for i in it)
            and len(chunks(it, "accel")) >= 12 and len(chunks(it, "emg")) >= 12
        )
    finally:
        await src.aclose()
    info = next(i for i in before if isinstance(i, DeviceInfo))
    events = [i.state for i in after if isinstance(i, ConnectionChange)]
    assert events[:3] == ["disconnected", "reconnecting", "connected"]
    lost = [i for i in after if isinstance(i, Fault) and i.kind == "signal_lost"]
    assert len(lost) == 1
    # stamped with the device time the data reached when the link went
    reached = max(c.t_end_s for c in chunks(before + after[:after.index(lost[0])]))
    assert lost[0].start_s == lost[0].end_s == reached and t_before <= reached < t_before + 1.0
    # the order the pipeline needs: link events and signal_lost before any new data
    first_chunk_after = next(k for k, i in enumerate(after) if isinstance(i, Chunk) and i.t0_s > t_before + 0.5)
    assert after.index(lost[0]) < first_chunk_after
    # the same session continues: no new DeviceInfo (same device), a gap per stream, then samples
    assert not [i for i in after if isinstance(i, DeviceInfo)]
    gaps = {f.stream: f for f in after if isinstance(f, Fault) and f.kind == "gap"}
    assert set(gaps) == {"accel", "emg"}
    for kind, gap in gaps.items():
        pre = chunks(before + after[:after.index(gap)], kind)
        post = chunks(after[after.index(gap):], kind)
        assert gap.start_s == pytest.approx(pre[-1].t_end_s) and gap.end_s == pytest.approx(post[0].t0_s)
        assert gap.end_s - gap.start_s > 0.6 * p.app.speed * 0.5  # at least part of the outage
        assert post[0].seq_first > pre[-1].seq_last + 1
    assert_samples_are_what_was_sent(before + after, p.app, info)
    assert src.connects == 2 and src.disconnects == 1 and p.connect_count == 2
    assert [c.code for c in p.app.commands].count(CommandCode.START) == 2


async def test_virtual_device_scenario_over_ble(bluez):
    """The project's virtual device (simulator scenario, STATUS, MARK) through the BLE path."""
    from twitchwatch.virtual import VirtualDevice

    app = VirtualDeviceFirmware(VirtualDevice("quiet[mark=0.5]:3,walking:3", seed=3, device_id="tw-virtual"), speed=8.0)
    bluez.add_peripheral(FakePeripheral(SENSOR_ADDRESS, DEFAULT_NAME, PROTOCOL_SERVICE_UUID, STREAM_CHAR_UUID,
                                        COMMAND_CHAR_UUID, app, seed=5))
    src = BleSource(name=DEFAULT_NAME, scan_timeout_s=3.0)
    agen = aiter(src)
    try:
        items = await take_until(agen, lambda it: any(isinstance(i, Mark) for i in it)
                                 and len(chunks(it, "accel")) >= 30)
    finally:
        await src.aclose()
    info = items[0]
    assert isinstance(info, DeviceInfo) and info.device_id == "tw-virtual"
    assert info.streams == app.device.device_info.streams
    assert_samples_are_what_was_sent(items, app, info)
    marks = [i for i in items if isinstance(i, Mark)]
    assert [m.t_s for m in marks] == [t / 1e6 for t in app.marks_us[:len(marks)]]
    assert not [i for i in items if isinstance(i, Fault)]


async def test_device_streaming_without_hello_is_asked_for_one(bluez):
    # firmware already streaming when we connect, and its START does not send HELLO: samples
    # cannot be scaled without it, so the source asks (SEND_HELLO) and starts at the HELLO
    p = add_sensor(bluez, auto_stream=True, hello_on_start=False)
    src = BleSource(name=DEFAULT_NAME, scan_timeout_s=3.0)
    agen = aiter(src)
    try:
        items = await take_until(agen, lambda it: len(chunks(it, "accel")) >= 4)
    finally:
        await src.aclose()
    assert isinstance(items[0], DeviceInfo)
    assert CommandCode.SEND_HELLO in [c.code for c in p.app.commands]
    assert src.stream.counters["before_hello"] > 0
    assert_samples_are_what_was_sent(items, p.app, items[0])


async def test_other_protocol_version_is_refused(bluez):
    add_sensor(bluez, protocol_version=2)
    with pytest.raises(ProtocolVersionError, match=r"^ble:F0:0D:BE:EF:00:01: device speaks protocol version 2, this host"):
        await drain(BleSource(name=DEFAULT_NAME, scan_timeout_s=3.0))


async def test_silent_device_with_our_service_is_a_device_error(bluez):
    p = add_sensor(bluez, answer_commands=False)
    with pytest.raises(DeviceError, match=r"^ble:F0:0D:BE:EF:00:01: no twitchwatch device answered \(no HELLO within 0.5 s"):
        await drain(BleSource(name=DEFAULT_NAME, scan_timeout_s=3.0, hello_timeout_s=0.5))
    await asyncio.wait_for(p.link_dropped.wait(), STEP_TIMEOUT_S)  # and we hung up


async def test_device_streaming_but_never_announcing_is_a_device_error(bluez):
    # bytes keep coming (samples), but never a HELLO, whatever we ask: bounded, not a hang
    p = add_sensor(bluez, auto_stream=True, answer_commands=False)
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match=r"no twitchwatch device answered \(no HELLO within 0.8 s"):
        await drain(BleSource(name=DEFAULT_NAME, scan_timeout_s=3.0, hello_timeout_s=0.8))
    assert time.monotonic() - t0 < 5.0
    assert p.notifications_sent > 0


async def test_slow_consumer_overflows_the_bounded_buffer_into_a_counted_gap(bluez):
    p = add_sensor(bluez, speed=8.0)
    src = BleSource(name=DEFAULT_NAME, scan_timeout_s=3.0, max_pending_notifications=8)
    agen = aiter(src)
    try:
        before = await take_until(agen, lambda it: len(chunks(it, "accel")) >= 2)
        await asyncio.sleep(0.5)  # the consumer stalls; notifications keep arriving
        after = await take_until(agen, lambda it: any(isinstance(i, Fault) and i.kind == "gap" for i in it)
                                 and len(chunks(it, "accel")) >= 8)
    finally:
        await src.aclose()
    assert src.dropped_notifications > 0
    assert src.stream.counters["gaps"] >= 1
    # whatever got through is still exactly what was sent
    assert_samples_are_what_was_sent(before + after, p.app, before[0])


async def test_gives_up_only_when_asked_to(bluez):
    p = add_sensor(bluez, speed=4.0)
    src = BleSource(name=DEFAULT_NAME, scan_timeout_s=0.3, backoff_s=(0.1, 0.2), give_up_after_s=0.8)
    agen = aiter(src)
    try:
        items = await take_until(agen, lambda it: len(chunks(it, "accel")) >= 2)
        await p.drop_link(out_of_range_s=30.0)  # gone for good (as far as this test goes)
        with pytest.raises(DeviceError, match=r"^ble:F0:0D:BE:EF:00:01: link lost and not back after 0.8 s$"):
            await take_until(agen, lambda it: False, items)
    finally:
        await src.aclose()
    states = [i.state for i in items if isinstance(i, ConnectionChange)]
    assert states == ["disconnected", "reconnecting"]
    assert src.failed_reconnects >= 2  # it did keep trying, with backoff, until the deadline


async def test_missing_device_is_a_device_error_in_bounded_time(bluez):
    add_other_wearable(bluez)
    t0 = time.monotonic()
    with pytest.raises(DeviceError, match=r"^ble:tw-nobody: not found within 0.5 s of scanning$"):
        await drain(BleSource(name="tw-nobody", scan_timeout_s=0.5))
    assert time.monotonic() - t0 < 5.0


async def test_refused_connection_is_a_device_error(bluez):
    p = add_sensor(bluez)
    p.refuse_connections = True
    with pytest.raises(DeviceError, match=r"^ble:F0:0D:BE:EF:00:01: .*connection abort"):
        await drain(BleSource(address=SENSOR_ADDRESS, scan_timeout_s=2.0, connect_timeout_s=3.0))


async def test_no_adapter_is_a_device_error(system_bus):
    from blefake.fake_bluez import FakeBlueZ

    fake = await FakeBlueZ.start()  # BlueZ runs, but there is no adapter
    try:
        with pytest.raises(DeviceError, match=r"^BLE scan: Bluetooth unavailable: No Bluetooth adapters found"):
            await ble.ascan(timeout_s=0.2)
        with pytest.raises(DeviceError, match=r"^ble:twitchwatch: Bluetooth unavailable: No Bluetooth adapters"):
            await drain(BleSource(name=DEFAULT_NAME, scan_timeout_s=0.2))
    finally:
        await fake.stop()


async def test_no_bluez_on_the_bus_is_a_device_error(system_bus):
    with pytest.raises(DeviceError, match=r"BlueZ \(bluetoothd\) is not running"):
        await ble.ascan(timeout_s=0.2)


async def test_no_dbus_is_a_device_error(monkeypatch, tmp_path):
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-socket")
    with pytest.raises(DeviceError, match=r"^BLE scan: Bluetooth unavailable: no system D-Bus"):
        await ble.ascan(timeout_s=0.2)
    with pytest.raises(DeviceError, match=r"^ble:AA:BB:CC:DD:EE:FF: Bluetooth unavailable: no system D-Bus"):
        await drain(BleSource(address="aa:bb:cc:dd:ee:ff", scan_timeout_s=0.2))


async def test_real_sensor(request):
    """Hardware, opt-in: ``pytest --ble-address AA:BB:CC:DD:EE:FF tests/host/sources/test_ble.py``."""
    address = request.config.getoption("--ble-address", default=None)
    if not address:
        pytest.skip("needs a real sensor: pass --ble-address ADDRESS")
    src = BleSource(address=address, scan_timeout_s=20.0)
    agen = aiter(src)
    try:
        items = await asyncio.wait_for(
            take_until(agen, lambda it: len(chunks(it, "accel")) >= 16), 60.0
        )
    finally:
        await src.aclose()
    info = next(i for i in items if isinstance(i, DeviceInfo))
    assert info.stream("accel") is not None
    seqs = [c.seq_first for c in chunks(items, "accel")]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # nothing lost on a short run


def test_command_line_targets():
    assert BleSource.for_target("f0:0d:be:ef:00:01").link.address == "f0:0d:be:ef:00:01"
    assert BleSource.for_target("tw-1234abcd").link.target_name == "tw-1234abcd"
    anyone = BleSource.for_target(None)
    assert anyone.link.target_name is None and anyone.link.address is None
    assert anyone.label == f"ble:{DEFAULT_NAME} sensor (service {PROTOCOL_SERVICE_UUID})"


async def test_devices_command_lists_the_sensor(bluez, repo_root, tmp_path):
    """`twitchwatch devices` in its own process finds the sensor through the same BlueZ bus."""
    add_sensor(bluez)
    add_other_wearable(bluez)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "twitchwatch", "devices", "--ble-timeout", "1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 60.0)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    text = out.decode()
    assert proc.returncode == 0, err.decode()
    ble_part = text[text.index("BLE sensors:"):]
    assert SENSOR_ADDRESS in ble_part and DEFAULT_NAME in ble_part
    assert "hr-strap" not in ble_part  # another wearable is not a sensor


async def test_record_command_over_ble_keeps_every_sample_through_a_dropout(bluez, tmp_path):
    """`twitchwatch record --ble` in its own process: the recording holds exactly the samples the
    device sent, the dropout as faults, and one session across the reconnect."""
    from twitchwatch.recording import SessionReader
    from twitchwatch.virtual import VirtualDevice

    app = VirtualDeviceFirmware(VirtualDevice("quiet:60", seed=7, device_id="tw-rec"), speed=4.0)
    p = bluez.add_peripheral(FakePeripheral(SENSOR_ADDRESS, DEFAULT_NAME, PROTOCOL_SERVICE_UUID, STREAM_CHAR_UUID,
                                            COMMAND_CHAR_UUID, app, seed=9))
    out = tmp_path / "ble.twr"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "twitchwatch", "record", "--ble", DEFAULT_NAME, "--duration", "3", "--out", str(out),
        "--no-dashboard", "--no-store", "--classifier", "baseline",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=tmp_path,
        env={**__import__("os").environ, "TWITCHWATCH_HOME": str(tmp_path)},
    )
    try:
        t_limit = time.monotonic() + 60.0
        while app.t_us < 2_000_000:  # 2 s of device time streamed (0.5 s of wall time at speed 4)
            assert proc.returncode is None and time.monotonic() < t_limit, "recording did not start streaming"
            await asyncio.sleep(0.02)
        await p.drop_link(out_of_range_s=0.3)
        _, err = await asyncio.wait_for(proc.communicate(), 60.0)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()
    assert p.connect_count == 2
    reader = SessionReader(out)
    assert reader.complete and reader.device_info.device_id == "tw-rec"
    items = list(reader.items(block_s=1.0))
    assert_samples_are_what_was_sent(items, app, reader.device_info)
    kinds = [f.kind for f in items if isinstance(f, Fault)]
    assert "signal_lost" in kinds and kinds.count("gap") >= 1
    accel = chunks(items, "accel")
    assert accel[0].t0_s < 2.0 and accel[-1].t_end_s > 2.5  # data from before and after the dropout
    reader.close()
